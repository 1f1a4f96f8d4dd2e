// Broadcast and multicast with UDP, for functions run inside lab hosts (helpers/lab/index.ts):
// a receiver that can join and leave groups on a named interface, a sender with the options that
// matter (SO_BROADCAST, IP_MULTICAST_IF, IP_MULTICAST_TTL), and the kernel's own list of group
// memberships from /proc/net/igmp. Results are plain JSON; a failed send is reported by its
// error code (EACCES), because in these experiments the refusal is the lesson.
import * as dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { assertInLabHost } from "../lab/guard";
import { ipv4Bytes, ipv4Text, isIpv4 } from "../wire/addr";

export interface Datagram {
  text: string;
  from: string;
}

// Receivers started in this process by port: a cell run twice replaces its receiver.
const receivers = new Map<number, { close(): Promise<number> }>();

/** A UDP receiver bound to `port` on all of the host's addresses (a socket bound to one unicast
 *  address would not see broadcasts). A service: stays up until close(). */
export async function receiver(port: number) {
  await receivers.get(port)?.close();
  const socket = dgram.createSocket("udp4");
  const got: Datagram[] = [];
  const joined = new Set<string>();
  socket.on("message", (msg, from) => got.push({ text: msg.toString(), from: from.address }));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "0.0.0.0", () => resolve());
  });
  let closing: Promise<number> | undefined;
  const service = {
    port: socket.address().port,
    /** Datagrams whose text starts with `prefix` (all of them without one). */
    count: (prefix = "") => got.filter((d) => d.text.startsWith(prefix)).length,
    received: () => got.slice(),
    /** IP_ADD_MEMBERSHIP on the interface that has address `iface`; joining twice is a no-op. */
    join(group: string, iface: string) {
      if (joined.has(`${group}@${iface}`)) return false;
      socket.addMembership(group, iface);
      joined.add(`${group}@${iface}`);
      return true;
    },
    /** IP_DROP_MEMBERSHIP; leaving a group not joined is a no-op. */
    leave(group: string, iface: string) {
      if (!joined.delete(`${group}@${iface}`)) return false;
      socket.dropMembership(group, iface);
      return true;
    },
    close: () => (closing ??= new Promise<number>((resolve) => socket.close(() => resolve(got.length)))),
  };
  receivers.set(service.port, service);
  return service;
}

export interface SendOptions {
  /** SO_BROADCAST: without it the kernel refuses a broadcast destination with EACCES. */
  broadcast?: boolean;
  /** IP_MULTICAST_IF: the address of the interface multicast leaves from. */
  multicastInterface?: string;
  /** IP_MULTICAST_TTL (the kernel's default is 1: the local segment only). */
  multicastTtl?: number;
}

export interface SendResult {
  sent: number;
  /** The code of the first failed send, e.g. "EACCES". */
  error?: string;
}

/** Sends each text as one datagram to `to`:`port` from a fresh socket. */
export async function send(to: string, port: number, texts: string[], opts: SendOptions = {}): Promise<SendResult> {
  // Loopback stays on this machine; a broadcast or group address is sent only from a lab host.
  if (!to.startsWith("127.")) assertInLabHost("multicast.send");
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
    if (opts.broadcast) socket.setBroadcast(true);
    if (opts.multicastInterface) socket.setMulticastInterface(opts.multicastInterface);
    if (opts.multicastTtl !== undefined) socket.setMulticastTTL(opts.multicastTtl);
    let sent = 0;
    for (const text of texts) {
      const err = await new Promise<Error | null>((resolve) => socket.send(text, port, to, (e) => resolve(e)));
      if (err) return { sent, error: (err as NodeJS.ErrnoException).code ?? err.message };
      sent++;
    }
    return { sent };
  } finally {
    socket.close();
  }
}

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
export function igmpGroups(): IgmpDevice[] {
  return parseIgmp(readFileSync("/proc/net/igmp", "utf8"));
}

/** The Ethernet address an IPv4 group is sent to: 01:00:5e plus the group's low 23 bits. */
export function multicastMac(group: string): string {
  const o = isIpv4(group) ? [...ipv4Bytes(group)] : [];
  if (o.length !== 4 || o[0] < 224 || o[0] > 239) throw new RangeError(`${group} is not an IPv4 multicast address`);
  return [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]].map((b) => b.toString(16).padStart(2, "0")).join(":");
}
