// The one contract every wire format in helpers/wire follows, dns-packet's shape written once:
//
//   encode(value, buf?, offset?)  writes `value` into `buf` at `offset` (default: a new Buffer of
//                                 encodingLength(value) bytes, offset 0) and returns the buffer;
//                                 encode.bytes is then the number of bytes written
//   decode(buf, offset?)          reads one value at `offset` (default 0) and returns it;
//                                 decode.bytes is then the number of bytes it consumed
//   encodingLength(value)         how many bytes encode(value) writes
//
// Symmetric: what decode returns, encode accepts (fields only a decoder can know, such as
// `checksumOk`, are ignored by encode). Arguments are checked once, at the edge, the way Node's
// own lib/ does it: a value encode cannot write is a RangeError or TypeError with code
// ERR_INVALID_ARG_VALUE, and nothing has been written. Bytes decode cannot read raise the
// format's own subclass of CodecError, with a stable `code` (ERR_DNS_POINTER_LOOP), the `offset`
// in the buffer where the fault is, and a short `reason` in prose; never a RangeError from a
// Buffer read, never a hang.
//
// A codec is written as two pure halves, `plan` and `read`, and `codec()` adds the edge checks
// and the `.bytes` bookkeeping. Codecs that contain other codecs call those pure halves, so the
// mutable `.bytes` fields are only ever set by the outermost call.

/** Malformed input: the base of every format's error (DnsFormatError, PacketError, DhcpError,
 *  PcapError, TlsError, BpfListingError). `name` says which format. */
export class CodecError<C extends string = string> extends Error {
  constructor(
    /** Stable and machine-readable, Node style: ERR_<FORMAT>_<WHAT>. */
    readonly code: C,
    /** Where in the buffer (or text) the fault was found. */
    readonly offset: number,
    /** What is wrong, in a few words of prose. */
    readonly reason: string,
    message = `malformed input at offset ${offset}: ${reason} (${code})`,
  ) {
    super(message);
    this.name = "CodecError";
  }
}

/** `encode` with dns-packet's `bytes` field: bytes written by the last call. */
export interface Encoder<T> {
  (value: T, buf?: Buffer, offset?: number): Buffer;
  bytes: number;
}
/** `decode` with dns-packet's `bytes` field: bytes consumed by the last call. */
export interface Decoder<T> {
  (buf: Buffer, offset?: number): T;
  bytes: number;
}

/** The contract. `In` is what encode takes; `Out`, what decode returns, is also an `In`. */
export interface Codec<In, Out extends In = In> {
  encode: Encoder<In>;
  decode: Decoder<Out>;
  encodingLength(value: In): number;
}

/** How a checked value will be written: its length, and a writer that cannot fail. */
export interface Plan {
  length: number;
  write(buf: Buffer, offset: number): void;
}

/** The two pure halves a codec is written as. */
export interface Parts<In, Out extends In> {
  /** Checks `value` (ERR_INVALID_ARG_VALUE) and lays it out. */
  plan(value: In): Plan;
  /** Reads one value at `offset`, bounds checked; throws the format's CodecError subclass. */
  read(buf: Buffer, offset: number): { value: Out; bytes: number };
}

/** A codec with its pure halves, for codecs that contain it. */
export type WireCodec<In, Out extends In = In> = Codec<In, Out> & Parts<In, Out>;

/** Builds the contract around a format's two halves. */
export function codec<In, Out extends In>(parts: Parts<In, Out>): WireCodec<In, Out> {
  function encode(value: In, buf?: Buffer, offset = 0): Buffer {
    if (buf !== undefined && !Buffer.isBuffer(buf)) invalidType(`buf must be a Buffer, got ${typeof buf}`);
    if (!Number.isInteger(offset) || offset < 0) invalid(`offset must be a non-negative integer, got ${offset}`);
    const p = parts.plan(value);
    const out = buf ?? Buffer.alloc(offset + p.length);
    if (offset + p.length > out.length)
      invalid(`${p.length} bytes do not fit at offset ${offset} of a ${out.length}-byte buffer`);
    p.write(out, offset);
    encode.bytes = p.length;
    return out;
  }
  encode.bytes = 0;
  function decode(buf: Buffer, offset = 0): Out {
    if (!Buffer.isBuffer(buf)) invalidType(`decode takes a Buffer, got ${typeof buf}`);
    if (!Number.isInteger(offset) || offset < 0) invalid(`offset must be a non-negative integer, got ${offset}`);
    const { value, bytes } = parts.read(buf, offset);
    decode.bytes = bytes;
    return value;
  }
  decode.bytes = 0;
  return { encode, decode, encodingLength: (value: In) => parts.plan(value).length, ...parts };
}

// ---- checks at the edge -------------------------------------------------------------------------

/** A value encode cannot write. */
export function invalid(message: string): never {
  throw Object.assign(new RangeError(message), { code: "ERR_INVALID_ARG_VALUE" });
}
/** A value of the wrong type. */
export function invalidType(message: string): never {
  throw Object.assign(new TypeError(message), { code: "ERR_INVALID_ARG_VALUE" });
}
/** An unsigned integer field of `bits` bits. */
export function uint(value: unknown, bits: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** bits)
    invalid(`${what} must be an integer from 0 to ${2 ** bits - 1}, got ${String(value)}`);
  return value;
}
/** A Buffer field. */
export function bytesOf(value: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(value)) invalidType(`${what} must be a Buffer, got ${typeof value}`);
  return value;
}
/** The value itself: a non-null object. */
export function objectOf<T>(value: T, what: string): T {
  if (typeof value !== "object" || value === null) invalidType(`${what} must be an object, got ${String(value)}`);
  return value;
}
