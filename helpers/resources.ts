// Everything a cell opens is closed at the end of the notebook and on kernel shutdown.
import type { Server, Socket } from "node:net";
import { CELL_SIGNAL, DISPOSERS } from "../kernel/cleanup";

type Disposer = () => unknown;
const registry = (): Set<Disposer> => ((globalThis as any)[DISPOSERS] ??= new Set<Disposer>());

/** Registers a disposer the kernel runs at shutdown; returns a function that runs it now. */
export function onShutdown(dispose: Disposer): () => Promise<void> {
  registry().add(dispose);
  return async () => {
    registry().delete(dispose);
    await dispose();
  };
}

export interface Served {
  port: number;
  /** Closes the server and destroys its open connections; safe to call twice. */
  close(): Promise<void>;
}

/** Listens on loopback port 0, tracks connections, and is closed at shutdown if not before. */
export async function serve(server: Server, host = "127.0.0.1"): Promise<Served> {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
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
  return { port, close: () => (closing ??= close()) };
}

/** The signal of the cell running now, aborted if the user interrupts it; undefined outside the
 *  kernel (a script, a test). */
export const cellSignal = (): AbortSignal | undefined => (globalThis as any)[CELL_SIGNAL];

/** Runs every registered disposer now: the last cell of a notebook calls this. */
export async function closeEverything(): Promise<number> {
  const all = [...registry()];
  registry().clear();
  await Promise.all(all.map((d) => d()));
  return all.length;
}
