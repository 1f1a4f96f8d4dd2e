// Rate limiters and an HTTP middleware that applies one per client.
//
// Both limiters read time from an injectable clock (milliseconds), so a notebook or a test can
// drive them through a fixed schedule and get the same decisions on every run.
//
// - TokenBucket(rate, burst): the bucket holds at most `burst` tokens and refills at `rate`
//   tokens per second. A request takes one token or is refused. A client that has been quiet
//   can send `burst` requests at once, then `rate` per second.
// - LeakyBucket(rate, queue): a queue drained at exactly `rate` requests per second. A request
//   is served at once if nothing is waiting, otherwise it waits its turn; when `queue` requests
//   are already waiting it is refused. The output is smooth whatever the input looks like.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/** Milliseconds from an arbitrary origin. */
export type Clock = () => number;

export const realClock: Clock = () => performance.now();

/** A clock that only moves when told to: for schedules, tests and replayable notebooks. */
export class ManualClock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  readonly now: Clock = () => this.t;
  set(ms: number): void {
    if (ms < this.t) throw new RangeError(`a clock cannot go back (from ${this.t} ms to ${ms} ms)`);
    this.t = ms;
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
}

export interface Decision {
  allowed: boolean;
  /** The limiter's quota: the burst (token bucket) or the queue size (leaky bucket). */
  limit: number;
  /** How many more requests would pass right now. */
  remaining: number;
  /** Milliseconds until the limiter is back to its full quota. */
  resetMs: number;
  /** Milliseconds until a request would pass; 0 when this one passed. */
  retryAfterMs: number;
  /** Milliseconds this request waits before it is served (leaky bucket); 0 = at once. */
  delayMs: number;
}

export interface Limiter {
  readonly limit: number;
  take(): Decision;
}

export class RateLimitError extends Error {
  code = "ERR_RATE_LIMIT_OPTIONS";
}

function positive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) throw new RateLimitError(`${name} must be a positive number, got ${v}`);
}

// Refill arithmetic in floating point drifts (0.1 + 0.2): rounding to 1e-9 of a token keeps
// "exactly one token after 1/rate seconds" exact.
const tidy = (x: number) => Math.round(x * 1e9) / 1e9;

export class TokenBucket implements Limiter {
  readonly rate: number;
  readonly burst: number;
  readonly limit: number;
  private readonly clock: Clock;
  private level: number;
  private last: number;

  constructor(o: { rate: number; burst: number; clock?: Clock }) {
    positive("rate", o.rate);
    if (!Number.isInteger(o.burst) || o.burst < 1)
      throw new RateLimitError(`burst must be a positive integer, got ${o.burst}`);
    this.rate = o.rate;
    this.burst = this.limit = o.burst;
    this.clock = o.clock ?? realClock;
    this.level = o.burst; // a new client starts with a full bucket
    this.last = this.clock();
  }

  /** Tokens in the bucket now (fractions included). */
  tokens(): number {
    const now = this.clock();
    this.level = tidy(Math.min(this.burst, this.level + ((now - this.last) / 1000) * this.rate));
    this.last = now;
    return this.level;
  }

  take(): Decision {
    const before = this.tokens();
    const allowed = before >= 1;
    if (allowed) this.level = tidy(before - 1);
    return {
      allowed,
      limit: this.burst,
      remaining: Math.floor(this.level),
      resetMs: ((this.burst - this.level) / this.rate) * 1000,
      retryAfterMs: allowed ? 0 : ((1 - this.level) / this.rate) * 1000,
      delayMs: 0,
    };
  }
}

export class LeakyBucket implements Limiter {
  readonly rate: number;
  readonly queue: number;
  readonly limit: number;
  private readonly clock: Clock;
  private readonly interval: number;
  private departures: number[] = []; // when each accepted request is (or was) served
  private nextSlot = -Infinity;

  constructor(o: { rate: number; queue: number; clock?: Clock }) {
    positive("rate", o.rate);
    if (!Number.isInteger(o.queue) || o.queue < 0)
      throw new RateLimitError(`queue must be an integer >= 0, got ${o.queue}`);
    this.rate = o.rate;
    this.queue = this.limit = o.queue;
    this.clock = o.clock ?? realClock;
    this.interval = 1000 / o.rate;
  }

  /** Requests waiting now (accepted, not yet served). */
  waiting(): number {
    const now = this.clock();
    this.departures = this.departures.filter((d) => d > now);
    return this.departures.length;
  }

  take(): Decision {
    const waiting = this.waiting();
    const now = this.clock();
    const allowed = waiting < this.queue || (this.departures.length === 0 && now >= this.nextSlot);
    let delayMs = 0;
    if (allowed) {
      const at = Math.max(now, this.nextSlot);
      delayMs = at - now;
      this.nextSlot = at + this.interval;
      if (delayMs > 0) this.departures.push(at);
    }
    const last = this.departures.length ? this.departures[this.departures.length - 1] : now;
    return {
      allowed,
      limit: this.queue,
      remaining: this.queue - this.departures.length,
      resetMs: last - now,
      // A place frees when the next one leaves.
      retryAfterMs: allowed ? 0 : (this.departures[0] ?? this.nextSlot) - now,
      delayMs,
    };
  }
}

export interface RateLimitOptions {
  /** Makes the limiter for a client the first time its key is seen. */
  limiter: (key: string) => Limiter;
  /** Who the client is. Default: the peer's address exactly as the socket reports it. */
  key?: (req: IncomingMessage) => string;
  /** Sees every decision, e.g. to log it. */
  onDecision?: (decision: Decision & { key: string }, req: IncomingMessage) => void;
}

export type RateLimited = RequestListener & { limiters: Map<string, Limiter> };

/** Header values are whole seconds (delta-seconds), rounded up so a client never comes back early. */
const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000 - 1e-9));

/** Wraps a node:http request handler: one limiter per client key; refused requests get 429 with
 *  `Retry-After`, every response carries `RateLimit-Limit`, `RateLimit-Remaining` and
 *  `RateLimit-Reset` (the IETF httpapi draft's field names); a leaky bucket holds accepted
 *  requests until their turn. */
export function rateLimit(options: RateLimitOptions, handler: RequestListener): RateLimited {
  const limiters = new Map<string, Limiter>();
  const keyOf = options.key ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? "unknown");
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const key = keyOf(req);
    let limiter = limiters.get(key);
    if (!limiter) limiters.set(key, (limiter = options.limiter(key)));
    const d = limiter.take();
    options.onDecision?.({ ...d, key }, req);
    res.setHeader("RateLimit-Limit", String(d.limit));
    res.setHeader("RateLimit-Remaining", String(d.remaining));
    res.setHeader("RateLimit-Reset", String(seconds(d.resetMs)));
    if (!d.allowed) {
      res.writeHead(429, { "Retry-After": String(Math.max(1, seconds(d.retryAfterMs))), "Content-Type": "text/plain" });
      res.end("too many requests\n");
      return;
    }
    if (d.delayMs > 0) setTimeout(() => handler(req, res), d.delayMs);
    else handler(req, res);
  };
  return Object.assign(listener, { limiters });
}
