// Timing and summaries for small experiments.

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Runs `fn` and returns how long it took in milliseconds, with its result. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = nowMs();
  const value = await fn();
  return { ms: nowMs() - t0, value };
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) throw new RangeError("percentile of no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: number[]): Summary {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    n: samples.length,
    min: Math.min(...samples),
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max: Math.max(...samples),
    mean,
  };
}

/** A duration as the notebooks print it; fixtures/nbval-sanitize.cfg matches this exact form. */
export const ms = (x: number) => `${x.toFixed(2)} ms`;
/** A data rate in Gbit/s, in the form the sanitizer matches. */
export const gbps = (bitsPerSecond: number) => `${(bitsPerSecond / 1e9).toFixed(2)} Gbit/s`;
/** Rates of a rate-limited lab link: one decimal in Mbit/s, in the form the sanitizer matches. */
export const mbps = (bitsPerSecond: number) => `${(bitsPerSecond / 1e6).toFixed(1)} Mbit/s`;
/** A packet rate in thousands per second, in the form the sanitizer matches. */
export const kpps = (packetsPerSecond: number) => `${(packetsPerSecond / 1000).toFixed(1)} kpps`;
/** A memory size in MiB, in the form the sanitizer matches. */
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
