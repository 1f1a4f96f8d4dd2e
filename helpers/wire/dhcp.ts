// A DHCP message codec written by hand (RFC 2131 §2 for the fixed fields, RFC 2132 for the
// options, RFC 3396 for options longer than 255 bytes), with the contract of helpers/wire/codec.ts:
// `encode(msg)` gives the bytes, `decode(buf)` the message, and every option is written and read
// by the codec of its kind, picked from one table (OPTIONS). The message is plain JSON (addresses
// and MACs as text, raw option bytes as hex) so a server or client running in another network
// namespace can hand its transcript back over a pipe.
//
// Bad input raises DhcpError with a code, the offset and a reason. Every read is bounds checked
// first, so decoding never throws a RangeError from Buffer.
import { randomBytes } from "node:crypto";
import { hardwareBytes, ipv4Bytes, ipv4Text, macText } from "./addr";
import { codec, CodecError, invalid, invalidType, objectOf, uint, type WireCodec } from "./codec";

/** Why bytes could not be decoded as a DHCP message. */
export type DhcpErrorCode =
  | "ERR_DHCP_TRUNCATED" // fewer than the 236 bytes of fixed fields
  | "ERR_DHCP_MISSING_COOKIE" // fixed fields, but no room for the 4-byte magic cookie
  | "ERR_DHCP_BAD_COOKIE" // the 4 bytes after the fixed fields are not 99.130.83.99
  | "ERR_DHCP_BAD_OP" // op is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY)
  | "ERR_DHCP_BAD_HLEN" // a hardware address longer than the 16-byte chaddr field
  | "ERR_DHCP_OPTION_PAST_END" // an option's length byte (or the length byte itself) runs past the end
  | "ERR_DHCP_MISSING_END" // the options stop without an end option (255)
  | "ERR_DHCP_BAD_OPTION_LENGTH" // e.g. a subnet mask that is not 4 bytes
  | "ERR_DHCP_MISSING_MESSAGE_TYPE" // no option 53: BOOTP, not DHCP
  | "ERR_DHCP_UNKNOWN_MESSAGE_TYPE" // option 53 outside 1..8
  | "ERR_DHCP_TOO_LONG"; // longer than the codec accepts (one Ethernet frame by default)

export class DhcpError extends CodecError<DhcpErrorCode> {
  constructor(code: DhcpErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed DHCP message at offset ${offset}: ${reason} (${code})`);
    this.name = "DhcpError";
  }
}

const fail = (code: DhcpErrorCode, offset: number, reason: string): never => {
  throw new DhcpError(code, offset, reason);
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
 *  replies); `hlen`, when given, is chaddr's length. */
export type DhcpMessageInput = Partial<Omit<DhcpMessage, "options" | "chaddr">> & {
  chaddr: string;
  options: DhcpOptions;
};

// ---- options, one codec per kind, one table ------------------------------------------------------

/** How one kind of option data is written (the value checked, at the edge) and read (its size
 *  checked: `size` fails with the option's code and name). */
interface OptionCodec {
  write(value: unknown, what: string): Buffer;
  read(data: Buffer, size: (ok: boolean, want: string) => void): unknown;
}

const fixedInt = (bytes: 2 | 4): OptionCodec => ({
  write(value, what) {
    const b = Buffer.alloc(bytes);
    b.writeUIntBE(uint(value, bytes * 8, what), 0, bytes);
    return b;
  },
  read(data, size) {
    size(data.length === bytes, `${bytes} bytes`);
    return data.readUIntBE(0, bytes);
  },
});
const nonEmptyHex = (value: unknown, what: string) => {
  if (typeof value !== "string" || !/^(?:[0-9a-fA-F]{2})+$/.test(value)) invalid(`${what}: bytes as hex`);
  return Buffer.from(value, "hex");
};

const KINDS = {
  type: {
    write(value, what) {
      const n = MESSAGE_TYPES.indexOf(value as DhcpMessageType);
      if (n < 0) invalid(`${what}: one of ${MESSAGE_TYPES.join(", ")}, not ${JSON.stringify(value)}`);
      return Buffer.from([n + 1]);
    },
    read(data, size) {
      size(data.length === 1, "1 byte");
      return MESSAGE_TYPES[data[0] - 1]; // 1..8 checked by the message codec, for its own code
    },
  },
  ip: {
    write: (value, what) => ipv4Bytes(value as string, what),
    read(data, size) {
      size(data.length === 4, "4 bytes");
      return ipv4Text(data);
    },
  },
  ips: {
    write(value, what) {
      if (!Array.isArray(value) || value.length === 0) invalid(`${what}: a non-empty list of addresses`);
      return Buffer.concat(value.map((a) => ipv4Bytes(a, what)));
    },
    read(data, size) {
      size(data.length > 0 && data.length % 4 === 0, "a multiple of 4 bytes");
      return Array.from({ length: data.length / 4 }, (_, i) => ipv4Text(data, i * 4));
    },
  },
  u32: fixedInt(4),
  u16: fixedInt(2),
  string: {
    write(value, what) {
      if (typeof value !== "string" || value.length === 0 || value.endsWith("\0"))
        invalid(`${what}: a non-empty string that does not end in NUL`);
      return Buffer.from(value, "utf8");
    },
    read(data, size) {
      const text = data.toString("utf8").replace(/\0+$/, ""); // some clients NUL-terminate
      size(text.length > 0, "at least 1 byte before any NUL at the end");
      return text;
    },
  },
  codes: {
    write(value, what) {
      if (!Array.isArray(value) || value.length === 0 || !value.every((c) => Number.isInteger(c) && c >= 0 && c < 256))
        invalid(`${what}: a non-empty list of option codes 0..255`);
      return Buffer.from(value);
    },
    read(data, size) {
      size(data.length > 0, "at least 1 byte");
      return Array.from(data);
    },
  },
  hex: {
    write: nonEmptyHex,
    read(data, size) {
      size(data.length > 0, "at least 1 byte");
      return data.toString("hex");
    },
  },
} satisfies Record<string, OptionCodec>;

type Named = Exclude<keyof DhcpOptions, "unknown">;
/** Every option with a name: code, field, and the codec of its kind. */
const OPTIONS: [code: number, key: Named, kind: keyof typeof KINDS][] = [
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
const BY_CODE = new Map<number, { key: Named; kind: OptionCodec }>(
  OPTIONS.map(([code, key, kind]) => [code, { key, kind: KINDS[kind] }]),
);
/** Option names for transcripts and the parameter request list. */
export const OPTION_NAMES: Record<number, string> = Object.fromEntries([
  ...OPTIONS.map(([c, k]) => [c, k]),
  [0, "pad"],
  [255, "end"],
  [52, "overload"],
  [119, "domainSearch"],
  [121, "classlessRoutes"],
]);

/** The options as code/data pairs in wire order: message type first (some servers look only
 *  there), then by code, then the unknown ones as given. */
function optionList(o: DhcpOptions): [number, Buffer][] {
  objectOf(o, "options");
  const out: [number, Buffer][] = [];
  for (const [code, key, kind] of OPTIONS)
    if (o[key] !== undefined) out.push([code, KINDS[kind].write(o[key], `option ${key}`)]);
  if (o.unknown !== undefined && !Array.isArray(o.unknown)) invalidType("options.unknown must be an array");
  const seen = new Set<number>();
  for (const u of o.unknown ?? []) {
    objectOf(u, "an unknown option");
    if (!Number.isInteger(u.code) || u.code < 1 || u.code > 254 || BY_CODE.has(u.code) || seen.has(u.code))
      invalid(`unknown option code ${u.code}: must be 1..254, not one with a name, and not repeated`);
    seen.add(u.code);
    if (typeof u.data !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(u.data))
      invalid(`unknown option ${u.code}: bytes as hex`);
    out.push([u.code, Buffer.from(u.data, "hex")]);
  }
  return out;
}

// ---- whole messages -----------------------------------------------------------------------------

export interface DhcpCodecOptions {
  /** Encode: pad with zeros up to this many bytes (default MIN_LENGTH, 300). */
  minLength?: number;
  /** Decode (and encode): refuse longer messages (default MAX_LENGTH, 1472: one Ethernet frame). */
  maxLength?: number;
  /** Accept a message without option 53, i.e. plain BOOTP, both ways (default false). */
  allowBootp?: boolean;
}

/** A DHCP codec: the options say how long a message may be and whether plain BOOTP passes. A
 *  message is a whole UDP payload, so decode consumes the buffer to its end (padding after the
 *  end option included). */
export function createDhcpCodec(options: DhcpCodecOptions = {}): WireCodec<DhcpMessageInput, DhcpMessage> {
  const minLength = uint(options.minLength ?? MIN_LENGTH, 16, "minLength");
  const maxLength = uint(options.maxLength ?? MAX_LENGTH, 16, "maxLength");
  const allowBootp = options.allowBootp === true;
  return codec<DhcpMessageInput, DhcpMessage>({
    plan: (m) => planMessage(m, minLength, maxLength, allowBootp),
    read: (buf, at) => readMessage(buf, at, maxLength, allowBootp),
  });
}

function planMessage(m: DhcpMessageInput, minLength: number, maxLength: number, allowBootp: boolean) {
  objectOf(m, "a DHCP message");
  objectOf(m.options, "options");
  const type = m.options.messageType;
  if (type === undefined && !allowBootp) invalid("a DHCP message needs options.messageType");
  const op = m.op ?? (type === "OFFER" || type === "ACK" || type === "NAK" ? "BOOTREPLY" : "BOOTREQUEST");
  if (op !== "BOOTREQUEST" && op !== "BOOTREPLY") invalid(`op: BOOTREQUEST or BOOTREPLY, not ${JSON.stringify(op)}`);
  const mac = m.chaddr === "" ? Buffer.alloc(0) : hardwareBytes(m.chaddr, "chaddr");
  if (m.hlen !== undefined && m.hlen !== mac.length)
    invalid(`hlen: ${m.hlen}, but chaddr ${JSON.stringify(m.chaddr)} has ${mac.length} bytes`);
  const fields = {
    htype: uint(m.htype ?? 1, 8, "htype"),
    hops: uint(m.hops ?? 0, 8, "hops"),
    xid: uint(m.xid ?? 0, 32, "xid"),
    secs: uint(m.secs ?? 0, 16, "secs"),
  };
  const addresses = (["ciaddr", "yiaddr", "siaddr", "giaddr"] as const).map((k) => ipv4Bytes(m[k] ?? "0.0.0.0", k));
  const names = (
    [
      ["sname", 44, 64],
      ["file", 108, 128],
    ] as const
  ).map(([field, at, size]) => {
    const value = m[field] ?? "";
    if (typeof value !== "string" || value.includes("\0")) invalid(`${field}: a string without NUL`);
    const text = Buffer.from(value, "utf8");
    if (text.length >= size) invalid(`${field}: at most ${size - 1} bytes (it is NUL-terminated)`);
    return { at, text };
  });
  const list = optionList(m.options);
  // an option longer than 255 bytes goes out as several of the same code (RFC 3396)
  const optionBytes = list.reduce((n, [, d]) => n + Math.max(1, Math.ceil(d.length / 255)) * 2 + d.length, 0);
  const length = Math.max(FIXED_LENGTH + 4 + optionBytes + 1, minLength);
  if (length > maxLength) invalid(`the message takes ${length} bytes, more than the ${maxLength} this codec accepts`);
  return {
    length,
    write(buf: Buffer, at: number) {
      buf.fill(0, at, at + length); // unused chaddr bytes, NUL terminators, pad
      buf[at] = op === "BOOTREQUEST" ? 1 : 2;
      buf[at + 1] = fields.htype;
      buf[at + 2] = mac.length;
      buf[at + 3] = fields.hops;
      buf.writeUInt32BE(fields.xid, at + 4);
      buf.writeUInt16BE(fields.secs, at + 8);
      buf.writeUInt16BE(m.broadcast ? 0x8000 : 0, at + 10);
      addresses.forEach((a, i) => a.copy(buf, at + 12 + i * 4));
      mac.copy(buf, at + 28);
      for (const n of names) n.text.copy(buf, at + n.at);
      buf.writeUInt32BE(MAGIC_COOKIE, at + FIXED_LENGTH);
      let o = at + FIXED_LENGTH + 4;
      for (const [code, data] of list) {
        let from = 0;
        do {
          const chunk = data.subarray(from, from + 255);
          buf[o] = code;
          buf[o + 1] = chunk.length;
          chunk.copy(buf, o + 2);
          o += 2 + chunk.length;
          from += 255;
        } while (from < data.length);
      }
      buf[o] = 255; // end; the rest stays zero, which is pad
    },
  };
}

/** One whole message at `base`, to the end of `buf`. Anything after the end option is padding. */
function readMessage(buf: Buffer, base: number, max: number, allowBootp: boolean) {
  const length = buf.length - base;
  if (length > max) fail("ERR_DHCP_TOO_LONG", base + max, `${length} bytes, at most ${max} accepted`);
  if (length < FIXED_LENGTH)
    fail("ERR_DHCP_TRUNCATED", buf.length, `the fixed fields need ${FIXED_LENGTH} bytes, ${Math.max(0, length)} given`);
  const cookieAt = base + FIXED_LENGTH;
  if (length < FIXED_LENGTH + 4)
    fail("ERR_DHCP_MISSING_COOKIE", cookieAt, `no room for the magic cookie (${length - FIXED_LENGTH} of 4 bytes)`);
  const op = buf[base];
  if (op !== 1 && op !== 2) fail("ERR_DHCP_BAD_OP", base, `op ${op} is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY)`);
  const hlen = buf[base + 2];
  if (hlen > 16) fail("ERR_DHCP_BAD_HLEN", base + 2, `hlen ${hlen} is more than the 16 bytes of chaddr`);
  if (buf.readUInt32BE(cookieAt) !== MAGIC_COOKIE)
    fail("ERR_DHCP_BAD_COOKIE", cookieAt, `magic cookie ${ipv4Text(buf, cookieAt)}, expected 99.130.83.99`);

  // Collect code → data first: a repeated code continues the same option (RFC 3396).
  const found = new Map<number, { at: number; parts: Buffer[] }>();
  let at = cookieAt + 4;
  for (;;) {
    if (at >= buf.length) fail("ERR_DHCP_MISSING_END", at, "the options run out without an end option (255)");
    const code = buf[at];
    if (code === 255) break;
    if (code === 0) {
      at++;
      continue;
    }
    if (at + 1 >= buf.length) fail("ERR_DHCP_OPTION_PAST_END", at, `option ${code} has no length byte`);
    const len = buf[at + 1];
    if (at + 2 + len > buf.length)
      fail(
        "ERR_DHCP_OPTION_PAST_END",
        at,
        `option ${code} of ${len} bytes runs past the end (${buf.length - at - 2} left)`,
      );
    const entry = found.get(code) ?? { at, parts: [] };
    entry.parts.push(buf.subarray(at + 2, at + 2 + len));
    found.set(code, entry);
    at += 2 + len;
  }
  const opts: DhcpOptions = {};
  const named = opts as Record<string, unknown>;
  for (const [code, { at: where, parts }] of found) {
    const data = Buffer.concat(parts);
    const known = BY_CODE.get(code);
    if (!known) {
      (opts.unknown ??= []).push({ code, data: data.toString("hex") });
      continue;
    }
    if (code === 53 && data.length === 1 && (data[0] < 1 || data[0] > MESSAGE_TYPES.length))
      fail("ERR_DHCP_UNKNOWN_MESSAGE_TYPE", where, `message type ${data[0]} is not 1..8`);
    named[known.key] = known.kind.read(data, (ok, want) => {
      if (!ok)
        fail(
          "ERR_DHCP_BAD_OPTION_LENGTH",
          where,
          `option ${code} (${known.key}) must be ${want}, not ${data.length} bytes`,
        );
    });
  }
  if (!opts.messageType && !allowBootp)
    fail("ERR_DHCP_MISSING_MESSAGE_TYPE", cookieAt + 4, "no message type option (53): BOOTP, not DHCP");

  const cstring = (from: number, size: number) => {
    const field = buf.subarray(base + from, base + from + size);
    const nul = field.indexOf(0);
    return field.subarray(0, nul < 0 ? size : nul).toString("utf8");
  };
  const value: DhcpMessage = {
    op: op === 1 ? "BOOTREQUEST" : "BOOTREPLY",
    htype: buf[base + 1],
    hlen,
    hops: buf[base + 3],
    xid: buf.readUInt32BE(base + 4),
    secs: buf.readUInt16BE(base + 8),
    broadcast: (buf[base + 10] & 0x80) !== 0,
    ciaddr: ipv4Text(buf, base + 12),
    yiaddr: ipv4Text(buf, base + 16),
    siaddr: ipv4Text(buf, base + 20),
    giaddr: ipv4Text(buf, base + 24),
    chaddr: macText(buf, base + 28, hlen),
    sname: cstring(44, 64),
    file: cstring(108, 128),
    options: opts,
  };
  return { value, bytes: length };
}

/** DHCP as servers and clients speak it: at most one Ethernet frame, option 53 required. */
export const dhcp = createDhcpCodec();
export const { encode, decode, encodingLength } = dhcp;

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
