// A packet capture that runs inside a lab host (`host.run(capture, "startCapture", …)`) while an
// experiment happens: an AF_PACKET socket with an optional classic BPF filter, every frame kept
// (as hex, so it travels as JSON) and optionally written to a pcap file for tshark or Wireshark.
import { sleep } from "./time";
import { LINKTYPE, PcapWriter } from "./pcap-file";
import { openCapture } from "./rawsock";
import { type BpfInsn } from "../wire/bpf";

export interface CaptureRequest {
  iface: string;
  /** A classic BPF program (`bpf.udpPort(5300)` etc.: its instructions are plain JSON). */
  filter?: BpfInsn[];
  /** Write every captured frame to this pcap file (linktype 1, Ethernet). */
  pcap?: string;
  /** Stop after this many frames. */
  maxFrames?: number;
}
export interface CapturedFrame {
  hex: string;
  /** Kernel receive time, ms since the epoch. */
  time: number;
}
export interface CaptureResult {
  iface: string;
  frames: CapturedFrame[];
  /** Frames written to the pcap file (0 without one). */
  written: number;
}

/** Starts capturing on `iface` and keeps going until `stop()`: a service whose `stop()` waits
 *  `settleMs` for frames still in flight, then returns what was captured. */
export function startCapture(req: CaptureRequest) {
  const cap = openCapture({ iface: req.iface, filter: req.filter });
  const writer = req.pcap ? new PcapWriter(req.pcap, { linktype: LINKTYPE.ETHERNET }) : undefined;
  const frames: CapturedFrame[] = [];
  let running = true;
  const loop = (async () => {
    while (running && frames.length < (req.maxFrames ?? Infinity)) {
      const f = await cap.next(100);
      if (!f || !running) continue;
      frames.push({ hex: f.data.toString("hex"), time: f.time });
      writer?.write(f.data, f.time);
    }
  })();
  let result: Promise<CaptureResult> | undefined;
  const stop = (settleMs = 200) =>
    (result ??= (async () => {
      await sleep(settleMs);
      running = false;
      await loop;
      await cap.close();
      writer?.close();
      return { iface: req.iface, frames, written: writer?.count ?? 0 };
    })());
  return {
    iface: req.iface,
    stop,
    /** Frames so far. */
    count: () => frames.length,
    close: async () => void (await stop(0)),
  };
}

/** Captures on `iface` for `ms` milliseconds or until `maxFrames` frames, whichever comes first. */
export async function captureFor(req: CaptureRequest & { ms: number }): Promise<CaptureResult> {
  const c = startCapture(req);
  const until = Date.now() + req.ms;
  while (Date.now() < until && c.count() < (req.maxFrames ?? Infinity)) await sleep(20);
  return c.stop(0);
}
