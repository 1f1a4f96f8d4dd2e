import { describe, expect, it } from "vitest";
import { ManualClock } from "../../helpers/models/ratelimit";
import {
  currentAge,
  freshnessLifetime,
  HttpCache,
  httpDateOf,
  parseCacheControl,
  storable,
} from "../../helpers/models/http-cache";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("RFC 9111 arithmetic", () => {
  it("parses Cache-Control", () => {
    expect(parseCacheControl('public, max-age=60, s-maxage="120", no-cache="set-cookie", MAX-AGE=5')).toEqual({
      public: true,
      "max-age": "60",
      "s-maxage": "120",
      "no-cache": "set-cookie",
    });
  });
  it("picks the lifetime in the RFC's order", () => {
    const date = httpDateOf(T0);
    expect(freshnessLifetime({ "cache-control": "max-age=60, s-maxage=10" })).toEqual({
      seconds: 10,
      source: "s-maxage",
    });
    expect(freshnessLifetime({ "cache-control": "max-age=60, s-maxage=10" }, false).source).toBe("max-age");
    expect(freshnessLifetime({ date, expires: httpDateOf(T0 + 30_000) })).toEqual({ seconds: 30, source: "expires" });
    expect(freshnessLifetime({ date, expires: "0" }).seconds).toBe(0);
    expect(freshnessLifetime({ date, "last-modified": httpDateOf(T0 - 1000_000) })).toEqual({
      seconds: 100,
      source: "heuristic",
    });
  });
  it("computes the current age as §4.2.3 does", () => {
    // Date says 2 s before it arrived, Age says 10, the request took 1 s, stored for 5 s.
    const headers = { date: httpDateOf(T0 - 2000), age: "10" };
    const a = currentAge({ headers, requestTime: T0 - 1000, responseTime: T0 }, T0 + 5000);
    expect(a).toEqual({
      apparentAge: 2,
      responseDelay: 1,
      correctedAgeValue: 11,
      correctedInitialAge: 11,
      residentTime: 5,
      currentAge: 16,
    });
  });
  it("refuses to store what must not be stored", () => {
    const get = { method: "GET", headers: {} };
    expect(storable(get, { status: 200, headers: { "cache-control": "no-store" } }).why).toBe("no-store");
    expect(storable(get, { status: 200, headers: { "cache-control": "private, max-age=60" } }).ok).toBe(false);
    expect(storable(get, { status: 200, headers: { "cache-control": "private, max-age=60" } }, false).ok).toBe(true);
    expect(
      storable({ method: "POST", headers: {} }, { status: 200, headers: { "cache-control": "max-age=9" } }).ok,
    ).toBe(false);
  });
});

describe("HttpCache", () => {
  it("fresh, stale-while-revalidate, stale; Vary; LRU", () => {
    const clock = new ManualClock(T0);
    const cache = new HttpCache({ clock: clock.now, capacity: 2 });
    const res = (cc: string, extra = {}) => ({
      status: 200,
      headers: { date: httpDateOf(clock.now()), "cache-control": cc, ...extra },
      body: Buffer.from("x"),
    });
    cache.store("/a", { method: "GET", headers: {} }, res("max-age=10, stale-while-revalidate=5"), clock.now());
    expect(cache.lookup("/a")?.state).toBe("fresh");
    clock.advance(12_000);
    expect(cache.lookup("/a")?.state).toBe("stale-while-revalidate");
    clock.advance(5_000);
    expect(cache.lookup("/a")?.state).toBe("stale");
    cache.store(
      "/v",
      { method: "GET", headers: { "accept-language": "en" } },
      res("max-age=60", { vary: "Accept-Language" }),
      clock.now(),
    );
    expect(cache.lookup("/v", { "accept-language": "en" })?.state).toBe("fresh");
    expect(cache.lookup("/v", { "accept-language": "fr" })).toBeUndefined();
    cache.store("/b", { method: "GET", headers: {} }, res("max-age=60"), clock.now());
    expect(cache.size).toBe(2);
    expect(cache.lookup("/a")).toBeUndefined(); // the least recently used went
    expect(cache.evictions).toBe(1);
  });
});
