import { afterAll, describe, expect, it } from "vitest";
import { httpDateOf } from "../../helpers/models/http-cache";
import { ManualClock } from "../../helpers/models/ratelimit";
import { request } from "../../helpers/net/https";
import { etagOf, noneMatch, startOrigin } from "../../helpers/net/origin";

const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const o of opened) await o.close();
});

describe("the origin", () => {
  it("compares ETags weakly for If-None-Match", () => {
    expect(noneMatch('"a", W/"b"', '"b"')).toBe(true);
    expect(noneMatch("*", '"x"')).toBe(true);
    expect(noneMatch('"a"', '"b"')).toBe(false);
  });
  it("stamps Date from its clock and answers conditional requests", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const lastModified = clock.now() - 60_000;
    const origin = await startOrigin({ clock: clock.now, routes: { "/r": { body: "r\n", lastModified } } });
    opened.push(origin);
    const u = `http://127.0.0.1:${origin.port}/r`;
    const r = await request(u);
    expect(r.headers.date).toBe(httpDateOf(clock.now()));
    expect(r.headers.etag).toBe(etagOf("r\n"));
    expect(r.headers["content-length"]).toBe("2");
    expect((await request(u, { headers: { "if-none-match": etagOf("r\n") } })).status).toBe(304);
    expect((await request(u, { headers: { "if-modified-since": httpDateOf(lastModified) } })).status).toBe(304);
    const both = { "if-none-match": '"other"', "if-modified-since": httpDateOf(lastModified) };
    expect((await request(u, { headers: both })).status).toBe(200);
    expect(origin.served.get("/r")).toEqual({ full: 2, notModified: 2 });
  });
});
