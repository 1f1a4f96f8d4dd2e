// The kernel's own records of the network, as this process's network namespace sees them: the
// SNMP and extended counters (/proc/net/snmp, /proc/net/netstat), per-interface counters
// (/proc/net/dev), a UDP socket's drops (/proc/net/udp), connection tracking
// (/proc/net/nf_conntrack), multicast memberships (/proc/net/igmp), a TCP connection's queues and
// timer as `ss` (iproute2) prints them, and IPv4 sysctls. Each has a pure parser (tested on text)
// and a reader. Run inside a lab host, they show that host's numbers.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { endianness } from "node:os";
import { ipv4Bytes, ipv4Text } from "../wire/addr";

/** A /proc file that cannot be read as its format says. */
export class ProcNetError extends Error {
  readonly code = "ERR_PROC_NET";
  constructor(message: string) {
    super(message);
    this.name = "ProcNetError";
  }
}

// ---- SNMP counters ------------------------------------------------------------------------------

/** /proc/net/snmp or /proc/net/netstat as { Ip: { ForwDatagrams: n, … }, Icmp: { … }, … }: each
 *  group is a line of names followed by a line of values. */
export function parseSnmp(text: string, file = "/proc/net/snmp"): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const lines = text.split("\n").filter((l) => l.includes(":"));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [group, names] = lines[i].split(/:\s*/);
    const [group2, values] = lines[i + 1].split(/:\s*/);
    if (group !== group2) throw new ProcNetError(`${file}: expected a line of values for ${group}, got ${group2}`);
    const v = values.trim().split(/\s+/).map(Number);
    out[group] = Object.fromEntries(
      names
        .trim()
        .split(/\s+/)
        .map((n, k) => [n, v[k]]),
    );
  }
  return out;
}

/** This host's SNMP counters, by group. */
export const snmpCounters = () => parseSnmp(readFileSync("/proc/net/snmp", "utf8"));

/** Named counters from /proc/net/snmp and /proc/net/netstat, e.g. "Icmp.InCsumErrors" or
 *  "IpExt.InTruncatedPkts"; a name the kernel does not have is an error. */
export function counters(names: string[]): Record<string, number> {
  const all = new Map<string, number>();
  for (const file of ["/proc/net/snmp", "/proc/net/netstat"]) {
    for (const [group, values] of Object.entries(parseSnmp(readFileSync(file, "utf8"), file))) {
      for (const [name, value] of Object.entries(values)) all.set(`${group}.${name}`, value);
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const v = all.get(n);
      if (v === undefined) throw new ProcNetError(`no counter ${n} in /proc/net/snmp or /proc/net/netstat`);
      return [n, v];
    }),
  );
}

// ---- interfaces ---------------------------------------------------------------------------------

/** Per-interface counters of /proc/net/dev. */
export interface NetDevCounters {
  rx_bytes: number; rx_packets: number; rx_errs: number; rx_drop: number;
  tx_bytes: number; tx_packets: number; tx_errs: number; tx_drop: number;
} // prettier-ignore

export function parseNetDev(text: string): Record<string, NetDevCounters> {
  const out: Record<string, NetDevCounters> = {};
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n)))
      throw new ProcNetError(`/proc/net/dev: expected 16 numbers for ${m[1]}, got ${JSON.stringify(m[2])}`);
    out[m[1]] = {
      rx_bytes: v[0],
      rx_packets: v[1],
      rx_errs: v[2],
      rx_drop: v[3],
      tx_bytes: v[8],
      tx_packets: v[9],
      tx_errs: v[10],
      tx_drop: v[11],
    };
  }
  return out;
}

export const netDevCounters = () => parseNetDev(readFileSync("/proc/net/dev", "utf8"));

// ---- UDP sockets --------------------------------------------------------------------------------

/** The datagrams the kernel dropped at this host's UDP socket on `address`:`port` (127.0.0.1
 *  unless given) because its receive buffer was full: the last column of the socket's line in
 *  /proc/net/udp, whose local address reads e.g. 0100007F:<port in hex> (the address as the
 *  kernel's 32-bit word, printed in this machine's byte order). */
export function udpSocketDrops(port: number, address = "127.0.0.1"): number {
  const word = ipv4Bytes(address);
  const hex = (endianness() === "LE" ? Buffer.from(word).reverse() : word).toString("hex").toUpperCase();
  const local = `${hex}:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const line = readFileSync("/proc/net/udp", "utf8")
    .split("\n")
    .find((l) => l.trim().split(/\s+/)[1] === local);
  if (!line) throw new ProcNetError(`/proc/net/udp has no socket on ${address}:${port}`);
  return Number(line.trim().split(/\s+/).pop());
}

// ---- connection tracking ------------------------------------------------------------------------

export interface Tuple {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

export interface ConntrackEntry {
  proto: string;
  /** TCP's state ("ESTABLISHED", "TIME_WAIT", …); "" for UDP. */
  state: string;
  /** Seconds left before the entry expires (varies from run to run). */
  timeout: number;
  /** The packet's direction as the first packet had it: inside → remote. */
  original: Tuple;
  /** What a reply must look like: remote → public address. A NAT shows here. */
  reply: Tuple;
  /** "[ASSURED]", "[UNREPLIED]", … */
  flags: string[];
}

/** Parses /proc/net/nf_conntrack (or `conntrack -L` output: the same fields without the first two). */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split("\n")) {
    let words = line.trim().split(/\s+/).filter(Boolean);
    if (words[0] === "ipv4" || words[0] === "ipv6") words = words.slice(2);
    if (words.length < 3) continue;
    const [proto, , timeout, ...rest] = words;
    const tuples: Tuple[] = [];
    let state = "";
    const flags: string[] = [];
    let current: Partial<Tuple> = {};
    for (const w of rest) {
      const kv = /^(src|dst|sport|dport)=(.*)$/.exec(w);
      if (kv) {
        const [, key, value] = kv;
        if (key === "src" && current.src !== undefined) {
          tuples.push(current as Tuple);
          current = {};
        }
        if (key === "src" || key === "dst") current[key] = value;
        else current[key as "sport" | "dport"] = Number(value);
      } else if (/^\[.*\]$/.test(w)) flags.push(w);
      else if (/^[A-Z_]+$/.test(w) && tuples.length === 0 && current.src === undefined) state = w;
    }
    if (current.src !== undefined) tuples.push(current as Tuple);
    if (tuples.length < 2) continue;
    out.push({ proto, state, timeout: Number(timeout), original: tuples[0], reply: tuples[1], flags });
  }
  return out;
}

/** This host's connection-tracking table (run inside a NAT router). */
export const conntrack = () => parseConntrack(readFileSync("/proc/net/nf_conntrack", "utf8"));

// ---- multicast memberships ----------------------------------------------------------------------

export interface IgmpDevice {
  device: string;
  /** The IGMP version the interface speaks ("V3"). */
  version: string;
  groups: { group: string; users: number }[];
}

/** /proc/net/igmp: per interface, the IPv4 groups joined. The kernel prints each group as a
 *  32-bit number in the machine's byte order, so on a little-endian machine 239.55.0.1 reads
 *  "010037EF": the bytes come out reversed. */
export function parseIgmp(text: string, littleEndian = endianness() === "LE"): IgmpDevice[] {
  const devices: IgmpDevice[] = [];
  for (const line of text.split("\n").slice(1)) {
    const head = /^\d+\s+(\S+)\s*:\s*\d+\s+(V\d)/.exec(line);
    if (head) {
      devices.push({ device: head[1], version: head[2], groups: [] });
      continue;
    }
    const member = /^\s+([0-9A-Fa-f]{8})\s+(\d+)/.exec(line);
    if (member && devices.length) {
      const bytes = Buffer.from(member[1], "hex");
      if (littleEndian) bytes.reverse();
      devices[devices.length - 1].groups.push({ group: ipv4Text(bytes), users: Number(member[2]) });
    }
  }
  return devices;
}

/** This host's memberships, as the kernel reports them (per network namespace). */
export const igmpGroups = () => parseIgmp(readFileSync("/proc/net/igmp", "utf8"));

// ---- a TCP connection, as ss sees it ------------------------------------------------------------

/** What `ss -tnmio` says about one connection: its queues, buffer sizes and timer. */
export interface SsView {
  /** Receive queue: bytes the kernel holds that the application has not read. */
  recvQ: number;
  /** Send queue: bytes written by the application and not yet acknowledged by the peer. */
  sendQ: number;
  /** Receive and send buffer sizes (skmem rb, tb). */
  rb: number;
  tb: number;
  /** The timer running, e.g. "persist", "on" (retransmission), "keepalive", or "" for none. */
  timer: string;
  line: string;
}

/** Parses the line `ss -tnmio` prints for one connection (header removed, lines joined). */
export function parseSs(line: string): SsView {
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  return {
    recvQ: num(/^(\d+) /),
    sendQ: num(/^\d+ (\d+) /),
    rb: num(/\brb(\d+)/),
    tb: num(/\btb(\d+)/),
    timer: /timer:\((\w+),/.exec(line)?.[1] ?? "",
    line,
  };
}

/** The kernel's view of an established TCP connection, from `ss` (iproute2): an independent check
 *  of what getsockopt and TCP_INFO say. */
export function ssView(s: Socket): SsView {
  const filter = `sport = :${s.localPort} and dport = :${s.remotePort}`;
  const out = execFileSync("ss", ["-tnmio", "state", "established", filter], { encoding: "utf8" });
  const line = out.split("\n").slice(1).join(" ").replace(/\s+/g, " ").trim();
  if (!line) throw new ProcNetError(`ss does not list ${filter}`);
  return parseSs(line);
}

// ---- sysctls ------------------------------------------------------------------------------------

/** Sets an IPv4 sysctl of this host's namespace, e.g. ("icmp_ratelimit", "0"); returns what the
 *  kernel then reports. */
export function setIpv4Sysctl(name: string, value: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) {
    throw Object.assign(new RangeError(`not a sysctl name: ${name}`), { code: "ERR_INVALID_ARG_VALUE" });
  }
  const path = `/proc/sys/net/ipv4/${name}`;
  writeFileSync(path, `${value}\n`);
  return readFileSync(path, "utf8").trim();
}
