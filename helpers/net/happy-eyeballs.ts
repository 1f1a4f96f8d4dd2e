// Connecting to a name that has IPv6 and IPv4 addresses, two ways, each recording a timeline of its
// connection race: Happy Eyeballs version 2 (RFC 8305) written out by hand, and Node's own
// `autoSelectFamily` (net.connect), observed through its connection-attempt events. Both resolve
// the name with net/dns's stub resolver against a given DNS server, so they run inside a lab host
// against the lab's own DNS. The server is expected to tell each client its address in a first
// line (services.tcpServer with `tellPeer`), which becomes the result's `peer`.
import * as net from "node:net";
import { nowMs } from "../os/time";
import { resolve, type Resolved } from "./dns";

export interface RaceEvent {
  /** Milliseconds since the race began (two decimals). */
  t: number;
  what: "query" | "answer" | "attempt" | "connected" | "failed" | "abandoned" | "gave up";
  family?: 4 | 6;
  address?: string;
  /** An error code, a record type, … */
  detail?: string;
}

export interface RaceResult {
  /** The address that connected, or null. */
  winner: { address: string; family: 4 | 6 } | null;
  /** What the server said the client's address was ("::ffff:10.0.0.2:41234"), if it connected. */
  peer: string | null;
  events: RaceEvent[];
  /** From the start to the connection (or to giving up). */
  ms: number;
}

export interface RaceOptions {
  /** The DNS server to ask, and its port (default 53). */
  dns: string;
  dnsPort?: number;
  /** Give up after this long (default 3000 ms). */
  timeoutMs?: number;
}

export interface HappyEyeballsOptions extends RaceOptions {
  /** RFC 8305 §5's Connection Attempt Delay: 250 ms recommended, 100 ms at least. */
  attemptDelayMs?: number;
  /** RFC 8305 §3's Resolution Delay: how long to wait for AAAA once A has come (50 ms). */
  resolutionDelayMs?: number;
}

type Target = { address: string; family: 4 | 6 };

const clock = () => {
  const start = nowMs();
  return () => Math.round((nowMs() - start) * 100) / 100;
};

/** Reads the server's first line from a connected socket, then closes the socket. */
function firstLine(s: net.Socket, ms: number): Promise<string | null> {
  return new Promise((done) => {
    let text = "";
    const timer = setTimeout(() => finish(null), ms);
    const finish = (line: string | null) => {
      clearTimeout(timer);
      s.destroy();
      done(line);
    };
    s.on("data", (d) => {
      text += d;
      if (text.includes("\n")) finish(text.split("\n")[0]);
    });
    s.on("close", () => finish(text || null));
  });
}

/** RFC 8305 §4: interleave the families, IPv6 first (First Address Family Count 1). */
export function interleave(v6: string[], v4: string[]): Target[] {
  const out: Target[] = [];
  for (let i = 0; i < Math.max(v6.length, v4.length); i++) {
    if (i < v6.length) out.push({ address: v6[i], family: 6 });
    if (i < v4.length) out.push({ address: v4[i], family: 4 });
  }
  return out;
}

/**
 * Happy Eyeballs v2 to `name`:`port`. AAAA and A are asked at once (§3); if A comes first, AAAA
 * gets the Resolution Delay. Addresses are interleaved (§4); one attempt starts, and every
 * Connection Attempt Delay, or as soon as an attempt fails, the next one starts, while the earlier
 * ones keep going (§5). The first to connect wins and the others are abandoned.
 */
export async function happyEyeballs(name: string, port: number, options: HappyEyeballsOptions): Promise<RaceResult> {
  const t = clock();
  const events: RaceEvent[] = [];
  const delay = Math.max(100, options.attemptDelayMs ?? 250); // §5: never below 100 ms
  const resolutionDelay = options.resolutionDelayMs ?? 50;
  const timeoutMs = options.timeoutMs ?? 3000;
  const ask = (type: "A" | "AAAA") => {
    events.push({ t: t(), what: "query", detail: type });
    return resolve(options.dns, options.dnsPort ?? 53, name, type, timeoutMs).then((r: Resolved) => {
      events.push({ t: t(), what: "answer", detail: `${type} ${r.addresses.join(", ") || r.rcode}` });
      return r.addresses;
    });
  };
  return new Promise<RaceResult>((done) => {
    const pending: Target[] = [];
    const live = new Map<net.Socket, Target>();
    let v6: string[] | null = null;
    let v4: string[] | null = null;
    let started = false;
    let finished = false;
    let next: ReturnType<typeof setTimeout> | undefined;
    const giveUp = setTimeout(() => finish(null, null), timeoutMs);
    const finish = (winner: Target | null, socket: net.Socket | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(next);
      clearTimeout(giveUp);
      for (const [s, target] of live) {
        if (s === socket) continue;
        s.destroy();
        events.push({ t: t(), what: winner ? "abandoned" : "gave up", ...target });
      }
      live.clear();
      const ms = t();
      if (!socket) return done({ winner, peer: null, events, ms });
      void firstLine(socket, 1000).then((peer) => done({ winner, peer, events, ms }));
    };
    const attemptNext = () => {
      clearTimeout(next);
      if (finished) return;
      const target = pending.shift();
      if (!target) {
        if (live.size === 0 && v6 !== null && v4 !== null) finish(null, null); // nothing left to try
        return;
      }
      events.push({ t: t(), what: "attempt", ...target });
      const s = net.connect({ host: target.address, port });
      live.set(s, target);
      s.once("connect", () => {
        if (finished) return void s.destroy();
        events.push({ t: t(), what: "connected", ...target });
        finish(target, s);
      });
      s.once("error", (e: NodeJS.ErrnoException) => {
        if (finished || !live.delete(s)) return;
        events.push({ t: t(), what: "failed", ...target, detail: e.code ?? e.message });
        attemptNext(); // §5: a failure starts the next attempt at once
      });
      next = setTimeout(attemptNext, delay);
    };
    const start = () => {
      if (started || finished) return;
      started = true;
      pending.push(...interleave(v6 ?? [], v4 ?? []));
      attemptNext();
    };
    void ask("AAAA").then((a) => {
      v6 = a;
      if (!started) return start();
      // AAAA came after the attempts began: its addresses go to the front of what is left (§4).
      pending.unshift(...a.map((address): Target => ({ address, family: 6 })));
      if (live.size === 0) attemptNext();
    });
    void ask("A").then((a) => {
      v4 = a;
      if (!started) {
        if (v6 !== null) return start();
        return void setTimeout(start, resolutionDelay); // §3: give AAAA a moment before going IPv4-only
      }
      // A came after the attempts began (on AAAA): interleave its addresses with what is left.
      const left = pending.splice(0);
      pending.push(
        ...interleave(
          left.filter((x) => x.family === 6).map((x) => x.address),
          a,
        ),
      );
      if (live.size === 0) attemptNext();
    });
  });
}

export interface AutoSelectOptions extends RaceOptions {
  /** net.connect's autoSelectFamilyAttemptTimeout (Node's default 250 ms; at least 10). */
  attemptTimeoutMs?: number;
}

/**
 * Node's own family selection: net.connect with `autoSelectFamily`, its lookup answered by our
 * resolver (AAAA and A, IPv6 first). Node tries one address at a time: when an attempt has not
 * connected within the attempt timeout, Node abandons it and tries the next, and the last address
 * gets no timeout of its own. Its `connectionAttempt*` events make the timeline.
 */
export function autoSelect(name: string, port: number, options: AutoSelectOptions): Promise<RaceResult> {
  const t = clock();
  const events: RaceEvent[] = [];
  const timeoutMs = options.timeoutMs ?? 3000;
  const family = (f: number): 4 | 6 => (f === 6 ? 6 : 4);
  const lookup: net.LookupFunction = (host, opts, callback) => {
    const ask = (type: "A" | "AAAA") => resolve(options.dns, options.dnsPort ?? 53, host, type, timeoutMs);
    void Promise.all([ask("AAAA"), ask("A")]).then(([six, four]) => {
      const all = interleave(six.addresses, four.addresses);
      events.push({ t: t(), what: "answer", detail: all.map((a) => a.address).join(", ") || "none" });
      if (!all.length) return callback(Object.assign(new Error(`no address for ${host}`), { code: "ENOTFOUND" }), "");
      if (opts.all) callback(null, all);
      else callback(null, all[0].address, all[0].family);
    });
  };
  return new Promise<RaceResult>((done) => {
    const s = net.connect({
      host: name,
      port,
      lookup,
      autoSelectFamily: true,
      autoSelectFamilyAttemptTimeout: options.attemptTimeoutMs ?? 250,
    });
    let finished = false;
    const finish = (winner: Target | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(giveUp);
      const ms = t();
      if (!winner) {
        s.destroy();
        return done({ winner, peer: null, events, ms });
      }
      void firstLine(s, 1000).then((peer) => done({ winner, peer, events, ms }));
    };
    const giveUp = setTimeout(() => {
      const last = [...events].reverse().find((e) => e.what === "attempt");
      events.push({ t: t(), what: "gave up", family: last?.family, address: last?.address });
      finish(null);
    }, timeoutMs);
    s.on("connectionAttempt", (ip: string, _port: number, f: number) =>
      events.push({ t: t(), what: "attempt", address: ip, family: family(f) }),
    );
    s.on("connectionAttemptFailed", (ip: string, _port: number, f: number, e: NodeJS.ErrnoException) =>
      events.push({ t: t(), what: "failed", address: ip, family: family(f), detail: e?.code }),
    );
    s.on("connectionAttemptTimeout", (ip: string, _port: number, f: number) =>
      events.push({ t: t(), what: "abandoned", address: ip, family: family(f), detail: "attempt timeout" }),
    );
    s.once("connect", () => {
      const address = s.remoteAddress ?? "";
      events.push({ t: t(), what: "connected", address, family: family(net.isIPv6(address) ? 6 : 4) });
      finish({ address, family: net.isIPv6(address) ? 6 : 4 });
    });
    s.once("error", (e: NodeJS.ErrnoException) => {
      events.push({ t: t(), what: "failed", detail: e.code ?? e.message });
      finish(null);
    });
  });
}
