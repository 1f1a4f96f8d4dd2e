// Which notebooks may run at the same time: a notebook that measures (throughput, round trips,
// packet rates, timers, memory) says so in its metadata, `"wirebook": {"measures": "what"}`, and
// runs alone, so no other kernel loads the machine under its timings; the others run up to `jobs`
// at once. The runner (npm start) and the replay (npm test) schedule with this.
import { readFileSync } from "node:fs";

/** What the notebook measures, from its metadata; undefined if it measures nothing (or cannot be
 *  read: then it runs with the others, and the runner reports why it could not be read). */
export function measures(path: string): string | undefined {
  try {
    const what = JSON.parse(readFileSync(path, "utf8"))?.metadata?.wirebook?.measures;
    return typeof what === "string" && what ? what : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `task` for every file, in order of the list: up to `jobs` at once, but a notebook that
 *  measures only when nothing else runs, and nothing else while it does. Resolves with each
 *  file's promise in the order given, so a caller can wait for one file while later ones run. */
export function schedule<T>(files: string[], jobs: number, task: (file: string) => Promise<T>): Promise<T>[] {
  let running = 0;
  let alone = false;
  const waiting: { file: string; solo: boolean; start: () => void }[] = [];
  const pump = () => {
    while (waiting.length && !alone) {
      const next = waiting[0];
      if (next.solo ? running > 0 : running >= jobs) return;
      waiting.shift();
      running++;
      alone = next.solo;
      next.start();
    }
  };
  const promises = files.map(
    (file) =>
      new Promise<T>((resolve, reject) => {
        waiting.push({
          file,
          solo: jobs > 1 && measures(file) !== undefined,
          start: () => {
            task(file)
              .then(resolve, reject)
              .finally(() => {
                running--;
                alone = false;
                pump();
              });
          },
        });
      }),
  );
  pump();
  return promises;
}
