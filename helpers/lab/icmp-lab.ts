// Functions that run INSIDE a lab host (helpers/lab/index.ts: `host.run(icmpLab, "fn", ...)`) for the
// raw-socket notebooks 51, 57 and 58: raw ICMP and IP_HDRINCL sockets, UDP probes with a chosen
// TTL, a dgram receiver, AF_PACKET captures and the kernel's own counters. Arguments and results
// are JSON: every packet travels as a hex string (the whole IPv4 packet, header included, as a
// Linux raw socket delivers it), and the notebook decodes it with helpers/wire/packet.ts.
import { createSocket, type Socket } from "node:dgram";
import { readFileSync, writeFileSync } from "node:fs";
import { nowMs } from "../os/time";
import { dissect } from "../wire/packet";
import { bpf, type BpfInsn } from "../wire/bpf";
import { IPPROTO, openCapture, openRaw, type Capture, type RawSocket } from "../os/rawsock";
import { assertInLabHost } from "./guard";

/** A packet as it crosses the agent boundary: the bytes as hex, and the IPv4 source. */
export interface HexPacket {
  hex: string;
  from?: string;
}

const bytes = (hex: string, what: string): Buffer => {
  if (typeof hex !== "string" || !/^([0-9a-f]{2})*$/i.test(hex))
    throw Object.assign(new TypeError(`${what} must be a hex string of whole bytes`), {
      code: "ERR_INVALID_ARG_VALUE",
    });
  return Buffer.from(hex, "hex");
};
const toHex = (got: { data: Buffer; from?: string }): HexPacket => ({ hex: got.data.toString("hex"), from: got.from });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Receives everything for `ms` milliseconds (a quiet gap of `ms` ends it too). */
async function drainFor(s: RawSocket, ms: number): Promise<HexPacket[]> {
  const out: HexPacket[] = [];
  const end = nowMs() + ms;
  for (let left = ms; left > 0; left = end - nowMs()) {
    const got = await s.recv(left);
    if (!got) break;
    out.push(toHex(got));
  }
  return out;
}

// ---- ICMP on a raw socket (notebook 57) ----------------------------------------------------------

/**
 * Sends `messageHex` (an ICMP message built by the caller: the kernel adds only the IPv4 header)
 * to `dst` on a fresh raw ICMP socket and waits up to `timeoutMs` for the echo reply whose
 * identifier is `id`. The raw socket also receives every other ICMP packet that reaches the
 * host meanwhile: those are returned in `others`, not mistaken for the reply.
 */
export async function echo(
  dst: string,
  messageHex: string,
  { id, timeoutMs = 1000 }: { id: number; timeoutMs?: number },
) {
  assertInLabHost("icmp-lab.echo");
  const message = bytes(messageHex, "messageHex");
  const s = openRaw({ protocol: IPPROTO.ICMP });
  try {
    const others: HexPacket[] = [];
    const t0 = nowMs();
    s.send(message, dst);
    for (let left = timeoutMs; left > 0; left = t0 + timeoutMs - nowMs()) {
      const got = await s.recv(left);
      if (!got) break;
      const m = dissect(got.data).icmp;
      if (m?.kind === "echo-reply" && m.id === id) return { reply: toHex(got), rttMs: nowMs() - t0, others };
      others.push(toHex(got));
    }
    return { reply: null, rttMs: null, others };
  } finally {
    await s.close();
  }
}

/** A raw ICMP socket kept open in the host: what it receives, whoever the packets were for. */
export function icmpSocket() {
  assertInLabHost("icmp-lab.icmpSocket");
  const s = openRaw({ protocol: IPPROTO.ICMP });
  return {
    /** Sends an ICMP message (hex) to `dst`; the kernel adds the IPv4 header. */
    send(messageHex: string, dst: string): void {
      s.send(bytes(messageHex, "messageHex"), dst);
    },
    /** Every packet received within the next `ms` milliseconds (or queued before). */
    drain: (ms: number) => drainFor(s, ms),
    close: () => s.close(),
  };
}

// ---- UDP probes and the ICMP errors they cause (notebook 51) -------------------------------------

export interface ProbeOptions {
  /** The source port, fixed so that the quote in the error can be matched and compared. */
  srcPort: number;
  /** The IPv4 TTL of the datagram (IP_TTL on the socket); 64 by default. */
  ttl?: number;
  payloadHex?: string;
  timeoutMs?: number;
}

/**
 * Sends one UDP datagram from an ordinary dgram socket (bound to `srcPort`, IP_TTL `ttl`) to
 * `dst`:`port`, and waits for the ICMP error about it: a raw ICMP socket, opened before the
 * datagram leaves, keeps the first destination-unreachable or time-exceeded message whose
 * quoted UDP header carries our two ports. `sent` is the datagram as it left the host, taken
 * from an AF_PACKET capture on the outgoing interface `iface` (Ethernet header removed).
 */
export async function udpProbe(
  dst: string,
  port: number,
  { srcPort, ttl = 64, payloadHex = "", timeoutMs = 1000 }: ProbeOptions,
  iface = "eth0",
) {
  assertInLabHost("icmp-lab.udpProbe");
  const payload = bytes(payloadHex, "payloadHex");
  const raw = openRaw({ protocol: IPPROTO.ICMP });
  let cap: Capture | undefined;
  let udp: Socket | undefined;
  try {
    cap = openCapture({ iface, filter: bpf.udpPort(port) });
    udp = createSocket("udp4");
    const sock = udp;
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(srcPort, () => resolve());
    });
    sock.setTTL(ttl);
    const t0 = nowMs();
    await new Promise<void>((resolve, reject) => sock.send(payload, port, dst, (e) => (e ? reject(e) : resolve())));
    let error: HexPacket | null = null;
    let rttMs: number | null = null;
    for (let left = timeoutMs; left > 0 && !error; left = t0 + timeoutMs - nowMs()) {
      const got = await raw.recv(left);
      if (!got) break;
      const m = dissect(got.data).icmp;
      if (
        (m?.kind === "destination-unreachable" || m?.kind === "time-exceeded") &&
        m.quote.ip.protocol === IPPROTO.UDP
      ) {
        const q = m.quote.first8;
        if (q.readUInt16BE(0) === srcPort && q.readUInt16BE(2) === port) {
          error = toHex(got);
          rttMs = nowMs() - t0;
        }
      }
    }
    // The datagram as it went out, from the capture (skip anything else the filter admitted).
    let sent: string | null = null;
    for (let f = await cap.next(200); f && !sent; f = await cap.next(100)) {
      const l = dissect(f.data, "ethernet");
      if (l.udp && l.udp.srcPort === srcPort && l.udp.dstPort === port)
        sent = f.data.subarray(14, 14 + l.ip!.totalLength).toString("hex");
    }
    return { sent, error, rttMs };
  } finally {
    udp?.close();
    await Promise.all([raw.close(), cap?.close()]);
  }
}

/**
 * What a *connected* dgram socket sees of the same ICMP error: Linux reports a port unreachable
 * to the socket as ECONNREFUSED, on the next operation after it arrived. Sends `count`
 * datagrams `gapMs` apart and lists what happened to each ("sent" or the error's code).
 */
export async function connectedUdp(
  dst: string,
  port: number,
  { srcPort, count = 3, gapMs = 100 }: { srcPort: number; count?: number; gapMs?: number },
) {
  assertInLabHost("icmp-lab.connectedUdp");
  const sock = createSocket("udp4");
  const events: string[] = [];
  sock.on("error", (e: NodeJS.ErrnoException) => events.push(`'error' event: ${e.code}`));
  try {
    await new Promise<void>((resolve) => sock.bind(srcPort, () => resolve()));
    await new Promise<void>((resolve, reject) => sock.connect(port, dst, (e?: Error) => (e ? reject(e) : resolve())));
    for (let i = 1; i <= count; i++) {
      const result = await new Promise<string>((resolve) =>
        sock.send(Buffer.from(`datagram ${i}`), (e) =>
          resolve(e ? `send ${i}: ${(e as NodeJS.ErrnoException).code}` : `send ${i}: ok`),
        ),
      );
      events.push(result);
      await sleep(gapMs);
    }
    return events;
  } finally {
    sock.close();
  }
}

// ---- hand-built IPv4 (notebook 58) ---------------------------------------------------------------

/**
 * Sends a whole IPv4 packet (hex, header built by the caller) on a raw socket with IP_HDRINCL.
 * The kernel routes it by `dst` and, as raw(7) documents, still fills in the header checksum and
 * total length (and the source address and ID when they are zero).
 */
export async function sendHdrincl(packetHex: string, dst: string): Promise<void> {
  assertInLabHost("icmp-lab.sendHdrincl");
  const s = openRaw({ protocol: IPPROTO.RAW, hdrincl: true });
  try {
    s.send(bytes(packetHex, "packetHex"), dst);
  } finally {
    await s.close();
  }
}

/** Sends one Ethernet frame (hex) out of `iface` on an AF_PACKET socket, exactly as given. */
export async function sendFrame(frameHex: string, iface = "eth0"): Promise<void> {
  assertInLabHost("icmp-lab.sendFrame");
  const cap = openCapture({ iface, filter: [{ code: 0x06, jt: 0, jf: 0, k: 0 }] as BpfInsn[] }); // ret #0: receive nothing
  try {
    cap.send(bytes(frameHex, "frameHex"));
  } finally {
    await cap.close();
  }
}

/**
 * A UDP receiver on `port` (an ordinary dgram socket) and, beside it, an AF_PACKET capture on
 * `iface` of the same port: what the application is handed, and what arrived on the wire.
 */
export async function udpReceiver(port: number, iface = "eth0") {
  const sock = createSocket("udp4");
  const received: { payloadHex: string; from: string; port: number }[] = [];
  sock.on("message", (msg, r) => received.push({ payloadHex: msg.toString("hex"), from: r.address, port: r.port }));
  await new Promise<void>((resolve) => sock.bind(port, () => resolve()));
  const cap = openCapture({ iface, filter: bpf.udpPort(port), ignoreOutgoing: true });
  const wire: string[] = [];
  let capturing = true;
  const pump = (async () => {
    while (capturing) {
      const f = await cap.next(100);
      if (f) wire.push(f.data.subarray(14).toString("hex"));
    }
  })();
  return {
    /** Waits until `n` datagrams were handed to the socket, or `timeoutMs` passes. */
    async received(n = 1, timeoutMs = 1000) {
      for (const end = nowMs() + timeoutMs; received.length < n && nowMs() < end;) await sleep(10);
      return received.splice(0);
    },
    /** The IPv4 packets of this port captured on the interface so far (hex, Ethernet header cut). */
    async wire(settleMs = 200) {
      await sleep(settleMs);
      return wire.splice(0);
    },
    async close() {
      capturing = false;
      await pump;
      await cap.close();
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    },
  };
}

/** A raw socket of another protocol (UDP: 17) beside the ordinary ones: it sees whole packets. */
export function rawSocket(protocol: number) {
  const s = openRaw({ protocol });
  return { drain: (ms: number) => drainFor(s, ms), close: () => s.close() };
}

// ---- the kernel's counters ---------------------------------------------------------------------

/** The host's SNMP counters (/proc/net/snmp and /proc/net/netstat), e.g. "Icmp.InCsumErrors". */
export function counters(names: string[]): Record<string, number> {
  const all = new Map<string, number>();
  for (const file of ["/proc/net/snmp", "/proc/net/netstat"]) {
    const lines = readFileSync(file, "utf8").trim().split("\n");
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const [group, ...keys] = lines[i].split(/\s+/);
      const values = lines[i + 1].split(/\s+/).slice(1);
      keys.forEach((k, j) => all.set(`${group.replace(/:$/, "")}.${k}`, Number(values[j])));
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const v = all.get(n);
      if (v === undefined) throw Object.assign(new Error(`no counter ${n}`), { code: "ERR_INVALID_ARG_VALUE" });
      return [n, v];
    }),
  );
}

/** Sets an IPv4 sysctl of this host's namespace, e.g. ("icmp_ratelimit", "0"). */
export function setIpv4Sysctl(name: string, value: string): string {
  if (!/^[a-z0-9_]+$/.test(name))
    throw Object.assign(new Error(`not a sysctl name: ${name}`), { code: "ERR_INVALID_ARG_VALUE" });
  const path = `/proc/sys/net/ipv4/${name}`;
  writeFileSync(path, `${value}\n`);
  return readFileSync(path, "utf8").trim();
}

/** Sends one UDP datagram from an ordinary dgram socket bound to `srcPort` and closes it. */
export async function udpSend(
  dst: string,
  port: number,
  { srcPort, payloadHex }: { srcPort: number; payloadHex: string },
): Promise<void> {
  assertInLabHost("icmp-lab.udpSend");
  const sock = createSocket("udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once("error", reject);
      sock.bind(srcPort, () => resolve());
    });
    await new Promise<void>((resolve, reject) =>
      sock.send(bytes(payloadHex, "payloadHex"), port, dst, (e) => (e ? reject(e) : resolve())),
    );
  } finally {
    sock.close();
  }
}
