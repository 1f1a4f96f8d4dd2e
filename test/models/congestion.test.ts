// The congestion models against the textbook facts they are meant to show.
import { describe, expect, it } from "vitest";
import { bbr, BBR_GAIN_CYCLE, bdp, cubic, reno, simulate, type Link } from "../../helpers/models/congestion";

const huge: Link = { rate: 1e6, rtt: 0.05, buffer: 1e6 }; // never congested
const small: Link = { rate: 1000, rtt: 0.05, buffer: 50 }; // BDP 50 packets, buffer 50

describe("Reno", () => {
  it("doubles cwnd every RTT in slow start", () => {
    const r = simulate(huge, reno({ ssthresh: 64 }), { rounds: 6 });
    expect(r.map((x) => x.cwnd)).toEqual([2, 4, 8, 16, 32, 64]);
    expect(r.slice(0, 5).every((x) => x.state === "slow start")).toBe(true);
  });

  it("adds one segment per RTT after ssthresh", () => {
    const r = simulate(huge, reno({ ssthresh: 64 }), { rounds: 9 });
    expect(r.slice(6).map((x) => x.cwnd)).toEqual([65, 66, 67]);
    expect(r[8].state).toBe("congestion avoidance");
  });

  it("halves cwnd on a loss detected by 3 duplicate ACKs", () => {
    const r = simulate(small, reno({ ssthresh: 64 }), { rounds: 100 });
    const i = r.findIndex((x) => x.lost > 0);
    expect(i).toBeGreaterThan(0);
    expect(r[i].timeout).toBe(false);
    expect(r[i].cwnd).toBe(Math.floor(r[i - 1].cwnd / 2));
  });

  it("falls back to 1 segment and slow start on a retransmission timeout", () => {
    const algo = reno({ ssthresh: 64 });
    const r = simulate(huge, algo, { rounds: 12, outages: [8] });
    expect(r[8].timeout).toBe(true);
    expect(r[8].cwnd).toBe(1);
    expect(algo.ssthresh()).toBe(Math.floor(r[7].cwnd / 2));
    expect(r[9].cwnd).toBe(2);
  });
});

describe("CUBIC", () => {
  it("reduces to beta (0.7) x Wmax on loss and computes K = cbrt(Wmax(1-beta)/C)", () => {
    const algo = cubic();
    const r = simulate(small, algo, { rounds: 40 });
    const i = r.findIndex((x) => x.lost > 0 && !x.timeout);
    const wmax = r[i - 1].cwnd;
    expect(algo.wmax()).toBeGreaterThan(0);
    expect(r[i].cwnd).toBeCloseTo(0.7 * wmax, 6);
  });

  it("grows concave up to Wmax, plateaus near it, then convex beyond", () => {
    // Drive the window by hand: one loss at cwnd 100, then loss-free rounds of 100 ms.
    const algo = cubic({ initialCwnd: 100 });
    const feedback = (time: number, lost: number) => ({
      time,
      sent: 100,
      delivered: 100 - lost,
      lost,
      rtt: 0.1,
      deliveryRate: 1000,
      timeout: false,
    });
    algo.onRound(feedback(0.1, 1));
    expect(algo.cwnd()).toBeCloseTo(70, 6);
    expect(algo.k()).toBeCloseTo(Math.cbrt((100 * 0.3) / 0.4), 9); // about 4.2 s
    const w: number[] = [];
    for (let i = 2; i < 90; i++) {
      algo.onRound(feedback(i * 0.1, 0));
      w.push(algo.cwnd());
    }
    const step = (i: number) => w[i] - w[i - 1];
    const nearK = w.findIndex((x) => x >= 99.5);
    expect(nearK).toBeGreaterThan(10);
    expect(step(3)).toBeGreaterThan(step(nearK - 2)); // concave: growth slows towards Wmax
    expect(step(w.length - 1)).toBeGreaterThan(step(nearK + 1)); // convex: speeds up beyond it
    expect(w[nearK - 5]).toBeLessThan(100);
  });

  it("uses the TCP-friendly window when it is larger (short RTT, small window)", () => {
    const r = simulate({ rate: 200, rtt: 0.01, buffer: 4 }, cubic(), { rounds: 300 });
    expect(r.some((x) => x.state === "TCP-friendly")).toBe(true);
  });
});

describe("BBR v1", () => {
  it("leaves STARTUP after 3 rounds without 25% bandwidth growth, drains, then probes", () => {
    const r = simulate(small, bbr(), { rounds: 30 });
    const states = r.map((x) => x.state);
    const drain = states.indexOf("DRAIN");
    expect(drain).toBeGreaterThan(3);
    expect(states.slice(0, drain).every((s) => s === "STARTUP")).toBe(true);
    expect(states[drain + 1]).toBe("PROBE_BW");
  });

  it("cycles pacing gain 1.25, 0.75, then six rounds of 1 in PROBE_BW", () => {
    // In PROBE_BW the packets in flight are gain x the estimated BDP (50 packets here).
    const sent = simulate(small, bbr(), { rounds: 60 })
      .filter((x) => x.state === "PROBE_BW")
      .map((x) => x.sent);
    const start = sent.indexOf(63);
    expect(sent.slice(start, start + 16)).toEqual([63, 38, 50, 50, 50, 50, 50, 50, 63, 38, 50, 50, 50, 50, 50, 50]);
    expect(BBR_GAIN_CYCLE.map((g) => Math.round(g * 50))).toEqual(sent.slice(start, start + 8));
  });

  it("enters PROBE_RTT after 10 s without a lower RTT, with 4 packets in flight for at least 200 ms", () => {
    const r = simulate(small, bbr(), { rounds: 400 });
    const probe = r.filter((x) => x.state === "PROBE_RTT");
    expect(probe.length).toBeGreaterThan(0);
    expect(probe.every((x) => x.sent === 4)).toBe(true);
    const first = r.findIndex((x) => x.state === "PROBE_RTT");
    expect(r[first].time).toBeGreaterThan(10);
    const spell = r.slice(first).findIndex((x) => x.state !== "PROBE_RTT");
    const duration = r[first + spell - 1].time - r[first - 1].time;
    expect(duration).toBeGreaterThanOrEqual(0.2);
  });

  it("keeps the queue shorter than CUBIC and Reno on the same link, at full utilisation", () => {
    const mean = (rs: ReturnType<typeof simulate>, k: "queue" | "deliveryRate") =>
      rs.slice(50).reduce((a, x) => a + x[k], 0) / (rs.length - 50);
    const [b, c, n] = [bbr(), cubic(), reno()].map((a) => simulate(small, a, { rounds: 300 }));
    expect(mean(b, "queue")).toBeLessThan(mean(c, "queue") / 4);
    expect(mean(b, "queue")).toBeLessThan(mean(n, "queue") / 4);
    expect(mean(b, "deliveryRate") / small.rate).toBeGreaterThan(0.9);
  });
});

describe("the shared link", () => {
  it("queueing delay is queue / rate (Little's law) and RTT is base + queueing delay", () => {
    for (const x of simulate(small, reno(), { rounds: 60 })) {
      expect(x.queueDelay).toBeCloseTo(x.queue / small.rate, 12);
      expect(x.rtt).toBeCloseTo(small.rtt + x.queueDelay, 12);
      expect(x.queue).toBeLessThanOrEqual(small.buffer);
    }
    expect(bdp(small)).toBe(50);
  });

  it("is deterministic for a seed, and random loss depends on it", () => {
    const lossy: Link = { ...small, loss: 0.01 };
    const a = simulate(lossy, cubic(), { rounds: 100, seed: 7 });
    const b = simulate(lossy, cubic(), { rounds: 100, seed: 7 });
    const c = simulate(lossy, cubic(), { rounds: 100, seed: 8 });
    expect(a).toEqual(b);
    expect(a.map((x) => x.lost)).not.toEqual(c.map((x) => x.lost));
  });
});
