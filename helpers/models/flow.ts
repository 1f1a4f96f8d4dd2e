// TCP flow control as a step model: a fast sender, a receive buffer of fixed size, and an
// application that reads from it at its own pace. Deterministic (no randomness), so notebooks can
// chart it and replay can compare the charts.
//
// One step is one round trip: the sender sends what the last window it heard of allows, the data
// lands in the receive buffer, the application reads, and the ACK carries the new window back.
// The advertised window is the free space in the buffer, except that the receiver never
// advertises a window smaller than one MSS: below that it says 0 (receiver-side silly window
// syndrome avoidance, RFC 1122 4.2.3.3; Linux's __tcp_select_window does the same).
//
// When the window is 0 the sender stalls. Two things can reopen it:
// - the receiver's window update: once the application has read enough to open at least one
//   MSS again, the receiver sends a pure ACK with the new window;
// - the sender's persist timer: while stalled it sends a zero-window probe after 1 step, then
//   after 2, 4, 8 ... (exponential backoff), and the ACK to a probe carries the current window.
//   A window update can be lost (it is an ACK with no data, never retransmitted): the probe is
//   what saves the connection then.

export interface FlowOptions {
  /** Receive buffer size in bytes. */
  buffer: number;
  /** Bytes the sending application offers per step (the fast writer). */
  sendRate: number;
  /** Bytes the receiving application reads per step: a constant, or a schedule by step index. */
  readRate: number | ((step: number) => number);
  /** Number of steps to run. */
  steps: number;
  /** Bytes to transfer in all; Infinity (the default) keeps the writer busy for every step. */
  total?: number;
  /** Maximum segment size: the smallest window the receiver advertises. Default 1000. */
  mss?: number;
  /** Steps the sender waits before its first zero-window probe; doubles after each. Default 1. */
  persist?: number;
  /** Steps in which the receiver's window update is lost on the way back. */
  lostUpdates?: number[];
}

export type FlowState =
  | "open" // sent everything the application offered
  | "window-limited" // sent less than offered: the window was smaller
  | "zero window" // sent nothing: waiting for a window update or the persist timer
  | "persist probe" // sent nothing but a zero-window probe
  | "done"; // everything has been sent

export interface FlowStep {
  /** The step index, 0, 1, 2 ... */
  step: number;
  /** Window the sender knew of at the start of the step. */
  usable: number;
  /** Bytes sent in this step. */
  sent: number;
  /** Bytes sent so far, this step included. */
  totalSent: number;
  /** Bytes the application read in this step. */
  read: number;
  /** Bytes the application has read so far. */
  totalRead: number;
  /** Bytes waiting in the receive buffer at the end of the step. */
  buffered: number;
  /** Window the receiver advertises at the end of the step. */
  window: number;
  state: FlowState;
  /** What happened to the window in this step: "window update", "probe: window 0", ... */
  event: string;
}

export class FlowError extends Error {
  code = "ERR_FLOW_OPTIONS";
}

function check(o: FlowOptions): void {
  const positive = { buffer: o.buffer, sendRate: o.sendRate, steps: o.steps, mss: o.mss ?? 1, persist: o.persist ?? 1 };
  for (const [name, v] of Object.entries(positive)) {
    if (!Number.isInteger(v) || v <= 0) throw new FlowError(`${name} must be a positive integer, got ${v}`);
  }
  if ((o.mss ?? 1000) > o.buffer)
    throw new FlowError(`mss (${o.mss ?? 1000}) must not exceed the buffer (${o.buffer})`);
}

/** Runs the model and returns one row per step. */
export function simulateFlow(o: FlowOptions): FlowStep[] {
  check(o);
  const mss = o.mss ?? 1000;
  const total = o.total ?? Infinity;
  const readAt = typeof o.readRate === "function" ? o.readRate : () => o.readRate as number;
  const advertise = (free: number) => (free >= mss ? free : 0);

  let known = advertise(o.buffer); // the window the sender believes in (from the last ACK it got)
  let announced = known; // the window the receiver last sent (it may have been lost on the way)
  let buffered = 0;
  let totalSent = 0;
  let totalRead = 0;
  let probeIn = o.persist ?? 1; // steps until the next zero-window probe, while stalled
  let backoff = o.persist ?? 1;
  const rows: FlowStep[] = [];

  for (let step = 0; step < o.steps; step++) {
    const usable = known;
    const offered = Math.min(o.sendRate, total - totalSent);
    const sent = Math.min(offered, usable);
    let state: FlowState;
    let probed = false;
    if (offered === 0) state = "done";
    else if (usable === 0) {
      // Stalled: count down the persist timer; when it fires, probe.
      if (--probeIn === 0) {
        probed = true;
        backoff *= 2;
        probeIn = backoff;
      }
      state = probed ? "persist probe" : "zero window";
    } else {
      state = sent < offered ? "window-limited" : "open";
      probeIn = backoff = o.persist ?? 1;
    }

    buffered += sent;
    totalSent += sent;
    // Cannot happen, since sent <= window <= free space: a guard against a mistake in the model.
    if (buffered > o.buffer) throw new FlowError(`model error: buffer overflow at step ${step}`);
    const read = Math.min(Math.max(0, Math.floor(readAt(step))), buffered);
    buffered -= read;
    totalRead += read;
    const window = advertise(o.buffer - buffered);

    // How the sender learns the new window at the end of the step.
    let event = "";
    if (sent > 0) {
      known = announced = window; // the ACK for the data carries it
      if (window === 0) event = "window closed";
    } else if (probed) {
      known = announced = window; // the ACK to the probe carries it
      event = `probe: window ${window}`;
    } else if (announced === 0 && window > 0) {
      // The application read enough to reopen a closed window: the receiver announces it, once.
      announced = window;
      if (o.lostUpdates?.includes(step)) event = "window update lost";
      else {
        known = window;
        event = "window update";
      }
    }
    rows.push({ step, usable, sent, totalSent, read, totalRead, buffered, window, state, event });
  }
  return rows;
}
