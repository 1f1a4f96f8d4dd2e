// Load-balancing decisions, pure: which backend gets the next request. A policy sees the names
// of the backends that are up, the request's key and how many requests each backend is serving
// now, and picks one; it keeps its own state (a round-robin cursor, smooth weights) and nothing
// else, so a test or a notebook can drive it through a fixed sequence and get the same picks.
//
// - roundRobin: one after another.
// - smoothWeighted: nginx's smooth weighted round robin (ngx_http_upstream_get_peer): every pick
//   adds each backend's weight to its `current`, takes the largest, and subtracts the total from
//   the winner. Weights 5, 1, 1 give a a b a c a a — spread out, not a a a a a b c.
// - leastConnections: the fewest requests in flight; ties broken by round robin among the tied.
// - hashModulo: hash(key) mod the number of backends up (reshuffles most keys when that changes).
// - consistentHash: a ring of virtual nodes (ketama-style, MD5 points); a key goes to the first
//   point clockwise from its hash whose backend is up. Adding a backend moves about 1/N of keys.
//
// Hashes: fnv1a32 (a real 32-bit hash of every byte) and sumOfOctets, the "hash" that adds an
// IPv4 address's four numbers, kept only to show how badly it collides.
import { createHash } from "node:crypto";

export class BalanceError extends Error {
  code: "ERR_NO_BACKEND" | "ERR_BALANCE_OPTIONS";
  constructor(code: BalanceError["code"], message: string) {
    super(message);
    this.code = code;
  }
}

/** What a policy may look at for one request. */
export interface Request {
  /** The key hashing policies use (a client address, a path); "" when none. */
  key?: string;
  /** Requests each backend is serving right now. */
  active?: (name: string) => number;
}

export interface Policy {
  readonly name: string;
  /** Picks one of `up` (names of the backends that are up, in a fixed order). */
  pick(up: readonly string[], request?: Request): string;
}

const nonEmpty = (up: readonly string[]) => {
  if (up.length === 0) throw new BalanceError("ERR_NO_BACKEND", "no backend is up");
};

/** FNV-1a, 32 bits, over the UTF-8 bytes of a string (or the bytes given). */
export function fnv1a32(input: string | Uint8Array): number {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/** The seed's "IP hash": the sum of an IPv4 address's four octets (0..1020). Collides. */
export function sumOfOctets(ipv4: string): number {
  return ipv4.split(".").reduce((sum, octet) => sum + Number(octet), 0);
}

export function roundRobin(): Policy {
  let next = 0;
  return {
    name: "round robin",
    pick(up) {
      nonEmpty(up);
      return up[next++ % up.length];
    },
  };
}

/** nginx's smooth weighted round robin; a backend without a weight has weight 1. */
export function smoothWeighted(weights: Record<string, number>): Policy {
  for (const [name, w] of Object.entries(weights))
    if (!(Number.isInteger(w) && w > 0)) throw new BalanceError("ERR_BALANCE_OPTIONS", `weight of ${name}: ${w}`);
  const current = new Map<string, number>();
  return {
    name: "smooth weighted",
    pick(up) {
      nonEmpty(up);
      let total = 0;
      let best = up[0];
      for (const name of up) {
        const w = weights[name] ?? 1;
        const c = (current.get(name) ?? 0) + w;
        current.set(name, c);
        total += w;
        if (c > (current.get(best) ?? 0)) best = name;
      }
      current.set(best, (current.get(best) ?? 0) - total);
      return best;
    },
  };
}

export function leastConnections(): Policy {
  let next = 0;
  return {
    name: "least connections",
    pick(up, request = {}) {
      nonEmpty(up);
      const active = request.active ?? (() => 0);
      const fewest = Math.min(...up.map(active));
      const tied = up.filter((name) => active(name) === fewest);
      return tied[next++ % tied.length];
    },
  };
}

export function hashModulo(hash: (key: string) => number = fnv1a32): Policy {
  return {
    name: "hash mod N",
    pick(up, request = {}) {
      nonEmpty(up);
      return up[hash(request.key ?? "") % up.length];
    },
  };
}

/** A 32-bit point on the ring: the first four bytes of MD5, as ketama does. */
export const ringPoint = (text: string): number => createHash("md5").update(text).digest().readUInt32BE(0);

/** A consistent-hash ring: `vnodes` points per backend at ringPoint(`${name}#${i}`). */
export class HashRing {
  readonly vnodes: number;
  private points: Array<{ at: number; name: string }> = [];
  constructor(names: readonly string[] = [], vnodes = 100) {
    if (!(Number.isInteger(vnodes) && vnodes > 0))
      throw new BalanceError("ERR_BALANCE_OPTIONS", `vnodes must be a positive integer, got ${vnodes}`);
    this.vnodes = vnodes;
    for (const name of names) this.add(name);
  }
  get names(): string[] {
    return [...new Set(this.points.map((p) => p.name))].sort();
  }
  add(name: string): void {
    if (this.points.some((p) => p.name === name)) return;
    for (let i = 0; i < this.vnodes; i++) this.points.push({ at: ringPoint(`${name}#${i}`), name });
    // Ties (two names on one point) are ordered by name, so the ring does not depend on insertion order.
    this.points.sort((a, b) => a.at - b.at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  remove(name: string): void {
    this.points = this.points.filter((p) => p.name !== name);
  }
  /** The share of the circle each backend owns (the arcs ending at its points), 0..1 by name. */
  shares(): Record<string, number> {
    const owned: Record<string, number> = {};
    const n = this.points.length;
    for (let i = 0; i < n; i++) {
      const from = i === 0 ? this.points[n - 1].at - 2 ** 32 : this.points[i - 1].at;
      const p = this.points[i];
      owned[p.name] = (owned[p.name] ?? 0) + (p.at - from) / 2 ** 32;
    }
    return owned;
  }
  /** The backend for `key`: the first point at or after ringPoint(key) whose backend is in `up`. */
  lookup(key: string, up?: readonly string[]): string {
    const allowed = up ? new Set(up) : undefined;
    const n = this.points.length;
    if (n === 0) throw new BalanceError("ERR_NO_BACKEND", "the ring is empty");
    const h = ringPoint(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid].at < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 0; i < n; i++) {
      const p = this.points[(lo + i) % n];
      if (!allowed || allowed.has(p.name)) return p.name;
    }
    throw new BalanceError("ERR_NO_BACKEND", "no backend on the ring is up");
  }
}

/** Consistent hashing over `ring`; a backend that is up but not on the ring is added to it. */
export function consistentHash(ring: HashRing): Policy {
  return {
    name: "consistent hash",
    pick(up, request = {}) {
      nonEmpty(up);
      for (const name of up) ring.add(name);
      return ring.lookup(request.key ?? "", up);
    },
  };
}
