// The head-of-line blocking model: TCP's one ordered stream vs QUIC's per-stream order.
import { describe, expect, it } from "vitest";
import { HolError, simulateHol, transmit, type HolOptions } from "../../helpers/models/quic-hol";

// Short streams sent within less than one RTT, as a web page's resources are.
const base: HolOptions = { streams: 4, packetsPerStream: 10, interval: 1, rtt: 100 };

describe("the channel", () => {
  it("sends the streams round robin, one packet per interval", () => {
    const p = transmit(base);
    expect(p.slice(0, 6).map((x) => [x.seq, x.stream, x.index, x.sent])).toEqual([
      [0, 0, 0, 0],
      [1, 1, 0, 1],
      [2, 2, 0, 2],
      [3, 3, 0, 3],
      [4, 0, 1, 4],
      [5, 1, 1, 5],
    ]);
    expect(p.every((x) => x.arrived === x.sent + 50 && x.lost === 0)).toBe(true);
  });

  it("resends a lost packet one RTT later", () => {
    const p = transmit({ ...base, lose: [{ stream: 2, packet: 3 }] });
    const hit = p.find((x) => x.stream === 2 && x.index === 3)!;
    expect(hit).toMatchObject({ lost: 1, sent: 14, arrived: 14 + 100 + 50 });
  });
});

describe("TCP vs QUIC", () => {
  it("deliver identically when nothing is lost", () => {
    const r = simulateHol(base);
    expect(r.quic.streams).toEqual(r.tcp.streams);
    expect(r.tcp.streams.map((s) => s.completion)).toEqual([86, 87, 88, 89]); // last packets sent at 36..39, + 50
    expect(r.tcp.streams.every((s) => s.blocked === 0)).toBe(true);
  });

  it("with a loss on one stream, QUIC's other streams finish earlier and the lossy one the same", () => {
    const r = simulateHol({ ...base, lose: [{ stream: 1, packet: 2 }] });
    const tcp = r.tcp.streams.map((s) => s.completion);
    const quic = r.quic.streams.map((s) => s.completion);
    expect(quic[1]).toBe(tcp[1]);
    for (const s of [0, 2, 3]) {
      expect(quic[s]).toBeLessThan(tcp[s]);
      expect(r.quic.streams[s].blocked).toBe(0); // untouched by another stream's loss
      expect(r.tcp.streams[s].blocked).toBeGreaterThan(0);
    }
    expect(r.quic.streams[1].blocked).toBeGreaterThan(0); // its own loss still holds it up
  });

  it("never delivers later with QUIC than with TCP, at random losses", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = simulateHol({ ...base, loss: 0.05, seed });
      r.quic.streams.forEach((s, i) =>
        s.delivered.forEach((t, k) => expect(t).toBeLessThanOrEqual(r.tcp.streams[i].delivered[k])),
      );
      r.tcp.streams.forEach((s) =>
        s.delivered.forEach((t, k) => k && expect(t).toBeGreaterThanOrEqual(s.delivered[k - 1])),
      );
    }
  });

  it("is deterministic for a seed, and the seed matters", () => {
    const a = simulateHol({ ...base, loss: 0.05, seed: 7 });
    expect(simulateHol({ ...base, loss: 0.05, seed: 7 })).toEqual(a);
    expect(simulateHol({ ...base, loss: 0.05, seed: 8 }).packets).not.toEqual(a.packets);
  });

  it("rejects bad options", () => {
    expect(() => transmit({ ...base, loss: 1 })).toThrow(HolError);
    expect(() => transmit({ ...base, streams: 0 })).toThrow(/streams/);
    expect(() => transmit({ ...base, lose: [{ stream: 9, packet: 0 }] })).toThrow(/stream 9/);
  });
});
