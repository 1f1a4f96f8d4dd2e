// helpers/measure/throughput.ts: per-interval rates from a timeline, and iperf3 run with our write
// size (it reports the size it used). No timing thresholds: measuring belongs in the notebooks.
import { describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { DEFAULT_CHUNK_BYTES, intervalRates, iperf3Report } from "../../helpers/measure/throughput";

describe("intervalRates", () => {
  it("divides each interval's bytes by its own length, the last one shorter", () => {
    const rates = intervalRates([
      { t: 0.25, bytes: 1000 },
      { t: 0.5, bytes: 2000 },
      { t: 0.6, bytes: 500 },
    ]);
    expect(rates.map((r) => r.t)).toEqual([0.25, 0.5, 0.6]);
    expect(rates[0].bitsPerSecond).toBeCloseTo(32_000, 6);
    expect(rates[1].bitsPerSecond).toBeCloseTo(64_000, 6);
    expect(rates[2].bitsPerSecond).toBeCloseTo(40_000, 6);
  });
});

describe.skipIf(!hasProgram("iperf3"))("iperf3Report", () => {
  it("runs iperf3 with the write size asked for, and says so", async () => {
    const report = await iperf3Report(1, { writeBytes: DEFAULT_CHUNK_BYTES });
    expect(report.writeBytes).toBe(DEFAULT_CHUNK_BYTES);
    expect(report.bitsPerSecond).toBeGreaterThan(0);
  }, 30_000);

  it("uses iperf3's own 128 KiB writes unless told otherwise", async () => {
    expect((await iperf3Report(1)).writeBytes).toBe(128 * 1024);
  }, 30_000);
});
