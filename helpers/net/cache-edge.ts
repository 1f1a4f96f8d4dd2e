// A caching edge (what a CDN node is): an HTTP server on 127.0.0.1 port 0 in front of an origin,
// keeping responses in a models/http-cache HttpCache on an injected clock, and saying what it did
// in `X-Cache` on every response:
//
//   HIT          fresh in the cache; the origin is not asked (an `Age` field says how old it is)
//   MISS         not in the cache (or not usable for this request's Vary values): fetched
//   REVALIDATED  stale; a conditional request got 304 from the origin, and the stored body is sent
//   EXPIRED      stale; the conditional request got a new 200
//   STALE        stale but inside stale-while-revalidate (RFC 5861): sent at once, while one
//                background request revalidates it
//   PASS         the origin's answer may not be stored (no-store, private, ...): `X-Cache-Reason`
//
// Request collapsing: while a fetch for a URL is on its way, more misses for that URL wait for it
// instead of asking the origin too (`pending(url)` counts them). When the answer may not be shared
// (private, no-store, or another variant of Vary), each waiter then fetches for itself.
import * as http from "node:http";
import { HttpCache, type Clock, type Headers } from "../models/http-cache";
import { serve, type Served } from "./serve";

export interface EdgeOptions {
  origin: { host?: string; port: number };
  clock: Clock;
  capacity?: number;
  /** Collapse simultaneous misses for one URL into one origin fetch (default true). */
  collapse?: boolean;
}

export interface EdgeRecord {
  url: string;
  xCache: string;
  status: number;
}

export interface Edge extends Served {
  readonly cache: HttpCache;
  readonly log: EdgeRecord[];
  /** Requests waiting for a fetch already on its way for `url`. */
  pending(url: string): number;
  /** Background revalidations still running (stale-while-revalidate). */
  settled(): Promise<void>;
}

interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
  requestTime: number;
}

const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"]);
const endToEnd = (h: Headers): Headers => Object.fromEntries(Object.entries(h).filter(([n]) => !HOP.has(n)));

export async function startCacheEdge(o: EdgeOptions): Promise<Edge> {
  const cache = new HttpCache({ clock: o.clock, capacity: o.capacity, shared: true });
  const log: EdgeRecord[] = [];
  const inFlight = new Map<string, { promise: Promise<Fetched>; waiters: number }>();
  const background = new Set<Promise<unknown>>();
  const agent = new http.Agent({ keepAlive: true });

  const fetchOrigin = (req: http.IncomingMessage, extra: Record<string, string> = {}) =>
    new Promise<Fetched>((resolve, reject) => {
      const requestTime = o.clock();
      const headers = { ...endToEnd(req.headers), ...extra, host: `127.0.0.1:${o.origin.port}` };
      const out = http.request(
        { host: o.origin.host ?? "127.0.0.1", port: o.origin.port, path: req.url, method: req.method, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: endToEnd(res.headers),
              body: Buffer.concat(chunks),
              requestTime,
            }),
          );
        },
      );
      out.on("error", reject);
      out.end();
    });

  const send = (
    res: http.ServerResponse,
    url: string,
    f: { status: number; headers: Headers; body: Buffer },
    x: string,
    more: Record<string, string> = {},
  ) => {
    log.push({ url, xCache: x, status: f.status });
    res.writeHead(f.status, { ...f.headers, ...more, "x-cache": x }).end(f.body);
  };

  /** A fetch for the URL, shared with whoever else misses it meanwhile. */
  const collapsed = (req: http.IncomingMessage, url: string) => {
    const running = inFlight.get(url);
    if (running && o.collapse !== false) {
      running.waiters++;
      return { fetched: running.promise, leader: false };
    }
    const promise = fetchOrigin(req);
    const entry = { promise, waiters: 0 };
    if (o.collapse !== false) inFlight.set(url, entry);
    void promise.finally(() => inFlight.get(url) === entry && inFlight.delete(url)).catch(() => {});
    return { fetched: promise, leader: true };
  };

  const revalidate = async (
    req: http.IncomingMessage,
    url: string,
    found: NonNullable<ReturnType<HttpCache["lookup"]>>,
  ) => {
    const f = await fetchOrigin(req, HttpCache.validators(found.entry));
    if (f.status === 304) {
      cache.freshen(found.entry, f.headers, f.requestTime);
      return { f: found.entry, x: "REVALIDATED" };
    }
    const stored = cache.store(url, { method: "GET", headers: req.headers }, f, f.requestTime);
    return { f, x: stored.ok ? "EXPIRED" : "PASS" };
  };

  const server = http.createServer(async (req, res) => {
    const url = req.url ?? "/";
    try {
      if (req.method !== "GET") {
        const f = await fetchOrigin(req);
        return send(res, url, f, "PASS", { "x-cache-reason": `method ${req.method}` });
      }
      const found = cache.lookup(url, req.headers);
      if (found?.state === "fresh") return send(res, url, found.entry, "HIT", { age: String(found.age.currentAge) });
      if (found?.state === "stale-while-revalidate") {
        if (!inFlight.has(`revalidate ${url}`)) {
          const job = revalidate(req, url, found).catch(() => {});
          inFlight.set(`revalidate ${url}`, { promise: job.then(() => found.entry), waiters: 0 });
          background.add(job);
          void job.finally(() => {
            background.delete(job);
            inFlight.delete(`revalidate ${url}`);
          });
        }
        return send(res, url, found.entry, "STALE", { age: String(found.age.currentAge) });
      }
      if (found) {
        const { f, x } = await revalidate(req, url, found);
        return send(res, url, f, x, x === "REVALIDATED" ? { age: "0" } : {});
      }
      const { fetched, leader } = collapsed(req, url);
      const shared = await fetched;
      if (!leader) {
        // A waiter uses the leader's answer only if the cache took it and it fits this request.
        const now = cache.lookup(url, req.headers);
        if (now?.state === "fresh") return send(res, url, now.entry, "HIT", { age: String(now.age.currentAge) });
      }
      const f = leader ? shared : await fetchOrigin(req);
      const stored = cache.store(url, { method: "GET", headers: req.headers }, f, f.requestTime);
      return send(res, url, f, stored.ok ? "MISS" : "PASS", stored.ok ? {} : { "x-cache-reason": stored.why });
    } catch (e) {
      log.push({ url, xCache: "ERROR", status: 502 });
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end(`502 Bad Gateway: ${String(e)}\n`);
    }
  });
  const served = await serve(server);
  return {
    port: served.port,
    close: async () => {
      agent.destroy();
      await served.close();
    },
    cache,
    log,
    pending: (url) => inFlight.get(url)?.waiters ?? 0,
    settled: async () => {
      await Promise.all([...background]);
    },
  };
}
