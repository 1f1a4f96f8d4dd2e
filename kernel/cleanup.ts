// Closing what cells opened: on shutdown the kernel releases servers, sockets, child processes
// and whatever helpers registered, so nothing outlives the notebook.
import { ChildProcess } from "node:child_process";
import { Socket as DgramSocket } from "node:dgram";
import { Server, Socket } from "node:net";
import { Worker } from "node:worker_threads";

/** Helpers register disposers here (see helpers/resources.ts); the kernel runs them at shutdown. */
export const DISPOSERS = Symbol.for("wirebook.disposers");
type Disposer = () => unknown;
export function disposers(): Set<Disposer> {
  const g = globalThis as any;
  return (g[DISPOSERS] ??= new Set<Disposer>());
}

/** The running cell's AbortSignal, aborted when the user interrupts it: a helper that builds
 *  something in the background (a lab) stops and removes it instead of finishing for nobody. */
export const CELL_SIGNAL = Symbol.for("wirebook.cellSignal");

/** Runs registered disposers, then closes every remaining handle of this thread but our own. */
export async function releaseEverything(keep: Set<unknown>, deadlineMs = 2000): Promise<void> {
  const pending = [...disposers()].map(async (d) => {
    try {
      await d();
    } catch (e) {
      process.stderr.write(`[wirebook] cleanup failed: ${(e as Error).message}\n`);
    }
  });
  disposers().clear();
  await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, deadlineMs).unref())]);
  const handles: unknown[] = (process as any)._getActiveHandles();
  const children: ChildProcess[] = [];
  for (const h of handles) {
    if (keep.has(h) || h === process.stdout || h === process.stderr || h === process.stdin) continue;
    if (h instanceof ChildProcess) {
      h.kill("SIGTERM");
      children.push(h);
    } else if (h instanceof Server) {
      h.close();
      (h as any).closeAllConnections?.();
    } else if (h instanceof Socket) h.destroy();
    else if (h instanceof DgramSocket) h.close();
    else if (h instanceof Worker) void h.terminate();
  }
  await Promise.all(children.map((c) => reap(c)));
}

/** Waits until a child sent SIGTERM has exited (and so is reaped, not left a zombie for init to
 *  collect), and SIGKILLs it if it ignores SIGTERM. */
async function reap(child: ChildProcess, graceMs = 400): Promise<void> {
  const gone = new Promise<true>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(true);
    else child.once("exit", () => resolve(true));
  });
  const within = (ms: number) =>
    Promise.race([gone, new Promise<false>((r) => setTimeout(() => r(false), ms).unref())]);
  if (await within(graceMs)) return;
  child.kill("SIGKILL");
  await within(graceMs);
}
