// Head-of-line blocking: N streams sent over one lossy channel, delivered by TCP (one ordered
// byte stream, as HTTP/2 uses it) or by QUIC (each stream ordered on its own, as HTTP/3 uses it).
// Seeded, so a notebook can chart it and replay can compare the charts.
//
// The channel: the sender takes the streams in turn (round robin), one packet per stream, and puts
// one packet on the wire every `interval` ms. Each packet arrives rtt/2 later, unless it is lost
// (probability `loss` per transmission, or a loss forced with `lose`). A lost packet is sent again
// one RTT after the transmission that was lost (the time it takes to notice: about one round trip
// with fast retransmit or QUIC's packet-threshold detection); the retransmission can be lost too.
//
// Both transports see exactly the same packets arrive at the same times. They differ only in
// what the receiver may hand to the application:
// - TCP: byte n only after every byte before it, on every stream. One missing packet holds up
//   everything sent after it until its retransmission arrives.
// - QUIC: byte n of a stream after every earlier byte of that stream. A loss holds up its own
//   stream; the others carry on.
// Simplifications: retransmissions do not delay new packets (no congestion control), and both
// transports share one loss pattern so that only the ordering rule differs.
import { rng } from "./random";

export interface HolOptions {
  streams: number;
  /** Packets each stream sends. */
  packetsPerStream: number;
  /** Milliseconds between packets on the wire. */
  interval: number;
  /** Round-trip time in ms; a packet takes rtt/2 to arrive. */
  rtt: number;
  /** Probability that each transmission is lost. Default 0. */
  loss?: number;
  seed?: number;
  /** First transmissions to lose whatever the dice say: stream and packet index within it. */
  lose?: Array<{ stream: number; packet: number }>;
}

export interface HolPacket {
  /** Position on the wire (0, 1, 2 ...) of the first transmission. */
  seq: number;
  stream: number;
  /** Index within its stream. */
  index: number;
  /** First transmission, ms. */
  sent: number;
  /** Transmissions lost before one got through. */
  lost: number;
  /** When the transmission that got through arrived, ms. */
  arrived: number;
}

export interface HolStream {
  stream: number;
  /** Lost transmissions on this stream. */
  lost: number;
  /** When each packet of the stream was handed to the application, ms, by packet index. */
  delivered: number[];
  /** When the last packet was handed over, ms. */
  completion: number;
  /** Total ms this stream's packets sat in the receive buffer after arriving, waiting for an
   *  earlier packet (head-of-line blocking, including waiting for its own losses). */
  blocked: number;
}

export interface HolRun {
  transport: "TCP" | "QUIC";
  streams: HolStream[];
}

export interface HolResult {
  packets: HolPacket[];
  tcp: HolRun;
  quic: HolRun;
}

export class HolError extends Error {
  code = "ERR_HOL_OPTIONS";
}

const MAX_TRANSMISSIONS = 64;

function check(o: HolOptions): void {
  for (const name of ["streams", "packetsPerStream"] as const) {
    if (!Number.isInteger(o[name]) || o[name] < 1)
      throw new HolError(`${name} must be a positive integer, got ${o[name]}`);
  }
  for (const name of ["interval", "rtt"] as const) {
    if (!(Number.isFinite(o[name]) && o[name] > 0))
      throw new HolError(`${name} must be a positive number, got ${o[name]}`);
  }
  const loss = o.loss ?? 0;
  if (!(loss >= 0 && loss < 1)) throw new HolError(`loss must be in [0, 1), got ${loss}`);
  for (const l of o.lose ?? []) {
    if (!(l.stream >= 0 && l.stream < o.streams && l.packet >= 0 && l.packet < o.packetsPerStream)) {
      throw new HolError(`lose: no packet ${l.packet} on stream ${l.stream}`);
    }
  }
}

/** Puts the packets on the wire and decides, once, which transmissions are lost. */
export function transmit(o: HolOptions): HolPacket[] {
  check(o);
  const random = rng(o.seed ?? 1);
  const loss = o.loss ?? 0;
  const forced = new Set((o.lose ?? []).map((l) => `${l.stream}/${l.packet}`));
  const packets: HolPacket[] = [];
  for (let seq = 0; seq < o.streams * o.packetsPerStream; seq++) {
    const stream = seq % o.streams;
    const index = Math.floor(seq / o.streams);
    const sent = seq * o.interval;
    let lost = 0;
    // One draw per transmission, in wire order: the same seed gives the same losses.
    for (let first = true; ; first = false) {
      const dropped = random() < loss || (first && forced.has(`${stream}/${index}`));
      if (!dropped) break;
      if (++lost >= MAX_TRANSMISSIONS)
        throw new HolError(`packet ${seq} lost ${lost} times in a row: loss ${loss} is too high`);
    }
    packets.push({ seq, stream, index, sent, lost, arrived: sent + lost * o.rtt + o.rtt / 2 });
  }
  return packets;
}

function deliver(transport: HolRun["transport"], packets: HolPacket[], streams: number): HolRun {
  const out: HolStream[] = Array.from({ length: streams }, (_, stream) => ({
    stream,
    lost: 0,
    delivered: [],
    completion: 0,
    blocked: 0,
  }));
  let connectionEdge = 0; // TCP: everything before this point on the wire has arrived by then
  const streamEdge = new Array<number>(streams).fill(0); // QUIC: the same, per stream
  for (const p of packets) {
    // In wire order, a packet is delivered once it and everything it must wait for have arrived.
    let at: number;
    if (transport === "TCP") at = connectionEdge = Math.max(connectionEdge, p.arrived);
    else at = streamEdge[p.stream] = Math.max(streamEdge[p.stream], p.arrived);
    const s = out[p.stream];
    s.delivered[p.index] = at;
    s.completion = Math.max(s.completion, at);
    s.blocked += at - p.arrived;
    s.lost += p.lost;
  }
  return { transport, streams: out };
}

/** Runs both transports over the same lossy channel. */
export function simulateHol(o: HolOptions): HolResult {
  const packets = transmit(o);
  return { packets, tcp: deliver("TCP", packets, o.streams), quic: deliver("QUIC", packets, o.streams) };
}
