// TLS on loopback: servers that clean up, handshakes reported as data (what was negotiated, or
// the exact error code), and openssl as an independent peer.
import { execFile } from "node:child_process";
import * as net from "node:net";
import * as tls from "node:tls";
import { serve, type Served } from "./serve";

/** A TLS server on 127.0.0.1 port 0, closed at kernel shutdown if not before.
 *  `onSecure` runs on the next turn of the event loop after 'secureConnection': Node emits that
 *  event while OpenSSL is still finishing the handshake, and an end() issued right there loses
 *  its close_notify (openssl s_client then reports "unexpected eof while reading"). */
export async function tlsServer(
  options: tls.TlsOptions,
  onSecure?: (s: tls.TLSSocket) => void,
): Promise<Served & { server: tls.Server }> {
  const server = tls.createServer(options, (s) => {
    s.on("error", () => {}); // a refused client is reported by the client side
    setImmediate(() => (onSecure ? onSecure(s) : s.end()));
  });
  server.on("tlsClientError", () => {});
  return { ...(await serve(server)), server };
}

export type Handshake =
  | {
      ok: true;
      protocol: string;
      cipher: string;
      group: string;
      authorized: boolean;
      peer: string;
      socket: tls.TLSSocket;
    }
  | { ok: false; code: string; message: string };

/** Connects and settles with what was negotiated, or with the error that stopped the handshake.
 *  In TLS 1.3 a server's rejection of the client arrives just after the client's own handshake,
 *  so we wait for the first application byte (or the close) before calling it a success. */
export function handshake(
  port: number,
  options: tls.ConnectionOptions = {},
  waitForServerVerdict = false,
): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ...options });
    const fail = (e: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ ok: false, code: e.code ?? "ERR_UNKNOWN", message: e.message });
    };
    socket.once("error", fail);
    socket.once("secureConnect", () => {
      const done = () => {
        socket.off("error", fail);
        // A later error (an alert after the verdict) must not crash the cell; callers may listen too.
        socket.on("error", () => {});
        const key = socket.getEphemeralKeyInfo();
        resolve({
          ok: true,
          protocol: socket.getProtocol() ?? "?",
          cipher: socket.getCipher().standardName,
          group: key && "name" in key ? String(key.name) : "?",
          authorized: socket.authorized,
          peer: String(socket.getPeerCertificate().subject?.CN ?? "?"),
          socket,
        });
      };
      if (!waitForServerVerdict) return done();
      socket.once("data", done);
      // A clean close without a TLS alert carries no error code; report it as what it is, EOF.
      socket.once("end", () =>
        fail(Object.assign(new Error("the server closed the connection without a TLS alert"), { code: "EOF" })),
      );
    });
  });
}

/** The ephemeral key exchange of a client's connection, typed: `{ type: "ECDH", name: "X25519",
 *  size: 253 }` (Node's getEphemeralKeyInfo() may also give `{}` or null, so its type says
 *  `object`). Throws a TypeError when the socket has none to report: a server's socket, a
 *  handshake not yet done, or a key exchange that was not ephemeral. */
export function keyExchange(socket: tls.TLSSocket): tls.EphemeralKeyInfo {
  const info = socket.getEphemeralKeyInfo();
  const type = info ? Reflect.get(info, "type") : undefined;
  const size = info ? Reflect.get(info, "size") : undefined;
  if (typeof type !== "string" || typeof size !== "number") {
    throw new TypeError("this TLS socket reports no ephemeral key exchange (a client's socket does, once connected)");
  }
  const name = info ? Reflect.get(info, "name") : undefined;
  return { type, ...(typeof name === "string" ? { name } : {}), size };
}

export interface TapChunk {
  from: "client" | "server";
  bytes: Buffer;
}

/** A TCP relay on 127.0.0.1 port 0 that forwards to `port` and records every chunk it carries, in
 *  both directions: the bytes on the wire, as a capture would show them. `sent(side)` is everything
 *  one side sent; `idle()` resolves once every connection so far has closed on both legs. */
export async function wireTap(
  port: number,
): Promise<Served & { chunks: TapChunk[]; sent(from: TapChunk["from"]): Buffer; idle(): Promise<void> }> {
  const chunks: TapChunk[] = [];
  const connections: Promise<void>[] = [];
  // Half-open on both legs, so each direction carries its last bytes and its FIN on its own.
  const relay = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const forward = (from: TapChunk["from"], src: net.Socket, dst: net.Socket) => {
      src.on("data", (bytes) => {
        chunks.push({ from, bytes });
        dst.write(bytes);
      });
      src.on("end", () => dst.end());
      src.on("error", () => dst.destroy());
    };
    forward("client", client, upstream);
    forward("server", upstream, client);
    client.on("close", () => upstream.end()); // the tap was closed under a live connection
    connections.push(Promise.all([client, upstream].map((s) => new Promise((r) => s.once("close", r)))).then(() => {}));
  });
  const served = await serve(relay);
  const sent = (from: TapChunk["from"]) => Buffer.concat(chunks.filter((c) => c.from === from).map((c) => c.bytes));
  const idle = () => Promise.all(connections).then(() => {});
  return { ...served, chunks, sent, idle };
}

/** Runs the openssl command line tool; resolves with its output, never rejects on a non-zero exit. */
export function openssl(args: string[], input = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile("openssl", args, { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
    });
    // A command that reads no input (openssl verify) may exit before its stdin is closed: the
    // EPIPE that follows is no news, its exit code and output say what happened.
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}
