// Time for experiments: a monotonic clock in milliseconds with sub-microsecond resolution (never
// jumps with the wall clock), and a promise that sleeps.

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
