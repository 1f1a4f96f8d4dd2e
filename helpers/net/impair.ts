// An impairment proxy: a relay on 127.0.0.1 port 0 in front of a local server that gives the
// path between them the properties of a worse network — one-way delay, loss and a bandwidth cap,
// each configured per direction — so that a client on loopback meets what it would meet across a
// continent or a congested link. (Toxiproxy and Linux's `tc netem` do the same job; netem needs
// CAP_NET_ADMIN, this needs nothing.)
//
// Each direction is one `Link`: a FIFO of chunks with a release time. A chunk that arrives at time
// t is released at
//
//     max(previous release, departure from the bottleneck + delay [+ one RTO if "lost"])
//
// where the bottleneck is a token bucket in virtual time: it refills at the cap and holds at most
// `burstBytes`, and a chunk departs once the bucket has paid for all of its bytes. Release times
// never decrease, so bytes stay in order, and one timer per direction serves the whole queue: a
// chunk is delayed from its own arrival, not from the previous chunk's release (a relay that
// sleeps before each forward adds its delay once per chunk, which turns latency into a throughput
// limit). Timers that fire early are never trusted: a chunk leaves only once the clock has passed
// its release time.
//
// Loss, honestly:
// - TCP (`impairTcp`): the proxy sits above two TCP connections and cannot drop bytes — a byte
//   missing from the middle of a stream corrupts it, and the kernels would not retransmit it,
//   because each one already acknowledged it. What a TCP application experiences when a segment
//   is lost is *lateness*: the sender retransmits after a retransmission timeout, and the
//   receiver's kernel holds everything behind the hole. So a "lost" chunk is released one RTO
//   late (default 200 ms, Linux's minimum RTO), and the chunks behind it wait for it.
// - UDP (`impairUdp`): a lost datagram really is dropped; so is one that finds the queue full.
//
// Loss is drawn from a seeded generator, one sequence per direction of each connection (or UDP
// client), so the same traffic meets the same losses on every run.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { nowMs } from "../os/time";
import { onShutdown } from "../../kernel/runtime";
import { serve, type Served } from "./serve";
import { rng } from "../models/random";

export interface LinkOptions {
  /** One-way delay added to every chunk, in milliseconds. */
  delayMs?: number;
  /** Probability (0..1) that a chunk is lost: TCP delivers it one RTO late, UDP drops it. */
  loss?: number;
  /** TCP: how late a lost chunk arrives, in milliseconds (default 200, Linux's minimum RTO). */
  rtoMs?: number;
  /** Bandwidth cap in bits per second; 0 or absent = no cap. */
  bitsPerSecond?: number;
  /** Token bucket depth: bytes that may pass at once after a quiet spell (default 16 KiB). */
  burstBytes?: number;
  /** Bytes the link holds before it stops reading (TCP) or drops (UDP). Default: 4 MiB without
   *  a cap; with a cap, what the cap carries in `delayMs` + 250 ms, at least 256 KiB. Like a
   *  receive window, it bounds an uncapped TCP path to `queueBytes` per `delayMs`. */
  queueBytes?: number;
}

export interface ImpairOptions extends LinkOptions {
  /** Seed of the loss generator (default 1). */
  seed?: number;
  /** Settings for client → server only (override the common ones). */
  up?: LinkOptions;
  /** Settings for server → client only. */
  down?: LinkOptions;
}

export interface LinkStats {
  /** Chunks (TCP: pieces of at most 16 KiB) or datagrams that entered the link. */
  chunks: number;
  /** Bytes delivered out of the link. */
  bytes: number;
  /** Chunks that met a loss (TCP: delivered one RTO late; UDP: dropped). */
  lost: number;
  /** UDP datagrams dropped because the queue was full. */
  queueDrops: number;
}

export interface Loss {
  direction: "up" | "down";
  /** Which connection (TCP) or client (UDP), numbered from 0 in order of arrival. */
  connection: number;
  /** Which chunk of that direction, numbered from 0. */
  chunk: number;
}

export interface ImpairedProxy extends Served {
  /** What the settings of each direction resolved to. */
  readonly config: { up: Readonly<Required<LinkOptions>>; down: Readonly<Required<LinkOptions>> };
  /** Counters summed over all connections (or UDP clients). */
  readonly stats: { up: LinkStats; down: LinkStats };
  /** Every loss, in the order it happened. */
  readonly losses: Loss[];
}

export class ImpairError extends Error {
  code = "ERR_IMPAIR_OPTIONS";
}

/** TCP segments are at most this large; longer reads are split so that pacing and loss act on
 *  pieces of about a segment burst, not on whatever one read returned. */
const PIECE = 16 * 1024;

function resolve(common: LinkOptions, own: LinkOptions | undefined, where: string): Required<LinkOptions> {
  const o = { ...common, ...own };
  const num = (name: keyof LinkOptions, dflt: number, ok: (v: number) => boolean, what: string) => {
    const v = o[name] ?? dflt;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v))
      throw new ImpairError(`${where}.${name} must be ${what}, got ${String(v)}`);
    return v;
  };
  const delayMs = num("delayMs", 0, (v) => v >= 0, "a number of milliseconds >= 0");
  const loss = num("loss", 0, (v) => v >= 0 && v <= 1, "a probability between 0 and 1");
  const rtoMs = num("rtoMs", 200, (v) => v >= 0, "a number of milliseconds >= 0");
  const bitsPerSecond = num("bitsPerSecond", 0, (v) => v >= 0, "a rate in bits per second >= 0 (0 = no cap)");
  const burstBytes = num("burstBytes", PIECE, (v) => v >= 1, "a number of bytes >= 1");
  const byRate = bitsPerSecond
    ? Math.max(256 * 1024, Math.ceil((bitsPerSecond / 8) * ((delayMs + 250) / 1000)))
    : 4 << 20;
  const queueBytes = num("queueBytes", byRate, (v) => v >= 1, "a number of bytes >= 1");
  return { delayMs, loss, rtoMs, bitsPerSecond, burstBytes, queueBytes };
}

/** Each direction of each connection draws its own sequence, the same on every run. */
const generator = (seed: number, direction: Loss["direction"]) => rng(seed * 2 + (direction === "up" ? 0 : 1));

const emptyStats = (): LinkStats => ({ chunks: 0, bytes: 0, lost: 0, queueDrops: 0 });

/** One direction of an impaired path: chunks go in, come out in order at their release times. */
class Link<T> {
  private queue: Array<{ at: number; item: T; bytes: number }> = [];
  private lastRelease = -Infinity;
  private virtualTime = -Infinity; // when the token bucket will have paid for everything queued
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private closed = false;
  private count = 0;
  queuedBytes = 0;

  constructor(
    readonly cfg: Required<LinkOptions>,
    private readonly random: () => number,
    private readonly stats: LinkStats,
    private readonly deliver: (item: T, bytes: number) => void,
    private readonly dropLost: boolean,
    private readonly onLoss: (chunk: number) => void,
  ) {}

  /** Queues a chunk; false when it was dropped (UDP loss or a full queue). A `marker` (the end
   *  of a stream) keeps its place in the order but is neither counted nor lost. */
  push(item: T, bytes: number, now = nowMs(), marker = false): boolean {
    const { delayMs, loss, rtoMs, bitsPerSecond, burstBytes, queueBytes } = this.cfg;
    if (!marker) this.stats.chunks++;
    const lost = !marker && loss > 0 && this.random() < loss;
    if (!marker) this.count++;
    if (lost) (this.stats.lost++, this.onLoss(this.count - 1));
    if (lost && this.dropLost) return false;
    if (this.dropLost && this.queuedBytes + bytes > queueBytes) {
      this.stats.queueDrops++;
      return false;
    }
    let departs = now;
    if (bitsPerSecond > 0) {
      const bytesPerMs = bitsPerSecond / 8000;
      // A full bucket is a virtual time `burst` bytes in the past; each chunk pays for its bytes.
      this.virtualTime = Math.max(this.virtualTime, now - burstBytes / bytesPerMs) + bytes / bytesPerMs;
      departs = Math.max(now, this.virtualTime);
    }
    const at = Math.max(this.lastRelease, departs + delayMs + (lost ? rtoMs : 0));
    this.lastRelease = at;
    this.queue.push({ at, item, bytes });
    this.queuedBytes += bytes;
    if (!this.timer) this.arm(now);
    return true;
  }

  private arm(now: number): void {
    if (this.closed || !this.queue.length) return;
    const wait = this.queue[0].at - now;
    // Node's timers count whole milliseconds of a loop clock: one fires anywhere from ~1 ms early
    // to ~1 ms late. An early one only re-arms (nothing leaves before its time). To keep delays
    // accurate to a fraction of a millisecond, an uncapped link wakes a millisecond early and
    // waits out the rest on the event loop's check phase, which keeps serving I/O meanwhile. A
    // capped link releases a piece every millisecond or so; there the timer alone is precise
    // enough, because the bucket's clock does not drift when a release is late.
    const early = this.cfg.bitsPerSecond > 0 ? 0 : 1;
    this.timer =
      wait >= early + 1
        ? setTimeout(this.fire, Math.floor(wait - early))
        : early || wait <= 0
          ? setImmediate(this.fire)
          : setTimeout(this.fire, 1);
  }

  private fire = (): void => {
    this.timer = undefined;
    const now = nowMs();
    while (!this.closed && this.queue.length && this.queue[0].at <= now) {
      const { item, bytes } = this.queue.shift()!;
      this.queuedBytes -= bytes;
      this.stats.bytes += bytes;
      this.deliver(item, bytes);
    }
    this.arm(nowMs());
  };

  /** Stops the timer and forgets what is queued. */
  close(): void {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }
}

function configure(options: ImpairOptions) {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new ImpairError(`seed must be an integer, got ${String(seed)}`);
  const { up, down, seed: _seed, ...common } = options;
  return { seed, up: resolve(common, up, "up"), down: resolve(common, down, "down") };
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ImpairError(`the upstream port must be an integer 1-65535, got ${String(port)}`);
}

/** A TCP proxy on 127.0.0.1 port 0 in front of 127.0.0.1:`port`, each connection with its own
 *  impaired path in each direction. Closed by `close()` or at kernel shutdown. */
export async function impairTcp(port: number, options: ImpairOptions = {}): Promise<ImpairedProxy> {
  checkPort(port);
  const { seed, up, down } = configure(options);
  const stats = { up: emptyStats(), down: emptyStats() };
  const losses: Loss[] = [];
  const open = new Set<() => void>();
  let connections = 0;

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const connection = connections++;
    const upstream = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true, noDelay: true });
    client.pause(); // nothing is read until the upstream connection exists
    const links: Array<Link<Buffer | null>> = [];
    const teardown = () => {
      open.delete(teardown);
      for (const l of links) l.close();
      client.destroy();
      upstream.destroy();
    };
    open.add(teardown);
    const relay = (src: net.Socket, dst: net.Socket, direction: Loss["direction"]) => {
      const cfg = direction === "up" ? up : down;
      let dstBlocked = false;
      const resume = () => {
        if (src.isPaused() && !dstBlocked && link.queuedBytes <= cfg.queueBytes / 2) src.resume();
      };
      // `null` is the end of the stream: it travels the link like data, so a FIN is delayed too.
      const link: Link<Buffer | null> = new Link(
        cfg,
        generator(seed, direction),
        stats[direction],
        (chunk) => {
          if (dst.destroyed) return;
          if (chunk === null) return void dst.end();
          if (!dst.write(chunk)) {
            dstBlocked = true;
            dst.once("drain", () => {
              dstBlocked = false;
              resume();
            });
          }
          resume();
        },
        false,
        (chunk) => losses.push({ direction, connection, chunk }),
      );
      links.push(link);
      src.on("data", (data: Buffer) => {
        const now = nowMs();
        for (let i = 0; i < data.length; i += PIECE)
          link.push(data.subarray(i, i + PIECE), Math.min(PIECE, data.length - i), now);
        if (link.queuedBytes > cfg.queueBytes || dstBlocked) src.pause();
      });
      src.on("end", () => void link.push(null, 0, nowMs(), true));
    };
    upstream.once("connect", () => {
      relay(client, upstream, "up");
      relay(upstream, client, "down");
      client.resume();
    });
    // An error (a reset, a refused upstream) ends both at once. A clean close of one side does
    // not: what the links still hold for the other side is delivered first, ending with its FIN.
    client.on("error", teardown);
    upstream.on("error", teardown);
    const closed = () => client.destroyed && upstream.destroyed && teardown();
    client.on("close", closed);
    upstream.on("close", closed);
  });
  const served = await serve(server);
  const closeLinks = onShutdown(() => {
    for (const t of [...open]) t();
  });
  let closing: Promise<void> | undefined;
  return {
    port: served.port,
    config: { up, down },
    stats,
    losses,
    close: () => (closing ??= Promise.all([closeLinks(), served.close()]).then(() => undefined)),
  };
}

async function udpSocket(): Promise<dgram.Socket> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  return socket;
}

/** A UDP relay on 127.0.0.1 port 0 in front of 127.0.0.1:`port`. Each client address gets its own
 *  socket towards the server and its own impaired path in each direction; lost datagrams are
 *  really dropped, and so are datagrams that find a full queue. */
export async function impairUdp(port: number, options: ImpairOptions = {}): Promise<ImpairedProxy> {
  checkPort(port);
  const { seed, up, down } = configure(options);
  const stats = { up: emptyStats(), down: emptyStats() };
  const losses: Loss[] = [];
  const front = await udpSocket();
  const clients = new Map<string, Promise<{ back: dgram.Socket; upLink: Link<Buffer>; downLink: Link<Buffer> }>>();
  let closed = false;

  const clientFor = (from: dgram.RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let entry = clients.get(key);
    if (!entry) {
      const connection = clients.size;
      entry = (async () => {
        const back = await udpSocket();
        const lost = (direction: Loss["direction"]) => (chunk: number) => losses.push({ direction, connection, chunk });
        const upLink = new Link<Buffer>(
          up,
          generator(seed, "up"),
          stats.up,
          (d) => !closed && back.send(d, port, "127.0.0.1"),
          true,
          lost("up"),
        );
        const downLink = new Link<Buffer>(
          down,
          generator(seed, "down"),
          stats.down,
          (d) => !closed && front.send(d, from.port, from.address),
          true,
          lost("down"),
        );
        back.on("message", (d, src) => {
          if (src.port === port && src.address === "127.0.0.1") downLink.push(d, d.length);
        });
        return { back, upLink, downLink };
      })();
      clients.set(key, entry);
    }
    return entry;
  };
  // Datagrams are queued in arrival order even while a new client's socket is still binding.
  front.on("message", (d, from) => {
    if (closed) return;
    const arrived = nowMs();
    void clientFor(from).then(({ upLink }) => upLink.push(d, d.length, arrived));
  });

  const close = onShutdown(async () => {
    closed = true;
    const all = await Promise.all(clients.values());
    clients.clear();
    const sockets = [front, ...all.map((c) => c.back)];
    for (const c of all) (c.upLink.close(), c.downLink.close());
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  });
  let closing: Promise<void> | undefined;
  return { port: front.address().port, config: { up, down }, stats, losses, close: () => (closing ??= close()) };
}

// ---------------------------------------------------------------------------------------------
// Traffic to measure a capped path with: a source that sends as fast as it may, and a receiver
// that counts what arrives.

/** A TCP server that, on each connection, writes without pause (honouring backpressure) until the
 *  other side goes away. */
export async function sourceServer(): Promise<Served> {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    const pump = () => {
      while (!socket.destroyed && socket.writable) if (!socket.write(chunk)) return void socket.once("drain", pump);
    };
    pump();
  });
  return serve(server);
}

export interface Received {
  /** Bytes counted after the first read, up to the last read inside the window. */
  bytes: number;
  /** Seconds from the first read to the last read inside the window. */
  seconds: number;
  /** bytes * 8 / seconds. */
  bitsPerSecond: number;
  /** Bytes received in each interval of the window (same shape as throughput.ts's timeline). */
  timeline: Array<{ t: number; bytes: number }>;
}

/** Connects to `port`, and counts bytes received for `seconds` from the first read on. The rate is
 *  the bytes after the first read over the time from the first to the last read in the window:
 *  the first read may hold a burst the token bucket let through at once, and a window that ends
 *  while this process waits for a CPU does not count the wait as time without data. */
export async function receiveFor(
  port: number,
  options: { seconds?: number; intervalMs?: number; onInterval?: (point: { t: number; bytes: number }) => void } = {},
): Promise<Received> {
  const windowMs = (options.seconds ?? 2) * 1000;
  const intervalMs = options.intervalMs ?? 250;
  const socket = net.connect(port, "127.0.0.1");
  const close = onShutdown(() => void socket.destroy());
  try {
    return await new Promise<Received>((resolve, reject) => {
      let t0 = 0;
      let tLast = 0;
      let bytes = 0;
      let inInterval = 0;
      let nextTick = 0;
      const timeline: Received["timeline"] = [];
      const tick = (t: number) => {
        const point = { t: Number((t / 1000).toFixed(3)), bytes: inInterval };
        timeline.push(point);
        inInterval = 0;
        options.onInterval?.(point);
      };
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        while (nextTick <= windowMs) (tick(nextTick), (nextTick += intervalMs));
        const seconds = (tLast - t0) / 1000;
        resolve({ bytes, seconds, bitsPerSecond: seconds > 0 ? (bytes * 8) / seconds : 0, timeline });
      };
      socket.on("data", (d: Buffer) => {
        if (done) return;
        const now = nowMs();
        if (!t0) {
          t0 = tLast = now;
          nextTick = intervalMs;
          timer = setTimeout(finish, windowMs + 500); // in case the data stops
          return;
        }
        const t = now - t0;
        if (t > windowMs) return finish();
        while (t > nextTick) (tick(nextTick), (nextTick += intervalMs));
        bytes += d.length;
        inInterval += d.length;
        tLast = now;
      });
      socket.once("error", reject);
      socket.once("close", () =>
        t0 ? finish() : reject(new Error(`127.0.0.1:${port} closed before sending anything`)),
      );
    });
  } finally {
    await close();
  }
}
