// SOCKS5 at work: a proxy written from RFC 1928 and RFC 1929 (no authentication or username and
// password; CONNECT to IPv4, IPv6 or a domain name, which it resolves from a local table of its
// own and never through DNS; loopback destinations only; the reply codes for refused, unknown and
// forbidden destinations), which logs each session; a client that performs the handshake step by
// step and reports every message; a probe that sends arbitrary bytes and reports what came back
// and whether the connection was closed; and dante (danted) started with a config of its own on
// a free loopback port. The messages themselves are helpers/wire/socks.ts.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import { logLines } from "../os/log-lines";
import { sleep } from "../os/time";
import { inCidr, isIpv4 } from "../wire/addr";
import * as socks from "../wire/socks";
import { serve } from "./serve";

/** One session as the proxy saw it. */
export interface SocksSession {
  offered: number[];
  method?: number;
  user?: string;
  request?: socks.SocksRequest;
  /** Where a domain name pointed in the proxy's table. */
  resolved?: string;
  /** The reply code sent (undefined: the proxy closed without a reply). */
  reply?: number;
  /** Why the session ended early, when it did. */
  refused?: string;
}

export interface SocksProxyOptions {
  /** Require RFC 1929 username/password with these users; without it, no authentication. */
  users?: Record<string, string>;
  /** The proxy's own name table: name → IPv4 or IPv6 address. Names not in it are unknown. */
  names?: Record<string, string>;
}

const loopback = (a: string) => a === "::1" || (isIpv4(a) && inCidr(a, "127.0.0.0/8"));
const replyFor = (code: string | undefined): number =>
  ({ ECONNREFUSED: 5, ENETUNREACH: 3, EHOSTUNREACH: 4, ETIMEDOUT: 4 })[code ?? ""] ?? 1;

/** Reads messages off a socket: `next(codec)` resolves with one message once its bytes are all
 *  there, leaving the bytes after it for the next call; a SocksError if they are malformed. */
function messages(s: net.Socket) {
  let buf = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  let ended = false;
  s.on("data", (d: Buffer) => ((buf = Buffer.concat([buf, d])), wake?.()));
  s.on("end", () => ((ended = true), wake?.()));
  s.on("close", () => ((ended = true), wake?.()));
  return async function next<T>(c: { decode: ((b: Buffer) => T) & { bytes: number } }): Promise<T | undefined> {
    for (;;) {
      if (socks.complete(c, buf)) {
        const v = c.decode(buf);
        buf = buf.subarray(c.decode.bytes);
        return v;
      }
      if (ended) return undefined;
      await new Promise<void>((r) => (wake = r));
    }
  };
}

/** Our SOCKS5 proxy on 127.0.0.1, port 0: a service with its port, the sessions so far and close(). */
export async function socksProxy(opts: SocksProxyOptions = {}) {
  const sessions: SocksSession[] = [];
  const server = net.createServer((client) => {
    const session: SocksSession = { offered: [] };
    sessions.push(session);
    client.on("error", () => {});
    void handle(client, session, opts).catch((e: unknown) => {
      session.refused ??= e instanceof socks.SocksError ? e.code : String(e);
      client.destroy();
    });
  });
  const served = await serve(server);
  return { port: served.port, sessions: () => sessions.map((s) => ({ ...s })), close: served.close };
}

async function handle(client: net.Socket, session: SocksSession, opts: SocksProxyOptions): Promise<void> {
  const next = messages(client);
  const refuse = (why: string, bytes?: Buffer) => {
    session.refused = why;
    if (bytes) client.end(bytes);
    else client.destroy();
  };
  let hello: socks.Greeting | undefined;
  try {
    hello = await next(socks.greeting);
  } catch (e) {
    if (e instanceof socks.SocksError && e.code === "ERR_SOCKS_NO_METHODS")
      return refuse("no methods offered", socks.methodChoice.encode({ method: socks.METHODS.noneAcceptable }));
    throw e; // a wrong version: not SOCKS5, closed without a reply
  }
  if (!hello) return refuse("closed before the greeting");
  session.offered = hello.methods;
  const wanted = opts.users ? socks.METHODS.userPass : socks.METHODS.noAuth;
  if (!hello.methods.includes(wanted))
    return refuse("no acceptable method", socks.methodChoice.encode({ method: socks.METHODS.noneAcceptable }));
  session.method = wanted;
  client.write(socks.methodChoice.encode({ method: wanted }));
  if (opts.users) {
    const creds = await next(socks.userPass);
    if (!creds) return refuse("closed before authenticating");
    session.user = creds.username;
    const ok = Object.hasOwn(opts.users, creds.username) && opts.users[creds.username] === creds.password;
    if (!ok) return refuse("bad username or password", socks.userPassReply.encode({ status: 1 }));
    client.write(socks.userPassReply.encode({ status: 0 }));
  }
  const answer = (code: number, bound?: net.AddressInfo) =>
    socks.reply.encode({
      code,
      address: bound
        ? { type: bound.family === "IPv6" ? "ipv6" : "ipv4", host: bound.address }
        : { type: "ipv4", host: "0.0.0.0" },
      port: bound?.port ?? 0,
    });
  let req: socks.SocksRequest | undefined;
  try {
    req = await next(socks.request);
  } catch (e) {
    if (e instanceof socks.SocksError && e.code === "ERR_SOCKS_BAD_ADDRESS_TYPE") {
      session.reply = 8;
      return refuse("address type not supported", answer(8));
    }
    throw e;
  }
  if (!req) return refuse("closed before the request");
  session.request = req;
  const fail = (code: number, why: string) => ((session.reply = code), refuse(why, answer(code)));
  if (req.code !== socks.COMMANDS.connect) return fail(7, "only CONNECT is supported");
  let target = req.address.host;
  if (req.address.type === "domain") {
    const found = opts.names && Object.hasOwn(opts.names, target) ? opts.names[target] : undefined;
    if (found === undefined) return fail(4, `no name ${target} in the proxy's table`);
    session.resolved = target = found;
  }
  if (!loopback(target)) return fail(2, `${target} is not a loopback address`);
  const upstream = net.connect({ host: target, port: req.port });
  upstream.on("error", (e: NodeJS.ErrnoException) => {
    if (session.reply === undefined) fail(replyFor(e.code), e.code ?? e.message);
    else client.destroy();
  });
  upstream.once("connect", () => {
    session.reply = 0;
    client.write(answer(0, upstream.address() as net.AddressInfo));
    client.removeAllListeners("data"); // the handshake is over: from here on, bytes are relayed
    upstream.pipe(client);
    client.pipe(upstream);
    client.on("close", () => upstream.destroy());
  });
}

/** One step of a client's handshake. */
export interface SocksStep {
  from: "client" | "proxy";
  bytes: Buffer;
  meaning: string;
}

/** Our client: greeting (with `methods`, default the one the options imply), the sub-negotiation
 *  with `auth`, a CONNECT (or `command`) to `address`:`port`, every message kept. Resolves with
 *  the steps, the reply code (undefined if the proxy closed first) and, on success, the socket. */
export async function socksConnect(
  proxy: { host: string; port: number },
  address: socks.SocksAddress,
  port: number,
  opts: { auth?: socks.UserPass; methods?: number[]; command?: number } = {},
) {
  const s = net.connect({ host: proxy.host, port: proxy.port });
  s.on("error", () => {});
  await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject));
  const forget = onShutdown(() => void s.destroy());
  const next = messages(s);
  const steps: SocksStep[] = [];
  const send = (bytes: Buffer, meaning: string) => (steps.push({ from: "client", bytes, meaning }), s.write(bytes));
  const got = (bytes: Buffer, meaning: string) => steps.push({ from: "proxy", bytes, meaning });
  const done = (reply?: number) => {
    if (reply !== 0) s.destroy();
    return { steps, reply, socket: reply === 0 ? s : undefined, close: () => forget() };
  };
  const methods = opts.methods ?? [opts.auth ? socks.METHODS.userPass : socks.METHODS.noAuth];
  send(socks.greeting.encode({ methods }), `greeting, methods ${methods.join(", ")}`);
  const choice = await next(socks.methodChoice);
  if (!choice) return done();
  got(
    socks.methodChoice.encode(choice),
    `method ${choice.method}${choice.method === 0xff ? " (none acceptable)" : ""}`,
  );
  if (choice.method === socks.METHODS.userPass && opts.auth) {
    send(socks.userPass.encode(opts.auth), `username "${opts.auth.username}", a password`);
    const r = await next(socks.userPassReply);
    if (!r) return done();
    got(socks.userPassReply.encode(r), `status ${r.status} (${r.status === 0 ? "success" : "failure"})`);
    if (r.status !== 0) return done();
  } else if (choice.method !== socks.METHODS.noAuth) return done();
  const code = opts.command ?? socks.COMMANDS.connect;
  send(socks.request.encode({ code, address, port }), `command ${code}, ${address.type} ${address.host}`);
  const r = await next(socks.reply);
  if (!r) return done();
  got(socks.reply.encode(r), `reply ${r.code} (${socks.REPLIES[r.code] ?? "?"})`);
  return done(r.code);
}

/** Sends `bytes` to `host`:`port` and reports what came back and whether the other side closed
 *  the connection, within `waitMs` of silence (default 1 s). */
export async function socksProbe(host: string, port: number, bytes: Buffer, waitMs = 1000) {
  const s = net.connect({ host, port });
  const chunks: Buffer[] = [];
  let closed = false;
  s.on("data", (d: Buffer) => chunks.push(d));
  s.on("error", () => {});
  const ended = new Promise<void>((resolve) => s.once("close", () => ((closed = true), resolve())));
  await new Promise<void>((resolve) => s.once("connect", resolve));
  s.write(bytes);
  await Promise.race([ended, sleep(waitMs)]);
  s.destroy();
  return { received: Buffer.concat(chunks), closed };
}

/** A port that was free a moment ago, for a daemon that cannot bind port 0 and report it. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, "127.0.0.1", resolve));
  const a = probe.address();
  await new Promise((r) => probe.close(r));
  if (a === null || typeof a === "string") throw new Error("no port");
  return a.port;
}

/** danted (dante-server) on 127.0.0.1 with its own config: no authentication, CONNECT to loopback
 *  allowed except to `blocked` (a loopback address), everything else blocked, its log on stderr.
 *  A service with its port, the log lines so far (without the timestamp and pid), a wait for log
 *  lines (helpers/os/log-lines.ts) and close(). */
export async function startDante(opts: { blocked?: string; startMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "wirebook-dante-"));
  const port = await freePort();
  const conf = join(dir, "danted.conf");
  const rule = (verdict: string, to: string, extra = "") =>
    `socks ${verdict} {\n  from: 127.0.0.0/8 to: ${to}\n${extra}  log: error connect\n}`;
  writeFileSync(
    conf,
    [
      "logoutput: stderr",
      `internal: 127.0.0.1 port = ${port}`,
      "external: 127.0.0.1",
      "socksmethod: none",
      "clientmethod: none",
      "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}",
      ...(opts.blocked ? [rule("block", `${opts.blocked}/32`)] : []),
      rule("pass", "127.0.0.0/8", "  command: connect\n"),
      rule("block", "0.0.0.0/0"),
    ].join("\n") + "\n",
  );
  const child = spawn("danted", ["-f", conf, "-N", "1"], { stdio: ["ignore", "ignore", "pipe"] });
  const log = logLines(child, child.stderr, "danted", (l) => l.replace(/^.*?danted\[\d+\]: /, ""));
  let closing: Promise<void> | undefined;
  const stop = onShutdown(async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  });
  const close = () => (closing ??= stop());
  const until = Date.now() + (opts.startMs ?? 10_000);
  while (!log.lines().some((l) => /running/.test(l))) {
    if (child.exitCode !== null || Date.now() > until) {
      await close();
      throw new Error(`danted did not start: ${log.lines().slice(-2).join(" / ") || "no log"}`);
    }
    await sleep(50);
  }
  return { host: "127.0.0.1", port, log: log.lines, logged: log.logged, close };
}
