// helpers/models/bgp-decision.ts: each step of RFC 4271 §9.1.2.2 decides when the steps before it
// tie, in BIRD's order. (Notebook 44 checks the model against BIRD 2's choice on live sessions.)
import { describe, expect, it } from "vitest";
import { bestPath, compare, type Candidate } from "../../helpers/models/bgp-decision";

const base: Candidate = {
  from: "x",
  ibgp: false,
  asPath: [65001, 65030],
  origin: "igp",
  routerId: "10.0.0.9",
  peerAddress: "10.1.0.9",
};
const r = (from: string, o: Partial<Candidate>): Candidate => ({ ...base, from, ...o });

describe("the decision process", () => {
  it("decides by the first step that differs", () => {
    const cases: Array<[Candidate, Candidate, string, string]> = [
      [r("a", { ibgp: true, localPref: 200, asPath: [1, 2, 3] }), r("b", {}), "a", "local-pref"],
      [r("a", { localPref: 500 }), r("b", { asPath: [65001] }), "b", "as-path"], // an eBGP LOCAL_PREF does not count
      [r("a", { origin: "incomplete" }), r("b", { origin: "egp" }), "b", "origin"],
      [r("a", { med: 5 }), r("b", { med: 7 }), "a", "med"],
      [r("a", { med: 5 }), r("b", { med: 7, asPath: [65002, 65030], routerId: "10.0.0.1" }), "b", "router-id"],
      [r("a", { ibgp: true, asPath: [65009, 65030] }), r("b", {}), "b", "ebgp-over-ibgp"],
      [r("a", { routerId: "10.0.0.10" }), r("b", { routerId: "10.0.0.2" }), "b", "router-id"],
      [r("a", { peerAddress: "10.1.0.10" }), r("b", {}), "b", "peer-address"],
    ];
    for (const [a, b, winner, step] of cases) {
      const c = compare(a, b);
      expect([c.winner.from, c.step]).toEqual([winner, step]);
      const swapped = compare(b, a);
      expect([swapped.winner.from, swapped.step]).toEqual([winner, step]);
    }
  });
  it("a missing MED is 0", () => {
    expect(compare(r("a", { med: 1 }), r("b", {})).winner.from).toBe("b");
  });
  it("bestPath keeps the winner of each comparison", () => {
    const { best, decisions } = bestPath([r("a", { asPath: [1, 2, 3] }), r("b", {}), r("c", { origin: "egp" })]);
    expect(best.from).toBe("b");
    expect(decisions.map((d) => d.step)).toEqual(["as-path", "origin"]);
  });
});
