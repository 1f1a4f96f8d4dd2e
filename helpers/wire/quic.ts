// QUIC's wire format (RFC 9000) and its Initial packet protection (RFC 9001), written out:
// variable-length integers (§16), the long header (§17.2: Initial, 0-RTT, Handshake, Retry, and
// Version Negotiation), the frames an Initial packet carries (§19: PADDING, PING, ACK, CRYPTO,
// CONNECTION_CLOSE), and the protection every Initial gets: secrets derived from the client's
// first Destination Connection ID with HKDF (RFC 9001 §5.2), AEAD_AES_128_GCM over the payload
// (§5.3) and AES-based header protection of the first byte and the packet number (§5.4). The
// codecs follow codec.ts; bad bytes are one QuicError with a stable code, never a hang.
import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import { bytesOf, codec, CodecError, invalid, objectOf, uint } from "./codec";

export type QuicErrorCode =
  | "ERR_QUIC_TRUNCATED" // fewer bytes than a field needs
  | "ERR_QUIC_VARINT_UNSAFE" // a varint above 2^53 - 1 read as a number (use varintBig)
  | "ERR_QUIC_NOT_LONG" // a short header (or no fixed bit) where a long header was expected
  | "ERR_QUIC_CID_TOO_LONG" // a connection ID longer than 20 bytes in version 1
  | "ERR_QUIC_BAD_LENGTH" // a Length field that runs past the datagram, or shorter than a packet number
  | "ERR_QUIC_DECRYPT" // too short to sample, or the AEAD tag does not verify
  | "ERR_QUIC_BAD_FRAME"; // a frame type an Initial cannot carry, or a frame cut short

export class QuicError extends CodecError<QuicErrorCode> {
  constructor(code: QuicErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed QUIC at offset ${offset}: ${reason} (${code})`);
    this.name = "QuicError";
  }
}
const fail = (code: QuicErrorCode, offset: number, reason: string): never => {
  throw new QuicError(code, offset, reason);
};
const need = (buf: Buffer, at: number, n: number, what: string) => {
  if (at + n > buf.length)
    fail("ERR_QUIC_TRUNCATED", at, `${what} needs ${n} bytes, ${Math.max(0, buf.length - at)} left`);
};

// ---- variable-length integers (RFC 9000 §16) -----------------------------------------------------

/** The two top bits say the length: 00 → 1 byte (6 bits), 01 → 2 (14), 10 → 4 (30), 11 → 8 (62). */
export const VARINT_MAX = 2n ** 62n - 1n;
const sizeFor = (v: bigint) => (v < 64n ? 1 : v < 16384n ? 2 : v < 1073741824n ? 4 : 8);

function readBig(buf: Buffer, at: number): { value: bigint; bytes: number } {
  need(buf, at, 1, "a varint");
  const bytes = 1 << (buf[at] >> 6);
  need(buf, at, bytes, `a ${bytes}-byte varint`);
  let v = BigInt(buf[at] & 0x3f);
  for (let i = 1; i < bytes; i++) v = (v << 8n) | BigInt(buf[at + i]);
  return { value: v, bytes };
}
function planBig(value: bigint, size?: number) {
  if (typeof value !== "bigint" || value < 0n || value > VARINT_MAX)
    invalid(`a varint is 0 to 2^62 - 1, got ${String(value)}`);
  const bytes = size ?? sizeFor(value);
  if (![1, 2, 4, 8].includes(bytes) || bytes < sizeFor(value))
    invalid(`${String(value)} does not fit in a ${bytes}-byte varint`);
  return {
    length: bytes,
    write(buf: Buffer, at: number) {
      let v = value;
      for (let i = bytes - 1; i >= 0; i--) {
        buf[at + i] = Number(v & 0xffn);
        v >>= 8n;
      }
      buf[at] |= [0, 0, 0x40, 0, 0x80, 0, 0, 0, 0xc0][bytes];
    },
  };
}

/** A varint as a bigint: every value QUIC can carry. */
export const varintBig = codec<bigint, bigint>({ plan: (v) => planBig(v), read: readBig });

/** A varint as a number (what lengths, offsets and IDs fit in); above 2^53 - 1, a QuicError. */
export const varint = codec<number, number>({
  plan(v) {
    if (!Number.isSafeInteger(v) || v < 0) invalid(`a varint here is a safe non-negative integer, got ${String(v)}`);
    return planBig(BigInt(v));
  },
  read(buf, at) {
    const r = readBig(buf, at);
    if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) fail("ERR_QUIC_VARINT_UNSAFE", at, `${r.value} is above 2^53 - 1`);
    return { value: Number(r.value), bytes: r.bytes };
  },
});
/** Writes `value` as a varint of `size` bytes (QUIC allows longer than needed). */
export function varintOf(value: number, size?: number): Buffer {
  const p = planBig(BigInt(value), size);
  const b = Buffer.alloc(p.length);
  p.write(b, 0);
  return b;
}

// ---- the long header (RFC 9000 §17.2) ------------------------------------------------------------

export const LONG_TYPES = ["initial", "0-rtt", "handshake", "retry"] as const;
export type LongType = (typeof LONG_TYPES)[number];

export type LongHeader =
  | {
      type: "initial" | "0-rtt" | "handshake";
      /** The first byte's low 4 bits: reserved bits and the packet number length - 1. Header
       *  protection hides them on the wire; openInitial returns the real ones. */
      flags: number;
      version: number;
      dcid: Buffer;
      scid: Buffer;
      /** Initial only: the token a Retry or NEW_TOKEN gave (usually empty). */
      token?: Buffer;
      /** The packet number and the payload: the Length field's bytes. */
      payload: Buffer;
      /** How many bytes the Length varint takes (default 2, as most stacks write it). */
      lengthBytes?: 1 | 2 | 4 | 8;
    }
  | { type: "retry"; flags: number; version: number; dcid: Buffer; scid: Buffer; token: Buffer; tag: Buffer }
  | { type: "version-negotiation"; flags: number; dcid: Buffer; scid: Buffer; versions: number[] };

const cid = (b: unknown, what: string) => {
  const v = bytesOf(b, what);
  if (v.length > 255) invalid(`${what} is at most 255 bytes (20 in version 1), not ${v.length}`);
  return v;
};

function planLong(h: LongHeader): Buffer {
  objectOf(h, "a QUIC long header");
  const dcid = cid(h.dcid, "dcid");
  const scid = cid(h.scid, "scid");
  const ids = Buffer.concat([Buffer.from([dcid.length]), dcid, Buffer.from([scid.length]), scid]);
  if (h.type === "version-negotiation") {
    const versions = Buffer.alloc(4 * h.versions.length);
    h.versions.forEach((v, i) => versions.writeUInt32BE(uint(v, 32, "a version"), 4 * i));
    return Buffer.concat([Buffer.from([0x80 | uint(h.flags, 7, "flags"), 0, 0, 0, 0]), ids, versions]);
  }
  const t = LONG_TYPES.indexOf(h.type);
  if (t < 0) invalid(`type must be initial, 0-rtt, handshake, retry or version-negotiation, not ${String(h.type)}`);
  const head = Buffer.alloc(5);
  head[0] = 0xc0 | (t << 4) | uint(h.flags, 4, "flags");
  head.writeUInt32BE(uint(h.version, 32, "version"), 1);
  if (h.version === 0) invalid("version 0 is Version Negotiation");
  if (h.type === "retry") {
    if (bytesOf(h.tag, "tag").length !== 16) invalid("a Retry integrity tag is 16 bytes");
    return Buffer.concat([head, ids, bytesOf(h.token, "token"), h.tag]);
  }
  const token =
    h.type === "initial"
      ? [varintOf(bytesOf(h.token ?? Buffer.alloc(0), "token").length), h.token ?? Buffer.alloc(0)]
      : [];
  if (h.type !== "initial" && h.token !== undefined) invalid("only an Initial carries a token");
  const payload = bytesOf(h.payload, "payload");
  return Buffer.concat([head, ids, ...token, varintOf(payload.length, h.lengthBytes ?? 2), payload]);
}

function readLong(buf: Buffer, at: number): { value: LongHeader; bytes: number; pnOffset: number } {
  need(buf, at, 7, "a long header");
  const first = buf[at];
  if (!(first & 0x80)) fail("ERR_QUIC_NOT_LONG", at, "a short header (the top bit is 0)");
  const version = buf.readUInt32BE(at + 1);
  let i = at + 5;
  const id = (what: string) => {
    need(buf, i, 1, `the ${what} length`);
    const n = buf[i];
    if (n > 20 && version !== 0) fail("ERR_QUIC_CID_TOO_LONG", i, `a ${n}-byte ${what}, above 20`);
    need(buf, i + 1, n, `the ${what}`);
    const v = Buffer.from(buf.subarray(i + 1, i + 1 + n));
    i += 1 + n;
    return v;
  };
  const dcid = id("dcid");
  const scid = id("scid");
  if (version === 0) {
    const n = Math.floor((buf.length - i) / 4);
    const versions = Array.from({ length: n }, (_, k) => buf.readUInt32BE(i + 4 * k));
    return {
      value: { type: "version-negotiation", flags: first & 0x7f, dcid, scid, versions },
      bytes: i + 4 * n - at,
      pnOffset: -1,
    };
  }
  if (!(first & 0x40)) fail("ERR_QUIC_NOT_LONG", at, "the fixed bit is 0");
  const type = LONG_TYPES[(first >> 4) & 3];
  const flags = first & 0x0f;
  if (type === "retry") {
    if (buf.length - i < 16) fail("ERR_QUIC_TRUNCATED", i, "a Retry needs its 16-byte integrity tag");
    const token = Buffer.from(buf.subarray(i, buf.length - 16));
    const tag = Buffer.from(buf.subarray(buf.length - 16));
    return { value: { type, flags, version, dcid, scid, token, tag }, bytes: buf.length - at, pnOffset: -1 };
  }
  let token: Buffer | undefined;
  if (type === "initial") {
    const t = varint.read(buf, i);
    i += t.bytes;
    need(buf, i, t.value, "the token");
    token = Buffer.from(buf.subarray(i, i + t.value));
    i += t.value;
  }
  const len = varint.read(buf, i);
  const lengthBytes = len.bytes as 1 | 2 | 4 | 8;
  i += len.bytes;
  if (i + len.value > buf.length)
    fail("ERR_QUIC_BAD_LENGTH", i - len.bytes, `Length ${len.value} runs past the end (${buf.length - i} left)`);
  const payload = Buffer.from(buf.subarray(i, i + len.value));
  const value: LongHeader = { type, flags, version, dcid, scid, ...(token ? { token } : {}), payload, lengthBytes };
  return { value, bytes: i + len.value - at, pnOffset: i };
}

/** One long-header packet, still protected: `payload` is its packet number and encrypted payload. */
export const longHeader = codec<LongHeader, LongHeader>({
  plan(h) {
    const b = planLong(h);
    return { length: b.length, write: (buf, at) => b.copy(buf, at) };
  },
  read: (buf, at) => {
    const r = readLong(buf, at);
    return { value: r.value, bytes: r.bytes };
  },
});

/** The long-header packets coalesced in one datagram (§12.2); a short-header packet, which
 *  has no length and so takes the rest, ends the list and is counted in `rest`. */
export function packets(datagram: Buffer): { packets: LongHeader[]; rest: number } {
  const out: LongHeader[] = [];
  let at = 0;
  while (at < datagram.length && datagram[at] & 0x80) {
    const r = readLong(datagram, at);
    out.push(r.value);
    at += r.bytes;
    if (r.value.type === "retry" || r.value.type === "version-negotiation") break;
  }
  return { packets: out, rest: datagram.length - at };
}

// ---- Initial secrets and keys (RFC 9001 §5.1, §5.2) ----------------------------------------------

/** QUIC version 1's initial salt (RFC 9001 §5.2). */
export const INITIAL_SALT_V1 = Buffer.from("38762cf7f55934b34d179ae6a4c80cadccbb7f0a", "hex");

export const hkdfExtract = (salt: Buffer, ikm: Buffer) => createHmac("sha256", salt).update(ikm).digest();
function hkdfExpand(prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let prev = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    prev = createHmac("sha256", prk)
      .update(Buffer.concat([prev, info, Buffer.from([i])]))
      .digest();
    blocks.push(prev);
  }
  return Buffer.concat(blocks).subarray(0, length);
}
/** TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), which QUIC uses with labels like "quic key". */
export function hkdfExpandLabel(secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, "latin1");
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([context.length]),
    context,
  ]);
  return hkdfExpand(secret, info, length);
}

export interface PacketKeys {
  secret: Buffer;
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}
const keysFrom = (secret: Buffer): PacketKeys => ({
  secret,
  key: hkdfExpandLabel(secret, "quic key", Buffer.alloc(0), 16),
  iv: hkdfExpandLabel(secret, "quic iv", Buffer.alloc(0), 12),
  hp: hkdfExpandLabel(secret, "quic hp", Buffer.alloc(0), 16),
});

/** Both directions' Initial keys, from the Destination Connection ID of the client's first Initial. */
export function initialKeys(dcid: Buffer): { initialSecret: Buffer; client: PacketKeys; server: PacketKeys } {
  const initialSecret = hkdfExtract(INITIAL_SALT_V1, bytesOf(dcid, "dcid"));
  return {
    initialSecret,
    client: keysFrom(hkdfExpandLabel(initialSecret, "client in", Buffer.alloc(0), 32)),
    server: keysFrom(hkdfExpandLabel(initialSecret, "server in", Buffer.alloc(0), 32)),
  };
}

/** The header protection mask: AES-128-ECB of the 16-byte sample (RFC 9001 §5.4.3). */
export function headerMask(hp: Buffer, sample: Buffer): Buffer {
  const c = createCipheriv("aes-128-ecb", hp, null);
  return Buffer.concat([c.update(sample), c.final()]).subarray(0, 5);
}
const nonce = (iv: Buffer, pn: number) => {
  const n = Buffer.from(iv);
  for (let i = 0, v = pn; i < 6; i++, v = Math.floor(v / 256)) n[11 - i] ^= v & 0xff;
  return n;
};

export interface SealInput {
  keys: PacketKeys;
  type?: "initial" | "handshake";
  version?: number;
  dcid: Buffer;
  scid: Buffer;
  token?: Buffer;
  packetNumber: number;
  /** 1 to 4 bytes on the wire (default 4). */
  pnLength?: number;
  /** The frames, plaintext. */
  payload: Buffer;
}

/** Builds a protected long-header packet: header, AEAD over the payload with the header as
 *  associated data, then header protection (RFC 9001 §5.3, §5.4). */
export function seal(o: SealInput): { packet: Buffer; header: Buffer; sample: Buffer; mask: Buffer } {
  const pnLength = o.pnLength ?? 4;
  if (![1, 2, 3, 4].includes(pnLength)) invalid("pnLength is 1 to 4");
  const pn = Buffer.alloc(pnLength);
  pn.writeUIntBE(uint(o.packetNumber, 8 * pnLength, "packetNumber"), 0, pnLength);
  const type = o.type ?? "initial";
  const bodyLength = pnLength + o.payload.length + 16;
  const fake = longHeader.encode({
    type,
    flags: pnLength - 1,
    version: o.version ?? 1,
    dcid: o.dcid,
    scid: o.scid,
    ...(type === "initial" ? { token: o.token ?? Buffer.alloc(0) } : {}),
    payload: Buffer.alloc(bodyLength),
  });
  const header = Buffer.concat([fake.subarray(0, fake.length - bodyLength), pn]);
  const c = createCipheriv("aes-128-gcm", o.keys.key, nonce(o.keys.iv, o.packetNumber));
  c.setAAD(header);
  const sealed = Buffer.concat([c.update(o.payload), c.final(), c.getAuthTag()]);
  const pnOffset = header.length - pnLength;
  if (sealed.length < 4 - pnLength + 16) invalid("the payload is too short to sample for header protection");
  const sample = sealed.subarray(4 - pnLength, 4 - pnLength + 16);
  const mask = headerMask(o.keys.hp, sample);
  const protectedHeader = Buffer.from(header);
  protectedHeader[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLength; i++) protectedHeader[pnOffset + i] ^= mask[1 + i];
  return { packet: Buffer.concat([protectedHeader, sealed]), header, sample, mask };
}

export interface Opened {
  header: LongHeader;
  packetNumber: number;
  pnLength: number;
  /** The decrypted frames. */
  payload: Buffer;
  /** The unprotected header bytes (the AEAD's associated data). */
  headerBytes: Buffer;
  /** Bytes of the datagram this packet took (coalesced packets follow). */
  bytes: number;
}

/** Removes header protection and decrypts the long-header packet at `offset` of `datagram`. */
export function open(datagram: Buffer, keys: PacketKeys, offset = 0): Opened {
  const r = readLong(datagram, offset);
  if (r.pnOffset < 0) fail("ERR_QUIC_DECRYPT", offset, `a ${r.value.type} packet is not encrypted`);
  const end = offset + r.bytes;
  const sampleAt = r.pnOffset + 4;
  if (sampleAt + 16 > end)
    fail("ERR_QUIC_DECRYPT", r.pnOffset, "too short to take the 16-byte header protection sample");
  const mask = headerMask(keys.hp, datagram.subarray(sampleAt, sampleAt + 16));
  const first = datagram[offset] ^ (mask[0] & 0x0f);
  const pnLength = (first & 3) + 1;
  const headerBytes = Buffer.from(datagram.subarray(offset, r.pnOffset + pnLength));
  headerBytes[0] = first;
  for (let i = 0; i < pnLength; i++) headerBytes[r.pnOffset - offset + i] ^= mask[1 + i];
  const packetNumber = headerBytes.readUIntBE(r.pnOffset - offset, pnLength);
  const sealed = datagram.subarray(r.pnOffset + pnLength, end);
  if (sealed.length < 16) fail("ERR_QUIC_DECRYPT", r.pnOffset, "no room for the 16-byte AEAD tag");
  const d = createDecipheriv("aes-128-gcm", keys.key, nonce(keys.iv, packetNumber));
  d.setAAD(headerBytes);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  let payload: Buffer;
  try {
    payload = Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
  } catch {
    return fail("ERR_QUIC_DECRYPT", offset, "the AEAD tag does not verify: wrong keys, or bytes changed");
  }
  const header = { ...r.value, flags: first & 0x0f } as LongHeader;
  return { header, packetNumber, pnLength, payload, headerBytes, bytes: r.bytes };
}

// ---- frames of the Initial and Handshake spaces (RFC 9000 §19) -----------------------------------

export type QuicFrame =
  | { type: "PADDING"; length: number }
  | { type: "PING" }
  | {
      type: "ACK";
      largest: number;
      delay: number;
      firstRange: number;
      ranges: [gap: number, length: number][];
      ecn?: [number, number, number];
    }
  | { type: "CRYPTO"; offset: number; data: Buffer }
  | { type: "CONNECTION_CLOSE"; application: boolean; errorCode: number; frameType?: number; reason: string };

function planFrame(f: QuicFrame): Buffer {
  objectOf(f, "a QUIC frame");
  const v = varintOf;
  switch (f.type) {
    case "PADDING":
      if (uint(f.length, 16, "length") === 0) invalid("PADDING is at least 1 byte");
      return Buffer.alloc(f.length);
    case "PING":
      return Buffer.from([1]);
    case "ACK":
      return Buffer.concat([
        Buffer.from([f.ecn ? 3 : 2]),
        v(f.largest),
        v(f.delay),
        v(f.ranges.length),
        v(f.firstRange),
        ...f.ranges.flatMap(([gap, length]) => [v(gap), v(length)]),
        ...(f.ecn ? f.ecn.map((n) => v(n)) : []),
      ]);
    case "CRYPTO":
      return Buffer.concat([Buffer.from([6]), v(f.offset), v(bytesOf(f.data, "data").length), f.data]);
    case "CONNECTION_CLOSE": {
      const reason = Buffer.from(f.reason, "utf8");
      const ft = f.application ? [] : [v(f.frameType ?? 0)];
      return Buffer.concat([
        Buffer.from([f.application ? 0x1d : 0x1c]),
        v(f.errorCode),
        ...ft,
        v(reason.length),
        reason,
      ]);
    }
    default:
      return invalid(`not a frame this codec writes: ${String((f as { type: unknown }).type)}`);
  }
}

function readFrame(buf: Buffer, at: number): { value: QuicFrame; bytes: number } {
  need(buf, at, 1, "a frame type");
  let i = at;
  const next = () => {
    const r = varint.read(buf, i);
    i += r.bytes;
    return r.value;
  };
  const type = next();
  switch (type) {
    case 0: {
      while (i < buf.length && buf[i] === 0) i++;
      return { value: { type: "PADDING", length: i - at }, bytes: i - at };
    }
    case 1:
      return { value: { type: "PING" }, bytes: i - at };
    case 2:
    case 3: {
      const largest = next();
      const delay = next();
      const count = next();
      const firstRange = next();
      if (count > buf.length) fail("ERR_QUIC_BAD_FRAME", at, `${count} ACK ranges cannot fit`);
      const ranges: [number, number][] = [];
      for (let k = 0; k < count; k++) ranges.push([next(), next()]);
      const ecn = type === 3 ? ([next(), next(), next()] as [number, number, number]) : undefined;
      return { value: { type: "ACK", largest, delay, firstRange, ranges, ...(ecn ? { ecn } : {}) }, bytes: i - at };
    }
    case 6: {
      const offset = next();
      const length = next();
      need(buf, i, length, "the CRYPTO data");
      const data = Buffer.from(buf.subarray(i, i + length));
      return { value: { type: "CRYPTO", offset, data }, bytes: i + length - at };
    }
    case 0x1c:
    case 0x1d: {
      const errorCode = next();
      const frameType = type === 0x1c ? next() : undefined;
      const length = next();
      need(buf, i, length, "the reason phrase");
      const reason = buf.toString("utf8", i, i + length);
      const value: QuicFrame = {
        type: "CONNECTION_CLOSE",
        application: type === 0x1d,
        errorCode,
        ...(frameType === undefined ? {} : { frameType }),
        reason,
      };
      return { value, bytes: i + length - at };
    }
    default:
      return fail(
        "ERR_QUIC_BAD_FRAME",
        at,
        `frame type 0x${type.toString(16)} is not allowed in Initial or Handshake packets`,
      );
  }
}

/** One frame; PADDING reads every consecutive zero byte as one frame. */
export const frame = codec<QuicFrame, QuicFrame>({
  plan(f) {
    const b = planFrame(f);
    return { length: b.length, write: (buf, at) => b.copy(buf, at) };
  },
  read: readFrame,
});

/** Every frame of a decrypted payload. */
export function frames(payload: Buffer): QuicFrame[] {
  const out: QuicFrame[] = [];
  for (let at = 0; at < payload.length;) {
    const r = readFrame(payload, at);
    out.push(r.value);
    at += r.bytes;
  }
  return out;
}

/** The CRYPTO frames' data put back in order (they carry TLS handshake bytes at offsets). */
export function cryptoStream(list: QuicFrame[]): Buffer {
  const parts = list.flatMap((f) => (f.type === "CRYPTO" ? [f] : [])).sort((a, b) => a.offset - b.offset);
  const out = Buffer.alloc(parts.reduce((n, f) => Math.max(n, f.offset + f.data.length), 0));
  for (const f of parts) f.data.copy(out, f.offset);
  return out;
}
