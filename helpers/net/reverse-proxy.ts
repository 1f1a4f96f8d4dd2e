// A reverse proxy: an HTTP server on 127.0.0.1 port 0 that forwards every request to one upstream
// app and streams the body both ways (nothing is buffered whole), doing what RFC 9110 and RFC 7239
// ask of an intermediary:
//
// - hop-by-hop fields are removed in both directions (RFC 9110 §7.6.1): Connection and every field
//   it names, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding and Upgrade;
// - the app is told who the client was: X-Forwarded-For (the de-facto list, one address per hop),
//   X-Real-IP (the one address the proxy believes), X-Forwarded-Proto, and Forwarded (RFC 7239);
// - forwarding headers that arrive are believed only from a trusted proxy (`trusted`: addresses or
//   IPv4 CIDRs of the proxies in front of this one). From anyone else they are dropped and replaced,
//   so a client cannot claim to be someone else. The client is found as nginx's realip module with
//   `real_ip_recursive on` finds it: walk [X-Forwarded-For..., peer] from the right, skipping
//   trusted proxies; the first address that is not one is the client;
// - an upstream that refuses the connection gives the client 502 Bad Gateway; one that does not
//   connect within `connectTimeoutMs`, or does not start its response within `responseTimeoutMs`,
//   gives 504 Gateway Timeout.
//
// The header logic is exported as pure functions (`endToEnd`, `resolveClient`, `forwardingHeaders`).
import * as http from "node:http";
import { inCidr, isIpv4 } from "../wire/addr";
import { formatForwarded, node, parseForwarded, type Forwarded } from "../wire/forwarded";
import { serve, type Served } from "./serve";

/** RFC 9110 §7.6.1's hop-by-hop fields, besides those Connection names. */
export const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"];

/** The headers without the hop-by-hop ones (and without those the Connection field names). */
export function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const connection = String(headers.connection ?? "");
  const named = connection
    .split(",")
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const drop = new Set([...HOP_BY_HOP, ...named]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !drop.has(name.toLowerCase())));
}

const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
const isTrusted = (address: string, trusted: readonly string[]) =>
  isIpv4(address) && trusted.some((t) => inCidr(address, t));

/** The client, as nginx's realip with real_ip_recursive finds it: from the right of
 *  [...xff, peer], the first address that is not a trusted proxy. An entry that is not an
 *  address stops the walk at the last address that was. */
export function resolveClient(xff: readonly string[], peer: string, trusted: readonly string[]): string {
  const chain = [...xff, plain(peer)];
  let client = chain[chain.length - 1];
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!isIpv4(chain[i]) && !chain[i].includes(":")) break;
    client = chain[i];
    if (!isTrusted(client, trusted)) break;
  }
  return client;
}

export interface ForwardingInput {
  headers: http.IncomingHttpHeaders;
  /** The address the request came from (the TCP peer). */
  peer: string;
  trusted: readonly string[];
  proto?: string;
}

/** The forwarding headers this proxy sends on, and the client it believes. */
export function forwardingHeaders(o: ForwardingInput) {
  const peer = plain(o.peer);
  const fromTrusted = isTrusted(peer, o.trusted);
  const xffIn = fromTrusted ? String(o.headers["x-forwarded-for"] ?? "") : "";
  const xff = xffIn
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  let earlier: Forwarded = [];
  if (fromTrusted && o.headers.forwarded) {
    try {
      earlier = parseForwarded(String(o.headers.forwarded));
    } catch {
      earlier = []; // a malformed field from upstream is not passed on
    }
  }
  const proto = o.proto ?? "http";
  const host = String(o.headers.host ?? "");
  const mine = [{ name: "for", value: node(peer) }, ...(host ? [{ name: "host", value: host }] : [])];
  const client = resolveClient(xff, peer, o.trusted);
  return {
    client,
    fromTrusted,
    headers: {
      "x-forwarded-for": [...xff, peer].join(", "),
      "x-real-ip": client,
      "x-forwarded-proto": proto,
      forwarded: formatForwarded([...earlier, [...mine, { name: "proto", value: proto }]]),
    },
  };
}

export interface ReverseProxyOptions {
  upstream: { host?: string; port: number };
  /** Addresses or IPv4 CIDRs of the proxies in front of this one (default: none). */
  trusted?: string[];
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
}

export interface ProxyRecord {
  client: string;
  status: number;
  /** Why the upstream gave no answer: "refused", "connect timeout", "response timeout", ... */
  error?: string;
}

export interface ReverseProxy extends Served {
  readonly log: ProxyRecord[];
}

class UpstreamError extends Error {
  constructor(
    readonly status: 502 | 504,
    readonly why: string,
  ) {
    super(why);
  }
}

export async function startReverseProxy(o: ReverseProxyOptions): Promise<ReverseProxy> {
  const host = o.upstream.host ?? "127.0.0.1";
  const trusted = o.trusted ?? [];
  const log: ProxyRecord[] = [];
  const server = http.createServer((req, res) => {
    const { client, headers } = forwardingHeaders({
      headers: req.headers,
      peer: req.socket.remoteAddress ?? "",
      trusted,
    });
    const outHeaders = { ...endToEnd(req.headers), ...headers };
    const out = http.request({ host, port: o.upstream.port, method: req.method, path: req.url, headers: outHeaders });
    let failed: UpstreamError | undefined;
    const abort = (e: UpstreamError) => {
      failed ??= e;
      out.destroy(e);
    };
    out.on("socket", (socket) => {
      if (!socket.connecting) return;
      const t = setTimeout(() => abort(new UpstreamError(504, "connect timeout")), o.connectTimeoutMs ?? 1000);
      socket.once("connect", () => clearTimeout(t)).once("close", () => clearTimeout(t));
    });
    const waiting = setTimeout(() => abort(new UpstreamError(504, "response timeout")), o.responseTimeoutMs ?? 5000);
    out.on("response", (answer) => {
      clearTimeout(waiting);
      log.push({ client, status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    out.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(waiting);
      const err = failed ?? new UpstreamError(502, e.code === "ECONNREFUSED" ? "refused" : (e.code ?? e.message));
      if (res.headersSent) return void res.destroy();
      log.push({ client, status: err.status, error: err.why });
      const text = err.status === 502 ? "502 Bad Gateway" : "504 Gateway Timeout";
      res.writeHead(err.status, { "content-type": "text/plain", connection: "close" }).end(`${text}: ${err.why}\n`);
    });
    req.pipe(out);
    res.on("close", () => {
      clearTimeout(waiting);
      if (!res.writableFinished) out.destroy(); // the client went away: so does its upstream request
    });
  });
  const served = await serve(server);
  return { ...served, log };
}
