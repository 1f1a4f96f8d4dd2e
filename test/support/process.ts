// Helpers for tests that run the project's command-line tools and watch kernel processes.
import { spawn, type SpawnOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const root = join(__dirname, "..", "..");

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output. */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...options });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${command} ${args.join(" ")} did not finish within ${options.timeoutMs} ms\n` +
            `stdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 55_000);
    child.once("error", reject);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    };
    child.once("close", finish);
    // A grandchild that inherited stdout (a leaked kernel) would keep "close" from coming: after
    // the exit, give the pipes a moment, then report anyway so the test can look for leftovers.
    child.once("exit", (code, signal) => setTimeout(() => finish(code, signal), 3000).unref());
  });
}

/** `node --require tsx/cjs <script> ...args`, the way the npm scripts run our TypeScript (from any cwd). */
export const runTs = (script: string, args: string[], options?: SpawnOptions & { timeoutMs?: number }) =>
  run(process.execPath, ["--require", require.resolve("tsx/cjs"), script, ...args], options);

/** stderr without npm's own warnings about the user's npm config. */
export const ownLines = (text: string) =>
  text.split("\n").filter((l) => l.trim() && !/^npm (warn|WARN|notice)\b/.test(l));

/** Whether a process still runs (a zombie waiting for its reaper counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Polls until `check` is true; false if `timeoutMs` passes first. */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
