// Loopback throughput that reaches the machine's limit: the receiving end runs in a peer process
// (os/remote: its own event loop and core), reads into one preallocated 64 KiB buffer (no
// allocation per read), and counts bytes per interval. The sender writes large buffers and
// honours backpressure. iperf3, run the same way, is the reference beside it.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { join } from "node:path";
import { serve } from "../net/serve";
import { hasProgram } from "../os/programs";
import { startAgent } from "../os/remote";

/** Bits per second in each interval of a timeline, using each interval's real length (the last
 *  one is usually shorter). */
export function intervalRates(timeline: ThroughputResult["timeline"]): Array<{ t: number; bitsPerSecond: number }> {
  return timeline.map((p, i) => ({
    t: p.t,
    bitsPerSecond: (p.bytes * 8) / Math.max(1e-9, p.t - (i ? timeline[i - 1].t : 0)),
  }));
}

export interface ThroughputResult {
  bytes: number;
  seconds: number;
  bitsPerSecond: number;
  /** Bytes received in each interval, counted by the receiver. */
  timeline: Array<{ t: number; bytes: number }>;
}

/** The receiving end, run in a peer process: connects to the sender on 127.0.0.1:`port` (only a
 *  client socket can read into a caller's buffer, via `onread`), reads into one preallocated
 *  64 KiB buffer, and counts bytes per `intervalMs`. 64 KiB, not more: on this machine's loopback
 *  a 4 MiB buffer came to about 26 Gbit/s and a 64 KiB one to about 32 (four runs each, plain
 *  Node on both ends). Each read takes what has arrived; our reading is that a small buffer stays
 *  in the processor's cache. A service: `intervals()` hands over the points since its last call,
 *  `done()` resolves with the totals once the sender closes. */
export function sink(port: number, intervalMs: number) {
  const buffer = Buffer.allocUnsafe(64 << 10);
  let total = 0;
  let inInterval = 0;
  let t0 = 0n;
  let timer: NodeJS.Timeout | undefined;
  const timeline: Array<{ t: number; bytes: number }> = [];
  let handed = 0;
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const tick = () => {
    timeline.push({ t: elapsed(), bytes: inInterval });
    inInterval = 0;
  };
  const socket = net.connect({
    port,
    host: "127.0.0.1",
    onread: {
      buffer,
      callback(n: number) {
        if (!t0) {
          t0 = process.hrtime.bigint();
          timer = setInterval(tick, intervalMs);
        }
        total += n;
        inInterval += n;
        return true;
      },
    },
  });
  const finished = new Promise<Omit<ThroughputResult, "bitsPerSecond">>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("end", () => {
      clearInterval(timer);
      const seconds = elapsed();
      if (inInterval) tick();
      socket.end();
      resolve({ bytes: total, seconds, timeline });
    });
  });
  finished.catch(() => {}); // reported by done()
  return {
    intervals: () => timeline.slice(handed, (handed = timeline.length)),
    done: () => finished,
    close: () => void socket.destroy(),
  };
}

// By path, not module object: the peer loads the file (and so does any test runner's loader).
const THROUGHPUT = join(__dirname, "throughput.ts");

/** The size of each write `loopbackThroughput` makes unless told otherwise: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Sends for `seconds` to a receiver in a peer process and reports what it received. */
export async function loopbackThroughput(
  options: {
    seconds?: number;
    intervalMs?: number;
    chunkBytes?: number;
    onInterval?: (point: { t: number; bytes: number }) => void;
  } = {},
): Promise<ThroughputResult> {
  const seconds = options.seconds ?? 3;
  const intervalMs = options.intervalMs ?? 250;
  const chunk = Buffer.alloc(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, 0x5a);
  let sending: Promise<void> | undefined;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sending = (async () => {
      const end = Date.now() + seconds * 1000;
      while (Date.now() < end) {
        if (!socket.write(chunk)) await once(socket, "drain");
      }
      socket.end();
    })().catch(() => {});
  });
  const served = await serve(server);
  const peer = await startAgent({ name: "the receiving process" });
  try {
    const receiver = await peer.run<{ sink: typeof sink }, "sink">(THROUGHPUT, "sink", served.port, intervalMs);
    const report = async () => {
      for (const point of await receiver.intervals()) options.onInterval?.(point);
    };
    const poll = options.onInterval ? setInterval(() => void report().catch(() => {}), intervalMs) : undefined;
    const result = await receiver.done();
    clearInterval(poll);
    await report();
    await sending;
    return { ...result, bitsPerSecond: (result.bytes * 8) / result.seconds };
  } finally {
    await peer.close();
    await served.close();
  }
}

/** A port that was free a moment ago (for tools like iperf3 that cannot bind port 0). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

export const iperf3Available = async (): Promise<boolean> => hasProgram("iperf3");

export interface Iperf3Report {
  /** Bits per second the iperf3 server received. */
  bitsPerSecond: number;
  /** The size of each write, as iperf3 reports it (`start.test_start.blksize`). */
  writeBytes: number;
}

/** iperf3 client and server on 127.0.0.1 for `seconds`. `writeBytes` sets the size of each write
 *  (iperf3's `-l`; its own default for TCP is 128 KiB), e.g. to `loopbackThroughput`'s chunk
 *  size, so that both tools make the same system calls. */
export async function iperf3Report(seconds = 3, options: { writeBytes?: number } = {}): Promise<Iperf3Report> {
  const port = await freePort();
  const server = spawn("iperf3", ["-s", "-B", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const client = () =>
    new Promise<any>((resolve) =>
      execFile(
        "iperf3",
        [
          ...["-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-J"],
          ...(options.writeBytes ? ["-l", String(options.writeBytes)] : []),
        ],
        { timeout: (seconds + 20) * 1000 },
        (_e, stdout) => {
          try {
            resolve(JSON.parse(stdout));
          } catch {
            resolve({ error: `no report (${stdout.slice(0, 80)})` });
          }
        },
      ),
    );
  try {
    // The server takes a moment to listen; a refused first attempt is retried.
    for (let attempt = 0; ; attempt++) {
      const report = await client();
      if (!report.error)
        return { bitsPerSecond: report.end.sum_received.bits_per_second, writeBytes: report.start.test_start.blksize };
      if (attempt >= 20 || !/connect/i.test(report.error)) throw new Error(`iperf3: ${report.error}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    server.kill();
  }
}
