// Congestion control models on one shared bottleneck link, one round trip per step.
// Deterministic for a given seed, so notebooks can chart them and replay can compare the charts.
//
// The link: a bottleneck of `rate` packets/s, a base round-trip time `rtt`, a drop-tail buffer of
// `buffer` packets and independent random loss `loss` per packet. Each round the sender puts
// `inflight` packets in the pipe: up to one bandwidth-delay product (BDP) is in flight on the
// wire, the rest waits in the queue (adding queue/rate to the RTT, by Little's law), and what does
// not fit in the buffer is dropped.

import { rng } from "./random";

export interface Link {
  rate: number; // packets per second
  rtt: number; // base (propagation) round trip, seconds
  buffer: number; // packets the bottleneck queue holds
  loss?: number; // probability each packet is lost at random
}

export const bdp = (link: Link) => link.rate * link.rtt;

/** What the sender learns at the end of a round. */
export interface Feedback {
  time: number; // seconds since the start, at the end of this round
  sent: number;
  delivered: number;
  lost: number;
  rtt: number; // this round's RTT, base + queueing delay
  deliveryRate: number; // packets per second
  timeout: boolean; // losses but too few packets after them for 3 duplicate ACKs
}

export interface Algorithm {
  readonly name: string;
  /** Packets to put in flight this round. */
  inflight(): number;
  /** The state to report for this round (slow start, PROBE_BW, ...). */
  state(): string;
  /** The congestion window after this round, in packets. */
  cwnd(): number;
  onRound(f: Feedback): void;
}

export interface Round extends Feedback {
  round: number;
  state: string;
  cwnd: number; // after the round's reaction
  queue: number;
  queueDelay: number; // seconds
}

export interface SimOptions {
  rounds: number;
  seed?: number;
  /** Rounds in which every packet is lost (an outage), to show a retransmission timeout. */
  outages?: number[];
}

/** Runs one flow alone on the link for a number of round trips. */
export function simulate(link: Link, algo: Algorithm, options: SimOptions): Round[] {
  const random = rng(options.seed ?? 1);
  const rounds: Round[] = [];
  let time = 0;
  for (let round = 0; round < options.rounds; round++) {
    const state = algo.state();
    const sent = Math.max(1, Math.round(algo.inflight()));
    let queue = Math.max(0, sent - bdp(link));
    const overflow = Math.max(0, queue - link.buffer);
    queue -= overflow;
    let lost = Math.round(overflow);
    if (options.outages?.includes(round)) lost = sent;
    else for (let i = 0; i < sent - lost; i++) if (random() < (link.loss ?? 0)) lost++;
    const delivered = sent - lost;
    const queueDelay = queue / link.rate;
    const rtt = link.rtt + queueDelay;
    time += rtt;
    const feedback: Feedback = {
      time,
      sent,
      delivered,
      lost,
      rtt,
      deliveryRate: delivered / rtt,
      timeout: lost > 0 && delivered < 3,
    };
    algo.onRound(feedback);
    rounds.push({ ...feedback, round, state, cwnd: algo.cwnd(), queue, queueDelay });
  }
  return rounds;
}

/** TCP Reno: slow start, congestion avoidance, fast retransmit/recovery, timeout. */
export function reno(options: { initialCwnd?: number; ssthresh?: number } = {}): Algorithm & { ssthresh(): number } {
  let cwnd = options.initialCwnd ?? 1;
  let ssthresh = options.ssthresh ?? Infinity;
  let phase = "slow start";
  return {
    name: "Reno",
    inflight: () => cwnd,
    cwnd: () => cwnd,
    ssthresh: () => ssthresh,
    state: () => phase,
    onRound(f) {
      if (f.timeout) {
        ssthresh = Math.max(Math.floor(cwnd / 2), 2); // whole segments, as Linux: max(cwnd >> 1, 2)
        cwnd = 1; // retransmission timeout: back to one segment, slow start again
        phase = "slow start";
      } else if (f.lost > 0) {
        ssthresh = Math.max(Math.floor(cwnd / 2), 2); // 3 duplicate ACKs: halve, skip slow start
        cwnd = ssthresh;
        phase = "congestion avoidance";
      } else if (cwnd < ssthresh) {
        cwnd = Math.min(cwnd * 2, ssthresh); // one more segment per ACK: doubles per RTT
        phase = cwnd < ssthresh ? "slow start" : "congestion avoidance";
      } else {
        cwnd += 1; // one segment per RTT
        phase = "congestion avoidance";
      }
    },
  };
}

/** CUBIC (RFC 9438): W(t) = C(t-K)^3 + Wmax after a loss, with the TCP-friendly (Reno-like) floor. */
export function cubic(
  options: { initialCwnd?: number; C?: number; beta?: number } = {},
): Algorithm & { wmax(): number; k(): number } {
  const C = options.C ?? 0.4;
  const beta = options.beta ?? 0.7;
  let cwnd = options.initialCwnd ?? 1;
  let ssthresh = Infinity;
  let wmax = 0;
  let k = 0;
  let epochStart: number | null = null;
  let now = 0;
  let phase = "slow start";
  return {
    name: "CUBIC",
    inflight: () => cwnd,
    cwnd: () => cwnd,
    wmax: () => wmax,
    k: () => k,
    state: () => phase,
    onRound(f) {
      now = f.time;
      if (f.lost > 0) {
        wmax = cwnd;
        cwnd = f.timeout ? 1 : Math.max(cwnd * beta, 2);
        ssthresh = Math.max(wmax * beta, 2);
        k = Math.cbrt((wmax * (1 - beta)) / C);
        epochStart = f.timeout ? null : now;
        phase = f.timeout ? "slow start" : "recovery";
        return;
      }
      if (cwnd < ssthresh) {
        cwnd = Math.min(cwnd * 2, ssthresh);
        phase = "slow start";
        if (cwnd >= ssthresh) epochStart = now;
        return;
      }
      epochStart ??= now;
      const t = now + f.rtt - epochStart; // aim one RTT ahead, as RFC 9438 does
      const wCubic = C * (t - k) ** 3 + wmax;
      const wTcp = wmax * beta + ((3 * (1 - beta)) / (1 + beta)) * (t / f.rtt);
      const target = Math.max(wCubic, wTcp);
      cwnd = Math.min(Math.max(target, cwnd), cwnd * 1.5); // never shrink without loss; bounded growth per RTT
      phase = wTcp > wCubic ? "TCP-friendly" : wCubic < wmax ? "concave" : "convex";
    },
  };
}

export const BBR_HIGH_GAIN = 2 / Math.LN2; // 2.885: lets the sending rate double each round in STARTUP
export const BBR_GAIN_CYCLE = [1.25, 0.75, 1, 1, 1, 1, 1, 1];

/** BBR v1: STARTUP, DRAIN, PROBE_BW (gain cycle), PROBE_RTT, driven by a windowed max-bandwidth
 *  filter (10 rounds) and a min-RTT filter (10 s). Loss does not change its model. */
export function bbr(
  options: { initialCwnd?: number; cycleStart?: number } = {},
): Algorithm & { pacingGain(): number; btlBw(): number; rtProp(): number } {
  let mode: "STARTUP" | "DRAIN" | "PROBE_BW" | "PROBE_RTT" = "STARTUP";
  const bwSamples: number[] = [];
  let rtProp = Infinity;
  let rtPropStamp = 0;
  let fullBw = 0;
  let fullBwRounds = 0;
  let cycleIndex = options.cycleStart ?? 2;
  let probeRttUntil = 0;
  let lastInflight = options.initialCwnd ?? 10;
  let lastTime = 0;
  const btlBw = () => (bwSamples.length ? Math.max(...bwSamples) : 0);
  const estimatedBdp = () => btlBw() * (Number.isFinite(rtProp) ? rtProp : 0);
  const pacingGain = () =>
    mode === "STARTUP"
      ? BBR_HIGH_GAIN
      : mode === "DRAIN"
        ? 1 / BBR_HIGH_GAIN
        : mode === "PROBE_BW"
          ? BBR_GAIN_CYCLE[cycleIndex]
          : 1;
  const cwnd = () => (mode === "PROBE_RTT" ? 4 : Math.max(4, 2 * estimatedBdp() || lastInflight * 2));
  return {
    name: "BBR",
    pacingGain,
    btlBw,
    rtProp: () => rtProp,
    cwnd,
    state: () => mode,
    inflight() {
      if (mode === "PROBE_RTT") return 4;
      // Pacing at gain x the estimated bandwidth for one min-RTT puts gain x BDP in flight. In
      // STARTUP the rate ramps within the round, which doubles the delivered data per round.
      const paced =
        mode === "STARTUP" ? (estimatedBdp() ? 2 * estimatedBdp() : lastInflight) : pacingGain() * estimatedBdp();
      return Math.min(paced, cwnd());
    },
    onRound(f) {
      lastInflight = f.sent;
      bwSamples.push(f.deliveryRate);
      if (bwSamples.length > 10) bwSamples.shift();
      if (f.rtt < rtProp) {
        // strictly lower, as Linux: an unchanged path still gets PROBE_RTT every 10 s
        rtProp = f.rtt;
        rtPropStamp = f.time;
      }
      const elapsed = f.time - lastTime;
      lastTime = f.time;
      if (mode === "STARTUP") {
        if (btlBw() >= fullBw * 1.25) {
          fullBw = btlBw();
          fullBwRounds = 0;
        } else if (++fullBwRounds >= 3) mode = "DRAIN"; // 3 rounds without 25% growth: the pipe is full
      } else if (mode === "DRAIN") {
        if (f.sent <= estimatedBdp()) mode = "PROBE_BW";
      } else if (mode === "PROBE_BW") {
        cycleIndex = (cycleIndex + 1) % BBR_GAIN_CYCLE.length;
      } else if (mode === "PROBE_RTT" && f.time >= probeRttUntil) {
        rtPropStamp = f.time;
        mode = "PROBE_BW";
      }
      // No lower RTT seen for 10 s: drain the pipe for at least 200 ms to measure it again.
      if (mode !== "PROBE_RTT" && mode !== "STARTUP" && f.time - rtPropStamp > 10) {
        mode = "PROBE_RTT";
        probeRttUntil = f.time + Math.max(0.2, elapsed);
        rtProp = Infinity; // the next round's RTT becomes the new estimate
      }
    },
  };
}
