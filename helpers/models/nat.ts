// Network address translation as a model: a source-NAT (masquerade / PAT) translation table as a
// plain class with an explicit clock. Notebook 42 holds it against the kernel's real one in a lab
// (net/services' tcpServer with tellPeer shows what a server sees; os/procnet reads conntrack).
//
// The model follows Linux where it matters for the lesson:
//   - a mapping is unique per (protocol, public address:port, remote address:port): two flows may
//     share a public port when they go to different remotes;
//   - the inside port is kept when that is still unique, and only a collision moves it;
//   - a mapping lives while it is used: each packet restarts its idle timer (30 s for UDP and
//     432000 s, five days, for an established TCP connection: the kernel's defaults).
// It differs in one visible way: on a collision the model takes the next free port upward, while
// Linux starts its search at a random point of 1024..65535, so its choice cannot be predicted.

import { isIPv4 } from "node:net";

export type Proto = "tcp" | "udp";

export class NatError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "NatError";
  }
}

/** "10.0.0.1:80" → ["10.0.0.1", 80], with a clear error for anything else. */
export function splitEndpoint(endpoint: string): [string, number] {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(endpoint);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !isIPv4(m[1]) || port < 1 || port > 65535) {
    throw new NatError("ERR_NAT_ENDPOINT", `"${endpoint}" is not an IPv4 address:port like "192.168.1.10:5000"`);
  }
  return [m[1], port];
}

export interface NatOptions {
  /** The router's address on the outside: every translated flow leaves from it. */
  publicAddress: string;
  /** Ports a moved flow may get (default 1024..65535, as Linux for inside ports ≥ 1024). */
  ports?: [number, number];
  /** Idle timeouts in seconds (defaults: the kernel's 30 for UDP, 432000 for established TCP). */
  timeouts?: Partial<Record<Proto, number>>;
}

export interface Mapping {
  proto: Proto;
  /** The private side, "192.168.1.10:5000". */
  inside: string;
  /** The far end, "10.0.0.2:80". */
  remote: string;
  /** What the remote sees as the source, "203.0.113.1:5000". */
  public: string;
  /** Seconds on the model's clock. */
  created: number;
  lastUsed: number;
  /** A static port forward (DNAT), made by forward(): never expires. */
  forwarded?: boolean;
}

export interface Outbound {
  /** The source the packet leaves with. */
  public: string;
  /** True when this packet made a new mapping. */
  created: boolean;
  /** True when the inside port is also the public port. */
  kept: boolean;
}

export interface Inbound {
  /** Where the packet is delivered inside, or null: no mapping, the router drops it. */
  inside: string | null;
  why: "reply to a mapping" | "port forward" | "no mapping";
}

/** A source-NAT translation table. Times are seconds on a clock the caller passes in. */
export class NatTable {
  readonly publicAddress: string;
  readonly ports: [number, number];
  readonly timeouts: Record<Proto, number>;
  private readonly mappings: Mapping[] = [];
  private readonly forwards = new Map<string, string>();

  constructor(opts: NatOptions) {
    if (!isIPv4(opts.publicAddress))
      throw new NatError("ERR_NAT_OPTIONS", `publicAddress "${opts.publicAddress}" is not an IPv4 address`);
    this.publicAddress = opts.publicAddress;
    this.ports = opts.ports ?? [1024, 65535];
    const [lo, hi] = this.ports;
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && 1 <= lo && lo <= hi && hi <= 65535)) {
      throw new NatError("ERR_NAT_OPTIONS", "ports must be [low, high] within 1..65535");
    }
    this.timeouts = { udp: 30, tcp: 432000, ...opts.timeouts };
  }

  /** A packet from `inside` to `remote` leaves through the router at time `now`. */
  outbound(proto: Proto, inside: string, remote: string, now: number): Outbound {
    splitEndpoint(inside);
    splitEndpoint(remote);
    this.expire(now);
    const found = this.mappings.find((m) => m.proto === proto && m.inside === inside && m.remote === remote);
    if (found) {
      found.lastUsed = now;
      return { public: found.public, created: false, kept: found.public.endsWith(`:${splitEndpoint(inside)[1]}`) };
    }
    const wanted = splitEndpoint(inside)[1];
    const port = this.choosePort(proto, remote, wanted);
    const mapping: Mapping = {
      proto,
      inside,
      remote,
      public: `${this.publicAddress}:${port}`,
      created: now,
      lastUsed: now,
    };
    this.mappings.push(mapping);
    return { public: mapping.public, created: true, kept: port === wanted };
  }

  /** A packet from `remote` to the router's public port `publicPort` arrives at time `now`. */
  inbound(proto: Proto, remote: string, publicPort: number, now: number): Inbound {
    this.expire(now);
    const target = `${this.publicAddress}:${publicPort}`;
    const reply = this.mappings.find((m) => m.proto === proto && m.public === target && m.remote === remote);
    if (reply) {
      reply.lastUsed = now;
      return { inside: reply.inside, why: "reply to a mapping" };
    }
    const forward = this.forwards.get(`${proto}:${publicPort}`);
    if (forward) return { inside: forward, why: "port forward" };
    return { inside: null, why: "no mapping" };
  }

  /** A static port forward (DNAT): new connections to `publicPort` go to `inside`. */
  forward(proto: Proto, publicPort: number, inside: string): void {
    splitEndpoint(inside);
    this.forwards.set(`${proto}:${publicPort}`, inside);
  }

  /** Removes the mappings idle for longer than their timeout at `now`, and returns them. */
  expire(now: number): Mapping[] {
    const gone = this.mappings.filter((m) => now - m.lastUsed > this.timeouts[m.proto]);
    for (const m of gone) this.mappings.splice(this.mappings.indexOf(m), 1);
    return gone;
  }

  /** The table at `now`, one row per mapping, in the order they were made. */
  rows(
    now: number,
  ): Array<{ proto: Proto; inside: string; remote: string; public: string; "idle s": number; "expires in s": number }> {
    return this.mappings.map((m) => ({
      proto: m.proto,
      inside: m.inside,
      remote: m.remote,
      public: m.public,
      "idle s": now - m.lastUsed,
      "expires in s": this.timeouts[m.proto] - (now - m.lastUsed),
    }));
  }

  private taken(proto: Proto, remote: string, port: number): boolean {
    const candidate = `${this.publicAddress}:${port}`;
    return this.mappings.some((m) => m.proto === proto && m.remote === remote && m.public === candidate);
  }

  private choosePort(proto: Proto, remote: string, wanted: number): number {
    if (!this.taken(proto, remote, wanted)) return wanted;
    const [lo, hi] = this.ports;
    const size = hi - lo + 1;
    const start = wanted >= lo && wanted <= hi ? wanted - lo : 0;
    for (let i = 1; i <= size; i++) {
      const port = lo + ((start + i) % size);
      if (!this.taken(proto, remote, port)) return port;
    }
    throw new NatError("ERR_NAT_EXHAUSTED", `no free public port for ${proto} to ${remote}`);
  }
}
