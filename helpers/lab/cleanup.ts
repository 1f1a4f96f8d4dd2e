// Removing what a lab leaves behind: every lab names its namespaces `wirebook-<pid>-…`, so the
// next lab to start (as root) finds those whose process is gone — a kernel that crashed or was
// killed — kills what still runs in them and deletes them. Also the command runner every lab
// module uses: one line of stderr in the error when a command fails.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";

export class LabError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "LabError";
  }
}

/** Runs a command and returns its stdout; a failure throws a LabError with its stderr. */
export function run(argv: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0], argv.slice(1), { timeout: 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new LabError(
            "ERR_LAB_COMMAND",
            `${argv.filter((a) => !a.startsWith("--target")).join(" ")}: ${String(stderr).trim() || err.message}`,
          ),
        );
      else resolve(String(stdout));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Kills every process in namespace `ns` (SIGKILL): what must not survive its network. */
export async function killProcessesIn(ns: string): Promise<void> {
  const pids = await run(["ip", "netns", "pids", ns]).catch(() => "");
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
}

/** Namespaces named `wirebook-<pid>-…` whose process is gone: a crashed kernel's lab. */
export async function staleNamespaces(): Promise<string[]> {
  const list = await run(["ip", "netns", "list"]).catch(() => "");
  return list
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter((name) => {
      const m = /^wirebook-(\d+)-/.exec(name);
      return m && !alive(Number(m[1]));
    });
}

export async function removeStaleLabs(): Promise<void> {
  for (const ns of await staleNamespaces()) {
    await killProcessesIn(ns);
    await run(["ip", "netns", "del", ns]).catch(() => {});
  }
}

/** A process that still runs; a zombie (dead, not yet reaped by its parent) does not count. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
  } catch {
    return false; // gone meanwhile
  }
}
