// Loopback throughput that reaches the machine's limit: the receiving end runs in a child process
// (its own event loop and core), reads into one large preallocated buffer (no allocation per
// read), and counts bytes per interval. The sender writes large buffers and honours backpressure.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import * as net from "node:net";
import { serve } from "../net/serve";

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

// The receiver: connects to the sender (only client sockets can read into a caller's buffer,
// via `onread`), counts bytes, and prints one JSON line when the sender closes.
const SINK = `
const net = require("node:net");
const [port, intervalMs] = process.argv.slice(1).map(Number);
const buffer = Buffer.allocUnsafe(4 << 20);
let total = 0, inInterval = 0, t0 = 0;
const timeline = [];
const tick = () => {
  const point = { t: Number(process.hrtime.bigint() - t0) / 1e9, bytes: inInterval };
  timeline.push(point);
  inInterval = 0;
  process.stdout.write(JSON.stringify({ interval: point }) + "\\n");
};
let timer;
const socket = net.connect({ port, host: "127.0.0.1", onread: { buffer, callback(n) {
  if (!t0) { t0 = process.hrtime.bigint(); timer = setInterval(tick, intervalMs); }
  total += n; inInterval += n;
} } });
socket.on("end", () => {
  clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (inInterval) tick();
  process.stdout.write(JSON.stringify({ done: { bytes: total, seconds, timeline } }) + "\\n");
  socket.end();
});
`;

/** Sends for `seconds` to a receiver in a child process and reports what it received. */
export async function loopbackThroughput(
  options: {
    seconds?: number;
    intervalMs?: number;
    chunkBytes?: number;
    onInterval?: (point: { t: number; bytes: number }) => void;
  } = {},
): Promise<ThroughputResult> {
  const seconds = options.seconds ?? 3;
  const chunk = Buffer.alloc(options.chunkBytes ?? 1 << 20, 0x5a);
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
  try {
    const sink = spawn(process.execPath, ["-e", SINK, String(served.port), String(options.intervalMs ?? 250)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let pending = "";
    let result: Omit<ThroughputResult, "bitsPerSecond"> | undefined;
    sink.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const line of lines.filter(Boolean)) {
        const msg = JSON.parse(line);
        if (msg.interval) options.onInterval?.(msg.interval);
        else result = msg.done;
      }
    });
    const [code] = await once(sink, "exit");
    await sending;
    if (code !== 0 || !result) throw new Error(`the receiving process exited with code ${code} and no report`);
    const r = result;
    return { ...r, bitsPerSecond: (r.bytes * 8) / r.seconds };
  } finally {
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

export const iperf3Available = (): Promise<boolean> =>
  new Promise((resolve) => execFile("iperf3", ["--version"], (e) => resolve(!e)));

/** iperf3 client and server on 127.0.0.1: bits per second received. */
export async function iperf3Throughput(seconds = 3): Promise<number> {
  const port = await freePort();
  const server = spawn("iperf3", ["-s", "-B", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const client = () =>
    new Promise<any>((resolve) =>
      execFile(
        "iperf3",
        ["-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-J"],
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
      if (!report.error) return report.end.sum_received.bits_per_second;
      if (attempt >= 20 || !/connect/i.test(report.error)) throw new Error(`iperf3: ${report.error}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    server.kill();
  }
}
