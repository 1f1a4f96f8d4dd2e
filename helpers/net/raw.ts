// Experiments below UDP and TCP, for functions run inside a lab host: an ICMP echo sent from bytes
// the notebook built, a raw socket that listens to one IP protocol (and can send ICMP), a UDP
// datagram whose ICMP error is caught and matched to it, a whole IPv4 packet sent with IP_HDRINCL
// and whole Ethernet frames sent as they are. Packets cross as Buffers, the whole IPv4 packet
// with its header, as a Linux raw socket delivers it; decode them with helpers/wire/packet.
// Raw and packet sockets need CAP_NET_RAW, which a lab host has; everything here refuses to run
// on the machine's own network (os/netns.ts).
import * as dgram from "node:dgram";
import { assertInLabHost } from "../os/netns";
import { IPPROTO, openCapture, openRaw, type Capture, type RawSocket } from "../os/rawsock";
import { nowMs } from "../os/time";
import { bpf, insn } from "../wire/bpf";
import { dissect, icmp, isIcmpError, type Icmp } from "../wire/packet";

/** A packet as a raw socket delivers it: the whole IPv4 packet, and its source address. */
export interface RawPacket {
  data: Buffer;
  from?: string;
}

/** Receives everything for `ms` milliseconds (a quiet gap of `ms` ends it too). */
async function drainFor(s: RawSocket, ms: number): Promise<RawPacket[]> {
  const out: RawPacket[] = [];
  const end = nowMs() + ms;
  for (let left = ms; left > 0; left = end - nowMs()) {
    const got = await s.recv(left);
    if (!got) break;
    out.push(got);
  }
  return out;
}

/** The ICMP message in a packet, if it is one. */
const icmpOf = (p: RawPacket): Icmp | undefined => dissect(p.data).icmp;

/**
 * Sends `message` (an ICMP message built by the caller: the kernel adds only the IPv4 header) to
 * `dst` on a fresh raw ICMP socket and waits up to `timeoutMs` for the echo reply whose
 * identifier is `id`. The raw socket also receives every other ICMP packet that reaches the
 * host meanwhile: those are returned in `others`, not mistaken for the reply.
 */
export async function icmpEcho(
  dst: string,
  message: Buffer,
  { id, timeoutMs = 1000 }: { id: number; timeoutMs?: number },
) {
  assertInLabHost("raw.icmpEcho");
  const s = openRaw({ protocol: IPPROTO.ICMP });
  try {
    const others: RawPacket[] = [];
    const t0 = nowMs();
    s.send(message, dst);
    for (let left = timeoutMs; left > 0; left = t0 + timeoutMs - nowMs()) {
      const got = await s.recv(left);
      if (!got) break;
      const m = icmpOf(got);
      if (m?.kind === "echo-reply" && m.id === id) return { reply: got, rttMs: nowMs() - t0, others };
      others.push(got);
    }
    return { reply: null, rttMs: null, others };
  } finally {
    await s.close();
  }
}

/** An echo request built with wire/packet, sent by `icmpEcho`; the reply's data and checks. */
export async function ping(to: string, opts: { id: number; seq: number; data: string; timeoutMs?: number }) {
  const request = icmp.encode({ kind: "echo-request", id: opts.id, seq: opts.seq, data: Buffer.from(opts.data) });
  const { reply } = await icmpEcho(to, request, opts);
  const m = reply && icmpOf(reply);
  if (!reply || m?.kind !== "echo-reply" || m.seq !== opts.seq) return { reply: false as const };
  return { reply: true as const, from: reply.from, data: m.data.toString(), checksumOk: m.checksumOk };
}

/** A raw IPv4 socket for `protocol` kept open in the host (1: ICMP, 17: UDP): it receives every
 *  packet of that protocol that reaches the host, whoever it was for, whole. A service. */
export function rawListener(protocol: number) {
  assertInLabHost("raw.rawListener");
  const s = openRaw({ protocol });
  return {
    protocol,
    /** Sends a message of this protocol to `dst`; the kernel adds the IPv4 header. */
    send(message: Buffer, dst: string): void {
      s.send(message, dst);
    },
    /** Every packet received within the next `ms` milliseconds (or queued before). */
    drain: (ms: number) => drainFor(s, ms),
    /** The ICMP destination-unreachable errors that quote a datagram from UDP port `srcPort`,
     *  received within `ms` (an ICMP listener only). */
    async errorsAbout(srcPort: number, ms: number) {
      const errors = [];
      for (const p of await drainFor(s, ms)) {
        const l = dissect(p.data);
        const m = l.icmp;
        if (!l.ip || m?.kind !== "destination-unreachable" || m.quote.first8.readUInt16BE(0) !== srcPort) continue;
        const { ip } = m.quote;
        errors.push({
          from: l.ip.src,
          type: m.type,
          code: m.code,
          nextHopMtu: m.nextHopMtu,
          quotedLength: ip.totalLength,
          quotedDf: ip.df,
        });
      }
      return errors;
    },
    close: () => s.close(),
  };
}

export interface ProbeOptions {
  /** The source port, fixed so that the quote in the error can be matched and compared. */
  srcPort: number;
  /** The IPv4 TTL of the datagram (IP_TTL on the socket); 64 by default. */
  ttl?: number;
  payload?: Buffer;
  timeoutMs?: number;
}

/**
 * Sends one UDP datagram from an ordinary dgram socket (bound to `srcPort`, IP_TTL `ttl`) to
 * `dst`:`port`, and waits for the ICMP error about it: a raw ICMP socket, opened before the
 * datagram leaves, keeps the first destination-unreachable or time-exceeded message whose
 * quoted UDP header carries our two ports. `sent` is the datagram as it left the host, taken
 * from an AF_PACKET capture on the outgoing interface `iface` (Ethernet header removed).
 */
export async function udpProbe(dst: string, port: number, opts: ProbeOptions, iface = "eth0") {
  assertInLabHost("raw.udpProbe");
  const { srcPort, ttl = 64, payload = Buffer.alloc(0), timeoutMs = 1000 } = opts;
  const raw = openRaw({ protocol: IPPROTO.ICMP });
  let cap: Capture | undefined;
  const udp = dgram.createSocket("udp4");
  try {
    cap = openCapture({ iface, filter: bpf.udpPort(port) });
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(srcPort, () => resolve());
    });
    udp.setTTL(ttl);
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => udp.send(payload, port, dst, (e) => (e ? reject(e) : resolve())));
    let error: RawPacket | null = null;
    let rttMs: number | null = null;
    for (let left = timeoutMs; left > 0 && !error; left = t0 + timeoutMs - nowMs()) {
      const got = await raw.recv(left);
      if (!got) break;
      const m = icmpOf(got);
      if (isIcmpError(m) && m.quote.ip.protocol === IPPROTO.UDP) {
        const q = m.quote.first8;
        if (q.readUInt16BE(0) === srcPort && q.readUInt16BE(2) === port) {
          error = got;
          rttMs = nowMs() - t0;
        }
      }
    }
    // The datagram as it went out, from the capture (skip anything else the filter admitted).
    let sent: Buffer | null = null;
    for (let f = await cap.next(200); f && !sent; f = await cap.next(100)) {
      const l = dissect(f.data, "ethernet");
      if (l.ip && l.udp && l.udp.srcPort === srcPort && l.udp.dstPort === port) {
        sent = f.data.subarray(14, 14 + l.ip.totalLength);
      }
    }
    return { sent, error, rttMs };
  } finally {
    udp.close();
    await Promise.all([raw.close(), cap?.close()]);
  }
}

/**
 * Sends a whole IPv4 packet (header built by the caller) on a raw socket with IP_HDRINCL. The
 * kernel routes it by `dst` and, as raw(7) documents, still fills in the header checksum and
 * total length (and the source address and ID when they are zero).
 */
export async function sendHdrincl(packet: Buffer, dst: string): Promise<void> {
  assertInLabHost("raw.sendHdrincl");
  const s = openRaw({ protocol: IPPROTO.RAW, hdrincl: true });
  try {
    s.send(packet, dst);
  } finally {
    await s.close();
  }
}

/** Sends each Ethernet frame out of `iface` on an AF_PACKET socket exactly as given (the kernel
 *  fills in nothing, not even a checksum), `gapMs` apart. */
export async function sendFrames(iface: string, frames: Buffer[], gapMs = 20): Promise<{ sent: number }> {
  assertInLabHost("raw.sendFrames");
  // The filter `ret #0` accepts nothing: this socket only sends, and queues no frame.
  const cap = openCapture({ iface, filter: [insn.ret(0)] });
  try {
    for (const [i, frame] of frames.entries()) {
      if (i) await new Promise((r) => setTimeout(r, gapMs));
      cap.send(frame);
    }
    return { sent: frames.length };
  } finally {
    await cap.close();
  }
}
