// Packet capture while an experiment runs, inside a lab host (`host.run(capture, "startCapture",
// …)`): an AF_PACKET socket on one interface with an optional classic BPF filter, every frame kept
// with the kernel's arrival time and optionally written to a pcap file for tshark or Wireshark;
// and several captures side by side on one interface, one socket per named filter, read without
// blocking so any number of them can run at once and stop() drains each to its last frame.
import { close as closeFd, recvNow } from "./libc";
import { LINKTYPE, PcapWriter } from "./pcap-file";
import { openCapture, packetSocket } from "./rawsock";
import { sleep } from "./time";
import type { BpfInsn } from "../wire/bpf";

export interface CaptureRequest {
  iface: string;
  /** A classic BPF program (`bpf.udpPort(5300)` etc.: its instructions are plain data). */
  filter?: BpfInsn[];
  /** Skip frames this host sends (PACKET_IGNORE_OUTGOING). */
  ignoreOutgoing?: boolean;
  /** Write every captured frame to this pcap file (linktype 1, Ethernet). */
  pcap?: string;
  /** Stop after this many frames. */
  maxFrames?: number;
}
export interface CapturedFrame {
  data: Buffer;
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
  const cap = openCapture({ iface: req.iface, filter: req.filter, ignoreOutgoing: req.ignoreOutgoing });
  const writer = req.pcap ? new PcapWriter(req.pcap, { linktype: LINKTYPE.ETHERNET }) : undefined;
  const frames: CapturedFrame[] = [];
  let taken = 0;
  let running = true;
  const loop = (async () => {
    while (running && frames.length < (req.maxFrames ?? Infinity)) {
      const f = await cap.next(100);
      if (!f || !running) continue;
      frames.push(f);
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
    /** Waits `settleMs` for frames in flight, then the frames captured since the last take(). */
    async take(settleMs = 200): Promise<CapturedFrame[]> {
      await sleep(settleMs);
      const fresh = frames.slice(taken);
      taken = frames.length;
      return fresh;
    },
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

/** Several captures on `iface` at once, one packet socket per named filter (null: no filter),
 *  each filter handed to the kernel exactly as given, before bind. The sockets are read without
 *  blocking (recv with MSG_DONTWAIT every few ms, on the event loop), so any number of them can
 *  run side by side, and `stop()` drains every queue to the last frame. A service. */
export function startCaptures(req: { iface: string; filters: Record<string, BpfInsn[] | null> }) {
  const socks: { name: string; fd: number; frames: Buffer[] }[] = [];
  const closeAll = () => socks.splice(0).forEach((s) => closeFd(s.fd));
  try {
    for (const [name, prog] of Object.entries(req.filters)) {
      socks.push({ name, fd: packetSocket(req.iface, prog ?? undefined, { checked: false }).fd, frames: [] });
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const buf = Buffer.alloc(262144);
  const drain = () => {
    for (const s of socks) {
      for (let n = recvNow(s.fd, buf); n >= 0; n = recvNow(s.fd, buf)) s.frames.push(Buffer.from(buf.subarray(0, n)));
    }
  };
  const timer = setInterval(drain, 5);
  let result: Promise<Record<string, Buffer[]>> | undefined;
  const stop = (settleMs = 200) =>
    (result ??= (async () => {
      await sleep(settleMs);
      clearInterval(timer);
      drain();
      const out = Object.fromEntries(socks.map((s) => [s.name, s.frames]));
      closeAll();
      return out;
    })());
  return {
    iface: req.iface,
    names: Object.keys(req.filters),
    /** Waits `settleMs` for frames in flight, reads every queue empty, closes: frames by name. */
    stop,
    close: async () => void (await stop(0)),
  };
}
