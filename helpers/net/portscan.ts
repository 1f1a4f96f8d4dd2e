// A TCP connect scanner: for each port, try the full handshake and classify what happened.
//   open      the connection was accepted (the SYN was answered with SYN/ACK)
//   closed    ECONNREFUSED: the SYN was answered with a reset, by the host's kernel or a firewall
//   filtered  nothing came back within the timeout (or an ICMP error said the target is
//             unreachable): a firewall that drops, or no host at all
// Ports are probed a few at a time (`concurrency`), each with its own timeout. A scan only goes
// to addresses this process owns: loopback, or a lab host's subnet (helpers/lab/index.ts) as seen from
// inside a lab host. It refuses anything else before a single packet is sent.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";
import type { Action, Proto } from "../models/firewall";
import { assertInLabHost } from "../os/netns";
import { nowMs } from "../os/time";
import { ipv4ToInt as toNumber } from "../wire/addr";

export type PortState = "open" | "closed" | "filtered";

export interface PortResult {
  port: number;
  state: PortState;
  /** Why: "connection accepted", "ECONNREFUSED (RST)", "no answer within 1000 ms", … */
  reason: string;
  /** How long the probe took, in ms (measured: varies from run to run). */
  ms: number;
}

export interface ScanReport {
  address: string;
  /** One per port, in the order the ports were given. */
  results: PortResult[];
  /** The most probes that were in flight at once (never more than `concurrency`). */
  maxInFlight: number;
  /** Wall-clock time of the whole scan, in ms (measured). */
  ms: number;
}

export interface ScanOptions {
  /** Probes in flight at once (default 32). */
  concurrency?: number;
  /** How long one probe waits for the handshake before calling the port filtered (default 1000). */
  timeoutMs?: number;
}

export class PortScanError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PortScanError";
  }
}

/** What a probe's outcome means: "connected", "timeout", or a socket error's code. */
export function classify(outcome: string, timeoutMs: number): { state: PortState; reason: string } {
  if (outcome === "connected") return { state: "open", reason: "connection accepted" };
  if (outcome === "ECONNREFUSED") return { state: "closed", reason: "ECONNREFUSED (RST)" };
  if (outcome === "timeout") return { state: "filtered", reason: `no answer within ${timeoutMs} ms` };
  // EHOSTUNREACH, ENETUNREACH, …: an ICMP error or a failed ARP; nmap counts these as filtered too.
  return { state: "filtered", reason: outcome };
}

const isIPv4 = (ip: string) => net.isIPv4(ip);

/** True when `address` is loopback, or on the subnet of a lab interface (MAC 02:00:00:00:…) of
 *  `interfaces`, which are this process's own unless given. */
export function isOwned(
  address: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): boolean {
  if (!isIPv4(address)) return false;
  const a = toNumber(address);
  if (a >>> 24 === 127) return true;
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      if (i.family !== "IPv4" || i.internal || !i.mac.startsWith("02:00:00:00:")) continue;
      const mask = toNumber(i.netmask);
      if ((a & mask) >>> 0 === (toNumber(i.address) & mask) >>> 0) return true;
    }
  }
  return false;
}

function checkArguments(address: string, ports: number[], opts: ScanOptions): void {
  if (!isOwned(address)) {
    throw new PortScanError(
      "ERR_SCAN_TARGET",
      `${address} is not loopback or a lab host's subnet seen from inside the lab: refusing to scan it`,
    );
  }
  if (!Array.isArray(ports) || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new PortScanError("ERR_SCAN_PORTS", "ports must be integers in 1..65535");
  }
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) {
    throw new PortScanError("ERR_SCAN_OPTIONS", "concurrency must be a whole number ≥ 1");
  }
  if (opts.timeoutMs !== undefined && !(opts.timeoutMs > 0))
    throw new PortScanError("ERR_SCAN_OPTIONS", "timeoutMs must be > 0");
}

/** One connect probe. Does not check ownership: call it through scan(). */
function probeOne(address: string, port: number, timeoutMs: number): Promise<PortResult> {
  const t0 = nowMs();
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (outcome: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ port, ...classify(outcome, timeoutMs), ms: nowMs() - t0 });
    };
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    socket.once("connect", () => done("connected"));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** Probes every port of `address`, at most `concurrency` at a time. */
export async function scan(address: string, ports: number[], opts: ScanOptions = {}): Promise<ScanReport> {
  checkArguments(address, ports, opts);
  const concurrency = opts.concurrency ?? 32;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const results: PortResult[] = new Array(ports.length);
  let next = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const t0 = nowMs();
  const worker = async () => {
    while (next < ports.length) {
      const k = next++;
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      results[k] = await probeOne(address, ports[k], timeoutMs);
      inFlight--;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, worker));
  return { address, results, maxInFlight, ms: nowMs() - t0 };
}

/** Ports grouped by state, each list sorted: a scan's summary. */
export function byState(results: PortResult[]): Record<PortState, number[]> {
  const out: Record<PortState, number[]> = { open: [], closed: [], filtered: [] };
  for (const r of results) out[r.state].push(r.port);
  for (const list of Object.values(out)) list.sort((x, y) => x - y);
  return out;
}

/** TCP listeners on fixed ports (inside a lab host, where the namespace is private) that accept
 *  and close. A service: stays up until close(). */
export async function listen(ports: number[], address = "0.0.0.0") {
  // A cell run twice: the listeners it started the first time make way.
  for (const port of ports) await listening.get(port)?.close();
  const servers: net.Server[] = [];
  try {
    for (const port of ports) {
      const server = net.createServer((s) => s.on("error", () => {}).end());
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, address, () => resolve());
      });
      servers.push(server);
    }
  } catch (e) {
    for (const s of servers) s.close();
    throw e;
  }
  let closing: Promise<number> | undefined;
  const service = {
    ports: servers.map((s) => (s.address() as net.AddressInfo).port),
    close: () =>
      (closing ??= Promise.all(servers.map((s) => new Promise((r) => s.close(r)))).then(() => servers.length)),
  };
  for (const port of service.ports) listening.set(port, service);
  return service;
}
const listening = new Map<number, { close(): Promise<number> }>();

// ---- a firewall's verdict, seen from the client --------------------------------------------

export interface ProbeResult {
  verdict: Action;
  /** What the socket saw: "connected", "ECONNREFUSED (RST)", "reply", "ECONNREFUSED (ICMP)", "timeout". */
  detail: string;
}

/**
 * One TCP connect or one UDP datagram to `address`:`port`, and what it met, as a verdict: an
 * answer means accept, a refusal (a TCP reset or an ICMP port unreachable) reject, silence until
 * `timeoutMs` drop. Keep `timeoutMs` under a second: a dropped SYN is sent again after one second,
 * and a probe should cost one packet. A UDP probe expects a server that answers (net/services udpServer with a reply).
 */
export async function probe(proto: Proto, address: string, port: number, timeoutMs = 500): Promise<ProbeResult> {
  assertInLabHost("portscan.probe");
  if (proto === "tcp") {
    const [r] = (await scan(address, [port], { timeoutMs })).results;
    const verdict: Action = r.state === "open" ? "accept" : r.state === "closed" ? "reject" : "drop";
    return {
      verdict,
      detail:
        r.state === "open"
          ? "connected"
          : r.state === "closed"
            ? r.reason
            : r.reason.startsWith("no answer")
              ? "timeout"
              : r.reason,
    };
  }
  // A connected UDP socket: the kernel reports an ICMP port unreachable to it as ECONNREFUSED.
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(port, address, () => resolve());
    });
    return await new Promise<ProbeResult>((resolve) => {
      const timer = setTimeout(() => resolve({ verdict: "drop", detail: "timeout" }), timeoutMs);
      socket.once("message", () => {
        clearTimeout(timer);
        resolve({ verdict: "accept", detail: "reply" });
      });
      socket.on("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(
          e.code === "ECONNREFUSED"
            ? { verdict: "reject", detail: "ECONNREFUSED (ICMP)" }
            : { verdict: "reject", detail: e.code ?? e.message },
        );
      });
      socket.send("probe");
    });
  } finally {
    socket.close();
  }
}
