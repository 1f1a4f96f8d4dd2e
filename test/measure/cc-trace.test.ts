// TCP_INFO of a real flow (helpers/measure/cc-trace): a short Reno flow through a lab bottleneck,
// sampled on a timer, with the sender's MSS for counting acknowledged segments.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab } from "../../helpers/lab";
import type * as ccTrace from "../../helpers/measure/cc-trace";
import type * as services from "../../helpers/net/services";

// Vitest loads modules its own way, so the agents get the helpers' paths.
const CC_TRACE = join(__dirname, "..", "..", "helpers", "measure", "cc-trace.ts");
const SERVICES = join(__dirname, "..", "..", "helpers", "net", "services.ts");

describe.skipIf(labAccess().mode === "none")("traceFlow in a lab host", () => {
  let lab: Lab;
  let trace: Awaited<ReturnType<typeof ccTrace.traceFlow>>;
  beforeAll(async () => {
    lab = await startLab({
      hosts: { s: {}, r: {} },
      links: [{ between: ["s", "r"], subnet: "10.48.0.0/24", rate: "20mbit", queue: "20ms" }],
    });
    const sink = await lab.host("r").run<typeof services, "tcpServer">(SERVICES, "tcpServer", 0);
    const flow = { to: lab.address("r"), port: sink.port, algorithm: "reno", seconds: 1, everyMs: 10 };
    trace = await lab.host("s").run<typeof ccTrace, "traceFlow">(CC_TRACE, "traceFlow", flow);
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  it("runs the chosen algorithm and samples on the timer", () => {
    expect(trace.algorithm).toBe("reno");
    expect(trace.seconds).toBe(1);
    expect(trace.samples.length).toBeGreaterThan(10);
    expect(trace.medianIntervalMs).toBeGreaterThan(0);
    const times = trace.samples.map((s) => s.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it("reports the sender's MSS: a 1500-byte link less the IPv4 and TCP headers and the timestamp option", () => {
    expect(trace.mss).toBe(1500 - 20 - 20 - 12);
  });

  it("counts acknowledged bytes that only grow, and a window of at least two segments", () => {
    const acked = trace.samples.map((s) => s.bytesAcked);
    expect(acked).toEqual([...acked].sort((a, b) => a - b));
    expect(acked.at(-1)).toBeGreaterThan(100 * trace.mss);
    expect(Math.min(...trace.samples.map((s) => s.cwnd))).toBeGreaterThanOrEqual(2);
  });
});
