// Small servers and clients for experiments, one configurable set: a UDP server that records,
// echoes or says what it heard (and joins multicast groups), a TCP server that greets, tells each
// client its address, records or just counts, and the clients that go with them. They run in this
// process, in a peer process, or inside a lab host (`lab.host("b").run(services, "udpServer", 53)`).
// Results are plain data with Buffers where there are bytes; servers are services (their methods
// stay callable, `close()` ends them). A failure is the answer in these experiments, so clients
// report a socket error by its code ("ECONNREFUSED", "timeout") instead of throwing.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { onShutdown } from "../../kernel/runtime";
import { Registry } from "../wire/prometheus";
import { IP, SOL } from "../os/libc";
import { assertInLabHost } from "../os/netns";
import { IPPROTO } from "../os/rawsock";
import { getsockopt, setsockopt } from "../os/sockopt";
import { nowMs, sleep } from "../os/time";
import { rawListener } from "./raw";

// A server started again on the same protocol and port (a cell run twice) replaces the old one,
// instead of failing with EADDRINUSE; so do connections made again from the same fixed port.
const running = new Map<string, () => Promise<unknown>>();
async function replacing(key: string): Promise<void> {
  const close = running.get(key);
  running.delete(key);
  if (close) await close().catch(() => {});
}
const once = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
};
/** A server's close(): runs once, and also at kernel shutdown if nobody called it before. */
const closer = <T>(fn: () => Promise<T>): (() => Promise<T>) => {
  const run = once(fn);
  const forget = onShutdown(run);
  return () => forget().then(run);
};
const errorCode = (e: unknown): string => (e instanceof Error ? (Reflect.get(e, "code") ?? e.message) : String(e));

async function bindUdp(socket: dgram.Socket, port: number, address?: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
}

// ---- UDP ----------------------------------------------------------------------------------------

export interface Datagram {
  payload: Buffer;
  from: string;
  port: number;
}

/** Answers a datagram: what it returns (if anything) goes back to the sender; a throw drops it,
 *  as a server does with garbage. Only in this process (a function does not cross to an agent). */
export type UdpHandler = (
  message: Buffer,
  from: dgram.RemoteInfo,
) => Buffer | null | undefined | Promise<Buffer | null | undefined>;

export interface UdpServerOptions {
  /** "echo": send every datagram back; `{ heard: name }`: answer `<name> heard "<text>" from
   *  <address>`; a function: answer with what it returns. */
  reply?: "echo" | { heard: string } | UdpHandler;
  /** The address to bind (default: all of the host's IPv4 ones; "::" or another IPv6 address
   *  makes an IPv6 socket, which on "::" also takes IPv4 as IPv4-mapped addresses). */
  address?: string;
  /** Keep each datagram (default true); false only counts them: a receiver for a flood. */
  record?: boolean;
  /** SO_RCVBUF: the socket's receive buffer, in bytes (a flood needs a large one). */
  receiveBuffer?: number;
}

/** A UDP server on `port` (0: any) that records every datagram, and answers as `reply` says.
 *  It counts what it read as metrics, and can join multicast groups. A service. */
export async function udpServer(port: number, options: UdpServerOptions = {}) {
  await replacing(`udp:${port}`);
  const type = options.address?.includes(":") ? "udp6" : "udp4"; // an IPv6 address: an IPv6 socket
  const socket = dgram.createSocket({ type, reuseAddr: true, recvBufferSize: options.receiveBuffer });
  const queue: Datagram[] = [];
  const all: Datagram[] = [];
  const joined = new Set<string>();
  // Plain numbers on the hot path (a flood is millions of datagrams); metrics() renders them.
  let datagrams = 0;
  let bytes = 0;
  socket.on("message", (payload, from) => {
    if (options.record !== false) {
      const d = { payload, from: from.address, port: from.port };
      queue.push(d);
      all.push(d);
    }
    datagrams++;
    bytes += payload.length;
    if (options.reply) void answer(payload, from);
  });
  const answer = async (payload: Buffer, from: dgram.RemoteInfo) => {
    const { reply } = options;
    const send = (data: Buffer | string) => socket.send(data, from.port, from.address);
    if (reply === "echo") send(payload);
    else if (typeof reply === "function") {
      const answered = await Promise.resolve()
        .then(() => reply(payload, from))
        .catch(() => null);
      if (answered) send(answered);
    } else if (reply) send(`${reply.heard} heard "${payload}" from ${from.address}`);
  };
  await bindUdp(socket, port, options.address ?? "0.0.0.0");
  const close = closer(() => new Promise<number>((resolve) => socket.close(() => resolve(datagrams))));
  const bound = socket.address().port;
  running.set(`udp:${bound}`, close);
  return {
    port: bound,
    /** Waits until `n` datagrams are queued (or `timeoutMs` passes), then hands over and forgets
     *  every queued one. */
    async received(n = 0, timeoutMs = 1000): Promise<Datagram[]> {
      for (const end = nowMs() + timeoutMs; queue.length < n && nowMs() < end;) await sleep(10);
      return queue.splice(0);
    },
    /** Every datagram so far whose text starts with `prefix` (all of them without one). */
    count: (prefix = "") => all.filter((d) => d.payload.toString().startsWith(prefix)).length,
    /** What each datagram said and who sent it, in order. */
    heard: () => all.map((d) => ({ text: d.payload.toString(), from: d.from })),
    /** Sends `data` from the server's own socket (a relay answering later). */
    send: (data: Buffer, to: { address: string; port: number }) => void socket.send(data, to.port, to.address),
    /** The server's counters in Prometheus text format. */
    metrics: () => {
      const registry = new Registry();
      registry.counter("udp_datagrams_received_total", "Datagrams the server read.").inc(datagrams);
      registry.counter("udp_payload_bytes_received_total", "UDP payload bytes the server read.").inc(bytes);
      return registry.render();
    },
    /** Datagrams and payload bytes read so far (also without `record`). */
    totals: () => ({ datagrams, bytes }),
    /** IP_ADD_MEMBERSHIP on the interface that has address `iface`; joining twice is a no-op. */
    join(group: string, iface: string): boolean {
      if (joined.has(`${group}@${iface}`)) return false;
      socket.addMembership(group, iface);
      joined.add(`${group}@${iface}`);
      return true;
    },
    /** IP_DROP_MEMBERSHIP; leaving a group not joined is a no-op. */
    leave(group: string, iface: string): boolean {
      if (!joined.delete(`${group}@${iface}`)) return false;
      socket.dropMembership(group, iface);
      return true;
    },
    close,
  };
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
  const client = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await bindUdp(client, 0, host);
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new UdpTimeoutError(`no reply from ${host}:${port} within ${options.timeoutMs ?? 2000} ms`)),
        options.timeoutMs ?? 2000,
      );
      client.on("message", (reply, from) => {
        if (from.port !== port || !(options.accept ?? (() => true))(reply)) return; // not ours: keep waiting
        clearTimeout(timer);
        resolve(reply);
      });
      client.send(message, port, host);
    });
  } finally {
    client.close();
  }
}

/** Sends one datagram to `host:port` from a fresh socket on any local address and collects every
 *  datagram that comes back from that address and port for `windowMs` after the first (or for
 *  `timeoutMs` when none comes): a server may answer one datagram with several (QUIC does).
 *  Resolves with the datagrams, possibly none. */
export async function udpCollect(
  host: string,
  port: number,
  message: Buffer,
  options: { windowMs?: number; timeoutMs?: number; max?: number } = {},
): Promise<Buffer[]> {
  const client = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
  await bindUdp(client, 0);
  const got: Buffer[] = [];
  try {
    await new Promise<void>((resolve) => {
      let timer = setTimeout(resolve, options.timeoutMs ?? 2000);
      client.on("message", (reply, from) => {
        if (from.port !== port || from.address !== host) return;
        if (!got.length) {
          clearTimeout(timer);
          timer = setTimeout(resolve, options.windowMs ?? 300);
        }
        got.push(reply);
        if (got.length >= (options.max ?? 50)) resolve();
      });
      client.send(message, port, host);
    });
  } finally {
    client.close();
  }
  return got;
}

export interface Answer {
  /** The reply's text, or null when none came. */
  reply: string | null;
  /** Why there is no reply: a socket error's code, or "timeout" when nothing came back in time. */
  error?: string;
}

/** Sends one datagram (with IP TTL `ttl` if given) and waits up to `timeoutMs` for one reply. */
export async function udpAsk(
  address: string,
  port: number,
  text: string | Buffer,
  opts: { ttl?: number; timeoutMs?: number } = {},
): Promise<Answer> {
  const socket = dgram.createSocket("udp4");
  try {
    await bindUdp(socket, 0);
    if (opts.ttl !== undefined) socket.setTTL(opts.ttl);
    return await new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => resolve({ reply: null, error: "timeout" }), opts.timeoutMs ?? 500);
      socket.once("message", (m) => {
        clearTimeout(timer);
        resolve({ reply: m.toString() });
      });
      socket.send(text, port, address, (err) => {
        if (!err) return;
        clearTimeout(timer);
        resolve({ reply: null, error: errorCode(err) });
      });
    });
  } finally {
    socket.close();
  }
}

/** IP_MTU_DISCOVER values from <linux/in.h>: whether the kernel sets DF and fragments. */
export const PMTUDISC = { dont: 0, want: 1, do: 2, probe: 3 } as const;

export interface UdpSendOptions {
  /** The source port (default: any). */
  srcPort?: number;
  /** The IPv4 TTL (IP_TTL). */
  ttl?: number;
  /** SO_BROADCAST: without it the kernel refuses a broadcast destination (EACCES). */
  broadcast?: boolean;
  /** IP_MULTICAST_IF: the local address whose interface multicast leaves from. */
  multicastInterface?: string;
  /** IP_MULTICAST_TTL (default 1: the local segment only). */
  multicastTtl?: number;
  /** IP_MTU_DISCOVER: "dont" lets the kernel fragment, "do" sets DF and refuses what is too big. */
  pmtu?: keyof typeof PMTUDISC;
  /** After each datagram, watch this long for ICMP errors about it (a raw ICMP socket). */
  watchIcmpMs?: number;
}

export interface IcmpSeen {
  from: string;
  type: number;
  code: number;
  nextHopMtu?: number;
  quotedLength: number;
  quotedDf: boolean;
}

export interface SendResult {
  size: number;
  /** "sent", or the errno code of a send the kernel refused (EMSGSIZE, EACCES). */
  result: string;
  /** ICMP errors about this datagram seen within `watchIcmpMs` (empty without it). */
  icmp: IcmpSeen[];
}

/** Sends one datagram per payload (a Buffer or text, or a size: that many bytes of "a") to
 *  `to`:`port`, one after another, with the socket options given. Inside a lab host only. */
export async function udpSend(
  to: string,
  port: number,
  payloads: (Buffer | string | number)[],
  opts: UdpSendOptions = {},
): Promise<SendResult[]> {
  // Loopback stays on this machine; a broadcast, a group or another host only from a lab host.
  if (!to.startsWith("127.")) assertInLabHost("services.udpSend");
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  socket.on("error", () => {}); // errors are reported through each send's callback
  const watch = opts.watchIcmpMs === undefined ? undefined : rawListener(IPPROTO.ICMP);
  try {
    await bindUdp(socket, opts.srcPort ?? 0);
    if (opts.ttl !== undefined) socket.setTTL(opts.ttl);
    if (opts.broadcast) socket.setBroadcast(true);
    if (opts.multicastInterface) socket.setMulticastInterface(opts.multicastInterface);
    if (opts.multicastTtl !== undefined) socket.setMulticastTTL(opts.multicastTtl);
    if (opts.pmtu) setsockopt(socket, SOL.IP, IP.MTU_DISCOVER, PMTUDISC[opts.pmtu]);
    const out: SendResult[] = [];
    for (const p of payloads) {
      const data = typeof p === "number" ? Buffer.alloc(p, 0x61) : Buffer.from(p);
      const result = await new Promise<string>((resolve) =>
        socket.send(data, port, to, (err) => resolve(err ? errorCode(err) : "sent")),
      );
      const icmp = watch ? await watch.errorsAbout(socket.address().port, opts.watchIcmpMs ?? 0) : [];
      out.push({ size: data.length, result, icmp });
    }
    return out;
  } finally {
    await watch?.close();
    socket.close();
  }
}

/** Sends `count` datagrams of `size` bytes to `to:port`, each after the previous one's echo came
 *  back (so no queue ever overflows); a lost echo ends the run. Round-trip times in ms. */
export async function udpPingPong(
  to: string,
  port: number,
  count: number,
  size: number,
): Promise<{ sent: number; echoed: number; rttMs: number[] }> {
  assertInLabHost("services.udpPingPong");
  const socket = dgram.createSocket("udp4");
  await bindUdp(socket, 0);
  const rttMs: number[] = [];
  let sent = 0;
  try {
    for (let i = 0; i < count; i++) {
      const t0 = nowMs();
      const echoed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        socket.once("message", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      socket.send(Buffer.alloc(size, 0x6d), port, to);
      sent++;
      if (!(await echoed)) break;
      rttMs.push(nowMs() - t0);
    }
    return { sent, echoed: rttMs.length, rttMs };
  } finally {
    socket.close();
  }
}

/**
 * What a *connected* dgram socket sees of an ICMP error: Linux reports a port unreachable to it
 * as ECONNREFUSED, on the next operation after it arrived. Sends `count` datagrams `gapMs` apart
 * and lists what happened to each ("send 1: ok" or the error's code).
 */
export async function udpConnected(
  dst: string,
  port: number,
  { srcPort, count = 3, gapMs = 100 }: { srcPort: number; count?: number; gapMs?: number },
): Promise<string[]> {
  assertInLabHost("services.udpConnected");
  const sock = dgram.createSocket("udp4");
  const events: string[] = [];
  sock.on("error", (e) => events.push(`'error' event: ${errorCode(e)}`));
  try {
    await bindUdp(sock, srcPort);
    await new Promise<void>((resolve, reject) => sock.connect(port, dst, (e?: Error) => (e ? reject(e) : resolve())));
    for (let i = 1; i <= count; i++) {
      const result = await new Promise<string>((resolve) =>
        sock.send(Buffer.from(`datagram ${i}`), (e) => resolve(`send ${i}: ${e ? errorCode(e) : "ok"}`)),
      );
      events.push(result);
      await sleep(gapMs);
    }
    return events;
  } finally {
    sock.close();
  }
}

/** The path MTU the kernel holds for `to` (getsockopt IP_MTU on a UDP socket connected to it). */
export async function pathMtu(to: string): Promise<number> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.connect(9, to, () => r()));
  try {
    return getsockopt(sock, SOL.IP, IP.MTU);
  } finally {
    sock.close();
  }
}

// ---- TCP ----------------------------------------------------------------------------------------

export interface TcpServerOptions {
  /** Write this to every client and close (a banner). */
  greet?: string;
  /** Tell each client the address and port it came from, "address:port\n", and keep it open. */
  tellPeer?: boolean;
  /** Keep what clients send, as text (otherwise only bytes are counted: a sink for bulk flows). */
  keepText?: boolean;
  /** Send back everything a client sends (with Nagle off: a latency peer). */
  echo?: boolean;
  /** End connections with a reset at close, so no TIME_WAIT is left and ports are free at once. */
  reset?: boolean;
  /** The address to listen on (default: all of the host's). */
  address?: string;
}

/** A TCP server on `port` (0: any) that reads everything clients send. It counts bytes and
 *  connections (also as metrics: accepted, open), remembers each peer, and greets, tells or keeps
 *  text as `options` say. A service; close() resolves with the number of connections seen. */
export async function tcpServer(port: number, options: TcpServerOptions = {}) {
  await replacing(`tcp:${port}`);
  const sockets = new Set<net.Socket>();
  const texts: string[] = [];
  const peers: string[] = [];
  let bytes = 0;
  const registry = new Registry();
  const accepted = registry.counter("tcp_connections_accepted_total", "Connections the server accepted.");
  const open = registry.gauge("tcp_connections_open", "Connections open now.");
  const server = net.createServer((s) => {
    accepted.inc();
    open.inc();
    sockets.add(s);
    const peer = `${s.remoteAddress}:${s.remotePort}`;
    peers.push(peer);
    s.on("close", () => {
      sockets.delete(s);
      open.dec();
    });
    s.on("error", () => {}); // a client may reset at the end of its run
    if (options.echo) s.setNoDelay(true);
    s.on("data", (d) => {
      bytes += d.length;
      if (options.keepText) texts.push(d.toString());
      if (options.echo) s.write(d);
    });
    if (options.greet !== undefined) s.end(options.greet);
    else if (options.tellPeer) s.write(`${peer}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, options.address ?? "0.0.0.0", () => resolve());
  });
  const close = closer(
    () =>
      new Promise<number>((resolve) => {
        for (const s of sockets)
          if (options.reset) s.resetAndDestroy();
          else s.destroy();
        server.close(() => resolve(peers.length));
      }),
  );
  const bound = (server.address() as net.AddressInfo).port;
  running.set(`tcp:${bound}`, close);
  return {
    port: bound,
    /** What clients sent since the last call, as text (with `keepText`). */
    received: () => texts.splice(0),
    bytesReceived: () => bytes,
    /** Every client so far, "address:port", in order. */
    peers: () => peers.slice(),
    /** Connections open now. */
    open: () => open.get(),
    metrics: () => registry.render(),
    close,
  };
}

export interface TcpConnectOptions {
  /** How many connections to open and hold (default 1). */
  count?: number;
  /** Connect from this local port. */
  localPort?: number;
  /** Write this once connected. */
  send?: string;
  /** Wait for the server's first line (a tellPeer server's answer). */
  readLine?: boolean;
  /** How long connecting (and the first line) may take. */
  timeoutMs?: number;
  /** How close() ends the connections: "end" sends FIN; "reset" sends RST and leaves no TIME_WAIT. */
  closeWith?: "end" | "reset";
}

/** Opens connections to `to`:`port` and holds them: a service whose close() ends them. A failure
 *  is reported, not thrown: `connected` counts what succeeded and `error` says why one did not. */
export async function tcpConnect(to: string, port: number, opts: TcpConnectOptions = {}) {
  assertInLabHost("services.tcpConnect");
  // Connecting again from the same fixed local port to the same place (a cell run twice) first
  // ends what is held from there, as a server started again replaces the old one.
  const key = opts.localPort === undefined ? undefined : `tcp:${opts.localPort}>${to}:${port}`;
  if (key) await replacing(key);
  const sockets: net.Socket[] = [];
  let line: string | null = null;
  let error: string | undefined;
  for (let i = 0; i < (opts.count ?? 1) && !error; i++) {
    const s = net.connect({ host: to, port, localPort: opts.localPort });
    s.setNoDelay(true);
    s.on("error", () => {});
    const outcome = await firstEvent(s, opts.timeoutMs ?? 1000, opts.readLine === true);
    if (outcome.error) {
      error = outcome.error;
      s.destroy();
      break;
    }
    line ??= outcome.line;
    sockets.push(s);
    if (opts.send !== undefined) await new Promise<void>((r) => s.write(opts.send ?? "", () => r()));
  }
  const local = sockets[0] ? `${sockets[0].localAddress}:${sockets[0].localPort}` : undefined;
  const ending = (s: net.Socket) =>
    new Promise<void>((resolve) => {
      if (s.destroyed) return resolve();
      s.once("close", () => resolve());
      if (opts.closeWith === "reset") s.resetAndDestroy();
      else {
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      }
    });
  const close = once(() => Promise.all(sockets.map(ending)).then(() => undefined));
  if (key && sockets.length) running.set(key, close);
  return {
    connected: sockets.length,
    /** The first connection's local end, "address:port", as this host sees it. */
    local,
    localPort: sockets[0]?.localPort,
    /** The server's first line (with `readLine`), or null. */
    line,
    error,
    close,
  };
}

/** Resolves when `s` connects (and, with `readLine`, when its first line arrives), or fails. */
function firstEvent(
  s: net.Socket,
  timeoutMs: number,
  readLine: boolean,
): Promise<{ line: string | null; error?: string }> {
  return new Promise((resolve) => {
    let text = "";
    const timer = setTimeout(() => resolve({ line: null, error: "timeout" }), timeoutMs);
    const done = (r: { line: string | null; error?: string }) => {
      clearTimeout(timer);
      resolve(r);
    };
    s.once("error", (e) => done({ line: null, error: errorCode(e) }));
    s.once("connect", () => {
      if (!readLine) done({ line: null });
    });
    if (readLine) {
      s.on("data", (d) => {
        text += d;
        if (text.includes("\n")) done({ line: text.split("\n")[0] });
      });
    }
  });
}

/** Sends `bytes` bytes over one TCP connection to `to`:`port` (a tcpServer counts them) as fast
 *  as the path takes them, and reports how long it took from connecting until the server closed
 *  its side after ours: a bulk transfer for throughput. A failure is the `error`, not a throw. */
export async function tcpSendBulk(
  to: string,
  port: number,
  bytes: number,
  timeoutMs = 30_000,
): Promise<{ bytes: number; ms: number; error?: string }> {
  assertInLabHost("services.tcpSendBulk");
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  return new Promise((resolve) => {
    const t0 = nowMs();
    let sent = 0;
    const s = net.connect({ host: to, port });
    const timer = setTimeout(() => s.destroy(new Error("timeout")), timeoutMs);
    const done = (error?: string) => {
      clearTimeout(timer);
      resolve({ bytes: sent, ms: nowMs() - t0, ...(error ? { error } : {}) });
    };
    s.on("error", (e) => done(errorCode(e)));
    s.on("close", (hadError) => hadError || done());
    s.on("data", () => {});
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once("drain", pump);
      }
      s.end();
    };
    s.once("connect", pump);
  });
}

/** Connects, reads until the server closes, and returns the text; or the error's code, or
 *  "timeout" when the connection is not made within `timeoutMs`. */
export function tcpFetch(address: string, port: number, timeoutMs = 1000): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: null, error: "timeout" });
    }, timeoutMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks).toString() });
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      resolve({ reply: null, error: errorCode(err) });
    });
  });
}

// ---- a relay that records ----------------------------------------------------------------------

export interface TapDatagram {
  from: "client" | "server";
  bytes: Buffer;
}

/** A UDP relay on 127.0.0.1 port 0 in front of `port` (the UDP counterpart of tls.ts's wireTap): a
 *  client's datagrams go on to the server from the relay's own socket, replies come back to the
 *  client, and every datagram is recorded. A service. */
export async function udpTap(port: number) {
  const datagrams: TapDatagram[] = [];
  const back = dgram.createSocket("udp4");
  await bindUdp(back, 0, "127.0.0.1");
  let client: dgram.RemoteInfo | undefined;
  const front = await udpServer(0, {
    address: "127.0.0.1",
    record: false,
    reply: (bytes, from) => {
      client = from;
      datagrams.push({ from: "client", bytes });
      back.send(bytes, port, "127.0.0.1");
      return null; // answered later, from `back`
    },
  });
  back.on("message", (bytes) => {
    datagrams.push({ from: "server", bytes });
    if (client) front.send(bytes, client);
  });
  const closeBack = closer(() => new Promise<void>((resolve) => back.close(() => resolve())));
  return {
    port: front.port,
    datagrams,
    /** Everything one side sent, in order. */
    sent: (from: TapDatagram["from"]) => Buffer.concat(datagrams.filter((d) => d.from === from).map((d) => d.bytes)),
    close: async () => void (await Promise.all([front.close(), closeBack()])),
  };
}
