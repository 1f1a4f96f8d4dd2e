// HPACK (RFC 7541), HTTP/2's header compression, written out: prefixed integers (§5.1), string
// literals raw or Huffman coded (§5.2, the code of Appendix B), the static table (Appendix A), the
// dynamic table with its size accounting and eviction (§4), and the five representations a header
// block is made of (§6). `representation` is a codec on the contract of codec.ts (one field
// representation, stateless); `HpackDecoder` and `HpackEncoder` are the stateful ends of one
// direction of a connection, which apply representations to a dynamic table. Bad bytes are one
// HpackError with a stable code, never a RangeError, never a hang.
import { codec, CodecError, invalid, invalidType, objectOf, uint } from "./codec";

export type HpackErrorCode =
  | "ERR_HPACK_TRUNCATED" // an integer or a string that runs past the end of the block
  | "ERR_HPACK_INTEGER_OVERFLOW" // an integer above 2^32 - 1, or with more continuation bytes than that needs
  | "ERR_HPACK_BAD_HUFFMAN" // EOS inside a string, padding longer than 7 bits or not all ones
  | "ERR_HPACK_BAD_INDEX" // index 0, or past the end of the static and dynamic tables
  | "ERR_HPACK_BAD_TABLE_SIZE"; // a size update above the limit, or after the first field of a block

export class HpackError extends CodecError<HpackErrorCode> {
  constructor(code: HpackErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed HPACK at offset ${offset}: ${reason} (${code})`);
    this.name = "HpackError";
  }
}
const fail = (code: HpackErrorCode, offset: number, reason: string): never => {
  throw new HpackError(code, offset, reason);
};

// ---- the static table (Appendix A) ---------------------------------------------------------------

/** Index 1 to 61; STATIC_TABLE[0] is unused (index 0 is an error on the wire). */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ["", ""],
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ...[
    "accept-charset",
    "accept-encoding=gzip, deflate",
    "accept-language",
    "accept-ranges",
    "accept",
    "access-control-allow-origin",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-range",
    "content-type",
    "cookie",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "link",
    "location",
    "max-forwards",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "refresh",
    "retry-after",
    "server",
    "set-cookie",
    "strict-transport-security",
    "transfer-encoding",
    "user-agent",
    "vary",
    "via",
    "www-authenticate",
  ].map((e): readonly [string, string] => {
    const [name, value = ""] = e.split("=");
    return [name, value];
  }),
];
export const STATIC_ENTRIES = STATIC_TABLE.length - 1; // 61

// ---- prefixed integers (§5.1) --------------------------------------------------------------------

const MAX_INT = 2 ** 32 - 1;

/** Writes `value` with an N-bit prefix; `first` holds the bits above the prefix. */
function writeInt(out: number[], value: number, prefix: number, first: number): void {
  const max = (1 << prefix) - 1;
  if (value < max) return void out.push(first | value);
  out.push(first | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push(0x80 | (rest % 128));
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}
function readInt(buf: Buffer, at: number, end: number, prefix: number): { value: number; next: number } {
  if (at >= end) fail("ERR_HPACK_TRUNCATED", at, "an integer needs at least 1 byte");
  const max = (1 << prefix) - 1;
  let value = buf[at] & max;
  let i = at + 1;
  if (value < max) return { value, next: i };
  for (let shift = 0; ; shift += 7) {
    if (i >= end) fail("ERR_HPACK_TRUNCATED", i, "an integer's continuation bytes run past the end");
    if (shift > 28) fail("ERR_HPACK_INTEGER_OVERFLOW", i, "more continuation bytes than a 32-bit integer needs");
    const b = buf[i++];
    value += (b & 0x7f) * 2 ** shift;
    if (value > MAX_INT) fail("ERR_HPACK_INTEGER_OVERFLOW", i - 1, `an integer above ${MAX_INT}`);
    if (!(b & 0x80)) return { value, next: i };
  }
}

// ---- Huffman (§5.2, Appendix B) ------------------------------------------------------------------

/** [code, bit length] of every byte value 0 to 255; EOS (256) is 30 one bits. */
export const HUFFMAN: readonly (readonly [number, number])[] = [
  [0x1ff8, 13],
  [0x7fffd8, 23],
  [0xfffffe2, 28],
  [0xfffffe3, 28],
  [0xfffffe4, 28],
  [0xfffffe5, 28],
  [0xfffffe6, 28],
  [0xfffffe7, 28],
  [0xfffffe8, 28],
  [0xffffea, 24],
  [0x3ffffffc, 30],
  [0xfffffe9, 28],
  [0xfffffea, 28],
  [0x3ffffffd, 30],
  [0xfffffeb, 28],
  [0xfffffec, 28],
  [0xfffffed, 28],
  [0xfffffee, 28],
  [0xfffffef, 28],
  [0xffffff0, 28],
  [0xffffff1, 28],
  [0xffffff2, 28],
  [0x3ffffffe, 30],
  [0xffffff3, 28],
  [0xffffff4, 28],
  [0xffffff5, 28],
  [0xffffff6, 28],
  [0xffffff7, 28],
  [0xffffff8, 28],
  [0xffffff9, 28],
  [0xffffffa, 28],
  [0xffffffb, 28],
  [0x14, 6],
  [0x3f8, 10],
  [0x3f9, 10],
  [0xffa, 12],
  [0x1ff9, 13],
  [0x15, 6],
  [0xf8, 8],
  [0x7fa, 11],
  [0x3fa, 10],
  [0x3fb, 10],
  [0xf9, 8],
  [0x7fb, 11],
  [0xfa, 8],
  [0x16, 6],
  [0x17, 6],
  [0x18, 6],
  [0x0, 5],
  [0x1, 5],
  [0x2, 5],
  [0x19, 6],
  [0x1a, 6],
  [0x1b, 6],
  [0x1c, 6],
  [0x1d, 6],
  [0x1e, 6],
  [0x1f, 6],
  [0x5c, 7],
  [0xfb, 8],
  [0x7ffc, 15],
  [0x20, 6],
  [0xffb, 12],
  [0x3fc, 10],
  [0x1ffa, 13],
  [0x21, 6],
  [0x5d, 7],
  [0x5e, 7],
  [0x5f, 7],
  [0x60, 7],
  [0x61, 7],
  [0x62, 7],
  [0x63, 7],
  [0x64, 7],
  [0x65, 7],
  [0x66, 7],
  [0x67, 7],
  [0x68, 7],
  [0x69, 7],
  [0x6a, 7],
  [0x6b, 7],
  [0x6c, 7],
  [0x6d, 7],
  [0x6e, 7],
  [0x6f, 7],
  [0x70, 7],
  [0x71, 7],
  [0x72, 7],
  [0xfc, 8],
  [0x73, 7],
  [0xfd, 8],
  [0x1ffb, 13],
  [0x7fff0, 19],
  [0x1ffc, 13],
  [0x3ffc, 14],
  [0x22, 6],
  [0x7ffd, 15],
  [0x3, 5],
  [0x23, 6],
  [0x4, 5],
  [0x24, 6],
  [0x5, 5],
  [0x25, 6],
  [0x26, 6],
  [0x27, 6],
  [0x6, 5],
  [0x74, 7],
  [0x75, 7],
  [0x28, 6],
  [0x29, 6],
  [0x2a, 6],
  [0x7, 5],
  [0x2b, 6],
  [0x76, 7],
  [0x2c, 6],
  [0x8, 5],
  [0x9, 5],
  [0x2d, 6],
  [0x77, 7],
  [0x78, 7],
  [0x79, 7],
  [0x7a, 7],
  [0x7b, 7],
  [0x7ffe, 15],
  [0x7fc, 11],
  [0x3ffd, 14],
  [0x1ffd, 13],
  [0xffffffc, 28],
  [0xfffe6, 20],
  [0x3fffd2, 22],
  [0xfffe7, 20],
  [0xfffe8, 20],
  [0x3fffd3, 22],
  [0x3fffd4, 22],
  [0x3fffd5, 22],
  [0x7fffd9, 23],
  [0x3fffd6, 22],
  [0x7fffda, 23],
  [0x7fffdb, 23],
  [0x7fffdc, 23],
  [0x7fffdd, 23],
  [0x7fffde, 23],
  [0xffffeb, 24],
  [0x7fffdf, 23],
  [0xffffec, 24],
  [0xffffed, 24],
  [0x3fffd7, 22],
  [0x7fffe0, 23],
  [0xffffee, 24],
  [0x7fffe1, 23],
  [0x7fffe2, 23],
  [0x7fffe3, 23],
  [0x7fffe4, 23],
  [0x1fffdc, 21],
  [0x3fffd8, 22],
  [0x7fffe5, 23],
  [0x3fffd9, 22],
  [0x7fffe6, 23],
  [0x7fffe7, 23],
  [0xffffef, 24],
  [0x3fffda, 22],
  [0x1fffdd, 21],
  [0xfffe9, 20],
  [0x3fffdb, 22],
  [0x3fffdc, 22],
  [0x7fffe8, 23],
  [0x7fffe9, 23],
  [0x1fffde, 21],
  [0x7fffea, 23],
  [0x3fffdd, 22],
  [0x3fffde, 22],
  [0xfffff0, 24],
  [0x1fffdf, 21],
  [0x3fffdf, 22],
  [0x7fffeb, 23],
  [0x7fffec, 23],
  [0x1fffe0, 21],
  [0x1fffe1, 21],
  [0x3fffe0, 22],
  [0x1fffe2, 21],
  [0x7fffed, 23],
  [0x3fffe1, 22],
  [0x7fffee, 23],
  [0x7fffef, 23],
  [0xfffea, 20],
  [0x3fffe2, 22],
  [0x3fffe3, 22],
  [0x3fffe4, 22],
  [0x7ffff0, 23],
  [0x3fffe5, 22],
  [0x3fffe6, 22],
  [0x7ffff1, 23],
  [0x3ffffe0, 26],
  [0x3ffffe1, 26],
  [0xfffeb, 20],
  [0x7fff1, 19],
  [0x3fffe7, 22],
  [0x7ffff2, 23],
  [0x3fffe8, 22],
  [0x1ffffec, 25],
  [0x3ffffe2, 26],
  [0x3ffffe3, 26],
  [0x3ffffe4, 26],
  [0x7ffffde, 27],
  [0x7ffffdf, 27],
  [0x3ffffe5, 26],
  [0xfffff1, 24],
  [0x1ffffed, 25],
  [0x7fff2, 19],
  [0x1fffe3, 21],
  [0x3ffffe6, 26],
  [0x7ffffe0, 27],
  [0x7ffffe1, 27],
  [0x3ffffe7, 26],
  [0x7ffffe2, 27],
  [0xfffff2, 24],
  [0x1fffe4, 21],
  [0x1fffe5, 21],
  [0x3ffffe8, 26],
  [0x3ffffe9, 26],
  [0xffffffd, 28],
  [0x7ffffe3, 27],
  [0x7ffffe4, 27],
  [0x7ffffe5, 27],
  [0xfffec, 20],
  [0xfffff3, 24],
  [0xfffed, 20],
  [0x1fffe6, 21],
  [0x3fffe9, 22],
  [0x1fffe7, 21],
  [0x1fffe8, 21],
  [0x7ffff3, 23],
  [0x3fffea, 22],
  [0x3fffeb, 22],
  [0x1ffffee, 25],
  [0x1ffffef, 25],
  [0xfffff4, 24],
  [0xfffff5, 24],
  [0x3ffffea, 26],
  [0x7ffff4, 23],
  [0x3ffffeb, 26],
  [0x7ffffe6, 27],
  [0x3ffffec, 26],
  [0x3ffffed, 26],
  [0x7ffffe7, 27],
  [0x7ffffe8, 27],
  [0x7ffffe9, 27],
  [0x7ffffea, 27],
  [0x7ffffeb, 27],
  [0xffffffe, 28],
  [0x7ffffec, 27],
  [0x7ffffed, 27],
  [0x7ffffee, 27],
  [0x7ffffef, 27],
  [0x7fffff0, 27],
  [0x3ffffee, 26],
];

/** Code → symbol, one map per bit length. */
const decodeMaps: Map<number, number>[] = Array.from({ length: 31 }, () => new Map());
HUFFMAN.forEach(([code, bits], sym) => decodeMaps[bits].set(code, sym));
const EOS = 0x3fffffff;

export function huffmanLength(s: Buffer): number {
  let bits = 0;
  for (const b of s) bits += HUFFMAN[b][1];
  return Math.ceil(bits / 8);
}
export function huffmanEncode(s: Buffer): Buffer {
  const out = Buffer.alloc(huffmanLength(s));
  let acc = 0; // up to 37 bits, kept as an exact float
  let n = 0;
  let at = 0;
  for (const b of s) {
    const [code, bits] = HUFFMAN[b];
    acc = acc * 2 ** bits + code;
    n += bits;
    while (n >= 8) {
      n -= 8;
      const byte = Math.floor(acc / 2 ** n);
      out[at++] = byte;
      acc -= byte * 2 ** n;
    }
  }
  if (n > 0) out[at] = (acc << (8 - n)) | (0xff >> n); // padded with the most significant bits of EOS
  return out;
}
/** Decodes `buf[start, end)`; offsets in errors count in `buf`. */
export function huffmanDecode(buf: Buffer, start = 0, end = buf.length): Buffer {
  const out: number[] = [];
  let code = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((buf[i] >> bit) & 1);
      bits++;
      const sym = bits >= 5 ? decodeMaps[bits].get(code) : undefined;
      if (sym !== undefined) {
        out.push(sym);
        code = 0;
        bits = 0;
      } else if (bits === 30) {
        fail("ERR_HPACK_BAD_HUFFMAN", i, code === EOS ? "EOS inside a string" : "not a Huffman code");
      }
    }
  }
  if (bits > 7) fail("ERR_HPACK_BAD_HUFFMAN", end - 1, `${bits} bits of padding, more than 7`);
  if (code !== 2 ** bits - 1) fail("ERR_HPACK_BAD_HUFFMAN", end - 1, "padding that is not the start of EOS");
  return Buffer.from(out);
}

// ---- string literals (§5.2) ----------------------------------------------------------------------

function writeString(out: number[], s: string, huffman: boolean): void {
  const raw = Buffer.from(s, "latin1");
  const bytes = huffman ? huffmanEncode(raw) : raw;
  writeInt(out, bytes.length, 7, huffman ? 0x80 : 0);
  for (const b of bytes) out.push(b);
}
function readString(buf: Buffer, at: number, end: number): { value: string; huffman: boolean; next: number } {
  if (at >= end) fail("ERR_HPACK_TRUNCATED", at, "a string needs a length");
  const huffman = (buf[at] & 0x80) !== 0;
  const { value: length, next } = readInt(buf, at, end, 7);
  if (next + length > end) fail("ERR_HPACK_TRUNCATED", at, `a ${length}-byte string runs past the end`);
  const bytes = huffman ? huffmanDecode(buf, next, next + length) : buf.subarray(next, next + length);
  return { value: bytes.toString("latin1"), huffman, next: next + length };
}

// ---- representations (§6) ------------------------------------------------------------------------

/** How a literal field affects the dynamic table: added (incremental), not added (without), or
 *  never to be indexed by any intermediary either (never: a sensitive value, §7.1.3). */
export type Indexing = "incremental" | "without" | "never";

export type Representation =
  /** §6.1: the whole field is entry `index` of the tables. */
  | { kind: "indexed"; index: number }
  /** §6.2: a literal value; the name is a table index (nameIndex > 0) or a literal (`name`). */
  | {
      kind: "literal";
      indexing: Indexing;
      nameIndex: number;
      name?: string;
      nameHuffman?: boolean;
      value: string;
      valueHuffman?: boolean;
    }
  /** §6.3: a new maximum size for the dynamic table. */
  | { kind: "size-update"; size: number };

const LITERAL = { incremental: [0x40, 6], without: [0x00, 4], never: [0x10, 4] } as const;

function latin1(s: unknown, what: string): string {
  if (typeof s !== "string") invalidType(`${what} must be a string, got ${typeof s}`);
  if (!/^[\x00-\xff]*$/.test(s)) invalid(`${what} must be octets (latin1), got ${JSON.stringify(s)}`);
  return s;
}

function planBytes(r: Representation): number[] {
  objectOf(r, "an HPACK representation");
  const out: number[] = [];
  if (r.kind === "indexed") {
    if (uint(r.index, 32, "index") === 0) invalid("index 0 is not a table entry");
    writeInt(out, r.index, 7, 0x80);
  } else if (r.kind === "size-update") writeInt(out, uint(r.size, 32, "size"), 5, 0x20);
  else if (r.kind === "literal") {
    const how = LITERAL[r.indexing];
    if (!how) invalid(`indexing must be incremental, without or never, got ${String(r.indexing)}`);
    writeInt(out, uint(r.nameIndex, 32, "nameIndex"), how[1], how[0]);
    if (r.nameIndex === 0) writeString(out, latin1(r.name, "name"), r.nameHuffman ?? false);
    writeString(out, latin1(r.value, "value"), r.valueHuffman ?? false);
  } else invalid(`kind must be indexed, literal or size-update`);
  return out;
}

/** Reads one representation in buf[at, end). */
function readRepresentation(buf: Buffer, at: number, end: number): { value: Representation; bytes: number } {
  if (at >= end) fail("ERR_HPACK_TRUNCATED", at, "a representation needs at least 1 byte");
  const b = buf[at];
  if (b & 0x80) {
    const { value: index, next } = readInt(buf, at, end, 7);
    if (index === 0) fail("ERR_HPACK_BAD_INDEX", at, "index 0 is not a table entry");
    return { value: { kind: "indexed", index }, bytes: next - at };
  }
  if ((b & 0xe0) === 0x20) {
    const { value: size, next } = readInt(buf, at, end, 5);
    return { value: { kind: "size-update", size }, bytes: next - at };
  }
  const indexing: Indexing = b & 0x40 ? "incremental" : b & 0x10 ? "never" : "without";
  const { value: nameIndex, next } = readInt(buf, at, end, LITERAL[indexing][1]);
  let i = next;
  let name: { value: string; huffman: boolean } | undefined;
  if (nameIndex === 0) {
    const s = readString(buf, i, end);
    name = s;
    i = s.next;
  }
  const v = readString(buf, i, end);
  const value: Representation = {
    kind: "literal",
    indexing,
    nameIndex,
    ...(name ? { name: name.value, nameHuffman: name.huffman } : {}),
    value: v.value,
    valueHuffman: v.huffman,
  };
  return { value, bytes: v.next - at };
}

/** One field representation, stateless: what the bytes say, not yet what they mean. */
export const representation = codec<Representation, Representation>({
  plan(r) {
    const bytes = planBytes(r);
    return { length: bytes.length, write: (buf, at) => Buffer.from(bytes).copy(buf, at) };
  },
  read: (buf, at) => readRepresentation(buf, at, buf.length),
});

/** Every representation of a header block, in order. */
export function representations(block: Buffer): Representation[] {
  const out: Representation[] = [];
  for (let at = 0; at < block.length;) {
    const r = readRepresentation(block, at, block.length);
    out.push(r.value);
    at += r.bytes;
  }
  return out;
}

// ---- the dynamic table (§4) ----------------------------------------------------------------------

export interface HeaderField {
  name: string;
  value: string;
  /** Sent as never indexed (§6.2.3): an intermediary must not index it either. */
  sensitive?: boolean;
}

/** An entry's size: its name and value in octets plus 32 (§4.1). */
export const entrySize = (name: string, value: string) => name.length + value.length + 32;

export class DynamicTable {
  /** Newest first: entries[0] is index 62. */
  readonly entries: [string, string][] = [];
  size = 0;
  constructor(public maxSize = 4096) {}
  add(name: string, value: string): void {
    this.entries.unshift([name, value]);
    this.size += entrySize(name, value);
    this.evict();
  }
  resize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evict();
  }
  private evict(): void {
    while (this.size > this.maxSize && this.entries.length) {
      const [n, v] = this.entries.pop() ?? ["", ""];
      this.size -= entrySize(n, v);
    }
  }
  /** Entry `index` of the static table followed by this one, or undefined. */
  get(index: number): readonly [string, string] | undefined {
    if (index >= 1 && index <= STATIC_ENTRIES) return STATIC_TABLE[index];
    return this.entries[index - STATIC_ENTRIES - 1];
  }
}

/** The receiving end of one direction of a connection: header blocks in, header lists out. */
export class HpackDecoder {
  readonly table: DynamicTable;
  /** The largest table size the peer may pick (our SETTINGS_HEADER_TABLE_SIZE). */
  constructor(readonly limit = 4096) {
    this.table = new DynamicTable(limit);
  }
  decode(block: Buffer): HeaderField[] {
    if (!Buffer.isBuffer(block)) invalidType(`decode takes a Buffer, got ${typeof block}`);
    const fields: HeaderField[] = [];
    for (let at = 0; at < block.length;) {
      const { value: r, bytes } = readRepresentation(block, at, block.length);
      if (r.kind === "size-update") {
        if (fields.length) fail("ERR_HPACK_BAD_TABLE_SIZE", at, "a size update after the first field");
        if (r.size > this.limit) fail("ERR_HPACK_BAD_TABLE_SIZE", at, `size ${r.size} is above ${this.limit}`);
        this.table.resize(r.size);
      } else if (r.kind === "indexed") {
        const e = this.table.get(r.index) ?? fail("ERR_HPACK_BAD_INDEX", at, `no entry ${r.index}`);
        fields.push({ name: e[0], value: e[1] });
      } else {
        const name =
          r.nameIndex === 0
            ? (r.name ?? "")
            : (this.table.get(r.nameIndex) ?? fail("ERR_HPACK_BAD_INDEX", at, `no entry ${r.nameIndex}`))[0];
        if (r.indexing === "incremental") this.table.add(name, r.value);
        fields.push(r.indexing === "never" ? { name, value: r.value, sensitive: true } : { name, value: r.value });
      }
      at += bytes;
    }
    return fields;
  }
}

export interface EncoderOptions {
  /** Huffman-code strings: always, never, or when shorter (the default). */
  huffman?: "always" | "never" | "shorter";
  /** Add literals to the dynamic table (the default), or send them without indexing. */
  index?: boolean;
  maxTableSize?: number;
}

/** The sending end: header lists in, header blocks out, by the usual strategy: an exact match
 *  in the tables is indexed (static first), a known name is a literal with that name's index,
 *  anything else a literal with its name; sensitive fields are never indexed. */
export class HpackEncoder {
  readonly table: DynamicTable;
  constructor(readonly options: EncoderOptions = {}) {
    this.table = new DynamicTable(options.maxTableSize ?? 4096);
  }
  private find(name: string, value: string): { full: number; name: number } {
    let nameOnly = 0;
    const all = [...STATIC_TABLE.slice(1), ...this.table.entries];
    for (let i = 0; i < all.length; i++) {
      if (all[i][0] !== name) continue;
      if (all[i][1] === value) return { full: i + 1, name: i + 1 };
      nameOnly ||= i + 1;
    }
    return { full: 0, name: nameOnly };
  }
  private huff(s: string): boolean {
    const h = this.options.huffman ?? "shorter";
    return h === "always" || (h === "shorter" && huffmanLength(Buffer.from(s, "latin1")) < s.length);
  }
  /** The representations for `fields`, applied to this encoder's table. */
  plan(fields: HeaderField[]): Representation[] {
    return fields.map((f) => {
      const name = latin1(f.name, "name");
      const value = latin1(f.value, "value");
      const found = this.find(name, value);
      if (found.full && !f.sensitive) return { kind: "indexed", index: found.full };
      const indexing: Indexing = f.sensitive ? "never" : this.options.index === false ? "without" : "incremental";
      if (indexing === "incremental") this.table.add(name, value);
      const literal = {
        kind: "literal",
        indexing,
        nameIndex: found.name,
        value,
        valueHuffman: this.huff(value),
      } as const;
      return found.name ? literal : { ...literal, name, nameHuffman: this.huff(name) };
    });
  }
  encode(fields: HeaderField[]): Buffer {
    return Buffer.concat(this.plan(fields).map((r) => representation.encode(r)));
  }
}
