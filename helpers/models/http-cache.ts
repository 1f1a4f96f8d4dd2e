// HTTP caching as RFC 9111 defines it, pure, on an injected clock (milliseconds since the epoch),
// so that a notebook that pauses does not see a different age:
//
// - parseCacheControl: the directives of Cache-Control (RFC 9111 §5.2), names lower case.
// - storable (§3): may this response be stored at all? (no-store, private in a shared cache,
//   Authorization, methods and status codes, an explicit freshness or a validator.)
// - freshnessLifetime (§4.2.1): s-maxage (shared caches), then max-age, then Expires - Date, then
//   the heuristic of §4.2.2 (10 % of Date - Last-Modified, as most caches do).
// - currentAge (§4.2.3): the RFC's own age calculation, every intermediate value returned.
// - HttpCache: a cache of whole responses with LRU eviction, secondary keys from Vary (§4.1), and
//   what a lookup finds: fresh, stale but usable while revalidating (stale-while-revalidate,
//   RFC 5861), or stale and in need of a conditional request (§4.3.1), and `freshen` for the 304.
// Times in headers have one-second resolution, so ages and lifetimes are whole seconds.

export type Clock = () => number;
export type Headers = Record<string, string | string[] | undefined>;

const one = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(", ") : v;
};

/** Cache-Control's directives: `{ "max-age": "60", public: true }`. Quoted values are unquoted. */
export function parseCacheControl(value: string | undefined): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  if (!value) return out;
  for (const m of value.matchAll(/([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:=("(?:[^"\\]|\\.)*"|[^,\s]*))?/g)) {
    const name = m[1].toLowerCase();
    if (name in out) continue; // the first occurrence wins
    const v = m[2];
    out[name] = v === undefined ? true : v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, "$1") : v;
  }
  return out;
}

/** A delta-seconds directive as a number, or undefined (invalid values are ignored, §1.2.2). */
const seconds = (v: string | true | undefined) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
const httpDate = (v: string | undefined) => {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
};

export interface Lifetime {
  seconds: number;
  source: "s-maxage" | "max-age" | "expires" | "heuristic" | "none";
}

/** §4.2.1: how long the response stays fresh. */
export function freshnessLifetime(res: Headers, shared = true): Lifetime {
  const cc = parseCacheControl(one(res, "cache-control"));
  const s = seconds(cc["s-maxage"]);
  if (shared && s !== undefined) return { seconds: s, source: "s-maxage" };
  const m = seconds(cc["max-age"]);
  if (m !== undefined) return { seconds: m, source: "max-age" };
  const date = httpDate(one(res, "date"));
  const expires = one(res, "expires");
  if (expires !== undefined) {
    const e = httpDate(expires);
    // An invalid Expires (such as "0") means already expired (§5.3).
    return { seconds: e === undefined || date === undefined ? 0 : Math.max(0, (e - date) / 1000), source: "expires" };
  }
  const lastModified = httpDate(one(res, "last-modified"));
  if (date !== undefined && lastModified !== undefined && lastModified <= date)
    return { seconds: Math.floor((date - lastModified) / 10_000), source: "heuristic" };
  return { seconds: 0, source: "none" };
}

export interface AgeInput {
  /** The response's Date and Age fields. */
  headers: Headers;
  /** When the request was sent and the response received, on the cache's clock (ms). */
  requestTime: number;
  responseTime: number;
}

export interface Age {
  apparentAge: number;
  responseDelay: number;
  correctedAgeValue: number;
  correctedInitialAge: number;
  residentTime: number;
  currentAge: number;
}

/** §4.2.3, in whole seconds (delays and resident times rounded down, as an Age field is). */
export function currentAge(e: AgeInput, now: number): Age {
  const s = (ms: number) => Math.floor(ms / 1000);
  const ageValue = seconds(one(e.headers, "age")) ?? 0;
  const dateValue = httpDate(one(e.headers, "date")) ?? e.responseTime;
  const apparentAge = Math.max(0, s(e.responseTime - dateValue));
  const responseDelay = s(e.responseTime - e.requestTime);
  const correctedAgeValue = ageValue + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  const residentTime = s(now - e.responseTime);
  return {
    apparentAge,
    responseDelay,
    correctedAgeValue,
    correctedInitialAge,
    residentTime,
    currentAge: correctedInitialAge + residentTime,
  };
}

const CACHEABLE_BY_DEFAULT = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** §3: may a cache (shared or private) store this response? `why` says what decided it. */
export function storable(
  req: { method: string; headers: Headers },
  res: { status: number; headers: Headers },
  shared = true,
): { ok: boolean; why: string } {
  const rq = parseCacheControl(one(req.headers, "cache-control"));
  const cc = parseCacheControl(one(res.headers, "cache-control"));
  if (req.method !== "GET" && req.method !== "HEAD") return { ok: false, why: `method ${req.method}` };
  if (rq["no-store"] || cc["no-store"]) return { ok: false, why: "no-store" };
  if (shared && cc.private) return { ok: false, why: "private" };
  if (shared && one(req.headers, "authorization") && !cc.public && !cc["s-maxage"] && !cc["must-revalidate"])
    return { ok: false, why: "authorization" };
  if (one(res.headers, "vary") === "*") return { ok: false, why: "vary: *" };
  const explicit =
    cc.public || cc["max-age"] !== undefined || (shared && cc["s-maxage"] !== undefined) || one(res.headers, "expires");
  if (!CACHEABLE_BY_DEFAULT.has(res.status) && !explicit) return { ok: false, why: `status ${res.status}` };
  if (!explicit && !one(res.headers, "last-modified") && !one(res.headers, "etag") && !cc["no-cache"])
    return { ok: false, why: "no freshness and no validator" };
  return { ok: true, why: explicit ? "explicit freshness" : "validator or heuristic" };
}

export interface StoredResponse {
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
  requestTime: number;
  responseTime: number;
  /** The request's values of the fields the response's Vary names (§4.1). */
  varyOn: Record<string, string>;
}

export interface Found {
  entry: StoredResponse;
  age: Age;
  lifetime: Lifetime;
  /** fresh: serve it; stale-while-revalidate: serve it and revalidate behind; stale: revalidate first. */
  state: "fresh" | "stale-while-revalidate" | "stale";
}

const varyNames = (res: Headers) =>
  (one(res, "vary") ?? "")
    .split(",")
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
const varyOf = (names: string[], req: Headers) => Object.fromEntries(names.map((n) => [n, one(req, n) ?? ""]));

export interface HttpCacheOptions {
  clock: Clock;
  /** A shared cache (a CDN, a proxy) or a private one (a browser). Default shared. */
  shared?: boolean;
  /** Most responses held; the least recently used goes first. Default: no limit. */
  capacity?: number;
}

export class HttpCache {
  readonly shared: boolean;
  readonly capacity: number;
  private readonly clock: Clock;
  /** url → its variants; the Map's order is the LRU order of urls. */
  private readonly entries = new Map<string, StoredResponse[]>();
  evictions = 0;

  constructor(o: HttpCacheOptions) {
    this.clock = o.clock;
    this.shared = o.shared ?? true;
    this.capacity = o.capacity ?? Infinity;
  }

  get size(): number {
    let n = 0;
    for (const v of this.entries.values()) n += v.length;
    return n;
  }

  /** The stored response this request may use, if any, and its state now. */
  lookup(url: string, req: Headers = {}): Found | undefined {
    const variants = this.entries.get(url);
    const entry = variants?.find((e) => Object.entries(e.varyOn).every(([n, v]) => (one(req, n) ?? "") === v));
    if (!variants || !entry) return undefined;
    this.entries.delete(url); // most recently used now
    this.entries.set(url, variants);
    const now = this.clock();
    const age = currentAge(entry, now);
    const lifetime = freshnessLifetime(entry.headers, this.shared);
    const cc = parseCacheControl(one(entry.headers, "cache-control"));
    const rq = parseCacheControl(one(req, "cache-control"));
    const mustAsk = cc["no-cache"] !== undefined || rq["no-cache"] !== undefined;
    if (!mustAsk && age.currentAge < lifetime.seconds) return { entry, age, lifetime, state: "fresh" };
    const swr = seconds(cc["stale-while-revalidate"]);
    const usable = !mustAsk && !cc["must-revalidate"] && swr !== undefined;
    if (usable && age.currentAge < lifetime.seconds + swr)
      return { entry, age, lifetime, state: "stale-while-revalidate" };
    return { entry, age, lifetime, state: "stale" };
  }

  /** Stores a response if §3 allows; returns the decision. */
  store(
    url: string,
    req: { method: string; headers: Headers },
    res: { status: number; headers: Headers; body: Buffer },
    requestTime: number,
    responseTime = this.clock(),
  ): { ok: boolean; why: string } {
    const decision = storable(req, res, this.shared);
    if (!decision.ok) return decision;
    const varyOn = varyOf(varyNames(res.headers), req.headers);
    const entry: StoredResponse = {
      url,
      status: res.status,
      headers: res.headers,
      body: res.body,
      requestTime,
      responseTime,
      varyOn,
    };
    const variants = (this.entries.get(url) ?? []).filter((e) => JSON.stringify(e.varyOn) !== JSON.stringify(varyOn));
    this.entries.delete(url);
    this.entries.set(url, [...variants, entry]);
    while (this.size > this.capacity) {
      const first = this.entries.entries().next();
      if (first.done) break;
      const [oldest, list] = first.value;
      list.shift();
      if (list.length === 0) this.entries.delete(oldest);
      this.evictions++;
    }
    return decision;
  }

  /** §4.3.4: a 304 freshens the stored response: its headers are updated, its times restart. */
  freshen(entry: StoredResponse, notModified: Headers, requestTime: number, responseTime = this.clock()): void {
    const headers: Headers = { ...entry.headers };
    for (const [n, v] of Object.entries(notModified)) if (v !== undefined && n !== "content-length") headers[n] = v;
    Object.assign(entry, { headers, requestTime, responseTime });
  }

  /** The request headers that make a conditional request from a stored response (§4.3.1). */
  static validators(entry: StoredResponse): Record<string, string> {
    const etag = one(entry.headers, "etag");
    const lm = one(entry.headers, "last-modified");
    return { ...(etag ? { "if-none-match": etag } : {}), ...(lm ? { "if-modified-since": lm } : {}) };
  }

  clear(): void {
    this.entries.clear();
    this.evictions = 0;
  }
}

/** An HTTP date (IMF-fixdate) for a time on the clock: "Thu, 01 Jan 2026 12:00:00 GMT". */
export const httpDateOf = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toUTCString();
