// helpers/models/replay-window.ts: each counter once; reordering within the window is fine;
// older than the window is refused; check() never changes anything.
import { describe, expect, it } from "vitest";
import { ReplayWindow } from "../../helpers/models/replay-window";

describe("ReplayWindow", () => {
  it("accepts each counter once, in any order within the window", () => {
    const w = new ReplayWindow(8);
    expect([0n, 2n, 1n, 5n].map((c) => w.update(c))).toEqual(["ok", "ok", "ok", "ok"]);
    expect([2n, 5n].map((c) => w.update(c))).toEqual(["replay", "replay"]);
    expect(w.check(3n)).toBe("ok");
    expect(w.check(3n)).toBe("ok"); // asking does not record
  });
  it("refuses what is a window or more behind the highest", () => {
    const w = new ReplayWindow(8);
    w.update(100n);
    expect([w.check(93n), w.check(92n), w.check(101n)]).toEqual(["ok", "too-old", "ok"]);
    w.update(200n); // a jump past the whole window forgets it
    expect([w.check(100n), w.check(199n), w.check(200n)]).toEqual(["too-old", "ok", "replay"]);
  });
  it("matches a plain set of seen counters on a long random run", () => {
    const w = new ReplayWindow(64);
    const seen = new Set<bigint>();
    let highest = -1n;
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const c = BigInt(Math.max(0, i - (x % 80)));
      const want = c > highest ? "ok" : highest - c >= 64n ? "too-old" : seen.has(c) ? "replay" : "ok";
      expect(w.update(c)).toBe(want);
      if (want === "ok") {
        seen.add(c);
        if (c > highest) highest = c;
      }
    }
  });
});
