// A DNS message codec written by hand (RFC 1035 §4), enough for an authoritative server and its
// clients: the header, questions, and resource records with A, AAAA, CNAME/NS/PTR data decoded
// (any other type keeps its data as bytes). Shaped like dns-packet: each part is a codec with
// encode / decode / encodingLength, and bad input raises one error type, DnsFormatError, that
// says where (offset) and what (reason). Decoding never loops forever: every read is bounds
// checked and a compression pointer may not lead back to where the name already went.

/** Why a message could not be decoded. */
export type DnsFormatReason =
  | "truncated-header" // fewer than 12 bytes
  | "truncated" // a fixed field or record data runs past the end
  | "label-past-end" // a label's length byte promises more bytes than there are
  | "bad-label-type" // a length byte starting with bits 01 or 10 (reserved)
  | "pointer-loop" // a compression pointer leads back into the same name
  | "pointer-forward" // a compression pointer to later data (RFC 1035: only to a prior occurrence)
  | "name-too-long" // more than 255 bytes once pointers are followed
  | "bad-rdata-length"; // record data of the wrong size for its type

export class DnsFormatError extends Error {
  readonly code = "ERR_DNS_FORMAT";
  constructor(
    readonly reason: DnsFormatReason,
    readonly offset: number,
    detail: string,
  ) {
    super(`malformed DNS message at offset ${offset}: ${detail} (${reason})`);
    this.name = "DnsFormatError";
  }
}

/** A codec in dns-packet's shape. `encode` returns the number of bytes it wrote; `decode` returns
 *  the value and the number of bytes it consumed at `offset` (a compressed name consumes only its
 *  own bytes, not those the pointer leads to). */
export interface Codec<T> {
  encodingLength(value: T): number;
  encode(value: T, buf: Buffer, offset: number): number;
  decode(buf: Buffer, offset: number): { value: T; bytes: number };
}

const fail = (reason: DnsFormatReason, offset: number, detail: string): never => {
  throw new DnsFormatError(reason, offset, detail);
};
const need = (buf: Buffer, offset: number, n: number, what: string) => {
  if (offset + n > buf.length)
    fail("truncated", offset, `${what} needs ${n} bytes, ${Math.max(0, buf.length - offset)} left`);
};
const invalid = (message: string): never => {
  throw Object.assign(new RangeError(message), { code: "ERR_INVALID_ARG_VALUE" });
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
  ANY: 255,
};
export const CLASSES: Record<string, number> = { IN: 1, CH: 3, HS: 4, ANY: 255 };
export const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"] as const;

const byNumber = (table: Record<string, number>) => new Map(Object.entries(table).map(([k, v]) => [v, k]));
const TYPE_NAMES = byNumber(TYPES);
const CLASS_NAMES = byNumber(CLASSES);

/** A type or class as a name ("A", "IN"), or in RFC 3597's generic form ("TYPE65", "CLASS9"). */
function toNumber(table: Record<string, number>, generic: string, value: string): number {
  if (value in table) return table[value];
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
  let s = "";
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b === 0x2e || b === 0x5c) s += "\\" + String.fromCharCode(b);
    else if (b >= 0x21 && b <= 0x7e) s += String.fromCharCode(b);
    else s += "\\" + String(b).padStart(3, "0");
  }
  return s;
}

/** Where earlier names were written, for compression: lower-case suffix → offset. */
export type CompressionTable = Map<string, number>;

export const name: Codec<string> & {
  /** Writes the name, replacing its longest suffix already in `table` by a pointer, and records
   *  the suffixes it wrote in full. Returns the bytes written (`buf` null: only counts them).
   *  Suffixes match case-insensitively, as names do, so the earlier spelling is the one read. */
  encodeCompressed(value: string, buf: Buffer | null, offset: number, table: CompressionTable): number;
} = {
  encodingLength: (value) => labelsOf(value).reduce((n, l) => n + 1 + l.length, 1),
  encode(value, buf, offset) {
    let at = offset;
    for (const label of labelsOf(value)) {
      buf[at++] = label.length;
      at += label.copy(buf, at);
    }
    buf[at++] = 0;
    return at - offset;
  },
  encodeCompressed(value, buf, offset, table) {
    const labels = labelsOf(value);
    let at = offset;
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels
        .slice(i)
        .map((l) => labelText(l, 0, l.length).toLowerCase())
        .join(".");
      const earlier = table.get(suffix);
      if (earlier !== undefined) {
        buf?.writeUInt16BE(0xc000 | earlier, at);
        return at + 2 - offset;
      }
      if (at < 0x4000) table.set(suffix, at); // a pointer has 14 bits of offset
      if (buf) {
        buf[at] = labels[i].length;
        labels[i].copy(buf, at + 1);
      }
      at += 1 + labels[i].length;
    }
    if (buf) buf[at] = 0;
    return at + 1 - offset;
  },
  decode(buf, offset) {
    const labels: string[] = [];
    const visited = new Set<number>(); // where this name has already read a length byte or pointer
    let at = offset;
    let bytes = -1; // bytes of the name at `offset`, fixed at the first pointer
    let wireLength = 1; // the final zero byte
    for (;;) {
      if (at >= buf.length) fail("label-past-end", at, "name runs past the end of the message");
      visited.add(at);
      const len = buf[at];
      if (len === 0) {
        if (bytes < 0) bytes = at + 1 - offset;
        break;
      }
      const kind = len & 0xc0;
      if (kind === 0xc0) {
        need(buf, at, 2, "compression pointer");
        const target = buf.readUInt16BE(at) & 0x3fff;
        if (bytes < 0) bytes = at + 2 - offset;
        if (visited.has(target)) fail("pointer-loop", at, `pointer to offset ${target} leads back into the same name`);
        if (target >= at) fail("pointer-forward", at, `pointer to offset ${target}, not to earlier data`);
        at = target;
        continue;
      }
      if (kind !== 0) fail("bad-label-type", at, `length byte 0x${len.toString(16)} has reserved label type bits`);
      if (at + 1 + len > buf.length)
        fail("label-past-end", at, `label of ${len} bytes runs past the end (${buf.length - at - 1} left)`);
      wireLength += 1 + len;
      if (wireLength > 255) fail("name-too-long", at, "name longer than 255 bytes");
      labels.push(labelText(buf, at + 1, at + 1 + len));
      at += 1 + len;
    }
    return { value: labels.length ? labels.join(".") : ".", bytes };
  },
};

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

/** The 16 flag bits: QR | Opcode(4) | AA | TC | RD | RA | Z | AD | CD | RCODE(4). */
export const flags = {
  encode(f: Partial<Flags>): number {
    const bit = (on: boolean | undefined, n: number) => (on ? 1 << n : 0);
    return (
      bit(f.qr, 15) |
      (((f.opcode ?? 0) & 0xf) << 11) |
      bit(f.aa, 10) |
      bit(f.tc, 9) |
      bit(f.rd, 8) |
      bit(f.ra, 7) |
      bit(f.z, 6) |
      bit(f.ad, 5) |
      bit(f.cd, 4) |
      ((f.rcode ?? 0) & 0xf)
    );
  },
  decode(n: number): Flags {
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
  },
};

export interface Header {
  id: number;
  flags: Flags;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

/** Six 16-bit fields in network byte order (big-endian). */
export const header: Codec<Header> = {
  encodingLength: () => 12,
  encode(h, buf, offset) {
    buf.writeUInt16BE(h.id, offset);
    buf.writeUInt16BE(flags.encode(h.flags), offset + 2);
    buf.writeUInt16BE(h.qdcount, offset + 4);
    buf.writeUInt16BE(h.ancount, offset + 6);
    buf.writeUInt16BE(h.nscount, offset + 8);
    buf.writeUInt16BE(h.arcount, offset + 10);
    return 12;
  },
  decode(buf, offset) {
    if (buf.length - offset < 12)
      fail("truncated-header", offset, `header needs 12 bytes, ${Math.max(0, buf.length - offset)} left`);
    const u16 = (k: number) => buf.readUInt16BE(offset + k);
    return {
      value: {
        id: u16(0),
        flags: flags.decode(u16(2)),
        qdcount: u16(4),
        ancount: u16(6),
        nscount: u16(8),
        arcount: u16(10),
      },
      bytes: 12,
    };
  },
};

// ---- questions and records ----------------------------------------------------------------------

export interface Question {
  name: string;
  /** "A", "AAAA", ... or "TYPE65" */
  type: string;
  /** "IN" unless told otherwise */
  class?: string;
}

export const question: Codec<Question> = {
  encodingLength: (q) => name.encodingLength(q.name) + 4,
  encode(q, buf, offset) {
    const n = name.encode(q.name, buf, offset);
    buf.writeUInt16BE(typeNumber(q.type), offset + n);
    buf.writeUInt16BE(classNumber(q.class ?? "IN"), offset + n + 2);
    return n + 4;
  },
  decode(buf, offset) {
    const n = name.decode(buf, offset);
    const at = offset + n.bytes;
    need(buf, at, 4, "QTYPE and QCLASS");
    return {
      value: { name: n.value, type: typeName(buf.readUInt16BE(at)), class: className(buf.readUInt16BE(at + 2)) },
      bytes: n.bytes + 4,
    };
  },
};

export interface ResourceRecord {
  name: string;
  type: string;
  class?: string;
  ttl?: number;
  /** A: "127.0.0.1"; AAAA: "::1"; CNAME, NS, PTR: a name; any other type: the raw bytes. */
  data: string | Buffer;
}

function ipv4Bytes(s: string): Buffer {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255))
    invalid(`not an IPv4 address: ${JSON.stringify(s)}`);
  return Buffer.from(parts.map(Number));
}

/** The 16 bytes of an IPv6 address in any valid text form. */
export function ipv6Bytes(s: string): Buffer {
  const bad = (): never => invalid(`not an IPv6 address: ${JSON.stringify(s)}`);
  let text = s;
  let v4: number[] = []; // a dotted IPv4 tail, as in ::ffff:127.0.0.1
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    const b = ipv4Bytes(m[2]);
    v4 = [b.readUInt16BE(0), b.readUInt16BE(2)];
    text = m[1].endsWith("::") ? m[1] : m[1].slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) bad();
  const hex = (h: string) =>
    h === "" ? [] : h.split(":").map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  const head = hex(halves[0]);
  let words: number[];
  if (halves.length === 1) words = [...head, ...v4];
  else {
    const tail = [...hex(halves[1]), ...v4];
    const gap = 8 - head.length - tail.length;
    if (gap < 1) bad();
    words = [...head, ...new Array<number>(gap).fill(0), ...tail];
  }
  if (words.length !== 8) bad();
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** An IPv6 address in RFC 5952's canonical text: lower case, no leading zeros, the longest run
 *  (the first, on a tie) of two or more zero groups written "::". */
export function ipv6Text(bytes: Buffer): string {
  const words = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { start: i, len: j - i };
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best.start < 0) return hex(words);
  return `${hex(words.slice(0, best.start))}::${hex(words.slice(best.start + best.len))}`;
}

const NAME_DATA = new Set(["CNAME", "NS", "PTR"]);

function rdataBytes(rr: ResourceRecord): Buffer | null {
  if (rr.type === "A") return ipv4Bytes(String(rr.data));
  if (rr.type === "AAAA") return ipv6Bytes(String(rr.data));
  if (NAME_DATA.has(rr.type)) return null; // a name: written by the name codec
  if (!Buffer.isBuffer(rr.data)) return invalid(`${rr.type} record data must be a Buffer`);
  return rr.data;
}

/** Writes one record. With a compression table, the owner name and name data are compressed. */
function encodeRecord(rr: ResourceRecord, buf: Buffer | null, offset: number, table?: CompressionTable): number {
  const writeName = (n: string, at: number) =>
    table ? name.encodeCompressed(n, buf, at, table) : buf ? name.encode(n, buf, at) : name.encodingLength(n);
  let at = offset + writeName(rr.name, offset);
  const fixed = at;
  at += 10;
  const raw = rdataBytes(rr);
  const rdlength = raw ? raw.length : writeName(String(rr.data), at);
  if (raw && buf) raw.copy(buf, at);
  if (buf) {
    buf.writeUInt16BE(typeNumber(rr.type), fixed);
    buf.writeUInt16BE(classNumber(rr.class ?? "IN"), fixed + 2);
    buf.writeUInt32BE(rr.ttl ?? 0, fixed + 4);
    buf.writeUInt16BE(rdlength, fixed + 8);
  }
  return at + rdlength - offset;
}

export const record: Codec<ResourceRecord> = {
  encodingLength: (rr) => encodeRecord(rr, null, 0),
  encode: (rr, buf, offset) => encodeRecord(rr, buf, offset),
  decode(buf, offset) {
    const owner = name.decode(buf, offset);
    const at = offset + owner.bytes;
    need(buf, at, 10, "TYPE, CLASS, TTL and RDLENGTH");
    const type = typeName(buf.readUInt16BE(at));
    const rdlength = buf.readUInt16BE(at + 8);
    const start = at + 10;
    if (start + rdlength > buf.length)
      fail("truncated", start, `record data of ${rdlength} bytes runs past the end (${buf.length - start} left)`);
    let data: string | Buffer;
    const wrongSize = (want: number) =>
      fail("bad-rdata-length", at + 8, `${type} data must be ${want} bytes, not ${rdlength}`);
    if (type === "A") {
      if (rdlength !== 4) wrongSize(4);
      data = Array.from(buf.subarray(start, start + 4)).join(".");
    } else if (type === "AAAA") {
      if (rdlength !== 16) wrongSize(16);
      data = ipv6Text(buf.subarray(start, start + 16));
    } else if (NAME_DATA.has(type)) {
      const target = name.decode(buf.subarray(0, start + rdlength), start);
      if (target.bytes !== rdlength)
        fail("bad-rdata-length", at + 8, `${type} name takes ${target.bytes} bytes, RDLENGTH says ${rdlength}`);
      data = target.value;
    } else data = Buffer.from(buf.subarray(start, start + rdlength));
    const value = {
      name: owner.value,
      type,
      class: className(buf.readUInt16BE(at + 2)),
      ttl: buf.readUInt32BE(at + 4),
      data,
    };
    return { value, bytes: owner.bytes + 10 + rdlength };
  },
};

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

export interface EncodeOptions {
  /** Replace repeated names by pointers to their first occurrence (default true). */
  compress?: boolean;
}

function encodeMessage(m: Message, buf: Buffer | null, options: EncodeOptions): number {
  const sections = [m.answers ?? [], m.authorities ?? [], m.additionals ?? []];
  if ([m.questions, ...sections].some((s) => s.length > 0xffff)) invalid("a section has more than 65535 entries");
  if (!Number.isInteger(m.id) || m.id < 0 || m.id > 0xffff) invalid(`id must be 0..65535, got ${m.id}`);
  const table: CompressionTable | undefined = options.compress === false ? undefined : new Map();
  if (buf)
    header.encode(
      {
        id: m.id,
        flags: { ...flags.decode(0), ...m.flags },
        qdcount: m.questions.length,
        ancount: sections[0].length,
        nscount: sections[1].length,
        arcount: sections[2].length,
      },
      buf,
      0,
    );
  let at = 12;
  for (const q of m.questions) {
    const n = table
      ? name.encodeCompressed(q.name, buf, at, table)
      : buf
        ? name.encode(q.name, buf, at)
        : name.encodingLength(q.name);
    if (buf) {
      buf.writeUInt16BE(typeNumber(q.type), at + n);
      buf.writeUInt16BE(classNumber(q.class ?? "IN"), at + n + 2);
    }
    at += n + 4;
  }
  for (const section of sections) for (const rr of section) at += encodeRecord(rr, buf, at, table);
  return at;
}

/** Bytes `encode(m, options)` produces. */
export const encodingLength = (m: Message, options: EncodeOptions = {}) => encodeMessage(m, null, options);

/** A whole message; counts come from the array lengths. */
export function encode(m: Message, options: EncodeOptions = {}): Buffer {
  const buf = Buffer.alloc(encodingLength(m, options));
  encodeMessage(m, buf, options);
  return buf;
}

/** A whole message. Bytes after the last record are ignored (as other decoders do). */
export function decode(buf: Buffer): DecodedMessage {
  const h = header.decode(buf, 0).value;
  let at = 12;
  const read = <T>(codec: Codec<T>, count: number): T[] => {
    const out: T[] = [];
    for (let i = 0; i < count; i++) {
      const { value, bytes } = codec.decode(buf, at);
      out.push(value);
      at += bytes;
    }
    return out;
  };
  const questions = read(question, h.qdcount);
  const answers = read(record, h.ancount);
  const authorities = read(record, h.nscount);
  const additionals = read(record, h.arcount);
  return { id: h.id, flags: h.flags, questions, answers, authorities, additionals };
}
