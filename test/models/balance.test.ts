import { describe, expect, it } from "vitest";
import {
  BalanceError,
  consistentHash,
  fnv1a32,
  HashRing,
  hashModulo,
  leastConnections,
  roundRobin,
  smoothWeighted,
  sumOfOctets,
} from "../../helpers/models/balance";

const run = (pick: () => string, n: number) => Array.from({ length: n }, pick).join("");

describe("balancing policies", () => {
  it("round robin cycles through the backends that are up", () => {
    const p = roundRobin();
    expect(run(() => p.pick(["a", "b", "c"]), 7)).toBe("abcabca");
  });

  it("smooth weighted round robin gives nginx's sequence for 5, 1, 1", () => {
    const p = smoothWeighted({ a: 5, b: 1, c: 1 });
    expect(run(() => p.pick(["a", "b", "c"]), 14)).toBe("aabacaaaabacaa");
    expect(() => smoothWeighted({ a: 0 })).toThrow(BalanceError);
  });

  it("least connections picks the idlest, ties by round robin", () => {
    const p = leastConnections();
    const active = (n: string) => ({ a: 2, b: 0, c: 0 })[n] ?? 0;
    expect(run(() => p.pick(["a", "b", "c"], { active }), 4)).toBe("bcbc");
    expect(() => p.pick([])).toThrow(BalanceError);
  });

  it("FNV-1a has its published values; the sum of octets collides", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(sumOfOctets("10.1.2.3")).toBe(sumOfOctets("10.3.2.1"));
    expect(hashModulo().pick(["a", "b"], { key: "x" })).toBe(["a", "b"][fnv1a32("x") % 2]);
  });

  it("a consistent ring moves about 1/N of the keys, all to the new backend", () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const ring = new HashRing(["a", "b", "c"], 100);
    const before = keys.map((k) => ring.lookup(k));
    ring.add("d");
    const after = keys.map((k) => ring.lookup(k));
    const moved = keys.filter((_, i) => before[i] !== after[i]);
    expect(moved.length / keys.length).toBeGreaterThan(0.15);
    expect(moved.length / keys.length).toBeLessThan(0.35);
    expect(moved.every((k) => ring.lookup(k) === "d")).toBe(true);
    // A backend that is down loses its keys to its neighbours; nobody else's keys move.
    const withoutB = keys.map((k) => ring.lookup(k, ["a", "c", "d"]));
    expect(keys.every((_, i) => after[i] === "b" || withoutB[i] === after[i])).toBe(true);
    const shares = new HashRing(["a", "b", "c"], 50).shares();
    expect(Object.values(shares).reduce((x, y) => x + y)).toBeCloseTo(1, 9);
    expect(new HashRing(["c", "a"]).names).toEqual(["a", "c"]);
    expect(() => new HashRing([]).lookup("x")).toThrow(BalanceError);
    expect(consistentHash(new HashRing()).pick(["a"], { key: "x" })).toBe("a");
  });
});
