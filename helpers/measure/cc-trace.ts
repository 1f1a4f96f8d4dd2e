// The Linux kernel's congestion control, watched from inside: one bulk TCP flow with a chosen
// algorithm, its `struct tcp_info` sampled on a timer. Meant to run inside lab hosts
// (helpers/lab): `traceFlow` on the sender, against a net/services tcpServer on the receiver.
import * as net from "node:net";
import { nowMs } from "../os/time";
import { congestionInfo, getCongestion, setCongestion, tcpInfo, type CongestionInfo } from "../os/tcpinfo";
import { assertInLabHost } from "../os/netns";

export interface TraceSample extends CongestionInfo {
  /** Milliseconds since the flow started. */
  t: number;
  /** Segments sent and not yet acknowledged (tcpi_unacked): what is in flight. */
  inFlight: number;
}

export interface FlowTrace {
  algorithm: string;
  samples: TraceSample[];
  /** How often the timer really fired: the requested interval is a wish under load. */
  medianIntervalMs: number;
  seconds: number;
  /** The sender's maximum segment size in bytes: `bytesAcked / mss` counts segments acknowledged. */
  mss: number;
  /** After the last sample: how long the data still queued took to be delivered and the
   *  connection to close (both FINs), so that nothing of this flow is left on the path. */
  drainMs: number;
}

/** Sends as fast as the connection allows for `seconds`, sampling TCP_INFO every `everyMs`. */
export async function traceFlow(opts: {
  to: string;
  port: number;
  algorithm: string;
  seconds: number;
  everyMs?: number;
}): Promise<FlowTrace> {
  assertInLabHost("cc-trace.traceFlow");
  const everyMs = opts.everyMs ?? 10;
  const socket = net.connect({ host: opts.to, port: opts.port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  // Set before the first byte is written, so the whole flow runs under this algorithm.
  setCongestion(socket, opts.algorithm);
  const algorithm = getCongestion(socket);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const start = nowMs();
  const samples: TraceSample[] = [];
  const sample = () =>
    samples.push({ t: nowMs() - start, ...congestionInfo(socket), inFlight: tcpInfo(socket).unacked });
  const timer = setInterval(sample, everyMs);
  let done = false;
  const pump = () => {
    while (!done && socket.write(chunk));
  };
  socket.on("drain", pump);
  socket.on("error", () => {});
  pump();
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  done = true;
  sample();
  clearInterval(timer);
  const mss = tcpInfo(socket).sndMss;
  // Not destroy(): closing the fd would leave the kernel sending what is queued while the next
  // flow starts. end() sends it all, then FIN; the sink closes its side once it has read it all.
  const drainStart = nowMs();
  await new Promise<void>((resolve) => {
    const giveUp = setTimeout(() => (socket.destroy(), resolve()), 60_000);
    socket.once("close", () => (clearTimeout(giveUp), resolve()));
    socket.end();
  });
  const drainMs = nowMs() - drainStart;
  const gaps = samples
    .slice(1)
    .map((s, i) => s.t - samples[i].t)
    .sort((a, b) => a - b);
  return {
    algorithm,
    samples,
    medianIntervalMs: gaps[Math.floor(gaps.length / 2)] ?? 0,
    seconds: opts.seconds,
    mss,
    drainMs,
  };
}
