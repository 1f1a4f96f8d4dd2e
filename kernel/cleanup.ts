// Closing what cells opened: at shutdown the kernel runs the cell runtime's disposers, then closes
// every server, socket, child process and worker still open in this thread, so nothing outlives
// the notebook.
import { ChildProcess } from "node:child_process";
import { Socket as DgramSocket } from "node:dgram";
import { Server, Socket } from "node:net";
import { Worker } from "node:worker_threads";
import { disposeForShutdown, stopProcess } from "./runtime";

/** Node's list of this thread's open handles (undocumented, but the only complete one). */
const activeHandles = (): unknown[] => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();

/** Runs registered disposers, then closes every remaining handle of this thread but `keep`. */
export async function releaseEverything(keep: Set<unknown>, deadlineMs = 2000): Promise<void> {
  await disposeForShutdown(deadlineMs);
  const children: ChildProcess[] = [];
  for (const h of activeHandles()) {
    if (keep.has(h) || h === process.stdout || h === process.stderr || h === process.stdin) continue;
    if (h instanceof ChildProcess) children.push(h);
    else if (h instanceof Server) {
      h.close();
      (h as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    } else if (h instanceof Socket) h.destroy();
    else if (h instanceof DgramSocket) h.close();
    else if (h instanceof Worker) void h.terminate();
  }
  await Promise.all(children.map((c) => stopProcess(c, 400)));
}
