// helpers/measure/latency.ts: jitter statistics by their definitions, and a real echo round trip.
import { once } from "node:events";
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { echoProcess, jitter, roundTrips } from "../../helpers/measure/latency";
import { loopbackThroughput } from "../../helpers/measure/throughput";

describe("jitter", () => {
  it("is zero for constant samples", () => {
    expect(jitter([5, 5, 5, 5])).toEqual({ stddev: 0, rfc3550: 0 });
  });

  it("follows RFC 3550's estimator J += (|D| - J) / 16", () => {
    // Alternating 10 / 12 ms: every |D| is 2, so J approaches 2 from below: 2 * (1 - (15/16)^n).
    const samples = Array.from({ length: 41 }, (_, i) => (i % 2 ? 12 : 10));
    const { rfc3550, stddev } = jitter(samples);
    expect(rfc3550).toBeCloseTo(2 * (1 - (15 / 16) ** 40), 12);
    expect(stddev).toBeCloseTo(Math.sqrt((21 * 1 + 20 * 1) / 41), 1);
  });
});

describe("on loopback", () => {
  it("a 1-byte request comes back as 1 byte, count samples", async () => {
    const echo = await echoProcess();
    try {
      const samples = await roundTrips(echo.port, { count: 50, size: 1 });
      expect(samples).toHaveLength(50);
      expect(samples.every((s) => s > 0)).toBe(true);
    } finally {
      await echo.close();
    }
  });

  it("waits for the whole reply when it comes in pieces", async () => {
    // Echoes each 4-byte request as two 2-byte writes 5 ms apart: a sample covers both.
    const server = net.createServer((s) =>
      s.on("data", (d) => {
        s.write(d.subarray(0, 2));
        setTimeout(() => s.write(d.subarray(2)), 5);
      }),
    );
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as net.AddressInfo;
      const samples = await roundTrips(port, { count: 5, size: 4, warmup: 0 });
      expect(samples).toHaveLength(5);
      expect(Math.min(...samples)).toBeGreaterThanOrEqual(4);
    } finally {
      server.close();
    }
  });

  it("says how far it got when the server closes mid-run", async () => {
    let replies = 0;
    const server = net.createServer((s) => s.on("data", (d) => (++replies > 3 ? s.destroy() : s.write(d))));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as net.AddressInfo;
      await expect(roundTrips(port, { count: 10, warmup: 0 })).rejects.toThrow(
        "the echo closed after 3 of 10 round trips",
      );
    } finally {
      server.close();
    }
  });

  it("the receiver counts every byte and reports a timeline", async () => {
    const r = await loopbackThroughput({ seconds: 0.5, intervalMs: 100 });
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.timeline.reduce((a, x) => a + x.bytes, 0)).toBe(r.bytes);
    expect(r.bitsPerSecond).toBeCloseTo((r.bytes * 8) / r.seconds, 3);
  }, 30_000);
});
