// A DNS message codec written by hand (RFC 1035 §4), enough for an authoritative server and its
// clients: the header, questions, and resource records with A, AAAA (RFC 3596), CNAME, NS and PTR
// data decoded, and DNSSEC's DNSKEY, RRSIG, NSEC and DS (RFC 4034 §2-5, never compressed; any
// other type keeps its data as bytes, RFC 3597), names compressed on the way
// out (§4.1.4). In dns-packet's shape: the message and each of its parts (name, header, question,
// record) is a codec with encode / decode / encodingLength (helpers/wire/codec.ts), and record
// data is picked from one table, RDATA, by type. Bad input raises DnsFormatError with a code, the
// offset and a reason. Decoding never loops forever: every read is bounds checked and a
// compression pointer may only lead back, never into the name it is part of.
import { ipv4Bytes, ipv4Text, ipv6Bytes, ipv6Text } from "./addr";
import { bytesOf, codec, CodecError, invalid, invalidType, objectOf, uint, type WireCodec } from "./codec";

/** Why bytes could not be decoded as a DNS message. */
export type DnsErrorCode =
  | "ERR_DNS_TRUNCATED_HEADER" // fewer than 12 bytes
  | "ERR_DNS_TRUNCATED" // a fixed field or record data runs past the end
  | "ERR_DNS_LABEL_PAST_END" // a label's length byte promises more bytes than there are
  | "ERR_DNS_BAD_LABEL_TYPE" // a length byte starting with bits 01 or 10 (reserved)
  | "ERR_DNS_POINTER_LOOP" // a compression pointer leads back into the same name
  | "ERR_DNS_POINTER_FORWARD" // a compression pointer to later data (RFC 1035: only to a prior occurrence)
  | "ERR_DNS_NAME_TOO_LONG" // more than 255 bytes once pointers are followed
  | "ERR_DNS_BAD_RDATA_LENGTH" // record data of the wrong size for its type
  | "ERR_DNS_BAD_TYPE_BITMAP"; // an NSEC type bitmap whose windows are out of order or of a bad length

export class DnsFormatError extends CodecError<DnsErrorCode> {
  constructor(code: DnsErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed DNS message at offset ${offset}: ${reason} (${code})`);
    this.name = "DnsFormatError";
  }
}

const fail = (code: DnsErrorCode, offset: number, reason: string): never => {
  throw new DnsFormatError(code, offset, reason);
};
const need = (buf: Buffer, offset: number, n: number, what: string) => {
  if (offset + n > buf.length)
    fail("ERR_DNS_TRUNCATED", offset, `${what} needs ${n} bytes, ${Math.max(0, buf.length - offset)} left`);
};

// ---- types, classes, response codes -------------------------------------------------------------

export const TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  ANY: 255,
};
export const CLASSES: Record<string, number> = { IN: 1, CH: 3, HS: 4, ANY: 255 };
export const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"] as const;

const byNumber = (table: Record<string, number>) => new Map(Object.entries(table).map(([k, v]) => [v, k]));
const TYPE_NAMES = byNumber(TYPES);
const CLASS_NAMES = byNumber(CLASSES);

/** A type or class as a name ("A", "IN"), or in RFC 3597's generic form ("TYPE65", "CLASS9"). */
function toNumber(table: Record<string, number>, generic: string, value: string): number {
  if (typeof value !== "string") invalidType(`a DNS ${generic.toLowerCase()} is a string, got ${typeof value}`);
  if (Object.hasOwn(table, value)) return table[value];
  const m = new RegExp(`^${generic}(\\d{1,5})$`).exec(value);
  if (m && Number(m[1]) <= 0xffff) return Number(m[1]);
  return invalid(`unknown DNS ${generic.toLowerCase()} ${JSON.stringify(value)}`);
}
export const typeNumber = (t: string) => toNumber(TYPES, "TYPE", t);
export const typeName = (n: number) => TYPE_NAMES.get(n) ?? `TYPE${n}`;
export const classNumber = (c: string) => toNumber(CLASSES, "CLASS", c);
export const className = (n: number) => CLASS_NAMES.get(n) ?? `CLASS${n}`;
export const rcodeName = (n: number) => RCODES[n] ?? `RCODE${n}`;

// ---- names --------------------------------------------------------------------------------------

/** Splits a name in presentation form into label bytes: "api.wirebook.test" → [api, wirebook,
 *  test]. "." and "" are the root (no labels). `\.` and `\DDD` escape a byte inside a label. */
function labelsOf(name: string): Buffer[] {
  if (typeof name !== "string") invalidType(`a DNS name is a string, got ${typeof name}`);
  const text = name.endsWith(".") && !name.endsWith("\\.") ? name.slice(0, -1) : name;
  if (text === "") return [];
  const labels: Buffer[] = [];
  let current: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === ".") {
      labels.push(Buffer.from(current));
      current = [];
    } else if (ch === "\\") {
      const digits = /^\d{3}/.exec(text.slice(i + 1));
      if (digits && Number(digits[0]) <= 255) {
        current.push(Number(digits[0]));
        i += 3;
      } else if (i + 1 < text.length) current.push(text.charCodeAt(++i));
      else invalid(`name ${JSON.stringify(name)} ends with a lone backslash`);
    } else {
      const code = text.charCodeAt(i);
      if (code > 0x7e || code < 0x21)
        invalid(`name ${JSON.stringify(name)}: byte 0x${code.toString(16)} must be written \\DDD`);
      current.push(code);
    }
  }
  labels.push(Buffer.from(current));
  for (const l of labels) {
    if (l.length === 0) invalid(`name ${JSON.stringify(name)} has an empty label`);
    if (l.length > 63) invalid(`name ${JSON.stringify(name)} has a label of ${l.length} bytes (at most 63)`);
  }
  if (labels.reduce((n, l) => n + 1 + l.length, 1) > 255)
    invalid(`name ${JSON.stringify(name)} is longer than 255 bytes`);
  return labels;
}

/** A label's bytes in presentation form: printable ASCII as is, "." and "\" escaped, the rest \DDD. */
function labelText(buf: Buffer, start: number, end: number): string {
  let plain = true;
  for (let i = start; i < end && plain; i++)
    plain = buf[i] >= 0x21 && buf[i] <= 0x7e && buf[i] !== 0x2e && buf[i] !== 0x5c;
  if (plain) return buf.toString("latin1", start, end);
  let s = "";
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === 0x2e || b === 0x5c) s += "\\" + String.fromCharCode(b);
    else if (b >= 0x21 && b <= 0x7e) s += String.fromCharCode(b);
    else s += "\\" + String(b).padStart(3, "0");
  }
  return s;
}

/** Where earlier names were written, for compression: suffix (exactly as spelled) → offset
 *  from the start of the message. Matching the spelling exactly keeps every name's case as it
 *  was given, so what decode reads back is what was encoded. */
type CompressionTable = Map<string, number>;

/** Writes (`buf` null: only counts) a name at `at` of a message that starts at `buf[0]`: with a
 *  table, its longest suffix already written becomes a pointer, and the suffixes it writes in
 *  full are recorded. Returns the bytes it takes. */
function writeName(value: string, buf: Buffer | null, at: number, table?: CompressionTable): number {
  const labels = labelsOf(value);
  // the name from each label on, as the table's keys: "api.wirebook.test", "wirebook.test", "test"
  const suffixes: string[] = [];
  if (table)
    for (let i = labels.length - 1, tail = ""; i >= 0; i--) {
      const l = labelText(labels[i], 0, labels[i].length);
      suffixes[i] = tail = tail ? `${l}.${tail}` : l;
    }
  let o = at;
  for (let i = 0; i < labels.length; i++) {
    if (table) {
      const suffix = suffixes[i];
      const earlier = table.get(suffix);
      if (earlier !== undefined) {
        buf?.writeUInt16BE(0xc000 | earlier, o);
        return o + 2 - at;
      }
      if (o < 0x4000) table.set(suffix, o); // a pointer has 14 bits of offset
    }
    if (buf) {
      buf[o] = labels[i].length;
      labels[i].copy(buf, o + 1);
    }
    o += 1 + labels[i].length;
  }
  if (buf) buf[o] = 0;
  return o + 1 - at;
}

/** Reads a name at `at` of a message that starts at `base`: pointers count from `base`. Consumes
 *  only the name's own bytes (up to and including its first pointer), not those a pointer leads to. */
function readName(buf: Buffer, at: number, base: number): { value: string; bytes: number } {
  const start = at;
  const labels: string[] = [];
  const visited = new Set<number>(); // where this name has already read a length byte or pointer
  let bytes = -1; // bytes of the name at `start`, fixed at the first pointer
  let wireLength = 1; // the final zero byte
  for (;;) {
    if (at >= buf.length) fail("ERR_DNS_LABEL_PAST_END", at, "name runs past the end of the message");
    visited.add(at);
    const len = buf[at];
    if (len === 0) {
      if (bytes < 0) bytes = at + 1 - start;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      need(buf, at, 2, "compression pointer");
      const target = base + (buf.readUInt16BE(at) & 0x3fff);
      if (bytes < 0) bytes = at + 2 - start;
      if (visited.has(target))
        fail("ERR_DNS_POINTER_LOOP", at, `pointer to offset ${target - base} leads back into the same name`);
      if (target >= at) fail("ERR_DNS_POINTER_FORWARD", at, `pointer to offset ${target - base}, not to earlier data`);
      at = target;
      continue;
    }
    if (kind !== 0)
      fail("ERR_DNS_BAD_LABEL_TYPE", at, `length byte 0x${len.toString(16)} has reserved label type bits`);
    if (at + 1 + len > buf.length)
      fail("ERR_DNS_LABEL_PAST_END", at, `label of ${len} bytes runs past the end (${buf.length - at - 1} left)`);
    wireLength += 1 + len;
    if (wireLength > 255) fail("ERR_DNS_NAME_TOO_LONG", at, "name longer than 255 bytes");
    labels.push(labelText(buf, at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { value: labels.length ? labels.join(".") : ".", bytes };
}

/** A name on its own, uncompressed; decode follows pointers that count from the buffer's start. */
export const name: WireCodec<string> = codec<string, string>({
  plan(value) {
    const length = writeName(value, null, 0);
    return { length, write: (buf, at) => void writeName(value, buf.subarray(at), 0) };
  },
  read: (buf, at) => readName(buf, at, 0),
});

// ---- header -------------------------------------------------------------------------------------

export interface Flags {
  /** true in a response */
  qr: boolean;
  /** 0 = standard query */
  opcode: number;
  /** authoritative answer */
  aa: boolean;
  /** truncated: the answer did not fit */
  tc: boolean;
  /** recursion desired */
  rd: boolean;
  /** recursion available */
  ra: boolean;
  /** reserved, zero */
  z: boolean;
  /** authentic data (DNSSEC) */
  ad: boolean;
  /** checking disabled (DNSSEC) */
  cd: boolean;
  /** 0 NOERROR, 3 NXDOMAIN, ... (see RCODES) */
  rcode: number;
}

/** The 16 flag bits: QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4). Absent flags
 *  are 0. */
export function flagsToNumber(f: Partial<Flags>): number {
  objectOf(f, "flags");
  const bit = (on: boolean | undefined, n: number) => (on ? 1 << n : 0);
  return (
    bit(f.qr, 15) |
    (uint(f.opcode ?? 0, 4, "opcode") << 11) |
    bit(f.aa, 10) |
    bit(f.tc, 9) |
    bit(f.rd, 8) |
    bit(f.ra, 7) |
    bit(f.z, 6) |
    bit(f.ad, 5) |
    bit(f.cd, 4) |
    uint(f.rcode ?? 0, 4, "rcode")
  );
}
export function flagsFromNumber(n: number): Flags {
  const bit = (k: number) => ((n >> k) & 1) === 1;
  return {
    qr: bit(15),
    opcode: (n >> 11) & 0xf,
    aa: bit(10),
    tc: bit(9),
    rd: bit(8),
    ra: bit(7),
    z: bit(6),
    ad: bit(5),
    cd: bit(4),
    rcode: n & 0xf,
  };
}

export interface HeaderInput {
  id: number;
  flags: Partial<Flags>;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}
export interface Header extends HeaderInput {
  flags: Flags;
}

/** Six 16-bit fields in network byte order (big-endian). */
export const header: WireCodec<HeaderInput, Header> = codec<HeaderInput, Header>({
  plan(h) {
    objectOf(h, "a DNS header");
    const words = [
      uint(h.id, 16, "id"),
      flagsToNumber(h.flags),
      uint(h.qdcount, 16, "qdcount"),
      uint(h.ancount, 16, "ancount"),
      uint(h.nscount, 16, "nscount"),
      uint(h.arcount, 16, "arcount"),
    ];
    return { length: 12, write: (buf, at) => words.forEach((w, i) => buf.writeUInt16BE(w, at + 2 * i)) };
  },
  read(buf, at) {
    if (buf.length - at < 12)
      fail("ERR_DNS_TRUNCATED_HEADER", at, `header needs 12 bytes, ${Math.max(0, buf.length - at)} left`);
    const u16 = (k: number) => buf.readUInt16BE(at + k);
    const value = {
      id: u16(0),
      flags: flagsFromNumber(u16(2)),
      qdcount: u16(4),
      ancount: u16(6),
      nscount: u16(8),
      arcount: u16(10),
    };
    return { value, bytes: 12 };
  },
});

// ---- questions ----------------------------------------------------------------------------------

export interface Question {
  name: string;
  /** "A", "AAAA", ... or "TYPE65" */
  type: string;
  /** "IN" unless told otherwise */
  class?: string;
}

/** Writes (`buf` null: only counts) a question at `at`; see writeName for `table`. */
function writeQuestion(q: Question, buf: Buffer | null, at: number, table?: CompressionTable): number {
  objectOf(q, "a question");
  const type = typeNumber(q.type);
  const cls = classNumber(q.class ?? "IN");
  const n = writeName(q.name, buf, at, table);
  buf?.writeUInt16BE(type, at + n);
  buf?.writeUInt16BE(cls, at + n + 2);
  return n + 4;
}

function readQuestion(buf: Buffer, at: number, base: number): { value: Question; bytes: number } {
  const n = readName(buf, at, base);
  const o = at + n.bytes;
  need(buf, o, 4, "QTYPE and QCLASS");
  const value = { name: n.value, type: typeName(buf.readUInt16BE(o)), class: className(buf.readUInt16BE(o + 2)) };
  return { value, bytes: n.bytes + 4 };
}

export const question: WireCodec<Question> = codec<Question, Question>({
  plan(q) {
    const length = writeQuestion(q, null, 0);
    return { length, write: (buf, at) => void writeQuestion(q, buf.subarray(at), 0) };
  },
  read: (buf, at) => readQuestion(buf, at, 0),
});

// ---- resource records, with record data picked from one table ------------------------------------

/** DNSKEY data (RFC 4034 §2): a zone's public key. Flags 256 = zone key, 257 = zone key + SEP
 *  (a key-signing key); protocol is always 3. */
export interface DnskeyData {
  flags: number;
  protocol: number;
  algorithm: number;
  key: Buffer;
}
/** RRSIG data (RFC 4034 §3): a signature over one RRset. Times are seconds since 1970 (mod 2^32). */
export interface RrsigData {
  typeCovered: string;
  algorithm: number;
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signersName: string;
  signature: Buffer;
}
/** NSEC data (RFC 4034 §4): the next name in the zone, and the types this name has. */
export interface NsecData {
  nextDomainName: string;
  types: string[];
}
/** DS data (RFC 4034 §5): a digest of a child zone's DNSKEY, published by the parent. */
export interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: Buffer;
}
export type RecordData = string | Buffer | DnskeyData | RrsigData | NsecData | DsData;

export interface ResourceRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  /** A: "127.0.0.1"; AAAA: "::1"; CNAME, NS, PTR: a name; DNSKEY, RRSIG, NSEC, DS: their fields;
   *  any other type: the raw bytes. */
  data: RecordData;
}

/** How one type's data is written and read. `write` gets the message's buffer (null: only count)
 *  and compression table, as names in the data may be compressed. */
interface RdataCodec {
  write(data: unknown, buf: Buffer | null, at: number, table?: CompressionTable): number;
  read(buf: Buffer, start: number, rdlength: number, base: number, type: string): RecordData;
}

const fixedSize = (type: string, want: number, rdlength: number, start: number) => {
  if (rdlength !== want)
    fail("ERR_DNS_BAD_RDATA_LENGTH", start - 2, `${type} data must be ${want} bytes, not ${rdlength}`);
};
const addressData = (size: number, toBytes: (s: string) => Buffer, toText: (b: Buffer, o: number) => string) => ({
  write(data: unknown, buf: Buffer | null, at: number) {
    if (typeof data !== "string") invalidType(`${size === 4 ? "A" : "AAAA"} record data is an address as text`);
    const bytes = toBytes(data);
    if (buf) bytes.copy(buf, at);
    return size;
  },
  read(buf: Buffer, start: number, rdlength: number, _base: number, type: string) {
    fixedSize(type, size, rdlength, start);
    return toText(buf, start);
  },
});
const nameData: RdataCodec = {
  write(data, buf, at, table) {
    if (typeof data !== "string") invalidType("CNAME, NS and PTR record data is a name as text");
    return writeName(data, buf, at, table);
  },
  read(buf, start, rdlength, base, type) {
    const target = readName(buf.subarray(0, start + rdlength), start, base);
    if (target.bytes !== rdlength)
      fail(
        "ERR_DNS_BAD_RDATA_LENGTH",
        start - 2,
        `${type} name takes ${target.bytes} bytes, RDLENGTH says ${rdlength}`,
      );
    return target.value;
  },
};
const rawData: RdataCodec = {
  write(data, buf, at) {
    const raw = bytesOf(data, "record data of a type without its own codec");
    if (buf) raw.copy(buf, at);
    return raw.length;
  },
  read: (buf, start, rdlength) => Buffer.from(buf.subarray(start, start + rdlength)),
};

// ---- DNSSEC's record data (RFC 4034): fixed fields, then a name (never compressed) or bytes ----

const short = (type: string, want: number, rdlength: number, start: number) => {
  if (rdlength < want)
    fail("ERR_DNS_BAD_RDATA_LENGTH", start - 2, `${type} data needs at least ${want} bytes, not ${rdlength}`);
};
const dnskeyData: RdataCodec = {
  write(data, buf, at) {
    const d = objectOf(data as DnskeyData, "DNSKEY data");
    const fixed = [
      uint(d.flags, 16, "DNSKEY flags"),
      uint(d.protocol, 8, "protocol"),
      uint(d.algorithm, 8, "algorithm"),
    ];
    const key = bytesOf(d.key, "DNSKEY key");
    if (buf) {
      buf.writeUInt16BE(fixed[0], at);
      buf[at + 2] = fixed[1];
      buf[at + 3] = fixed[2];
      key.copy(buf, at + 4);
    }
    return 4 + key.length;
  },
  read(buf, start, rdlength, _base, type): DnskeyData {
    short(type, 4, rdlength, start);
    const key = Buffer.from(buf.subarray(start + 4, start + rdlength));
    return { flags: buf.readUInt16BE(start), protocol: buf[start + 2], algorithm: buf[start + 3], key };
  },
};
const dsData: RdataCodec = {
  write(data, buf, at) {
    const d = objectOf(data as DsData, "DS data");
    const fixed = [
      uint(d.keyTag, 16, "DS key tag"),
      uint(d.algorithm, 8, "algorithm"),
      uint(d.digestType, 8, "digest type"),
    ];
    const digest = bytesOf(d.digest, "DS digest");
    if (buf) {
      buf.writeUInt16BE(fixed[0], at);
      buf[at + 2] = fixed[1];
      buf[at + 3] = fixed[2];
      digest.copy(buf, at + 4);
    }
    return 4 + digest.length;
  },
  read(buf, start, rdlength, _base, type): DsData {
    short(type, 4, rdlength, start);
    const digest = Buffer.from(buf.subarray(start + 4, start + rdlength));
    return { keyTag: buf.readUInt16BE(start), algorithm: buf[start + 2], digestType: buf[start + 3], digest };
  },
};
const rrsigData: RdataCodec = {
  write(data, buf, at) {
    const d = objectOf(data as RrsigData, "RRSIG data");
    const covered = typeNumber(d.typeCovered);
    const u32s = [d.originalTtl, d.expiration, d.inception].map((v, i) =>
      uint(v, 32, ["originalTtl", "expiration", "inception"][i]),
    );
    const small = [uint(d.algorithm, 8, "algorithm"), uint(d.labels, 8, "labels"), uint(d.keyTag, 16, "key tag")];
    const signature = bytesOf(d.signature, "RRSIG signature");
    const n = writeName(d.signersName, buf, at + 18);
    if (buf) {
      buf.writeUInt16BE(covered, at);
      buf[at + 2] = small[0];
      buf[at + 3] = small[1];
      u32s.forEach((v, i) => buf.writeUInt32BE(v, at + 4 + 4 * i));
      buf.writeUInt16BE(small[2], at + 16);
      signature.copy(buf, at + 18 + n);
    }
    return 18 + n + signature.length;
  },
  read(buf, start, rdlength, base, type): RrsigData {
    short(type, 19, rdlength, start);
    const signer = readName(buf.subarray(0, start + rdlength), start + 18, base);
    return {
      typeCovered: typeName(buf.readUInt16BE(start)),
      algorithm: buf[start + 2],
      labels: buf[start + 3],
      originalTtl: buf.readUInt32BE(start + 4),
      expiration: buf.readUInt32BE(start + 8),
      inception: buf.readUInt32BE(start + 12),
      keyTag: buf.readUInt16BE(start + 16),
      signersName: signer.value,
      signature: Buffer.from(buf.subarray(start + 18 + signer.bytes, start + rdlength)),
    };
  },
};

/** RFC 4034 §4.1.2: for each 256-type window that has types, its number, the bitmap's length
 *  (1..32, trailing zero bytes left out) and the bitmap, most significant bit first. */
function typeBitmap(types: number[]): Buffer {
  const windows = new Map<number, Buffer>();
  for (const t of types) {
    const w = windows.get(t >> 8) ?? Buffer.alloc(32);
    w[(t & 0xff) >> 3] |= 0x80 >> (t & 7);
    windows.set(t >> 8, w);
  }
  const parts = [...windows.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, bits]) => {
      let len = 32;
      while (bits[len - 1] === 0) len--;
      return Buffer.concat([Buffer.from([n, len]), bits.subarray(0, len)]);
    });
  return Buffer.concat(parts);
}
function readTypeBitmap(buf: Buffer, at: number, end: number): string[] {
  const types: string[] = [];
  let last = -1;
  while (at < end) {
    if (at + 2 > end) fail("ERR_DNS_BAD_TYPE_BITMAP", at, "a type bitmap window header runs past the data");
    const [n, len] = [buf[at], buf[at + 1]];
    if (n <= last) fail("ERR_DNS_BAD_TYPE_BITMAP", at, `window ${n} after window ${last}: windows go up`);
    if (len < 1 || len > 32) fail("ERR_DNS_BAD_TYPE_BITMAP", at + 1, `a bitmap of ${len} bytes (1 to 32)`);
    if (at + 2 + len > end) fail("ERR_DNS_BAD_TYPE_BITMAP", at + 1, `a bitmap of ${len} bytes runs past the data`);
    for (let i = 0; i < len * 8; i++) if (buf[at + 2 + (i >> 3)] & (0x80 >> (i & 7))) types.push(typeName(n * 256 + i));
    last = n;
    at += 2 + len;
  }
  return types;
}
const nsecData: RdataCodec = {
  write(data, buf, at) {
    const d = objectOf(data as NsecData, "NSEC data");
    if (!Array.isArray(d.types)) invalidType("NSEC types must be an array of type names");
    const numbers = [...new Set(d.types.map(typeNumber))].sort((a, b) => a - b);
    const bitmap = typeBitmap(numbers);
    const n = writeName(d.nextDomainName, buf, at);
    if (buf) bitmap.copy(buf, at + n);
    return n + bitmap.length;
  },
  read(buf, start, rdlength, base): NsecData {
    const next = readName(buf.subarray(0, start + rdlength), start, base);
    return { nextDomainName: next.value, types: readTypeBitmap(buf, start + next.bytes, start + rdlength) };
  },
};

/** The record data codecs by type (dns-packet's `renc`): any type not here keeps raw bytes. */
const RDATA: Record<string, RdataCodec> = {
  A: addressData(4, (s) => ipv4Bytes(s, "A record data"), ipv4Text),
  AAAA: addressData(16, (s) => ipv6Bytes(s, "AAAA record data"), ipv6Text),
  CNAME: nameData,
  NS: nameData,
  PTR: nameData,
  DNSKEY: dnskeyData,
  RRSIG: rrsigData,
  NSEC: nsecData,
  DS: dsData,
};
const rdataCodec = (type: string): RdataCodec => (Object.hasOwn(RDATA, type) ? RDATA[type] : rawData);

/** Writes (`buf` null: only counts) one record at `at`; see writeName for `table`. */
function writeRecord(rr: ResourceRecord, buf: Buffer | null, at: number, table?: CompressionTable): number {
  objectOf(rr, "a resource record");
  const type = typeNumber(rr.type);
  const cls = classNumber(rr.class ?? "IN");
  const ttl = uint(rr.ttl ?? 0, 32, "ttl");
  const fixed = at + writeName(rr.name, buf, at, table);
  const rdlength = rdataCodec(rr.type).write(rr.data, buf, fixed + 10, table);
  uint(rdlength, 16, "RDLENGTH");
  if (buf) {
    buf.writeUInt16BE(type, fixed);
    buf.writeUInt16BE(cls, fixed + 2);
    buf.writeUInt32BE(ttl, fixed + 4);
    buf.writeUInt16BE(rdlength, fixed + 8);
  }
  return fixed + 10 + rdlength - at;
}

function readRecord(buf: Buffer, at: number, base: number): { value: ResourceRecord; bytes: number } {
  const owner = readName(buf, at, base);
  const o = at + owner.bytes;
  need(buf, o, 10, "TYPE, CLASS, TTL and RDLENGTH");
  const type = typeName(buf.readUInt16BE(o));
  const rdlength = buf.readUInt16BE(o + 8);
  const start = o + 10;
  if (start + rdlength > buf.length)
    fail("ERR_DNS_TRUNCATED", start, `record data of ${rdlength} bytes runs past the end (${buf.length - start} left)`);
  const value = {
    name: owner.value,
    type,
    class: className(buf.readUInt16BE(o + 2)),
    ttl: buf.readUInt32BE(o + 4),
    data: rdataCodec(type).read(buf, start, rdlength, base, type),
  };
  return { value, bytes: owner.bytes + 10 + rdlength };
}

/** One record on its own, uncompressed. */
export const record: WireCodec<ResourceRecord> = codec<ResourceRecord, ResourceRecord>({
  plan(rr) {
    const length = writeRecord(rr, null, 0);
    return { length, write: (buf, at) => void writeRecord(rr, buf.subarray(at), 0) };
  },
  read: (buf, at) => readRecord(buf, at, 0),
});

// ---- whole messages -----------------------------------------------------------------------------

export interface Message {
  id: number;
  flags: Partial<Flags>;
  questions: Question[];
  answers?: ResourceRecord[];
  authorities?: ResourceRecord[];
  additionals?: ResourceRecord[];
}

export interface DecodedMessage extends Message {
  flags: Flags;
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

export interface MessageOptions {
  /** Replace repeated names by pointers to their first occurrence (default true). */
  compress?: boolean;
}

const list = <T>(value: T[] | undefined, what: string): T[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) invalidType(`${what} must be an array`);
  if (value.length > 0xffff) invalid(`${what} has ${value.length} entries, at most 65535 fit`);
  return value;
};

/** Writes (`buf` null: only counts) a whole message into `buf`, which starts where it starts. */
function writeMessage(m: Message, buf: Buffer | null, compress: boolean): number {
  objectOf(m, "a DNS message");
  const sections = [m.answers, m.authorities, m.additionals].map((s, i) =>
    list(s, ["answers", "authorities", "additionals"][i]),
  );
  const questions = list(m.questions, "questions");
  const table: CompressionTable | undefined = compress ? new Map() : undefined;
  const h = header.plan({
    id: m.id,
    flags: m.flags ?? {},
    qdcount: questions.length,
    ancount: sections[0].length,
    nscount: sections[1].length,
    arcount: sections[2].length,
  });
  if (buf) h.write(buf, 0);
  let at = 12;
  for (const q of questions) at += writeQuestion(q, buf, at, table);
  for (const section of sections) for (const rr of section) at += writeRecord(rr, buf, at, table);
  return at;
}

function readMessage(buf: Buffer, base: number): { value: DecodedMessage; bytes: number } {
  const h = header.read(buf, base).value;
  let at = base + 12;
  const read = <T>(one: (buf: Buffer, at: number, base: number) => { value: T; bytes: number }, count: number) => {
    const out: T[] = [];
    for (let i = 0; i < count; i++) {
      const { value, bytes } = one(buf, at, base);
      out.push(value);
      at += bytes;
    }
    return out;
  };
  const questions = read(readQuestion, h.qdcount);
  const answers = read(readRecord, h.ancount);
  const authorities = read(readRecord, h.nscount);
  const additionals = read(readRecord, h.arcount);
  return { value: { id: h.id, flags: h.flags, questions, answers, authorities, additionals }, bytes: at - base };
}

/** A whole message; counts come from the array lengths. Pointers count from the message's first
 *  byte, wherever in `buf` it is written or read. Bytes after the last record are not consumed
 *  (decoders ignore them). */
export function messageCodec(options: MessageOptions = {}): WireCodec<Message, DecodedMessage> {
  const compress = options.compress !== false;
  return codec<Message, DecodedMessage>({
    plan(m) {
      const length = writeMessage(m, null, compress);
      return { length, write: (buf, at) => void writeMessage(m, buf.subarray(at, at + length), compress) };
    },
    read: readMessage,
  });
}

/** Messages with compressed names, as servers send them. */
export const message = messageCodec();
/** Messages with every name in full, byte for byte what dns-packet writes. */
export const uncompressed = messageCodec({ compress: false });
export const { encode, decode, encodingLength } = message;
