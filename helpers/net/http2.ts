// HTTP/2 at work, small enough to run anywhere (this process, a peer process, a lab host via
// `lab.host("b").run(http2, "h2Server", 443, …)`): a node:http2 server over TLS that serves
// bodies of given sizes by path (and HTTP/1.1 to clients that ask for it by ALPN), counting the
// connections and streams it saw; a client that fetches several paths at once on one connection.
// Either end can write the TLS key log (NSS's SSLKEYLOGFILE format), which lets tshark decrypt a
// capture of the connection. Servers are services: `close()` ends them, and kernel shutdown does
// if nobody did. And a frame connection: TLS with ALPN h2 on which we write and read the frames
// ourselves, to test a real server with hand-made (and broken) frames.
import { appendFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import { onShutdown } from "../../kernel/runtime";
import { frame, frames, Http2Error, type DecodedFrame, type Frame } from "../wire/http2";

export interface H2ServerOptions {
  key: string;
  cert: string;
  /** Default: every address of the host. */
  address?: string;
  /** Body size in bytes for each path; other paths are 404. Bodies are one letter repeated,
   *  a letter per path ("a" for the first, "b" for the second…). */
  bodies: Record<string, number>;
  /** Append the TLS secrets of every connection to this file. */
  keylog?: string;
  /** Hold each response until this many requests are waiting, then answer them all at once, so
   *  that their DATA frames compete for the connection (default 1: answer at once). */
  batch?: number;
}
export interface H2Request {
  path: string;
  /** The stream's identifier (HTTP/2), or 0 for an HTTP/1.1 request. */
  streamId: number;
  httpVersion: string;
  /** Which TCP connection (1 for the first the server accepted). */
  connection: number;
}

/** An HTTP/2 (and HTTP/1.1) server over TLS on `port` (0: any). */
export async function h2Server(port: number, o: H2ServerOptions) {
  const letters = new Map(Object.keys(o.bodies).map((p, i) => [p, String.fromCharCode(97 + (i % 26))]));
  const requests: H2Request[] = [];
  const held: (() => void)[] = [];
  const sockets = new Map<Socket, number>();
  const all = new Set<Socket>();
  const sessions = new WeakMap<http2.Http2Session, number>();
  let accepted = 0;
  const server = http2.createSecureServer({ key: o.key, cert: o.cert, allowHTTP1: true }, (req, res) => {
    const path = req.url;
    const session = req.stream?.session;
    const connection = (session ? sessions.get(session) : sockets.get(req.socket)) ?? 0;
    requests.push({ path, streamId: req.stream?.id ?? 0, httpVersion: req.httpVersion, connection });
    held.push(() => {
      const size = o.bodies[path];
      if (size === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "text/plain", "content-length": size });
      res.end(Buffer.alloc(size, letters.get(path)));
    });
    if (held.length >= (o.batch ?? 1)) held.splice(0).forEach((answer) => answer());
  });
  // An HTTP/2 connection becomes a session; one that chose HTTP/1.1 stays a TLS socket.
  server.on("session", (session) => sessions.set(session, ++accepted));
  server.on("secureConnection", (s) => {
    if (s.alpnProtocol !== "h2") sockets.set(s, ++accepted);
    all.add(s);
    s.once("close", () => {
      sockets.delete(s);
      all.delete(s);
    });
  });
  if (o.keylog) {
    const file = o.keylog;
    server.on("keylog", (line) => appendFileSync(file, line));
  }
  server.on("sessionError", () => {});
  server.on("tlsClientError", () => {});
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, o.address, () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : port);
    });
  });
  let closing: Promise<void> | undefined;
  const forget = onShutdown(() => stop());
  const stop = () =>
    (closing ??= new Promise<void>((resolve) => {
      for (const s of all) s.destroy();
      server.close(() => resolve());
    }));
  return {
    port: bound,
    /** TCP connections accepted so far. */
    connections: () => accepted,
    /** Every request so far, in arrival order. */
    requests: () => requests.slice(),
    close: () => forget().then(stop),
  };
}

export interface H2Fetched {
  path: string;
  status: number;
  streamId: number;
  bytes: number;
}

/** Fetches every path at once on one HTTP/2 connection to `origin` and closes it. */
export async function h2Fetch(
  origin: string,
  paths: string[],
  o: { ca: string; servername?: string; keylog?: string },
): Promise<H2Fetched[]> {
  const session = http2.connect(origin, { ca: o.ca, servername: o.servername ?? "localhost" });
  const file = o.keylog;
  if (file) session.socket.on("keylog", (line) => appendFileSync(file, line));
  try {
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    const one = (path: string) =>
      new Promise<H2Fetched>((resolve, reject) => {
        const req = session.request({ ":path": path });
        let status = 0;
        let bytes = 0;
        req.on("response", (h) => (status = Number(h[":status"])));
        req.on("data", (d: Buffer) => (bytes += d.length));
        req.on("end", () => resolve({ path, status, streamId: req.id ?? 0, bytes }));
        req.on("error", reject);
        req.end();
      });
    return await Promise.all(paths.map(one));
  } finally {
    await new Promise<void>((resolve) => session.close(() => resolve()));
  }
}

export interface FrameConnection {
  /** Writes frames (or raw bytes: a preface, a deliberately broken frame) in one write. */
  send(...items: (Frame | Buffer)[]): void;
  /** Every frame received so far, in order. */
  received(): DecodedFrame[];
  /** The first frame received after the `from`-th that `match` accepts, waiting up to `ms`
   *  milliseconds; undefined if none came (or the connection closed first). */
  next(match: (f: DecodedFrame) => boolean, ms: number, from?: number): Promise<DecodedFrame | undefined>;
  /** Resolves when the peer has closed the connection, or after `ms` (then false). */
  closed(ms: number): Promise<boolean>;
  /** The bytes received that do not decode as frames (with the reason), if any. */
  error(): Http2Error | undefined;
  close(): void;
}

/** A TLS connection with ALPN h2 on which we speak frames ourselves (wire/http2.ts), to test a
 *  real server: what we send is exactly the bytes given, what comes back is decoded as it arrives. */
export async function frameConnection(
  port: number,
  o: { ca: string; host?: string; servername?: string },
): Promise<FrameConnection> {
  const socket = tls.connect({
    host: o.host ?? "127.0.0.1",
    port,
    ca: o.ca,
    servername: o.servername ?? "localhost",
    ALPNProtocols: ["h2"],
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  if (socket.alpnProtocol !== "h2") throw new Error(`the server chose ${String(socket.alpnProtocol)}, not h2`);
  socket.on("error", () => {}); // a peer's reset is reported as a close
  const forget = onShutdown(() => void socket.destroy());
  let bytes = Buffer.alloc(0);
  let got: DecodedFrame[] = [];
  let bad: Http2Error | undefined;
  let ended = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  socket.on("data", (d: Buffer) => {
    bytes = Buffer.concat([bytes, d]);
    try {
      got = frames(bytes).frames;
    } catch (e) {
      if (e instanceof Http2Error) bad = e;
      else throw e;
    }
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  const wait = <T>(check: () => T | undefined, ms: number) =>
    new Promise<T | undefined>((resolve) => {
      const done = (v: T | undefined) => {
        waiters.delete(poll);
        clearTimeout(timer);
        resolve(v);
      };
      const poll = () => {
        const v = check();
        if (v !== undefined || ended) done(v);
      };
      const timer = setTimeout(() => done(undefined), ms);
      waiters.add(poll);
      poll();
    });
  return {
    send: (...items) => void socket.write(Buffer.concat(items.map((i) => (Buffer.isBuffer(i) ? i : frame.encode(i))))),
    received: () => got.slice(),
    next: (match, ms, from = 0) => wait(() => got.slice(from).find(match), ms),
    closed: async (ms) => (await wait(() => (ended ? true : undefined), ms)) ?? false,
    error: () => bad,
    close: () => {
      socket.destroy();
      void forget();
    },
  };
}
