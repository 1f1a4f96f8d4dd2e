// A DHCP message codec written by hand (RFC 2131 §2 for the fixed fields, RFC 2132 for the
// options), in dns-packet's shape: `encode(msg)` gives the bytes, `decode(buf)` the message. The
// message is plain JSON (addresses and MACs as text, raw option bytes as hex) so a server or client
// running in another network namespace can hand its transcript back over a pipe.
//
// Bad input raises one error type, DhcpError, with the offset and the reason. Every read is bounds
// checked first, so decoding never throws a RangeError from Buffer.
import { randomBytes } from "node:crypto";

/** Why bytes could not be decoded as a DHCP message. */
export type DhcpFormatReason =
  | "truncated" // fewer than the 236 bytes of fixed fields
  | "missing-cookie" // fixed fields, but no room for the 4-byte magic cookie
  | "bad-cookie" // the 4 bytes after the fixed fields are not 99.130.83.99
  | "bad-op" // op is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY)
  | "bad-hlen" // a hardware address longer than the 16-byte chaddr field
  | "option-past-end" // an option's length byte (or the length byte itself) runs past the end
  | "missing-end" // the options stop without an end option (255)
  | "bad-option-length" // e.g. a subnet mask that is not 4 bytes
  | "missing-message-type" // no option 53: BOOTP, not DHCP
  | "unknown-message-type" // option 53 outside 1..8
  | "too-long"; // longer than the caller accepts (one Ethernet frame by default)

export class DhcpError extends Error {
  readonly code = "ERR_DHCP_FORMAT";
  constructor(
    readonly reason: DhcpFormatReason,
    readonly offset: number,
    detail: string,
  ) {
    super(`malformed DHCP message at offset ${offset}: ${detail} (${reason})`);
    this.name = "DhcpError";
  }
}

const fail = (reason: DhcpFormatReason, offset: number, detail: string): never => {
  throw new DhcpError(reason, offset, detail);
};
const invalid = (message: string): never => {
  throw Object.assign(new RangeError(message), { code: "ERR_INVALID_ARG_VALUE" });
};

// ---- constants ----------------------------------------------------------------------------------

export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;
/** 99.130.83.99: tells DHCP/BOOTP options apart from BOOTP's old vendor area (RFC 1497). */
export const MAGIC_COOKIE = 0x63825363;
/** op, htype, hlen, hops, xid, secs, flags, 4 addresses, chaddr(16), sname(64), file(128). */
export const FIXED_LENGTH = 236;
/** RFC 1542 §2.1: BOOTP relays and old servers expect messages of at least 300 bytes. */
export const MIN_LENGTH = 300;
/** One Ethernet frame less the IP and UDP headers: a DHCP message is never fragmented in practice. */
export const MAX_LENGTH = 1500 - 20 - 8;

export const MESSAGE_TYPES = ["DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"] as const;
export type DhcpMessageType = (typeof MESSAGE_TYPES)[number];

/** The options this codec reads into named fields. Any other code lands in `unknown` as hex. */
export interface DhcpOptions {
  /** 53, written first */
  messageType?: DhcpMessageType;
  /** 1 */
  subnetMask?: string;
  /** 3, in order of preference */
  routers?: string[];
  /** 6 */
  dnsServers?: string[];
  /** 12 */
  hostName?: string;
  /** 15 */
  domainName?: string;
  /** 28 */
  broadcastAddress?: string;
  /** 50: the address a client asks for (SELECTING, INIT-REBOOT) */
  requestedIp?: string;
  /** 51, seconds */
  leaseTime?: number;
  /** 54: the server's address, and how a client says which offer it took */
  serverId?: string;
  /** 55: option codes the client wants */
  parameterRequestList?: number[];
  /** 56: why, in a NAK */
  message?: string;
  /** 57: the largest message the client accepts */
  maxMessageSize?: number;
  /** 58 (T1), seconds until the client renews with its server */
  renewalTime?: number;
  /** 59 (T2), seconds until the client asks any server (rebinding) */
  rebindingTime?: number;
  /** 60 */
  vendorClassId?: string;
  /** 61: type byte then identifier, as hex ("01" + the MAC for Ethernet) */
  clientId?: string;
  /** any other option, in the order met; repeated codes already joined (RFC 3396) */
  unknown?: { code: number; data: string }[];
}

export interface DhcpMessage {
  op: "BOOTREQUEST" | "BOOTREPLY";
  /** hardware type, 1 = Ethernet */
  htype: number;
  /** hardware address length, 6 for Ethernet */
  hlen: number;
  /** relay hops */
  hops: number;
  /** transaction id the client picked; replies repeat it */
  xid: number;
  /** seconds since the client began */
  secs: number;
  /** the one defined flag bit: answer by broadcast, I cannot receive unicast yet */
  broadcast: boolean;
  /** client's current address, when it has one (RENEWING, REBINDING, RELEASE, INFORM) */
  ciaddr: string;
  /** "your" address: what the server gives */
  yiaddr: string;
  /** next server (boot file), not the DHCP server: that is option 54 */
  siaddr: string;
  /** relay agent */
  giaddr: string;
  /** client hardware address, "02:00:00:00:00:01" */
  chaddr: string;
  /** server host name, NUL-terminated in a 64-byte field */
  sname: string;
  /** boot file name, NUL-terminated in a 128-byte field */
  file: string;
  options: DhcpOptions;
}

/** What `encode` takes: chaddr and the options (with a message type), everything else has a
 *  default; a decoded message is one too. `op` follows the message type (OFFER, ACK, NAK are
 *  replies). */
export type DhcpMessageInput = Partial<Omit<DhcpMessage, "options" | "chaddr">> & {
  chaddr: string;
  options: DhcpOptions;
};

// ---- addresses ----------------------------------------------------------------------------------

function ipBytes(s: string, what: string): number[] {
  const parts = typeof s === "string" ? s.split(".") : [];
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255))
    invalid(`${what}: not an IPv4 address: ${JSON.stringify(s)}`);
  return parts.map(Number);
}
const ipText = (buf: Buffer, at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;

/** "10.0.0.7" → 0x0a000007, and back: the server does address arithmetic on these. */
export const ipToInt = (s: string) => ipBytes(s, "address").reduce((n, b) => n * 256 + b, 0);
export const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
/** 24 → "255.255.255.0" and "255.255.255.0" → 24 (refuses masks with holes). */
export const prefixToMask = (prefix: number) => intToIp(prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
export function maskToPrefix(mask: string): number {
  const n = ipToInt(mask);
  const prefix = 32 - Math.log2(((~n >>> 0) + 1) >>> 0 || 2 ** 32);
  if (!Number.isInteger(prefix) || prefixToMask(prefix) !== mask) invalid(`not a contiguous subnet mask: ${mask}`);
  return prefix;
}

function macBytes(mac: string): number[] {
  if (typeof mac !== "string" || !/^([0-9a-fA-F]{2}([:-]|$)){1,16}$/.test(mac))
    invalid(`chaddr: not a hardware address: ${JSON.stringify(mac)}`);
  return mac.split(/[:-]/).map((h) => parseInt(h, 16));
}
const macText = (buf: Buffer, at: number, n: number) =>
  Array.from(buf.subarray(at, at + n), (b) => b.toString(16).padStart(2, "0")).join(":");

// ---- options, table-driven ----------------------------------------------------------------------

type Kind = "ip" | "ips" | "u32" | "u16" | "string" | "codes" | "hex" | "type";
type Named = Exclude<keyof DhcpOptions, "unknown">;
const OPTIONS: [code: number, key: Named, kind: Kind][] = [
  [53, "messageType", "type"],
  [1, "subnetMask", "ip"],
  [3, "routers", "ips"],
  [6, "dnsServers", "ips"],
  [12, "hostName", "string"],
  [15, "domainName", "string"],
  [28, "broadcastAddress", "ip"],
  [50, "requestedIp", "ip"],
  [51, "leaseTime", "u32"],
  [54, "serverId", "ip"],
  [55, "parameterRequestList", "codes"],
  [56, "message", "string"],
  [57, "maxMessageSize", "u16"],
  [58, "renewalTime", "u32"],
  [59, "rebindingTime", "u32"],
  [60, "vendorClassId", "string"],
  [61, "clientId", "hex"],
];
const BY_CODE = new Map(OPTIONS.map(([code, key, kind]) => [code, { key, kind }]));
/** Option names for transcripts and the parameter request list. */
export const OPTION_NAMES: Record<number, string> = Object.fromEntries([
  ...OPTIONS.map(([c, k]) => [c, k]),
  [0, "pad"],
  [255, "end"],
  [52, "overload"],
  [119, "domainSearch"],
  [121, "classlessRoutes"],
]);

function optionData(key: Named, kind: Kind, value: unknown): Buffer {
  const what = `option ${key}`;
  switch (kind) {
    case "type": {
      const n = MESSAGE_TYPES.indexOf(value as DhcpMessageType);
      if (n < 0) invalid(`${what}: one of ${MESSAGE_TYPES.join(", ")}, not ${JSON.stringify(value)}`);
      return Buffer.from([n + 1]);
    }
    case "ip":
      return Buffer.from(ipBytes(value as string, what));
    case "ips":
      if (!Array.isArray(value) || value.length === 0) invalid(`${what}: a non-empty list of addresses`);
      return Buffer.from((value as string[]).flatMap((a) => ipBytes(a, what)));
    case "u32":
    case "u16": {
      const max = kind === "u32" ? 0xffffffff : 0xffff;
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > max)
        invalid(`${what}: an integer 0..${max}, not ${value}`);
      const b = Buffer.alloc(kind === "u32" ? 4 : 2);
      if (kind === "u32") b.writeUInt32BE(value as number);
      else b.writeUInt16BE(value as number);
      return b;
    }
    case "string":
      if (typeof value !== "string" || value.length === 0) invalid(`${what}: a non-empty string`);
      return Buffer.from(value as string, "utf8");
    case "codes":
      if (!Array.isArray(value) || !value.every((c) => Number.isInteger(c) && c > 0 && c < 255))
        invalid(`${what}: option codes 1..254`);
      return Buffer.from(value as number[]);
    case "hex":
      if (typeof value !== "string" || !/^([0-9a-fA-F]{2})+$/.test(value)) invalid(`${what}: bytes as hex`);
      return Buffer.from(value as string, "hex");
  }
}

/** Reads one option's data; `at` is where its code byte was, for errors. */
function optionValue(code: number, key: Named, kind: Kind, data: Buffer, at: number): unknown {
  const size = (ok: boolean, want: string) =>
    ok || fail("bad-option-length", at, `option ${code} (${key}) must be ${want}, not ${data.length} bytes`);
  switch (kind) {
    case "type":
      size(data.length === 1, "1 byte");
      if (data[0] < 1 || data[0] > MESSAGE_TYPES.length)
        fail("unknown-message-type", at, `message type ${data[0]} is not 1..8`);
      return MESSAGE_TYPES[data[0] - 1];
    case "ip":
      size(data.length === 4, "4 bytes");
      return ipText(data, 0);
    case "ips":
      size(data.length > 0 && data.length % 4 === 0, "a multiple of 4 bytes");
      return Array.from({ length: data.length / 4 }, (_, i) => ipText(data, i * 4));
    case "u32":
      size(data.length === 4, "4 bytes");
      return data.readUInt32BE(0);
    case "u16":
      size(data.length === 2, "2 bytes");
      return data.readUInt16BE(0);
    case "string":
      size(data.length > 0, "at least 1 byte");
      return data.toString("utf8").replace(/\0+$/, ""); // some clients NUL-terminate
    case "codes":
      size(data.length > 0, "at least 1 byte");
      return Array.from(data);
    case "hex":
      size(data.length > 0, "at least 1 byte");
      return data.toString("hex");
  }
}

/** The options as code/data pairs in wire order: message type first (some servers look only
 *  there), then by code, then the unknown ones as given. */
function optionList(o: DhcpOptions): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (const [code, key, kind] of OPTIONS) if (o[key] !== undefined) out.push([code, optionData(key, kind, o[key])]);
  for (const u of o.unknown ?? []) {
    if (!Number.isInteger(u.code) || u.code < 1 || u.code > 254 || BY_CODE.has(u.code))
      invalid(`unknown option code ${u.code}: must be 1..254 and not one with a name`);
    out.push([u.code, optionData("clientId", "hex", u.data)]);
  }
  return out;
}

// ---- whole messages -----------------------------------------------------------------------------

export interface EncodeOptions {
  /** pad with zeros up to this many bytes (default MIN_LENGTH, 300) */
  minLength?: number;
}

export function encodingLength(m: DhcpMessageInput, options: EncodeOptions = {}): number {
  // an option longer than 255 bytes goes out as several of the same code (RFC 3396)
  const opts = optionList(m.options).reduce((n, [, d]) => n + Math.max(1, Math.ceil(d.length / 255)) * 2 + d.length, 0);
  return Math.max(FIXED_LENGTH + 4 + opts + 1, options.minLength ?? MIN_LENGTH);
}

export function encode(m: DhcpMessageInput, options: EncodeOptions = {}): Buffer {
  if (!m || typeof m !== "object" || !m.options || !m.options.messageType)
    invalid("a DHCP message needs options.messageType");
  const type = m.options.messageType!;
  const op = m.op ?? (type === "OFFER" || type === "ACK" || type === "NAK" ? "BOOTREPLY" : "BOOTREQUEST");
  const mac = macBytes(m.chaddr);
  const int = (v: number | undefined, max: number, what: string) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max))
      invalid(`${what}: an integer 0..${max}, not ${v}`);
    return v ?? 0;
  };
  const buf = Buffer.alloc(encodingLength(m, options));
  buf[0] =
    op === "BOOTREQUEST"
      ? 1
      : op === "BOOTREPLY"
        ? 2
        : invalid(`op: BOOTREQUEST or BOOTREPLY, not ${JSON.stringify(op)}`);
  buf[1] = int(m.htype ?? 1, 255, "htype");
  buf[2] = int(m.hlen ?? mac.length, 16, "hlen");
  buf[3] = int(m.hops, 255, "hops");
  buf.writeUInt32BE(int(m.xid, 0xffffffff, "xid"), 4);
  buf.writeUInt16BE(int(m.secs, 0xffff, "secs"), 8);
  buf.writeUInt16BE(m.broadcast ? 0x8000 : 0, 10);
  (["ciaddr", "yiaddr", "siaddr", "giaddr"] as const).forEach((k, i) =>
    Buffer.from(ipBytes(m[k] ?? "0.0.0.0", k)).copy(buf, 12 + i * 4),
  );
  Buffer.from(mac).copy(buf, 28);
  for (const [field, at, size] of [
    ["sname", 44, 64],
    ["file", 108, 128],
  ] as const) {
    const text = Buffer.from(m[field] ?? "", "utf8");
    if (text.length >= size) invalid(`${field}: at most ${size - 1} bytes (it is NUL-terminated)`);
    text.copy(buf, at);
  }
  buf.writeUInt32BE(MAGIC_COOKIE, FIXED_LENGTH);
  let at = FIXED_LENGTH + 4;
  for (const [code, data] of optionList(m.options)) {
    let from = 0;
    do {
      const chunk = data.subarray(from, from + 255);
      buf[at] = code;
      buf[at + 1] = chunk.length;
      chunk.copy(buf, at + 2);
      at += 2 + chunk.length;
      from += 255;
    } while (from < data.length);
  }
  buf[at] = 255; // end; the rest stays zero, which is pad
  return buf;
}

export interface DecodeOptions {
  /** refuse longer input (default MAX_LENGTH, 1472: one Ethernet frame) */
  maxLength?: number;
  /** accept a message without option 53, i.e. plain BOOTP (default false) */
  allowBootp?: boolean;
}

/** One whole message. Anything after the end option is padding and ignored. */
export function decode(buf: Buffer, options: DecodeOptions = {}): DhcpMessage {
  if (!Buffer.isBuffer(buf)) invalid("decode takes a Buffer");
  const max = options.maxLength ?? MAX_LENGTH;
  if (buf.length > max) fail("too-long", max, `${buf.length} bytes, at most ${max} accepted`);
  if (buf.length < FIXED_LENGTH)
    fail("truncated", buf.length, `the fixed fields need ${FIXED_LENGTH} bytes, ${buf.length} given`);
  if (buf.length < FIXED_LENGTH + 4)
    fail("missing-cookie", FIXED_LENGTH, `no room for the magic cookie (${buf.length - FIXED_LENGTH} of 4 bytes)`);
  if (buf[0] !== 1 && buf[0] !== 2) fail("bad-op", 0, `op ${buf[0]} is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY)`);
  if (buf[2] > 16) fail("bad-hlen", 2, `hlen ${buf[2]} is more than the 16 bytes of chaddr`);
  const cookie = buf.readUInt32BE(FIXED_LENGTH);
  if (cookie !== MAGIC_COOKIE)
    fail("bad-cookie", FIXED_LENGTH, `magic cookie ${ipText(buf, FIXED_LENGTH)}, expected 99.130.83.99`);

  // Collect code → data first: a repeated code continues the same option (RFC 3396).
  const found = new Map<number, { at: number; parts: Buffer[] }>();
  let at = FIXED_LENGTH + 4;
  for (;;) {
    if (at >= buf.length) fail("missing-end", at, "the options run out without an end option (255)");
    const code = buf[at];
    if (code === 255) break;
    if (code === 0) {
      at++;
      continue;
    }
    if (at + 1 >= buf.length) fail("option-past-end", at, `option ${code} has no length byte`);
    const len = buf[at + 1];
    if (at + 2 + len > buf.length)
      fail("option-past-end", at, `option ${code} of ${len} bytes runs past the end (${buf.length - at - 2} left)`);
    const entry = found.get(code) ?? { at, parts: [] };
    entry.parts.push(buf.subarray(at + 2, at + 2 + len));
    found.set(code, entry);
    at += 2 + len;
  }
  const opts: DhcpOptions = {};
  for (const [code, { at: where, parts }] of found) {
    const data = Buffer.concat(parts);
    const known = BY_CODE.get(code);
    if (known) (opts as Record<string, unknown>)[known.key] = optionValue(code, known.key, known.kind, data, where);
    else (opts.unknown ??= []).push({ code, data: data.toString("hex") });
  }
  if (!opts.messageType && !options.allowBootp)
    fail("missing-message-type", FIXED_LENGTH + 4, "no message type option (53): BOOTP, not DHCP");

  const cstring = (from: number, size: number) => {
    const field = buf.subarray(from, from + size);
    const nul = field.indexOf(0);
    return field.subarray(0, nul < 0 ? size : nul).toString("utf8");
  };
  return {
    op: buf[0] === 1 ? "BOOTREQUEST" : "BOOTREPLY",
    htype: buf[1],
    hlen: buf[2],
    hops: buf[3],
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    broadcast: (buf[10] & 0x80) !== 0,
    ciaddr: ipText(buf, 12),
    yiaddr: ipText(buf, 16),
    siaddr: ipText(buf, 20),
    giaddr: ipText(buf, 24),
    chaddr: macText(buf, 28, buf[2]),
    sname: cstring(44, 64),
    file: cstring(108, 128),
    options: opts,
  };
}

// ---- transcripts --------------------------------------------------------------------------------

/** A message in one short JSON line for transcripts: type, xid in hex, the addresses that are set,
 *  and the options with the parameter request list by name. */
export function summarize(m: DhcpMessage): Record<string, unknown> {
  const { messageType, parameterRequestList, unknown, ...rest } = m.options;
  const out: Record<string, unknown> = {
    type: messageType ?? "BOOTP",
    xid: `0x${m.xid.toString(16).padStart(8, "0")}`,
    chaddr: m.chaddr,
  };
  if (m.broadcast) out.broadcast = true;
  for (const k of ["ciaddr", "yiaddr", "siaddr", "giaddr"] as const) if (m[k] !== "0.0.0.0") out[k] = m[k];
  const options: Record<string, unknown> = { ...rest };
  if (parameterRequestList) options.parameterRequestList = parameterRequestList.map((c) => OPTION_NAMES[c] ?? c);
  for (const u of unknown ?? []) options[`option${u.code}`] = u.data;
  out.options = options;
  return out;
}

/** A random transaction id (clients pick one per exchange). */
export const randomXid = () => randomBytes(4).readUInt32BE(0);
