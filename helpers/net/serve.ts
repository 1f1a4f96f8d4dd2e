// Servers that clean up: `serve()` listens on loopback port 0 and is closed at kernel shutdown if
// not before. The disposer registry and the cell's signal are the cell runtime's (kernel/runtime.ts).
import type { Server, Socket } from "node:net";
import { onShutdown } from "../../kernel/runtime";

export { cellSignal, closeEverything, onShutdown } from "../../kernel/runtime";

export interface Served {
  port: number;
  /** Closes the server and destroys its open connections; safe to call twice. */
  close(): Promise<void>;
}

/** Listens on loopback port 0 (or `port`: the same port on a second address, e.g. a dual-stack
 *  service on ::1 and 127.0.0.1), tracks connections, and is closed at shutdown if not before. */
export async function serve(server: Server, host = "127.0.0.1", port = 0): Promise<Served> {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as { port: number }).port);
    });
  });
  const close = onShutdown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  );
  let closing: Promise<void> | undefined;
  return { port: bound, close: () => (closing ??= close()) };
}
