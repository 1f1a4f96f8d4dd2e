// Token bucket, leaky bucket and the HTTP middleware, driven by a manual clock.
import * as http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { LeakyBucket, ManualClock, rateLimit, RateLimitError, TokenBucket } from "../../helpers/models/ratelimit";

describe("TokenBucket", () => {
  it("allows `burst` requests at once, then refuses", () => {
    const clock = new ManualClock();
    const tb = new TokenBucket({ rate: 5, burst: 10, clock: clock.now });
    const allowed = Array.from({ length: 15 }, () => tb.take().allowed);
    expect(allowed).toEqual([...Array(10).fill(true), ...Array(5).fill(false)]);
  });

  it("then allows `rate` requests per second", () => {
    const clock = new ManualClock();
    const tb = new TokenBucket({ rate: 5, burst: 10, clock: clock.now });
    while (tb.take().allowed);
    let allowed = 0;
    for (let t = 10; t <= 10_000; t += 10) {
      clock.set(t); // a client asking every 10 ms for 10 s
      if (tb.take().allowed) allowed++;
    }
    expect(allowed).toBe(50); // 5 per second
  });

  it("reports remaining tokens, retry-after and reset", () => {
    const clock = new ManualClock();
    const tb = new TokenBucket({ rate: 4, burst: 2, clock: clock.now });
    expect(tb.take()).toEqual({ allowed: true, limit: 2, remaining: 1, resetMs: 250, retryAfterMs: 0, delayMs: 0 });
    expect(tb.take()).toMatchObject({ allowed: true, remaining: 0, resetMs: 500 });
    expect(tb.take()).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 250 });
    clock.advance(250);
    expect(tb.take()).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("never holds more than `burst` tokens, however long the client was quiet", () => {
    const clock = new ManualClock();
    const tb = new TokenBucket({ rate: 100, burst: 3, clock: clock.now });
    clock.advance(60_000);
    expect(tb.tokens()).toBe(3);
  });

  it("refills exactly: 0.1 s at 10/s is one whole token, a thousand times over", () => {
    const clock = new ManualClock();
    const tb = new TokenBucket({ rate: 10, burst: 1, clock: clock.now });
    for (let i = 0; i < 1000; i++) {
      expect(tb.take().allowed).toBe(true);
      expect(tb.take().allowed).toBe(false);
      clock.advance(100);
    }
  });
});

describe("LeakyBucket", () => {
  it("serves the first request at once and queues `queue` more", () => {
    const clock = new ManualClock();
    const lb = new LeakyBucket({ rate: 5, queue: 4, clock: clock.now });
    const ds = Array.from({ length: 8 }, () => lb.take());
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false, false]);
    expect(ds.filter((d) => d.allowed).map((d) => d.delayMs)).toEqual([0, 200, 400, 600, 800]);
    expect(ds[5]).toMatchObject({ remaining: 0, retryAfterMs: 200, resetMs: 800 });
  });

  it("smooths a bursty input to exactly `rate` per second", () => {
    const clock = new ManualClock();
    const lb = new LeakyBucket({ rate: 10, queue: 20, clock: clock.now });
    const served: number[] = [];
    for (let second = 0; second < 5; second++) {
      clock.set(second * 1000);
      for (let i = 0; i < 30; i++) {
        const d = lb.take(); // 30 requests at the top of every second
        if (d.allowed) served.push(clock.now() + d.delayMs);
      }
    }
    const gaps = served.slice(1).map((t, i) => t - served[i]);
    expect(new Set(gaps.map((g) => Math.round(g)))).toEqual(new Set([100])); // evenly spaced
    const perSecond = [0, 1, 2, 3].map((s) => served.filter((t) => t >= s * 1000 + 1000 && t < s * 1000 + 2000).length);
    expect(perSecond).toEqual([10, 10, 10, 10]);
  });

  it("with queue 0 passes at most one request per interval and never delays", () => {
    const clock = new ManualClock();
    const lb = new LeakyBucket({ rate: 2, queue: 0, clock: clock.now });
    expect([lb.take().allowed, lb.take().allowed]).toEqual([true, false]);
    clock.advance(499);
    expect(lb.take()).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.advance(1);
    expect(lb.take()).toMatchObject({ allowed: true, delayMs: 0 });
  });
});

describe("options", () => {
  it("rejects nonsense", () => {
    expect(() => new TokenBucket({ rate: 0, burst: 1 })).toThrow(RateLimitError);
    expect(() => new TokenBucket({ rate: 1, burst: 0.5 })).toThrow(/burst/);
    expect(() => new LeakyBucket({ rate: 1, queue: -1 })).toThrow(/queue/);
    expect(() => new ManualClock(10).set(5)).toThrow(RangeError);
  });
});

describe("rateLimit middleware on a real server", () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function start(listener: http.RequestListener): Promise<number> {
    server = http.createServer(listener);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return (server.address() as { port: number }).port;
  }
  const get = (port: number, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: "/", headers, agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers }));
        })
        .on("error", reject);
    });

  it("answers 429 with Retry-After and RateLimit-* headers once the bucket is empty", async () => {
    const clock = new ManualClock();
    const port = await start(
      rateLimit({ limiter: () => new TokenBucket({ rate: 2, burst: 3, clock: clock.now }) }, (_q, s) => s.end("ok")),
    );
    const rs = [];
    for (let i = 0; i < 4; i++) rs.push(await get(port));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(rs[0].headers).toMatchObject({ "ratelimit-limit": "3", "ratelimit-remaining": "2", "ratelimit-reset": "1" });
    expect(rs[3].headers).toMatchObject({ "retry-after": "1", "ratelimit-remaining": "0", "ratelimit-reset": "2" });
    expect(rs[0].headers["retry-after"]).toBeUndefined();
    clock.advance(500);
    expect((await get(port)).status).toBe(200);
  });

  it("keeps one bucket per client key", async () => {
    const clock = new ManualClock();
    const limited = rateLimit(
      {
        limiter: () => new TokenBucket({ rate: 1, burst: 1, clock: clock.now }),
        key: (req) => String(req.headers["x-api-key"]),
      },
      (_q, s) => s.end("ok"),
    );
    const port = await start(limited);
    const statuses = [];
    for (const key of ["alice", "alice", "bob", "bob"]) statuses.push((await get(port, { "x-api-key": key })).status);
    expect(statuses).toEqual([200, 429, 200, 429]);
    expect([...limited.limiters.keys()]).toEqual(["alice", "bob"]);
  });

  it("holds a leaky-bucket request until its turn", async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const port = await start(
      rateLimit(
        {
          limiter: () => new LeakyBucket({ rate: 20, queue: 1, clock: clock.now }),
          onDecision: (d) => seen.push(d.delayMs),
        },
        (_q, s) => s.end("ok"),
      ),
    );
    const [a, b, c] = await Promise.all([get(port), get(port), get(port)]);
    expect([a.status, b.status, c.status].sort()).toEqual([200, 200, 429]);
    expect(seen.sort((x, y) => x - y)).toEqual([0, 0, 50]); // the refused one reports no delay
  });
});
