// Probes of an HTTPS server's production limits, each a measurement of what the server did: a
// slow-loris client that trickles its headers, an idle keep-alive connection, one request with a
// chosen method, headers and body (for 431 and 413), a burst of requests (for 429), and a request
// left in flight while the server shuts down. They run in this process against a server on
// loopback and report what the socket saw (a status, a reset, a close and when), never throwing
// for what the server does.
import { connect, type TLSSocket } from "node:tls";
import { nowMs, sleep } from "../os/time";

export interface Target {
  port: number;
  /** The CA certificates (PEM) to trust. */
  ca: string | string[];
  /** Default 127.0.0.1, with SNI "localhost". */
  host?: string;
}

const open = (t: Target): Promise<TLSSocket> =>
  new Promise((resolve, reject) => {
    const s = connect({ host: t.host ?? "127.0.0.1", port: t.port, ca: t.ca, servername: "localhost" });
    s.once("secureConnect", () => resolve(s));
    s.once("error", reject);
  });

const statusOf = (text: string) => /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? null;
const codeOf = (e: unknown) => (e instanceof Error ? String(Reflect.get(e, "code") ?? e.message) : String(e));

export interface Response {
  /** "200", "431", … or null when no status line came. */
  status: string | null;
  headers: Record<string, string>;
  body: string;
  /** A socket error ("ECONNRESET") instead of (or cut into) a response. */
  error?: string;
}

function parse(text: string): Omit<Response, "error"> {
  const [head, ...rest] = text.split("\r\n\r\n");
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = rest.join("\r\n\r\n");
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = unchunk(body);
  return { status: statusOf(text), headers, body };
}

function unchunk(text: string): string {
  let out = "";
  for (let at = 0; at < text.length;) {
    const eol = text.indexOf("\r\n", at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) break;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}

export interface RequestSpec {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A body of this many bytes ("x" repeated), sent with Content-Length. */
  bodyBytes?: number;
  /** Give up waiting for the response after this long (default 5000 ms). */
  timeoutMs?: number;
}

/** One request on a fresh connection (Connection: close), the whole response read. */
export async function request(t: Target, spec: RequestSpec = {}): Promise<Response> {
  let s: TLSSocket;
  try {
    s = await open(t);
  } catch (e) {
    return { status: null, headers: {}, body: "", error: codeOf(e) };
  }
  const body = spec.bodyBytes ? Buffer.alloc(spec.bodyBytes, "x") : Buffer.alloc(0);
  const headers: Record<string, string> = { Host: "localhost", Connection: "close", ...spec.headers };
  if (spec.bodyBytes) headers["Content-Length"] = String(body.length);
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return new Promise<Response>((resolve) => {
    const chunks: Buffer[] = [];
    const finish = (error?: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve({ ...parse(Buffer.concat(chunks).toString("latin1")), ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish("timeout"), spec.timeoutMs ?? 5000);
    s.on("data", (d) => chunks.push(d));
    s.on("end", () => finish());
    s.on("error", (e) => finish(codeOf(e)));
    s.write(`${spec.method ?? "GET"} ${spec.path ?? "/"} HTTP/1.1\r\n${head}\r\n`);
    if (body.length) s.write(body, () => {}); // the server may answer (413) and close before it all went
  });
}

export interface SlowLoris {
  /** How long the server kept the connection open, or null if it was still open at the end. */
  closedAfterMs: number | null;
  /** The status the server sent before closing (Node sends 408), if any. */
  status: string | null;
  /** Header bytes the client managed to trickle in. */
  bytesSent: number;
}

/** A slow-loris client: a request line, then one header byte every `everyMs`, never finishing
 *  the headers, for at most `forMs`. Measures when (and whether) the server gave up on it. */
export async function slowLoris(t: Target, opts: { everyMs?: number; forMs?: number } = {}): Promise<SlowLoris> {
  const s = await open(t);
  const start = nowMs();
  let closedAt: number | null = null;
  let text = "";
  s.on("data", (d) => (text += d));
  s.on("close", () => (closedAt ??= nowMs()));
  s.on("error", () => (closedAt ??= nowMs()));
  s.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
  let bytesSent = 0;
  const trickle = "X-Loris: a-very-long-header-that-never-ends-".repeat(50);
  while (closedAt === null && nowMs() - start < (opts.forMs ?? 5000)) {
    await sleep(opts.everyMs ?? 200);
    if (closedAt === null && !s.destroyed) s.write(trickle[bytesSent++ % trickle.length]);
  }
  s.destroy();
  return { closedAfterMs: closedAt === null ? null : closedAt - start, status: statusOf(text), bytesSent };
}

export interface IdleKeepAlive {
  status: string | null;
  /** The server's Keep-Alive header ("timeout=5"), if it sent one. */
  keepAlive: string | null;
  /** How long the idle connection stayed open after the response, or null if still open. */
  closedAfterMs: number | null;
}

/** One keep-alive request, then silence for at most `idleMs`: when does the server close the
 *  idle connection? */
export async function idleKeepAlive(t: Target, idleMs = 3000): Promise<IdleKeepAlive> {
  const s = await open(t);
  let text = "";
  let answeredAt = 0;
  let closedAt: number | null = null;
  s.on("close", () => (closedAt ??= nowMs()));
  s.on("error", () => (closedAt ??= nowMs()));
  await new Promise<void>((resolve) => {
    s.on("data", (d) => {
      text += d;
      if (/\r\n\r\n/.test(text) && !answeredAt) {
        answeredAt = nowMs();
        resolve();
      }
    });
    s.write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
  });
  while (closedAt === null && nowMs() - answeredAt < idleMs) await sleep(50);
  s.destroy();
  const { status, headers } = parse(text);
  return {
    status,
    keepAlive: headers["keep-alive"] ?? null,
    closedAfterMs: closedAt === null ? null : closedAt - answeredAt,
  };
}

/** `n` requests one after another, each on its own connection: how many got each status. */
export async function burst(t: Target, n: number, spec: RequestSpec = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await request(t, spec);
    const key = r.status ?? r.error ?? "none";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export interface Shutdown {
  /** What the request in flight got: its status, or the socket error that cut it. */
  inFlight: Response;
  /** What a new connection attempt after the shutdown began got. */
  afterwards: Response;
}

/** Starts `spec` (a slow request), waits `afterMs`, calls `shutdown()`, and reports what the
 *  request in flight and a new connection each got. */
export async function requestDuringShutdown(
  t: Target,
  shutdown: () => unknown,
  spec: RequestSpec,
  afterMs = 200,
): Promise<Shutdown> {
  const inFlight = request(t, spec);
  await sleep(afterMs);
  void Promise.resolve(shutdown());
  await sleep(50);
  const afterwards = await request(t, { timeoutMs: 1000 });
  return { inFlight: await inFlight, afterwards };
}
