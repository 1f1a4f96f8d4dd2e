// Small HTTP backends for balancer and proxy experiments: each listens on 127.0.0.1 port 0, answers
// every request with its own name (body and `x-backend` header), answers `GET /health` with 200,
// counts what it served, and can be made slow in a way no timer decides — `hold()` keeps every
// new request waiting until `release()` — or killed (`kill()` closes the port; connections are
// then refused, as from a crashed process). Closed at kernel shutdown if not before.
import * as http from "node:http";
import { serve, type Served } from "./serve";

export interface Backend extends Served {
  readonly name: string;
  /** Requests answered, /health excluded. */
  readonly served: number;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /** The `x-key` header (or path) of each request, in arrival order. */
  readonly seen: string[];
  /** From now on, requests wait until `release()`. `onHeld` hears each one as it starts waiting. */
  hold(onHeld?: (key: string) => void): void;
  /** Answers every waiting request and stops holding. */
  release(): void;
  /** Closes the listening port and every connection: the backend is gone. */
  kill(): Promise<void>;
  /** Whether kill() or close() has been called. */
  readonly dead: boolean;
}

export async function startBackend(name: string): Promise<Backend> {
  let served = 0;
  let inFlight = 0;
  let dead = false;
  const seen: string[] = [];
  let held: Array<() => void> | undefined;
  let onHeld: ((key: string) => void) | undefined;
  const server = http.createServer((req, res) => {
    if (req.url === "/health") return res.end("ok\n");
    const key = String(req.headers["x-key"] ?? req.url);
    seen.push(key);
    inFlight++;
    const answer = () => {
      inFlight--;
      served++;
      res.setHeader("x-backend", name);
      res.end(`${name}\n`);
    };
    req.resume();
    if (held) {
      held.push(answer);
      onHeld?.(key);
    } else answer();
  });
  server.keepAliveTimeout = 30_000; // longer than any experiment: an idle pooled connection is never cut
  const s = await serve(server);
  const close = async () => {
    dead = true;
    const waiting = held ?? [];
    held = undefined;
    for (const answer of waiting) answer();
    await s.close();
  };
  return {
    name,
    port: s.port,
    close,
    kill: close,
    get served() {
      return served;
    },
    get inFlight() {
      return inFlight;
    },
    get dead() {
      return dead;
    },
    seen,
    hold(cb) {
      held ??= [];
      onHeld = cb;
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      onHeld = undefined;
      for (const answer of waiting) answer();
    },
  };
}
