// Functions that run inside a lab host (`lab.host("b").run(captureLab, "startCapture", …)`): an
// AF_PACKET capture that writes a pcap file, UDP senders and receivers with a chosen
// IP_MTU_DISCOVER mode, a hand-built ICMP echo, a small TCP server and client. Arguments and
// results are JSON: frames travel as hex strings. Also pure functions the notebooks use in their
// own process: the fragment arithmetic of RFC 791 and a tcpdump-like one-line summary of a frame.
// Raw and packet sockets need CAP_NET_RAW, which a lab host has (as root, or as the root of the
// lab's user namespace); nothing here creates a namespace.
import * as dgram from "node:dgram";
import * as net from "node:net";
import {
  dissect,
  ETHERTYPE,
  icmp as icmpCodec,
  ipv4Text,
  macText,
  PROTO,
  TCP_FLAGS,
  type Layers,
} from "../wire/packet";
import { sleep } from "../os/time";
import { IPPROTO, openRaw } from "../os/rawsock";
import { getsockopt, setsockopt } from "../os/sockopt";
import { assertInLabHost } from "./guard";

// ---- fragment arithmetic (pure) -----------------------------------------------------------------

export interface Fragment {
  /** Where this fragment's data starts in the original payload, in bytes (a multiple of 8). */
  offset: number;
  /** The same, as the 13-bit header field carries it: offset / 8. */
  offsetField: number;
  /** Payload bytes in this fragment. */
  length: number;
  /** More fragments: set on every fragment but the one that ends the original payload. */
  mf: boolean;
  /** The fragment's IPv4 total length (header + data). */
  totalLength: number;
}

/** How a packet with `payloadLength` bytes after a `headerLength`-byte IPv4 header is cut for a
 *  link of `mtu`: every fragment but the last carries the largest multiple of 8 that fits. Pass
 *  `start`/`mf` to cut a fragment again (a router on a smaller link): offsets continue from
 *  `start`, and the pieces of a fragment with MF set all keep MF. */
export function fragment(
  payloadLength: number,
  mtu: number,
  opts: { headerLength?: number; start?: number; mf?: boolean } = {},
): Fragment[] {
  const header = opts.headerLength ?? 20;
  const start = opts.start ?? 0;
  if (!Number.isInteger(payloadLength) || payloadLength < 0)
    throw new RangeError(`payloadLength must be a non-negative integer, got ${payloadLength}`);
  if (!Number.isInteger(mtu) || mtu < header + 8)
    throw new RangeError(`an MTU of ${mtu} leaves no room for 8 data bytes after a ${header}-byte header`);
  if (start % 8 !== 0) throw new RangeError(`a fragment starts at a multiple of 8, got ${start}`);
  if (header + payloadLength <= mtu)
    return [
      {
        offset: start,
        offsetField: start / 8,
        length: payloadLength,
        mf: !!opts.mf,
        totalLength: header + payloadLength,
      },
    ];
  const per = Math.floor((mtu - header) / 8) * 8;
  const out: Fragment[] = [];
  for (let done = 0; done < payloadLength; done += per) {
    const length = Math.min(per, payloadLength - done);
    const last = done + length === payloadLength;
    out.push({
      offset: start + done,
      offsetField: (start + done) / 8,
      length,
      mf: last ? !!opts.mf : true,
      totalLength: header + length,
    });
  }
  return out;
}

/** Cuts each fragment again where it does not fit `mtu`, as a router does with DF clear. */
export function refragment(fragments: Fragment[], mtu: number, headerLength = 20): Fragment[] {
  return fragments.flatMap((f) => fragment(f.length, mtu, { headerLength, start: f.offset, mf: f.mf }));
}

// ---- a tcpdump-like line per frame (pure) -------------------------------------------------------

export interface SummaryOptions {
  /** Ports to print as "ephemeral" (a client's port the kernel picked). */
  ephemeral?: (port: number) => boolean;
}

const TCP_LETTERS: [number, string][] = [
  [TCP_FLAGS.SYN, "S"],
  [TCP_FLAGS.FIN, "F"],
  [TCP_FLAGS.PSH, "P"],
  [TCP_FLAGS.RST, "R"],
  [TCP_FLAGS.URG, "U"],
  [TCP_FLAGS.ECE, "E"],
  [TCP_FLAGS.CWR, "W"],
];

/** One line for an Ethernet frame, in the spirit of `tcpdump -n -e`: MACs, then the protocol's
 *  own summary. What is random per packet or connection (IP identification, TCP sequence
 *  numbers and timestamps) is left out, so the same traffic gives the same lines. */
export function summarize(frame: Buffer, opts: SummaryOptions = {}): string {
  const l = dissect(frame, "ethernet");
  const eth = `${l.ethernet!.src} > ${l.ethernet!.dst}`;
  const port = (p: number) => (opts.ephemeral?.(p) ? "ephemeral" : String(p));
  if (l.ethernet!.ethertype === ETHERTYPE.ARP) return `${eth}, ARP, ${arpLine(l.ethernet!.payload)}`;
  if (!l.ip)
    return `${eth}, ethertype 0x${l.ethernet!.ethertype.toString(16).padStart(4, "0")}, length ${frame.length}`;
  return `${eth}, IPv4, ${ipLine(l, port)}`;
}

function arpLine(p: Buffer): string {
  if (p.length < 28) return `length ${p.length}`;
  const op = p.readUInt16BE(6);
  if (op === 1) return `Request who-has ${ipv4Text(p, 24)} tell ${ipv4Text(p, 14)}`;
  if (op === 2) return `Reply ${ipv4Text(p, 14)} is-at ${macText(p, 8)}`;
  return `op ${op}`;
}

function ipLine(l: Layers, port: (p: number) => string): string {
  const ip = l.ip!;
  // The identification is drawn per packet (random from run to run): not printed.
  const frag = ip.mf || ip.fragmentOffset ? ` frag offset ${ip.fragmentOffset}${ip.mf ? " +MF" : ""}` : "";
  const head = `ttl ${ip.ttl}${ip.df ? " DF" : ""}${frag}, `;
  if (l.udp)
    return `${head}${ip.src}.${port(l.udp.srcPort)} > ${ip.dst}.${port(l.udp.dstPort)}: UDP, length ${l.udp.payload.length}`;
  if (l.tcp) {
    const t = l.tcp;
    const letters =
      TCP_LETTERS.filter(([bit]) => t.flags & bit)
        .map(([, c]) => c)
        .join("") + (t.flags & TCP_FLAGS.ACK ? "." : "");
    const mss = t.options.find((o) => o.kind === 2 && o.data.length === 2);
    return `${head}${ip.src}.${port(t.srcPort)} > ${ip.dst}.${port(t.dstPort)}: Flags [${letters}]${mss ? `, mss ${mss.data.readUInt16BE(0)}` : ""}, length ${t.payload.length}`;
  }
  if (l.icmp) {
    const m = l.icmp;
    const what =
      m.kind === "echo-request" || m.kind === "echo-reply"
        ? `echo ${m.kind === "echo-request" ? "request" : "reply"}, id ${m.id}, seq ${m.seq}, length ${8 + m.data.length}`
        : m.kind === "destination-unreachable"
          ? `unreachable code ${m.code}${m.nextHopMtu !== undefined ? ` (need to frag, mtu ${m.nextHopMtu})` : ""}, quoting ${m.quote.ip.src} > ${m.quote.ip.dst} length ${m.quote.ip.totalLength}`
          : `type ${m.type} code ${m.code}`;
    return `${head}${ip.src} > ${ip.dst}: ICMP ${what}`;
  }
  const name =
    ip.protocol === PROTO.UDP
      ? "UDP"
      : ip.protocol === PROTO.TCP
        ? "TCP"
        : ip.protocol === PROTO.ICMP
          ? "ICMP"
          : `proto ${ip.protocol}`;
  return `${head}${ip.src} > ${ip.dst}: ${name} fragment, length ${ip.payload.length}`;
}

// ---- capture (runs inside a host): helpers/os/capture.ts, re-exported so notebooks import one module

export { captureFor, startCapture, type CapturedFrame, type CaptureRequest, type CaptureResult } from "../os/capture";

// ---- UDP with a chosen path-MTU-discovery mode --------------------------------------------------

/** IP_MTU_DISCOVER values from <linux/in.h>. */
const PMTUDISC = { dont: 0, want: 1, do: 2, probe: 3 } as const;
const SOL_IP = 0;
const IP_MTU_DISCOVER = 10;
const IP_MTU = 14;

export interface SendResult {
  size: number;
  /** "sent", or the errno code of a send the kernel refused (EMSGSIZE). */
  result: string;
  /** ICMP errors a raw ICMP socket in this host saw within `waitMs` after the send. */
  icmp: { from: string; type: number; code: number; nextHopMtu?: number; quotedLength: number; quotedDf: boolean }[];
}

/** Sends one UDP datagram of each payload size in `sizes` from `srcPort` to `to:port`, with
 *  IP_MTU_DISCOVER set to `mode`, one after another. After each send it waits `waitMs` and
 *  reports what the kernel said (EMSGSIZE) and the ICMP errors that came back. */
export async function udpSend(req: {
  to: string;
  port: number;
  srcPort: number;
  sizes: number[];
  mode: keyof typeof PMTUDISC;
  waitMs?: number;
}): Promise<SendResult[]> {
  assertInLabHost("capture-lab.udpSend");
  const sock = dgram.createSocket({ type: "udp4", reuseAddr: true });
  sock.on("error", () => {}); // errors are reported through each send's callback
  await new Promise<void>((r) => sock.bind(req.srcPort, r));
  const raw = openRaw({ protocol: IPPROTO.ICMP });
  try {
    setsockopt(sock, SOL_IP, IP_MTU_DISCOVER, PMTUDISC[req.mode]);
    const out: SendResult[] = [];
    for (const size of req.sizes) {
      const result = await new Promise<string>((resolve) =>
        sock.send(Buffer.alloc(size, 0x61), req.port, req.to, (err) =>
          resolve(err ? ((err as NodeJS.ErrnoException).code ?? err.message) : "sent"),
        ),
      );
      const seen: SendResult["icmp"] = [];
      const until = Date.now() + (req.waitMs ?? 300);
      for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
        const got = await raw.recv(left);
        if (!got) break;
        const l = dissect(got.data);
        const m = l.icmp;
        if (!m || m.kind !== "destination-unreachable" || m.quote.first8.readUInt16BE(0) !== req.srcPort) continue;
        seen.push({
          from: l.ip!.src,
          type: m.type,
          code: m.code,
          nextHopMtu: m.nextHopMtu,
          quotedLength: m.quote.ip.totalLength,
          quotedDf: m.quote.ip.df,
        });
      }
      out.push({ size, result, icmp: seen });
    }
    return out;
  } finally {
    await raw.close();
    sock.close();
  }
}

/** The path MTU the kernel holds for `to` (getsockopt IP_MTU on a UDP socket connected to it). */
export async function pathMtu(to: string): Promise<number> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.connect(9, to, () => r()));
  try {
    return getsockopt(sock, SOL_IP, IP_MTU);
  } finally {
    sock.close();
  }
}

/** A UDP receiver on `port`: a service recording each datagram's length and sender address. */
export async function udpReceiver(port: number) {
  const sock = dgram.createSocket("udp4");
  const got: { from: string; length: number }[] = [];
  sock.on("message", (msg, rinfo) => got.push({ from: rinfo.address, length: msg.length }));
  await new Promise<void>((r) => sock.bind(port, r));
  return {
    port,
    received: () => got.splice(0),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

/** A raw IPv4 socket for `protocol` (17: UDP): a service recording the header of every packet
 *  the kernel hands it. Raw sockets sit above reassembly, so they see whole datagrams. */
export function rawReceiver(protocol: number) {
  const raw = openRaw({ protocol });
  const seen: { src: string; totalLength: number; mf: boolean; fragmentOffset: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const got = await raw.recv(100);
      if (!got) continue;
      const ip = dissect(got.data).ip!;
      seen.push({ src: ip.src, totalLength: ip.totalLength, mf: ip.mf, fragmentOffset: ip.fragmentOffset });
    }
  })();
  return {
    protocol,
    received: () => seen.splice(0),
    close: async () => {
      running = false;
      await raw.close();
      await loop;
    },
  };
}

// ---- ICMP echo and TCP --------------------------------------------------------------------------

/** Sends an echo request built with packet.ts on a raw ICMP socket; reports the reply. */
export async function ping(to: string, opts: { id: number; seq: number; data: string; timeoutMs?: number }) {
  assertInLabHost("capture-lab.ping");
  const raw = openRaw({ protocol: IPPROTO.ICMP });
  try {
    raw.send(icmpCodec.encode({ kind: "echo-request", id: opts.id, seq: opts.seq, data: Buffer.from(opts.data) }), to);
    const until = Date.now() + (opts.timeoutMs ?? 1000);
    for (let left = until - Date.now(); left > 0; left = until - Date.now()) {
      const got = await raw.recv(left);
      if (!got) break;
      const m = dissect(got.data).icmp;
      if (m?.kind === "echo-reply" && m.id === opts.id && m.seq === opts.seq)
        return { reply: true, from: got.from, data: m.data.toString(), checksumOk: m.checksumOk };
    }
    return { reply: false };
  } finally {
    await raw.close();
  }
}

/** A TCP server on `port` that reads what each client sends: a service. */
export async function tcpServer(port: number) {
  const texts: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("data", (d) => texts.push(d.toString()));
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(port, r));
  return {
    port,
    received: () => texts.splice(0),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Connects to `to:port`, sends `text`, and keeps the connection open: a service whose
 *  `close()` ends it. `localPort` is the port the kernel picked. */
export async function tcpClient(to: string, port: number, text: string) {
  const s = net.connect({ host: to, port });
  s.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  await new Promise<void>((r) => s.write(text, () => r()));
  return {
    localPort: s.localPort!,
    close: () =>
      new Promise<void>((r) => {
        s.once("close", () => r());
        s.end();
        setTimeout(() => s.destroy(), 1000).unref();
      }),
  };
}
