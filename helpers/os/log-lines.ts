// The lines a program writes to one of its streams (a daemon's log on stderr, a client's output on
// stdout), kept as they come, and a wait for the lines a notebook is about to read: a daemon
// writes its log a moment after it acts, so its line about a reply can arrive after the reply.
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { sleep } from "./time";

/** Collects `stream`'s lines (each passed through `tidy`, e.g. to drop a timestamp) from `child`,
 *  the program called `name` in errors. */
export function logLines(child: ChildProcess, stream: Readable | null, name: string, tidy = (l: string) => l) {
  const lines: string[] = [];
  let partial = "";
  stream?.on("data", (d: Buffer) => {
    const parts = (partial + d.toString()).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.map(tidy));
  });
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    /** The lines so far. */
    lines: () => lines.slice(),
    /** The lines that match `pattern`, from line `from` on (default: all), once there are at least
     *  `count` (default 1). Throws after `timeoutMs` (default 5 s), or once the program has ended,
     *  saying how many came. */
    async logged(pattern: RegExp, opts: { from?: number; count?: number; timeoutMs?: number } = {}) {
      const { from = 0, count = 1, timeoutMs = 5000 } = opts;
      const end = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.slice(from).filter((l) => pattern.test(l));
        if (found.length >= count) return found;
        if (Date.now() > end || ended()) {
          throw new Error(`${name} logged ${found.length} of ${count} lines matching ${pattern} in ${timeoutMs} ms`);
        }
        await sleep(20);
      }
    },
  };
}
