import { afterAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../helpers/models/ratelimit";
import { startCacheEdge } from "../../helpers/net/cache-edge";
import { request } from "../../helpers/net/https";
import { startOrigin } from "../../helpers/net/origin";

const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
});

describe("the caching edge", () => {
  it("MISS, HIT, REVALIDATED, PASS, STALE, and collapses misses", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const origin = await startOrigin({
      clock: clock.now,
      routes: {
        "/a": { body: "a", headers: { "cache-control": "public, max-age=10" } },
        "/p": { body: "p", headers: { "cache-control": "private, max-age=10" } },
        "/s": { body: "s", headers: { "cache-control": "max-age=1, stale-while-revalidate=30" } },
        "/c": { body: "c", headers: { "cache-control": "max-age=60" } },
      },
    });
    opened.push(origin);
    const edge = await startCacheEdge({ origin, clock: clock.now });
    opened.push(edge);
    const x = async (path: string) => (await request(`http://127.0.0.1:${edge.port}${path}`)).headers["x-cache"];
    expect([await x("/a"), await x("/a")]).toEqual(["MISS", "HIT"]);
    clock.advance(11_000);
    expect(await x("/a")).toBe("REVALIDATED");
    expect(origin.served.get("/a")).toEqual({ full: 1, notModified: 1 });
    expect([await x("/p"), await x("/p")]).toEqual(["PASS", "PASS"]);
    expect(await x("/s")).toBe("MISS");
    clock.advance(2000);
    expect(await x("/s")).toBe("STALE");
    await edge.settled();
    expect(await x("/s")).toBe("HIT");
    let all = () => {};
    const arrived = new Promise<void>((r) => (all = r));
    origin.hold("/c", () => all());
    const answers = Array.from({ length: 10 }, () => x("/c"));
    await arrived;
    while (edge.pending("/c") < 9) await new Promise((r) => setTimeout(r, 5));
    origin.release("/c");
    expect((await Promise.all(answers)).sort()).toEqual([...Array(9).fill("HIT"), "MISS"]);
    expect(origin.served.get("/c")?.full).toBe(1);
  });
});
