// UDP on loopback: a server that answers datagrams, a one-shot request with a timeout, and a relay
// that records what it carries (the UDP counterpart of tls.ts's wireTap). Sockets bind
// 127.0.0.1 port 0 and are closed at kernel shutdown if not before.
import * as dgram from "node:dgram";
import { onShutdown } from "../../kernel/runtime";
import { type Served } from "./serve";

/** Binds a UDP socket on `host` port 0 and registers its close with the kernel's shutdown. */
async function bound(host: string): Promise<Served & { socket: dgram.Socket }> {
  const socket = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const close = onShutdown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  let closing: Promise<void> | undefined;
  return { socket, port: socket.address().port, close: () => (closing ??= close()) };
}

/** A UDP server: each datagram goes to `handler`; what it returns (if anything) is sent back to
 *  the sender. A handler that throws drops the datagram, as a server does with garbage. */
export async function udpServer(
  handler: (message: Buffer, from: dgram.RemoteInfo) => Buffer | null | undefined | Promise<Buffer | null | undefined>,
  host = "127.0.0.1",
): Promise<Served & { socket: dgram.Socket }> {
  const server = await bound(host);
  server.socket.on("message", async (message, from) => {
    try {
      const reply = await handler(message, from);
      if (reply) server.socket.send(reply, from.port, from.address);
    } catch {
      // dropped
    }
  });
  return server;
}

export class UdpTimeoutError extends Error {
  readonly code = "ETIMEDOUT";
}

/** Sends one datagram from a fresh socket and resolves with the first reply that `accept` takes
 *  (default: any), or rejects with UdpTimeoutError after `timeoutMs`. */
export async function udpRequest(
  port: number,
  message: Buffer,
  options: { host?: string; timeoutMs?: number; accept?: (reply: Buffer) => boolean } = {},
): Promise<Buffer> {
  const host = options.host ?? "127.0.0.1";
  const client = await bound(host);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new UdpTimeoutError(`no reply from ${host}:${port} within ${options.timeoutMs ?? 2000} ms`)),
        options.timeoutMs ?? 2000,
      );
      client.socket.on("message", (reply, from) => {
        if (from.port !== port || !(options.accept ?? (() => true))(reply)) return; // not ours: keep waiting
        clearTimeout(timer);
        resolve(reply);
      });
      client.socket.send(message, port, host);
    });
  } finally {
    await client.close();
  }
}

export interface TapDatagram {
  from: "client" | "server";
  bytes: Buffer;
}

/** A UDP relay on 127.0.0.1 port 0 in front of `port`: a client's datagrams go on to the server
 *  from the relay's own socket, replies come back to the client, and every datagram is recorded. */
export async function udpTap(
  port: number,
): Promise<Served & { datagrams: TapDatagram[]; sent(from: TapDatagram["from"]): Buffer }> {
  const datagrams: TapDatagram[] = [];
  const front = await bound("127.0.0.1");
  const back = await bound("127.0.0.1");
  let client: dgram.RemoteInfo | undefined;
  front.socket.on("message", (bytes, from) => {
    client = from;
    datagrams.push({ from: "client", bytes });
    back.socket.send(bytes, port, "127.0.0.1");
  });
  back.socket.on("message", (bytes) => {
    datagrams.push({ from: "server", bytes });
    if (client) front.socket.send(bytes, client.port, client.address);
  });
  const sent = (from: TapDatagram["from"]) =>
    Buffer.concat(datagrams.filter((d) => d.from === from).map((d) => d.bytes));
  return {
    port: front.port,
    datagrams,
    sent,
    close: async () => void (await Promise.all([front.close(), back.close()])),
  };
}
