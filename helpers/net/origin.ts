// An origin server for caching experiments: its routes are data (status, headers, body), its
// clock is injected (Date and Last-Modified come from it, so every header is the same on every
// run), it adds a strong ETag (a hash of the body) and answers conditional requests with 304 Not
// Modified (If-None-Match first, then If-Modified-Since, RFC 9110 §13.2.2), and it counts what it
// served per path, so a notebook can see how many requests a cache spared it. `hold(path)` keeps
// requests for a path waiting until `release(path)`, for request collapsing without timers.
import { createHash } from "node:crypto";
import * as http from "node:http";
import { httpDateOf, type Clock } from "../models/http-cache";
import { serve, type Served } from "./serve";

export interface Route {
  status?: number;
  /** Extra response headers, e.g. Cache-Control, Vary; or a function of the request. */
  headers?: Record<string, string> | ((req: http.IncomingMessage) => Record<string, string>);
  body: string | ((req: http.IncomingMessage) => string);
  /** When the resource last changed, on the origin's clock (ms); no Last-Modified without it. */
  lastModified?: number;
  /** Add a strong ETag (default true). */
  etag?: boolean;
}

export interface Origin extends Served {
  /** Requests answered per path: 200s and 304s. */
  readonly served: Map<string, { full: number; notModified: number }>;
  /** Requests waiting per path (held). */
  waiting(path: string): number;
  route(path: string, route: Route): void;
  hold(path: string, onHeld?: () => void): void;
  release(path: string): void;
  /** Every request header the origin received, in order: [path, headers]. */
  readonly requests: Array<[string, http.IncomingHttpHeaders]>;
}

export const etagOf = (body: string) => `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;

/** RFC 9110 §13.1.2: does If-None-Match match this ETag (weak comparison)? */
export function noneMatch(header: string, etag: string): boolean {
  const weak = (t: string) => t.trim().replace(/^W\//, "");
  return header.trim() === "*" || header.split(",").some((t) => weak(t) === weak(etag));
}

export async function startOrigin(o: { clock: Clock; routes?: Record<string, Route> }): Promise<Origin> {
  const routes = new Map(Object.entries(o.routes ?? {}));
  const served = new Map<string, { full: number; notModified: number }>();
  const held = new Map<string, { waiters: Array<() => void>; onHeld?: () => void }>();
  const requests: Array<[string, http.IncomingHttpHeaders]> = [];
  const count = (path: string) => served.get(path) ?? served.set(path, { full: 0, notModified: 0 }).get(path)!;
  const answer = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => {
    const r = routes.get(path);
    if (!r) return void res.writeHead(404, { date: httpDateOf(o.clock()) }).end("not found\n");
    const body = typeof r.body === "function" ? r.body(req) : r.body;
    const extra = typeof r.headers === "function" ? r.headers(req) : (r.headers ?? {});
    const headers: Record<string, string> = { date: httpDateOf(o.clock()), ...extra };
    if (r.etag !== false) headers.etag = etagOf(body);
    if (r.lastModified !== undefined) headers["last-modified"] = httpDateOf(r.lastModified);
    const inm = req.headers["if-none-match"];
    const ims = Date.parse(String(req.headers["if-modified-since"] ?? ""));
    const unchanged =
      inm !== undefined
        ? headers.etag !== undefined && noneMatch(inm, headers.etag)
        : r.lastModified !== undefined && !Number.isNaN(ims) && Math.floor(r.lastModified / 1000) * 1000 <= ims;
    if (unchanged && (r.status ?? 200) === 200) {
      count(path).notModified++;
      return void res.writeHead(304, headers).end();
    }
    count(path).full++;
    const length = String(Buffer.byteLength(body));
    res.writeHead(r.status ?? 200, { "content-type": "text/plain", "content-length": length, ...headers }).end(body);
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    requests.push([path, req.headers]);
    req.resume();
    const h = held.get(path);
    if (h) {
      h.waiters.push(() => answer(req, res, path));
      h.onHeld?.();
    } else answer(req, res, path);
  });
  const s = await serve(server);
  return {
    ...s,
    served,
    requests,
    waiting: (path) => held.get(path)?.waiters.length ?? 0,
    route: (path, route) => void routes.set(path, route),
    hold: (path, onHeld) => void held.set(path, { waiters: held.get(path)?.waiters ?? [], onHeld }),
    release(path) {
      const h = held.get(path);
      held.delete(path);
      for (const w of h?.waiters ?? []) w();
    },
  };
}
