// STUN messages (RFC 8489, which replaced RFC 5389) and the TURN attributes (RFC 8656), written by
// hand: the 20-byte header (two zero bits, the message type interleaving method and class, the
// length, the magic cookie 0x2112A442, a 96-bit transaction id) and type-length-value attributes
// padded to 4 bytes. Addresses in XOR-MAPPED-ADDRESS and its TURN cousins are XORed with the
// cookie (and, for IPv6, the transaction id), so that NATs that rewrite addresses inside payloads
// leave them alone. MESSAGE-INTEGRITY (HMAC-SHA1 over the message so far, §14.5) and FINGERPRINT
// (CRC-32 XOR 0x5354554e, §14.7) are computed by encode when given a key / no value, and written
// as given otherwise; decode reports whether the fingerprint holds and `verifyIntegrity` checks
// the HMAC with a key. Checked against RFC 5769's test vectors (test/wire/stun.test.ts). On the
// codec contract of codec.ts; bad bytes raise StunError.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { crc32 } from "node:zlib";
import { ipv4Bytes, ipv4Text, ipv6Bytes, ipv6Text, isIpv4 } from "./addr";
import { bytesOf, codec, CodecError, invalid, invalidType, objectOf, uint } from "./codec";

export type StunErrorCode =
  | "ERR_STUN_TRUNCATED" // fewer than 20 bytes, or a length field that runs past the end
  | "ERR_STUN_NOT_STUN" // the first two bits are not zero (ChannelData, RTP, DTLS ... share the port)
  | "ERR_STUN_BAD_COOKIE" // not 0x2112A442: an RFC 3489 message, or not STUN at all
  | "ERR_STUN_BAD_LENGTH" // a message length that is not a multiple of 4
  | "ERR_STUN_ATTRIBUTE_PAST_END" // an attribute's length runs past the message
  | "ERR_STUN_BAD_ATTRIBUTE" // an attribute value of the wrong size or content for its type
  | "ERR_STUN_BAD_FAMILY"; // an address family other than 1 (IPv4) or 2 (IPv6)

export class StunError extends CodecError<StunErrorCode> {
  constructor(code: StunErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed STUN message at offset ${offset}: ${reason} (${code})`);
    this.name = "StunError";
  }
}
const fail = (code: StunErrorCode, offset: number, reason: string): never => {
  throw new StunError(code, offset, reason);
};

export const MAGIC_COOKIE = 0x2112a442;
/** What FINGERPRINT's CRC-32 is XORed with: "STUN" in ASCII. */
export const FINGERPRINT_XOR = 0x5354554e;

// ---- methods and classes ------------------------------------------------------------------------

export const METHODS: Record<string, number> = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
};
const METHOD_NAMES = new Map(Object.entries(METHODS).map(([k, v]) => [v, k]));
export const CLASSES = ["request", "indication", "success", "error"] as const;
export type StunClass = (typeof CLASSES)[number];

const methodNumber = (m: string): number => {
  if (typeof m !== "string") invalidType(`a STUN method is a name, got ${typeof m}`);
  if (Object.hasOwn(METHODS, m)) return METHODS[m];
  const generic = /^METHOD0x([0-9a-f]{3})$/.exec(m);
  return generic ? parseInt(generic[1], 16) : invalid(`unknown STUN method ${JSON.stringify(m)}`);
};
const methodName = (n: number) => METHOD_NAMES.get(n) ?? `METHOD0x${n.toString(16).padStart(3, "0")}`;

/** The 14-bit message type: method bits M11..M0 with the class bits C1 C0 slotted in at 8 and 4. */
export function messageType(method: string, cls: StunClass): number {
  const m = methodNumber(method);
  const c = CLASSES.indexOf(cls);
  if (c < 0) invalid(`a STUN class is one of ${CLASSES.join(", ")}, got ${JSON.stringify(cls)}`);
  return ((m & 0xf80) << 2) | ((m & 0x070) << 1) | (m & 0x00f) | ((c & 2) << 7) | ((c & 1) << 4);
}
function splitType(t: number): { method: string; class: StunClass } {
  const m = ((t >> 2) & 0xf80) | ((t >> 1) & 0x070) | (t & 0x00f);
  const c = ((t >> 7) & 2) | ((t >> 4) & 1);
  return { method: methodName(m), class: CLASSES[c] };
}

// ---- attributes ---------------------------------------------------------------------------------

const ADDRESS_TYPES = {
  "MAPPED-ADDRESS": 0x0001,
  "XOR-PEER-ADDRESS": 0x0012,
  "XOR-RELAYED-ADDRESS": 0x0016,
  "XOR-MAPPED-ADDRESS": 0x0020,
  "ALTERNATE-SERVER": 0x8023,
  "RESPONSE-ORIGIN": 0x802b,
  "OTHER-ADDRESS": 0x802c,
} as const;
const TEXT_TYPES = { USERNAME: 0x0006, REALM: 0x0014, NONCE: 0x0015, SOFTWARE: 0x8022 } as const;
const NUMBER_TYPES = { "CHANNEL-NUMBER": 0x000c, LIFETIME: 0x000d, PRIORITY: 0x0024 } as const;
const TIEBREAK_TYPES = { "ICE-CONTROLLED": 0x8029, "ICE-CONTROLLING": 0x802a } as const;
const OTHER_TYPES = {
  "MESSAGE-INTEGRITY": 0x0008,
  "ERROR-CODE": 0x0009,
  "UNKNOWN-ATTRIBUTES": 0x000a,
  DATA: 0x0013,
  "REQUESTED-TRANSPORT": 0x0019,
  "USE-CANDIDATE": 0x0025,
  FINGERPRINT: 0x8028,
} as const;
type AddressType = keyof typeof ADDRESS_TYPES;
type TextType = keyof typeof TEXT_TYPES;
type NumberType = keyof typeof NUMBER_TYPES;
type TiebreakType = keyof typeof TIEBREAK_TYPES;

/** Every attribute type this codec knows by name, and its number. */
export const ATTRIBUTES: Record<string, number> = {
  ...ADDRESS_TYPES,
  ...TEXT_TYPES,
  ...NUMBER_TYPES,
  ...TIEBREAK_TYPES,
  ...OTHER_TYPES,
};
const ATTRIBUTE_NAMES = new Map(Object.entries(ATTRIBUTES).map(([k, v]) => [v, k]));
/** An attribute type without a name here: "0x" and four hex digits, e.g. "0xc057". */
export type RawType = `0x${string}`;

/** A transport address: XORed on the wire for the XOR-* types, plain for the others. */
export interface AddressAttribute {
  type: AddressType;
  address: string;
  port: number;
}
/** UTF-8 text. */
export interface TextAttribute {
  type: TextType;
  value: string;
}
/** CHANNEL-NUMBER (16 bits then 16 reserved), LIFETIME in seconds, PRIORITY (32 bits each). */
export interface NumberAttribute {
  type: NumberType;
  value: number;
}
/** ICE's tie-breaker, 64 bits. */
export interface TiebreakAttribute {
  type: TiebreakType;
  tiebreaker: bigint;
}
export interface ErrorCodeAttribute {
  type: "ERROR-CODE";
  /** 300..699: class × 100 + number, e.g. 401 (Unauthorized), 438 (Stale Nonce). */
  code: number;
  reason: string;
}
export interface UnknownAttributesAttribute {
  type: "UNKNOWN-ATTRIBUTES";
  types: number[];
}
/** HMAC-SHA1: give `key` and encode computes it; `hmac` (what decode returns) is written as is. */
export interface IntegrityAttribute {
  type: "MESSAGE-INTEGRITY";
  key?: Buffer;
  hmac?: Buffer;
}
/** CRC-32 of the message before it, XOR 0x5354554e: encode computes it unless `crc` is given;
 *  decode says whether it holds (`ok`, ignored by encode). */
export interface FingerprintAttribute {
  type: "FINGERPRINT";
  crc?: number;
  ok?: boolean;
}
export interface DataAttribute {
  type: "DATA";
  data: Buffer;
}
/** REQUESTED-TRANSPORT: an IP protocol number, 17 for UDP. */
export interface TransportAttribute {
  type: "REQUESTED-TRANSPORT";
  protocol: number;
}
export interface FlagAttribute {
  type: "USE-CANDIDATE";
}
export interface RawAttribute {
  type: RawType;
  data: Buffer;
}
export type StunAttribute =
  | AddressAttribute
  | TextAttribute
  | NumberAttribute
  | TiebreakAttribute
  | ErrorCodeAttribute
  | UnknownAttributesAttribute
  | IntegrityAttribute
  | FingerprintAttribute
  | DataAttribute
  | TransportAttribute
  | FlagAttribute
  | RawAttribute;

export interface StunMessageInput {
  method: string;
  class: StunClass;
  /** 12 bytes, chosen at random by the client; the answer carries the same. */
  transactionId: Buffer;
  attributes?: StunAttribute[];
  /** The byte that pads attribute values to 4 bytes (default 0; receivers must ignore it, and
   *  RFC 5769's vectors use 0x20 to show that). */
  padding?: number;
}
export interface StunMessage extends StunMessageInput {
  attributes: StunAttribute[];
}

const isType = <T extends Record<string, number>>(table: T, t: string): t is Extract<keyof T, string> =>
  Object.hasOwn(table, t);
function attributeNumber(t: string): number {
  if (typeof t !== "string") invalidType(`a STUN attribute type is a string, got ${typeof t}`);
  if (Object.hasOwn(ATTRIBUTES, t)) return ATTRIBUTES[t];
  const raw = /^0x([0-9a-f]{4})$/.exec(t);
  if (raw && !ATTRIBUTE_NAMES.has(parseInt(raw[1], 16))) return parseInt(raw[1], 16);
  return invalid(`unknown STUN attribute type ${JSON.stringify(t)} (a known one by name, others as "0x" + 4 hex)`);
}
const attributeName = (n: number) => ATTRIBUTE_NAMES.get(n) ?? `0x${n.toString(16).padStart(4, "0")}`;
const isXor = (t: AddressType) => t.startsWith("XOR-");
const cookieBytes = () => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(MAGIC_COOKIE);
  return b;
};

/** An address's 4 or 16 bytes XORed with the cookie (and the transaction id), or as they are. */
function maskAddress(bytes: Buffer, xor: boolean, transactionId: Buffer): Buffer {
  if (!xor) return bytes;
  const mask = Buffer.concat([cookieBytes(), transactionId]);
  return Buffer.from(bytes.map((b, i) => b ^ mask[i]));
}

/** An attribute's value bytes, with `integrity` / `fingerprint` marked for the writer to fill. */
interface PlannedAttribute {
  type: number;
  value: Buffer;
  fill?: "integrity" | "fingerprint";
  key?: Buffer;
}

function planAttribute(a: StunAttribute, transactionId: Buffer): PlannedAttribute {
  objectOf(a, "a STUN attribute");
  const type = attributeNumber(a.type);
  const t = a.type;
  const utf8 = (s: unknown, what: string) => {
    if (typeof s !== "string") invalidType(`${what} is text, got ${typeof s}`);
    const b = Buffer.from(s, "utf8");
    if (b.toString("utf8") !== s) invalid(`${what} is not valid Unicode text`);
    return b;
  };
  if (isType(ADDRESS_TYPES, t) && "address" in a) {
    const v4 = isIpv4(a.address);
    const raw = v4 ? ipv4Bytes(a.address) : ipv6Bytes(a.address, t);
    const value = Buffer.alloc(4 + raw.length);
    value[1] = v4 ? 1 : 2;
    value.writeUInt16BE(uint(a.port, 16, `${t} port`) ^ (isXor(t) ? MAGIC_COOKIE >>> 16 : 0), 2);
    maskAddress(raw, isXor(t), transactionId).copy(value, 4);
    return { type, value };
  }
  if (isType(TEXT_TYPES, t) && "value" in a) {
    const value = utf8(a.value, t);
    if (value.length > 763) invalid(`${t} is at most 763 bytes, got ${value.length}`);
    return { type, value };
  }
  if (isType(NUMBER_TYPES, t) && "value" in a) {
    const value = Buffer.alloc(4);
    if (t === "CHANNEL-NUMBER") value.writeUInt16BE(uint(a.value, 16, t));
    else value.writeUInt32BE(uint(a.value, 32, t));
    return { type, value };
  }
  if (isType(TIEBREAK_TYPES, t) && "tiebreaker" in a) {
    if (typeof a.tiebreaker !== "bigint" || a.tiebreaker < 0n || a.tiebreaker >= 1n << 64n)
      invalid(`${t} is a 64-bit unsigned bigint, got ${String(a.tiebreaker)}`);
    const value = Buffer.alloc(8);
    value.writeBigUInt64BE(a.tiebreaker);
    return { type, value };
  }
  switch (a.type) {
    case "ERROR-CODE": {
      const code = uint(a.code, 10, "ERROR-CODE code");
      if (code > 799) invalid(`an error code is class × 100 + number, at most 799, got ${code}`);
      const reason = utf8(a.reason, "ERROR-CODE reason");
      const value = Buffer.alloc(4 + reason.length);
      value[2] = Math.floor(code / 100);
      value[3] = code % 100;
      reason.copy(value, 4);
      return { type, value };
    }
    case "UNKNOWN-ATTRIBUTES": {
      if (!Array.isArray(a.types)) invalidType("UNKNOWN-ATTRIBUTES types is an array of numbers");
      const value = Buffer.alloc(2 * a.types.length);
      a.types.forEach((n, i) => value.writeUInt16BE(uint(n, 16, "an unknown attribute type"), 2 * i));
      return { type, value };
    }
    case "MESSAGE-INTEGRITY": {
      if (a.key !== undefined) return { type, value: Buffer.alloc(20), fill: "integrity", key: bytesOf(a.key, "key") };
      const hmac = bytesOf(a.hmac, "MESSAGE-INTEGRITY hmac (or give key)");
      if (hmac.length !== 20) invalid(`an HMAC-SHA1 is 20 bytes, got ${hmac.length}`);
      return { type, value: hmac };
    }
    case "FINGERPRINT": {
      if (a.crc === undefined) return { type, value: Buffer.alloc(4), fill: "fingerprint" };
      const value = Buffer.alloc(4);
      value.writeUInt32BE(uint(a.crc, 32, "FINGERPRINT crc"));
      return { type, value };
    }
    case "DATA":
      return { type, value: bytesOf(a.data, "DATA data") };
    case "REQUESTED-TRANSPORT": {
      const value = Buffer.alloc(4);
      value[0] = uint(a.protocol, 8, "REQUESTED-TRANSPORT protocol");
      return { type, value };
    }
    case "USE-CANDIDATE":
      return { type, value: Buffer.alloc(0) };
  }
  if ("data" in a) return { type, value: bytesOf(a.data, `attribute ${a.type}`) };
  return invalid(`attribute ${a.type} lacks its fields`);
}

const padded = (n: number) => (n + 3) & ~3;

/** HMAC-SHA1 over `buf[start, end)` (a message up to its MESSAGE-INTEGRITY) with the length field
 *  set as if the message ended right after that attribute. */
function integrityOver(buf: Buffer, start: number, end: number, key: Buffer): Buffer {
  const copy = Buffer.from(buf.subarray(start, end));
  copy.writeUInt16BE(end + 24 - start - 20, 2);
  return createHmac("sha1", key).update(copy).digest();
}
/** CRC-32 XOR "STUN" over `buf[start, end)` with the length field covering the FINGERPRINT. */
function fingerprintOver(buf: Buffer, start: number, end: number): number {
  const copy = Buffer.from(buf.subarray(start, end));
  copy.writeUInt16BE(end + 8 - start - 20, 2);
  return (crc32(copy) ^ FINGERPRINT_XOR) >>> 0;
}

// ---- the message ---------------------------------------------------------------------------------

export const message = codec<StunMessageInput, StunMessage>({
  plan(m) {
    objectOf(m, "a STUN message");
    const type = messageType(m.method, m.class);
    const tid = bytesOf(m.transactionId, "transactionId");
    if (tid.length !== 12) invalid(`a transaction id is 12 bytes, got ${tid.length}`);
    const pad = uint(m.padding ?? 0, 8, "padding");
    const attrs = m.attributes ?? [];
    if (!Array.isArray(attrs)) invalidType("attributes must be an array");
    const planned = attrs.map((a) => planAttribute(a, tid));
    const body = planned.reduce((n, p) => n + 4 + padded(p.value.length), 0);
    uint(body, 16, "the message length");
    for (const p of planned) uint(p.value.length, 16, "an attribute's length");
    return {
      length: 20 + body,
      write(buf, at) {
        buf.writeUInt16BE(type, at);
        buf.writeUInt16BE(body, at + 2);
        buf.writeUInt32BE(MAGIC_COOKIE, at + 4);
        tid.copy(buf, at + 8);
        let o = at + 20;
        for (const p of planned) {
          buf.writeUInt16BE(p.type, o);
          buf.writeUInt16BE(p.value.length, o + 2);
          if (p.fill === "integrity" && p.key) integrityOver(buf, at, o, p.key).copy(buf, o + 4);
          else if (p.fill === "fingerprint") buf.writeUInt32BE(fingerprintOver(buf, at, o), o + 4);
          else p.value.copy(buf, o + 4);
          buf.fill(pad, o + 4 + p.value.length, o + 4 + padded(p.value.length));
          o += 4 + padded(p.value.length);
        }
      },
    };
  },
  read(buf, at) {
    if (buf.length - at < 20)
      fail("ERR_STUN_TRUNCATED", at, `a STUN header needs 20 bytes, ${Math.max(0, buf.length - at)} left`);
    const type = buf.readUInt16BE(at);
    if (type & 0xc000) fail("ERR_STUN_NOT_STUN", at, `the first two bits are ${type >> 14}, STUN has 0`);
    const length = buf.readUInt16BE(at + 2);
    if (buf.readUInt32BE(at + 4) !== MAGIC_COOKIE)
      fail("ERR_STUN_BAD_COOKIE", at + 4, `magic cookie 0x${buf.readUInt32BE(at + 4).toString(16)}, not 0x2112a442`);
    if (length % 4) fail("ERR_STUN_BAD_LENGTH", at + 2, `message length ${length} is not a multiple of 4`);
    if (at + 20 + length > buf.length)
      fail("ERR_STUN_TRUNCATED", at + 2, `length ${length}, but ${buf.length - at - 20} bytes follow`);
    const transactionId = Buffer.from(buf.subarray(at + 8, at + 20));
    const end = at + 20 + length;
    const attributes: StunAttribute[] = [];
    for (let o = at + 20; o < end;) {
      if (o + 4 > end) fail("ERR_STUN_ATTRIBUTE_PAST_END", o, "an attribute header runs past the message");
      const n = buf.readUInt16BE(o + 2);
      if (o + 4 + padded(n) > end)
        fail("ERR_STUN_ATTRIBUTE_PAST_END", o + 2, `attribute of ${n} bytes runs past the message`);
      attributes.push(readAttribute(buf, at, o, buf.readUInt16BE(o), n, transactionId));
      o += 4 + padded(n);
    }
    return { value: { ...splitType(type), transactionId, attributes }, bytes: 20 + length };
  },
});

function readAttribute(buf: Buffer, start: number, o: number, num: number, n: number, tid: Buffer): StunAttribute {
  const v = o + 4;
  const t = attributeName(num);
  const size = (...ok: number[]) => {
    if (!ok.includes(n)) fail("ERR_STUN_BAD_ATTRIBUTE", o + 2, `${t} is ${ok.join(" or ")} bytes, not ${n}`);
  };
  const text = () => {
    const value = buf.toString("utf8", v, v + n);
    if (!Buffer.from(value, "utf8").equals(buf.subarray(v, v + n)))
      fail("ERR_STUN_BAD_ATTRIBUTE", v, `${t} is not valid UTF-8`);
    return value;
  };
  if (isType(ADDRESS_TYPES, t)) {
    if (n < 4) size(8, 20);
    const family = buf[v + 1];
    if (family !== 1 && family !== 2) fail("ERR_STUN_BAD_FAMILY", v + 1, `address family ${family}, not 1 or 2`);
    size(family === 1 ? 8 : 20);
    const raw = maskAddress(Buffer.from(buf.subarray(v + 4, v + n)), isXor(t), tid);
    const port = buf.readUInt16BE(v + 2) ^ (isXor(t) ? MAGIC_COOKIE >>> 16 : 0);
    return { type: t, address: family === 1 ? ipv4Text(raw) : ipv6Text(raw), port };
  }
  if (isType(TEXT_TYPES, t)) return { type: t, value: text() };
  if (isType(NUMBER_TYPES, t)) {
    size(4);
    return { type: t, value: t === "CHANNEL-NUMBER" ? buf.readUInt16BE(v) : buf.readUInt32BE(v) };
  }
  if (isType(TIEBREAK_TYPES, t)) {
    size(8);
    return { type: t, tiebreaker: buf.readBigUInt64BE(v) };
  }
  switch (t) {
    case "ERROR-CODE": {
      if (n < 4) size(4);
      const number = buf[v + 3];
      if (number > 99) fail("ERR_STUN_BAD_ATTRIBUTE", v + 3, `error number ${number} is over 99`);
      return { type: t, code: (buf[v + 2] & 7) * 100 + number, reason: textAt(v + 4) };
    }
    case "UNKNOWN-ATTRIBUTES": {
      if (n % 2) fail("ERR_STUN_BAD_ATTRIBUTE", o + 2, `UNKNOWN-ATTRIBUTES holds 16-bit types, not ${n} bytes`);
      return { type: t, types: Array.from({ length: n / 2 }, (_, i) => buf.readUInt16BE(v + 2 * i)) };
    }
    case "MESSAGE-INTEGRITY":
      size(20);
      return { type: t, hmac: Buffer.from(buf.subarray(v, v + 20)) };
    case "FINGERPRINT": {
      size(4);
      const crc = buf.readUInt32BE(v);
      return { type: t, crc, ok: crc === fingerprintOver(buf, start, o) };
    }
    case "DATA":
      return { type: t, data: Buffer.from(buf.subarray(v, v + n)) };
    case "REQUESTED-TRANSPORT":
      size(4);
      return { type: t, protocol: buf[v] };
    case "USE-CANDIDATE":
      size(0);
      return { type: t };
  }
  return { type: `0x${num.toString(16).padStart(4, "0")}`, data: Buffer.from(buf.subarray(v, v + n)) };

  function textAt(from: number): string {
    const value = buf.toString("utf8", from, v + n);
    if (!Buffer.from(value, "utf8").equals(buf.subarray(from, v + n)))
      fail("ERR_STUN_BAD_ATTRIBUTE", from, `${t} reason is not valid UTF-8`);
    return value;
  }
}

export const { encode, decode, encodingLength } = message;

// ---- checks and keys -----------------------------------------------------------------------------

/** Whether the MESSAGE-INTEGRITY of the message at `offset` is the HMAC-SHA1 under `key`; false
 *  when it has none. */
export function verifyIntegrity(buf: Buffer, key: Buffer, offset = 0): boolean {
  message.decode(buf, offset); // well-formed, or a StunError
  const end = offset + message.decode.bytes;
  for (let o = offset + 20; o < end;) {
    const n = buf.readUInt16BE(o + 2);
    if (buf.readUInt16BE(o) === OTHER_TYPES["MESSAGE-INTEGRITY"])
      return integrityOver(buf, offset, o, key).equals(buf.subarray(o + 4, o + 24));
    o += 4 + padded(n);
  }
  return false;
}

/** The short-term key (ICE, RFC 8489 §9.1): the password's bytes (OpaqueString-prepared; ASCII
 *  passwords are unchanged). */
export const shortTermKey = (password: string): Buffer => Buffer.from(password.normalize("NFC"), "utf8");
/** The long-term key (TURN, §9.2.2): MD5(username ":" realm ":" password). */
export const longTermKey = (username: string, realm: string, password: string): Buffer =>
  createHash("md5").update(`${username}:${realm}:${password}`, "utf8").digest();

/** The member of StunAttribute whose `type` can be `T`. */
export type AttributeOf<T extends string> = StunAttribute extends infer A
  ? A extends { type: infer U }
    ? T extends U
      ? A
      : never
    : never
  : never;

/** The first attribute of `type` in `m`, typed by its name. */
export function attribute<T extends StunAttribute["type"]>(
  m: { attributes: StunAttribute[] },
  type: T,
): AttributeOf<T> | undefined {
  return m.attributes.find((a): a is AttributeOf<T> => a.type === type);
}

/** A fresh random transaction id. */
export const transactionId = (): Buffer => randomBytes(12);

/** Whether a datagram looks like STUN (RFC 7983's demultiplexing: first byte 0..3, and the cookie). */
export const looksLikeStun = (buf: Buffer): boolean =>
  buf.length >= 20 && buf[0] < 4 && buf.readUInt32BE(4) === MAGIC_COOKIE;
