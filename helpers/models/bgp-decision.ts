// BGP's best-path decision (RFC 4271 §9.1.2.2, in the order BIRD 2 applies it) as a pure
// function: routes to the same prefix are compared two at a time, and each comparison says which
// step decided. Highest LOCAL_PREF (an eBGP route's received LOCAL_PREF is ignored: it gets the
// default), shortest AS_PATH, lowest ORIGIN (IGP < EGP < incomplete), lowest MED (only between
// routes from the same neighbouring AS; a missing MED is 0), eBGP over iBGP, lowest BGP identifier,
// lowest peer address. IGP metrics are left out: every next hop here is directly connected.
import { ipv4ToInt } from "../wire/addr";

export type Origin = "igp" | "egp" | "incomplete";
export interface Candidate {
  /** Which session it came from (a name in the router's configuration). */
  from: string;
  ibgp: boolean;
  localPref?: number;
  asPath: number[];
  origin: Origin;
  med?: number;
  /** The peer's BGP identifier and address: the last tie-breakers. */
  routerId: string;
  peerAddress: string;
}

export const STEPS = ["local-pref", "as-path", "origin", "med", "ebgp-over-ibgp", "router-id", "peer-address"] as const;
export type Step = (typeof STEPS)[number];

export interface Comparison {
  winner: Candidate;
  loser: Candidate;
  step: Step;
  /** The two values that step compared, winner's first, in words. */
  values: [string, string];
}

const ORIGIN_RANK: Record<Origin, number> = { igp: 0, egp: 1, incomplete: 2 };

/** The LOCAL_PREF the decision uses: an iBGP route's own, else the default. */
export const localPrefOf = (r: Candidate, defaultLocalPref = 100) =>
  r.ibgp ? (r.localPref ?? defaultLocalPref) : defaultLocalPref;
/** The neighbouring AS MED comparisons group by: the first AS of the path (0: from inside our AS). */
export const neighborAs = (r: Candidate) => r.asPath[0] ?? 0;

/** Compares two routes to one prefix: the better one and the step that told them apart. */
export function compare(a: Candidate, b: Candidate, defaultLocalPref = 100): Comparison {
  const steps: Array<[Step, (r: Candidate) => number, (r: Candidate) => string, boolean]> = [
    ["local-pref", (r) => -localPrefOf(r, defaultLocalPref), (r) => String(localPrefOf(r, defaultLocalPref)), true],
    ["as-path", (r) => r.asPath.length, (r) => `${r.asPath.length} AS`, true],
    ["origin", (r) => ORIGIN_RANK[r.origin], (r) => r.origin, true],
    ["med", (r) => r.med ?? 0, (r) => `MED ${r.med ?? 0}`, neighborAs(a) === neighborAs(b)],
    ["ebgp-over-ibgp", (r) => (r.ibgp ? 1 : 0), (r) => (r.ibgp ? "iBGP" : "eBGP"), true],
    ["router-id", (r) => ipv4ToInt(r.routerId), (r) => r.routerId, true],
    ["peer-address", (r) => ipv4ToInt(r.peerAddress), (r) => r.peerAddress, true],
  ];
  for (const [step, key, say, applies] of steps) {
    if (!applies) continue;
    const ka = key(a);
    const kb = key(b);
    if (ka === kb) continue;
    const [winner, loser] = ka < kb ? [a, b] : [b, a];
    return { winner, loser, step, values: [say(winner), say(loser)] };
  }
  return { winner: a, loser: b, step: "peer-address", values: [a.peerAddress, b.peerAddress] };
}

/** The best of several routes, each newcomer compared with the best so far (as BIRD does). */
export function bestPath(routes: Candidate[], defaultLocalPref = 100): { best: Candidate; decisions: Comparison[] } {
  if (!routes.length) throw new RangeError("bestPath needs at least one route");
  const decisions: Comparison[] = [];
  let best = routes[0];
  for (const r of routes.slice(1)) {
    const c = compare(best, r, defaultLocalPref);
    decisions.push(c);
    best = c.winner;
  }
  return { best, decisions };
}
