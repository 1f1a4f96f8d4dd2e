// An HTTP load balancer on 127.0.0.1 port 0 in front of backends on loopback, driven by a policy
// from models/balance (round robin, smooth weighted, least connections, hashing). It counts the
// requests each backend is serving (what least connections reads), keeps each backend up or down,
// and logs every dispatch: which backend answered, after which attempts.
//
// Failure handling, as nginx and HAProxy do it:
// - passive: a connection to a backend that fails (refused, reset, or not connected within `timeoutMs`)
//   marks that backend down at once and the request is tried again on the next pick among the
//   backends still up (nginx's max_fails=1, proxy_next_upstream error); only when every backend
//   has failed does the client get 502.
// - active: `checkHealth()` sends `GET /health` to every backend; `fall` failures in a row mark
//   one down, `rise` successes bring it back. With `healthIntervalMs` it also runs on a timer.
// The request body is read before dispatch, so that a retried request can be sent again whole.
import * as http from "node:http";
import type { Policy } from "../models/balance";
import { onShutdown } from "../../kernel/runtime";
import { serve, type Served } from "./serve";

export interface Upstream {
  name: string;
  port: number;
  host?: string;
}

export interface BalancerOptions {
  backends: Upstream[];
  policy: Policy;
  /** The hashing key of a request; default: the client's address as its socket reports it. */
  key?: (req: http.IncomingMessage) => string;
  /** Health checks failed in a row before a backend is down (default 2). */
  fall?: number;
  /** Health checks passed in a row before a down backend is up again (default 1). */
  rise?: number;
  healthPath?: string;
  /** Run checkHealth() on this period too; 0 or absent: only when called. */
  healthIntervalMs?: number;
  /** How long a health check or a connection attempt may take, in ms (default 1000). */
  timeoutMs?: number;
}

export interface Dispatch {
  key: string;
  /** The backend that answered, or "" when none could (502). */
  backend: string;
  status: number;
  /** Every backend tried, in order, the answering one last. */
  tried: string[];
}

export type Health = "up" | "down";

export interface Balancer extends Served {
  readonly log: Dispatch[];
  state(): Record<string, Health>;
  active(name: string): number;
  /** One round of active health checks; resolves to the state after it. */
  checkHealth(): Promise<Record<string, Health>>;
  /** Adds a backend (up) to the pool. */
  add(backend: Upstream): void;
  /** Forgets the log. */
  clearLog(): void;
}

interface Member extends Upstream {
  health: Health;
  active: number;
  fails: number;
  passes: number;
}

export async function startBalancer(o: BalancerOptions): Promise<Balancer> {
  const members: Member[] = [];
  const add = (b: Upstream) => {
    if (members.some((m) => m.name === b.name))
      throw new RangeError(`a backend named ${b.name} is already in the pool`);
    members.push({ host: "127.0.0.1", ...b, health: "up", active: 0, fails: 0, passes: 0 });
  };
  o.backends.forEach(add);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const timeoutMs = o.timeoutMs ?? 1000;
  const fall = o.fall ?? 2;
  const rise = o.rise ?? 1;
  const log: Dispatch[] = [];
  const keyOf = o.key ?? ((req: http.IncomingMessage) => req.socket.remoteAddress ?? "");
  const byName = (name: string) => members.find((m) => m.name === name);

  /** Sends the request to one backend; resolves with its response, rejects if it could not connect. */
  const forward = (m: Member, req: http.IncomingMessage, body: Buffer) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const headers = { ...req.headers, host: `${m.host}:${m.port}` };
      const out = http.request({ host: m.host, port: m.port, method: req.method, path: req.url, headers, agent });
      // Only connecting is timed: a backend may take as long as it likes to answer.
      out.on("socket", (socket) => {
        if (!socket.connecting) return;
        const t = setTimeout(() => out.destroy(new Error("connect timeout")), timeoutMs);
        socket.once("connect", () => clearTimeout(t)).once("close", () => clearTimeout(t));
      });
      out.on("response", resolve).on("error", reject);
      out.end(body);
    });

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const key = keyOf(req);
    const tried: string[] = [];
    for (;;) {
      const up = members.filter((m) => m.health === "up" && !tried.includes(m.name)).map((m) => m.name);
      if (up.length === 0) break;
      const m = byName(o.policy.pick(up, { key, active: (n) => byName(n)?.active ?? 0 }));
      if (!m) break;
      tried.push(m.name);
      m.active++;
      try {
        const answer = await forward(m, req, body);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        log.push({ key, backend: m.name, status: answer.statusCode ?? 0, tried });
        // The backend's request ends when its response has been read, before the client has it.
        const done = new Promise((r) => answer.once("end", r).once("error", r).once("close", r));
        answer.pipe(res);
        await done;
        return;
      } catch {
        m.health = "down"; // passive: a backend that cannot be reached is out until a health check passes
        m.passes = 0;
      } finally {
        m.active--;
      }
    }
    log.push({ key, backend: "", status: 502, tried });
    res.writeHead(502, { "content-type": "text/plain" }).end("502 Bad Gateway: no backend answered\n");
  });
  const served = await serve(server);

  const probe = (m: Member) =>
    new Promise<boolean>((resolve) => {
      const r = http.get({ host: m.host, port: m.port, path: o.healthPath ?? "/health", agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      r.setTimeout(timeoutMs, () => r.destroy());
      r.on("error", () => resolve(false));
    });
  const state = () => Object.fromEntries(members.map((m) => [m.name, m.health]));
  const checkHealth = async () => {
    const results = await Promise.all(members.map(probe));
    members.forEach((m, i) => {
      if (results[i]) {
        m.fails = 0;
        if (m.health === "down" && ++m.passes >= rise) m.health = "up";
      } else {
        m.passes = 0;
        if (++m.fails >= fall) m.health = "down";
      }
    });
    return state();
  };
  const timer = o.healthIntervalMs ? setInterval(() => void checkHealth(), o.healthIntervalMs) : undefined;
  timer?.unref();
  const close = onShutdown(async () => {
    if (timer) clearInterval(timer);
    agent.destroy();
    await served.close();
  });
  let closing: Promise<void> | undefined;
  return {
    port: served.port,
    close: () => (closing ??= close()),
    log,
    state,
    active: (name) => byName(name)?.active ?? 0,
    checkHealth,
    add,
    clearLog: () => void log.splice(0),
  };
}
