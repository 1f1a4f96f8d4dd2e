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
}

export interface FlowTrace {
  algorithm: string;
  samples: TraceSample[];
  /** How often the timer really fired: the requested interval is a wish under load. */
  medianIntervalMs: number;
  seconds: number;
  /** The sender's maximum segment size in bytes: `bytesAcked / mss` counts segments acknowledged. */
  mss: number;
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
  const sample = () => samples.push({ t: nowMs() - start, ...congestionInfo(socket) });
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
  socket.destroy();
  const gaps = samples
    .slice(1)
    .map((s, i) => s.t - samples[i].t)
    .sort((a, b) => a - b);
  const medianIntervalMs = gaps[Math.floor(gaps.length / 2)] ?? 0;
  return { algorithm, samples, medianIntervalMs, seconds: opts.seconds, mss };
}
