// The kernel thread's side of the wire thread (kernel/wire-thread.ts, a Worker that owns the zmq
// sockets): a Transport that hands it serialized messages to sign and send, and the loop that
// passes it what arrives, shell requests and the control channel's shutdown, to the kernel.
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { Kernel, Transport } from "./kernel";
import { jsonParts } from "./protocol";
import type { ToMain, ToWire } from "./threads";

export interface Wire extends Transport {
  /** The wire thread, which shutdown must not close with the handles cells opened. */
  readonly worker: Worker;
  /** Passes what the wire thread receives to the kernel; the process exits when it says so. */
  serve(kernel: Pick<Kernel, "handle" | "shutdown">): void;
  /** Closes the sockets, after what was already sent, and then exits the process with `code`. */
  close(code: number): void;
}

/** `exit` ends the process (main.ts gives Node's own process.exit, which cells cannot reach). */
export function startWire(connectionFile: string, log: (line: string) => void, exit: (code: number) => void): Wire {
  const worker = new Worker(join(__dirname, "boot.js"), {
    workerData: { connectionFile, entry: join(__dirname, "wire-thread.ts") },
  });
  const post = (m: ToWire) => worker.postMessage(m);
  return {
    worker,
    send(channel, msg) {
      // Strings cross threads much more cheaply than message objects.
      const buffers = msg.buffers?.length ? msg.buffers : undefined;
      post({ kind: "send", channel, msg: { identities: msg.identities, parts: jsonParts(msg), buffers } });
    },
    close(code) {
      post({ kind: "close", code });
    },
    serve(kernel) {
      worker.on("message", (m: ToMain) => {
        switch (m.kind) {
          case "bound":
            log(`ready (pid ${process.pid})`);
            break;
          case "shell":
            m.msg.identities = m.msg.identities.map((b) => Buffer.from(b));
            kernel.handle(m.msg);
            break;
          case "shutdown":
            void kernel.shutdown().then(() => post({ kind: "cleaned-up" }));
            break;
          case "exit":
            exit(m.code ?? 0);
        }
      });
      worker.on("error", (e) => {
        log(`wire thread crashed: ${e.stack ?? e}`);
        exit(1);
      });
    },
  };
}
