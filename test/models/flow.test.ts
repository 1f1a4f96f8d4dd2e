// The flow-control model against the textbook facts it is meant to show.
import { describe, expect, it } from "vitest";
import { FlowError, simulateFlow, type FlowOptions } from "../../helpers/models/flow";

// A fast writer (16 000 bytes per step) and a 64 000-byte buffer; the reader takes 4 000 per
// step, stops for ten steps (6..15), then reads 24 000 per step.
const base: FlowOptions = {
  buffer: 64_000,
  sendRate: 16_000,
  mss: 1_000,
  steps: 30,
  readRate: (s) => (s < 6 ? 4_000 : s < 16 ? 0 : 24_000),
};

describe("flow control model", () => {
  it("numbers the rows by step index, 0, 1, 2 ... (not the step count)", () => {
    expect(simulateFlow(base).map((r) => r.step)).toEqual([...Array(30).keys()]);
  });

  it("advertises the free buffer space as the window, and never overflows the buffer", () => {
    for (const r of simulateFlow(base)) {
      expect(r.buffered).toBeLessThanOrEqual(base.buffer);
      expect(r.window === base.buffer - r.buffered || (r.window === 0 && base.buffer - r.buffered < 1_000)).toBe(true);
      expect(r.sent).toBeLessThanOrEqual(r.usable); // the sender never exceeds the window it knows
    }
  });

  it("lets a fast sender run at full speed while the window is large", () => {
    const [first] = simulateFlow(base);
    expect(first).toMatchObject({
      step: 0,
      usable: 64_000,
      sent: 16_000,
      state: "open",
      buffered: 12_000,
      window: 52_000,
    });
  });

  it("a zero window stalls the sender until the reader drains, then it resumes on the window update", () => {
    const rows = simulateFlow(base);
    const closed = rows.findIndex((r) => r.window === 0);
    expect(closed).toBeGreaterThan(0);
    expect(rows[closed].event).toBe("window closed");
    const update = rows.findIndex((r) => r.event === "window update");
    expect(update).toBe(16); // the first step the reader reads again
    for (const r of rows.slice(closed + 1, update + 1)) {
      expect(r.sent).toBe(0);
      expect(["zero window", "persist probe"]).toContain(r.state);
    }
    expect(rows[update + 1].usable).toBe(rows[update].window);
    expect(rows[update + 1].sent).toBeGreaterThan(0);
  });

  it("probes a zero window with exponential backoff: 1, 2, 4 ... steps apart", () => {
    const rows = simulateFlow({ ...base, steps: 40, readRate: (s) => (s < 6 ? 4_000 : s < 35 ? 0 : 24_000) });
    const probes = rows.filter((r) => r.state === "persist probe").map((r) => r.step);
    const gaps = probes.slice(1).map((s, i) => s - probes[i]);
    expect(gaps).toEqual([2, 4, 8, 16].slice(0, gaps.length));
    expect(probes.length).toBeGreaterThanOrEqual(4);
  });

  it("recovers from a lost window update with the persist probe", () => {
    const rows = simulateFlow({ ...base, lostUpdates: [16] });
    expect(rows[16].event).toBe("window update lost");
    expect(rows[17].sent).toBe(0); // the sender still believes the window is zero
    const probe = rows.findIndex((r, i) => i > 16 && r.state === "persist probe");
    expect(rows[probe].event).toMatch(/^probe: window [1-9]/);
    expect(rows[probe + 1].sent).toBeGreaterThan(0);
  });

  it("does not advertise a window smaller than one MSS (silly window syndrome avoidance)", () => {
    const rows = simulateFlow({ buffer: 10_000, sendRate: 10_000, mss: 1_000, steps: 10, readRate: 500 });
    expect(rows.every((r) => r.window === 0 || r.window >= 1_000)).toBe(true);
    expect(rows.some((r) => r.window === 0 && r.buffered < 10_000)).toBe(true);
  });

  it("stops at `total` bytes and reports done", () => {
    const rows = simulateFlow({ ...base, total: 40_000, readRate: 40_000 });
    expect(rows[rows.length - 1]).toMatchObject({ totalSent: 40_000, state: "done" });
  });

  it("is deterministic and rejects bad options", () => {
    expect(simulateFlow(base)).toEqual(simulateFlow(base));
    expect(() => simulateFlow({ ...base, buffer: 0 })).toThrow(FlowError);
    expect(() => simulateFlow({ ...base, mss: 100_000 })).toThrow(/mss/);
  });
});
