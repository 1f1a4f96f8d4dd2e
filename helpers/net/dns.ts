// A small authoritative DNS server and a stub resolver, for experiments in a lab host or on
// loopback. The server answers A and AAAA questions from a zone given as plain data, and can act as
// a DNS64 (RFC 6147 §5.1): an AAAA question for a name that has A records but no AAAA records gets
// AAAA records synthesized from the A records under a NAT64 prefix (RFC 6052). The resolver asks
// one question over UDP, IPv4 or IPv6, and returns the addresses and how long the answer took.
// Messages are built and parsed with wire/dns.
import * as dgram from "node:dgram";
import { embedIpv4 } from "../wire/addr";
import * as dns from "../wire/dns";
import { nowMs } from "../os/time";
import { udpServer } from "./services";

/** Names (without the trailing dot, lower case) and their addresses. */
export type Zone = Record<string, { A?: string[]; AAAA?: string[] }>;

export interface DnsServerOptions {
  zone: Zone;
  /** The address to bind (default all IPv4 ones; "::" for IPv6 and IPv4). */
  address?: string;
  /** Synthesize AAAA records under this NAT64 prefix ("64:ff9b::/96") for names with only A. */
  dns64Prefix?: string;
  /** Seconds, for every record (default 60). */
  ttl?: number;
}

export interface Asked {
  name: string;
  type: string;
  /** What the answer said, e.g. "AAAA 2001:db8:64::c000:221 (synthesized)". */
  answer: string;
}

/** The reply to one query, and a line for the log; a pure function of the query and the zone.
 *  Bytes that are not a query get FORMERR (or nothing, when not even the ID can be read). */
export function respond(query: Buffer, options: DnsServerOptions): { reply: Buffer | null; asked?: Asked } {
  let q: dns.DecodedMessage;
  try {
    q = dns.decode(query);
  } catch {
    if (query.length < 2) return { reply: null };
    return { reply: dns.encode({ id: query.readUInt16BE(0), flags: { qr: true, rcode: 1 }, questions: [] }) };
  }
  const question = q.questions[0];
  const flags = { qr: true, aa: true, rd: q.flags.rd };
  if (q.flags.qr || q.questions.length !== 1)
    return { reply: dns.encode({ id: q.id, flags: { ...flags, rcode: 1 }, questions: q.questions }) };
  const name = question.name.replace(/\.$/, "").toLowerCase();
  const entry = options.zone[name];
  const ttl = options.ttl ?? 60;
  if (!entry) {
    const reply = dns.encode({ id: q.id, flags: { ...flags, rcode: 3 }, questions: [question] });
    return { reply, asked: { name, type: question.type, answer: "NXDOMAIN" } };
  }
  let data = question.type === "A" ? (entry.A ?? []) : question.type === "AAAA" ? (entry.AAAA ?? []) : [];
  let note = "";
  if (question.type === "AAAA" && data.length === 0 && options.dns64Prefix && entry.A?.length) {
    data = entry.A.map((a) => embedIpv4(options.dns64Prefix!, a));
    note = " (synthesized)";
  }
  const answers = data.map((d) => ({ name: question.name, type: question.type, ttl, data: d }));
  const reply = dns.encode({ id: q.id, flags, questions: [question], answers });
  const answer = data.length ? `${question.type} ${data.join(", ")}${note}` : "no records";
  return { reply, asked: { name, type: question.type, answer } };
}

/** A DNS server on `port` (53 in a lab host, 0 on loopback) answering from `options.zone`. A
 *  service: `asked()` lists the questions so far with what each was told. */
export async function dnsServer(port: number, options: DnsServerOptions) {
  const log: Asked[] = [];
  const server = await udpServer(port, {
    address: options.address,
    record: false,
    reply: (query) => {
      const { reply, asked } = respond(query, options);
      if (asked) log.push(asked);
      return reply;
    },
  });
  return { port: server.port, asked: () => log.slice(), close: server.close };
}

export interface Resolved {
  addresses: string[];
  /** "NOERROR", "NXDOMAIN", … or "timeout". */
  rcode: string;
  /** From sending the question to reading the answer. */
  ms: number;
}

let nextId = 1;

/** Asks `server`:`port` for the `type` records of `name`, once, over UDP (an IPv6 server address
 *  makes an IPv6 socket). A lost answer is `rcode: "timeout"` after `timeoutMs`, not a throw. */
export async function resolve(
  server: string,
  port: number,
  name: string,
  type: "A" | "AAAA",
  timeoutMs = 1000,
): Promise<Resolved> {
  const id = (nextId = (nextId % 0xffff) + 1);
  const socket = dgram.createSocket(server.includes(":") ? "udp6" : "udp4");
  const start = nowMs();
  try {
    return await new Promise<Resolved>((done) => {
      const timer = setTimeout(() => done({ addresses: [], rcode: "timeout", ms: nowMs() - start }), timeoutMs);
      socket.on("message", (bytes) => {
        let m: dns.DecodedMessage;
        try {
          m = dns.decode(bytes);
        } catch {
          return; // not an answer we can read: keep waiting
        }
        if (m.id !== id || !m.flags.qr) return;
        clearTimeout(timer);
        const addresses = m.answers.filter((a) => a.type === type).map((a) => String(a.data));
        done({ addresses, rcode: dns.rcodeName(m.flags.rcode), ms: nowMs() - start });
      });
      socket.send(dns.encode({ id, flags: { rd: true }, questions: [{ name, type }] }), port, server);
    });
  } finally {
    socket.close();
  }
}
