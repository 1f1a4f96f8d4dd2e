// The wirebook kernel process, started by kernel/boot.js (`node kernel/boot.js -f CONNECTION_FILE`). This file only
// puts the parts together: the kernel (kernel/kernel.ts) runs cells on this thread through the
// executor, the wire thread (kernel/wire.ts) owns the sockets, and kernel/capture.ts turns this
// process's stdout, stderr and uncaught errors into outputs of the running cell.
import { captureProcess } from "./capture";
import { releaseEverything } from "./cleanup";
import { createExecutor } from "./executor";
import { createKernel } from "./kernel";
import { startWire } from "./wire";

function parseArgs(argv: string[]): string {
  const i = argv.findIndex((a) => a === "-f" || a === "--connection-file");
  if (i >= 0 && argv[i + 1]) return argv[i + 1];
  process.stderr.write("usage: wirebook-kernel -f CONNECTION_FILE\n");
  process.exit(2);
}

const connectionFile = parseArgs(process.argv.slice(2));
const realStderr = process.stderr.write.bind(process.stderr);
const log = (line: string) => realStderr(`[wirebook] ${line}\n`);

// Node's own exit, for the kernel alone; cells get the one below.
const exit = process.exit.bind(process) as (code: number) => never;
const wire = startWire(connectionFile, log, exit);
const executor = createExecutor(process.cwd());
const kernel = createKernel({
  executor,
  transport: wire,
  log,
  // Everything this thread has open, but the wire thread: it still has to send the replies.
  release: () => releaseEverything(new Set([wire.worker])),
  onShutdownReply: () => setTimeout(() => exit(0), 100),
});

// A cell that calls process.exit ends the kernel, as in Node, but cleanly: what cells opened is
// closed, then the sockets, and the process exits with the code asked for. The call throws, so
// nothing after it in the cell runs, and the cell's error says what happened.
class KernelExit extends Error {
  override name = "KernelExit";
}
let exitCode: number | undefined;
process.exit = function (code?: string | number | null): never {
  if (exitCode === undefined) {
    exitCode = Number(code ?? process.exitCode ?? 0) || 0;
    const ending = exitCode;
    void kernel.shutdown().finally(() => wire.close(ending));
  }
  throw new KernelExit(
    `process.exit(${code ?? ""}) ends the kernel: it closes what cells opened and exits (code ${exitCode})`,
  );
};
captureProcess(kernel);
// SIGINT (from the user, or the wire thread's interrupt_request) stops the running cell: vm's
// breakOnSigint breaks a busy loop, and this listener a pending await.
process.on("SIGINT", () => executor.interrupt());
wire.serve(kernel);
