import * as http from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { startMirror, type Seen } from "../../helpers/net/http-mirror";
import { request } from "../../helpers/net/https";
import { endToEnd, forwardingHeaders, resolveClient, startReverseProxy } from "../../helpers/net/reverse-proxy";

const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
});
const header = (s: Seen, name: string) => s.headers.find(([n]) => n === name)?.[1];

describe("reverse proxy header logic", () => {
  it("drops hop-by-hop fields and those Connection names", () => {
    const out = endToEnd({
      connection: "keep-alive, X-Hop",
      "x-hop": "1",
      te: "trailers",
      "x-end": "2",
      upgrade: "h2c",
    });
    expect(out).toEqual({ "x-end": "2" });
  });
  it("finds the client from the right, skipping trusted proxies", () => {
    const trusted = ["127.0.0.2", "10.0.0.0/8"];
    expect(resolveClient(["198.51.100.66", "203.0.113.7", "10.1.1.1"], "127.0.0.2", trusted)).toBe("203.0.113.7");
    expect(resolveClient(["198.51.100.66"], "127.0.0.9", trusted)).toBe("127.0.0.9");
    expect(resolveClient(["10.0.0.1"], "127.0.0.2", trusted)).toBe("10.0.0.1");
    expect(resolveClient(["garbage"], "127.0.0.2", trusted)).toBe("127.0.0.2");
  });
  it("believes forwarding headers only from a trusted peer", () => {
    const headers = { "x-forwarded-for": "198.51.100.66", forwarded: "for=198.51.100.66", host: "shop.example" };
    const spoofed = forwardingHeaders({ headers, peer: "127.0.0.9", trusted: ["127.0.0.2"] });
    expect(spoofed.client).toBe("127.0.0.9");
    expect(spoofed.headers["x-forwarded-for"]).toBe("127.0.0.9");
    expect(spoofed.headers.forwarded).toBe("for=127.0.0.9;host=shop.example;proto=http");
    const believed = forwardingHeaders({ headers, peer: "::ffff:127.0.0.2", trusted: ["127.0.0.2"] });
    expect(believed.client).toBe("198.51.100.66");
    expect(believed.headers["x-forwarded-for"]).toBe("198.51.100.66, 127.0.0.2");
    expect(believed.headers.forwarded).toBe("for=198.51.100.66, for=127.0.0.2;host=shop.example;proto=http");
  });
});

describe("reverse proxy at work", () => {
  it("forwards, streams, and answers 502 and 504", async () => {
    const app = await startMirror();
    opened.push(app);
    const proxy = await startReverseProxy({
      upstream: { port: app.port },
      trusted: ["127.0.0.2"],
      responseTimeoutMs: 300,
    });
    opened.push(proxy);
    const r = await request(`http://127.0.0.1:${proxy.port}/x`, { headers: { "x-forwarded-for": "1.2.3.4" } });
    const seen: Seen = r.json();
    expect(header(seen, "x-forwarded-for")).toBe("127.0.0.1");
    expect(header(seen, "x-real-ip")).toBe("127.0.0.1");
    // streaming: the app has the first chunk before the client sends the second
    const got: number[] = [];
    let first: () => void = () => {};
    const firstArrived = new Promise<void>((resolve) => (first = resolve));
    app.onChunk = (_url, n) => {
      got.push(n);
      first();
    };
    const done = new Promise<number>((resolve) => {
      const req = http.request({ host: "127.0.0.1", port: proxy.port, method: "POST", path: "/upload" }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.write("a".repeat(1000));
      void firstArrived.then(() => req.end("b".repeat(1000)));
    });
    expect(await done).toBe(200);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect((await request(`http://127.0.0.1:${proxy.port}/slow`)).status).toBe(504);
    await app.close();
    expect((await request(`http://127.0.0.1:${proxy.port}/`)).status).toBe(502);
    expect(proxy.log.map((l) => l.error).filter(Boolean)).toEqual(["response timeout", "refused"]);
  });
});
