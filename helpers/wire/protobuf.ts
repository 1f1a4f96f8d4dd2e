// Protocol Buffers' wire format (protobuf.dev/programming-guides/encoding), without a schema: a
// message is a sequence of fields, each a tag (field number << 3 | wire type) followed by a value
// whose shape the wire type alone decides. Four wire types are in use:
//   VARINT (0)  a base-128 varint: int32, int64, uint32, uint64, sint32/sint64 (zigzag), bool, enum
//   I64    (1)  8 bytes little-endian: fixed64, sfixed64, double
//   LEN    (2)  a varint length, then that many bytes: string, bytes, embedded messages, packed
//               repeated fields
//   I32    (5)  4 bytes little-endian: fixed32, sfixed32, float
// (3 and 4 are the deprecated groups, which this codec refuses; 6 and 7 do not exist.) Because
// every value's length follows from its wire type, a reader can skip, or keep, a field it has no
// schema for: that is how unknown fields survive. `varint`, `field` and `message` are codecs
// (helpers/wire/codec.ts); a message has no length of its own, so `message.decode` reads to the
// end of the buffer, and the length of an embedded one is the LEN field around it. zigzag and
// the fixed-width conversions turn the raw values into what a schema's types mean.
import { bytesOf, codec, CodecError, invalid, invalidType, objectOf } from "./codec";

export const WIRE_TYPES = { varint: 0, i64: 1, len: 2, i32: 5 } as const;
export type WireType = keyof typeof WIRE_TYPES;
const WIRE_NAMES: Record<number, WireType> = { 0: "varint", 1: "i64", 2: "len", 5: "i32" };

/** The largest field number: a tag is a 32-bit varint and 3 of its bits are the wire type. */
export const MAX_FIELD = 2 ** 29 - 1;
const MAX_U64 = 2n ** 64n - 1n;

export type ProtobufErrorCode =
  | "ERR_PROTOBUF_TRUNCATED" // a varint, a fixed value or a LEN field's bytes run past the end
  | "ERR_PROTOBUF_VARINT_OVERFLOW" // a varint longer than 10 bytes, or above 2^64 - 1
  | "ERR_PROTOBUF_BAD_FIELD" // field number 0, or a tag above 32 bits
  | "ERR_PROTOBUF_BAD_WIRE_TYPE" // wire type 6 or 7
  | "ERR_PROTOBUF_GROUP"; // wire type 3 or 4 (groups, deprecated and not supported here)

export class ProtobufError extends CodecError<ProtobufErrorCode> {
  constructor(code: ProtobufErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed protobuf at offset ${offset}: ${reason} (${code})`);
    this.name = "ProtobufError";
  }
}
const fail = (code: ProtobufErrorCode, offset: number, reason: string): never => {
  throw new ProtobufError(code, offset, reason);
};

// ---- varints -------------------------------------------------------------------------------------

/** A varint's value, checked: a non-negative safe integer or a bigint below 2^64. */
function u64(value: unknown, what: string): bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0) invalid(`${what} must be a non-negative safe integer, got ${value}`);
    return BigInt(value);
  }
  if (typeof value !== "bigint") return invalidType(`${what} must be a number or a bigint, got ${typeof value}`);
  if (value < 0n || value > MAX_U64) invalid(`${what} must be from 0 to 2^64 - 1, got ${value}`);
  return value;
}

function varintLength(v: bigint): number {
  let n = 1;
  while (v > 0x7fn) {
    v >>= 7n;
    n++;
  }
  return n;
}
function writeVarint(v: bigint, buf: Buffer, at: number): number {
  while (v > 0x7fn) {
    buf[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[at++] = Number(v);
  return at;
}
/** Reads a varint at `at`: its value and the offset after it. Longer encodings than needed are
 *  accepted (as protobuf's own parsers do), up to 10 bytes. */
function readVarint(buf: Buffer, at: number): { value: bigint; end: number } {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= buf.length) fail("ERR_PROTOBUF_TRUNCATED", at, `a varint cut short after ${i} bytes`);
    const b = buf[at + i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      if (value > MAX_U64) fail("ERR_PROTOBUF_VARINT_OVERFLOW", at, "a varint above 2^64 - 1");
      return { value, end: at + i + 1 };
    }
  }
  return fail("ERR_PROTOBUF_VARINT_OVERFLOW", at, "a varint longer than 10 bytes");
}

/** One varint: encode takes a number or a bigint from 0 to 2^64 - 1, decode returns a bigint. */
export const varint = codec<number | bigint, bigint>({
  plan(value) {
    const v = u64(value, "a varint");
    return { length: varintLength(v), write: (buf, at) => void writeVarint(v, buf, at) };
  },
  read(buf, at) {
    const { value, end } = readVarint(buf, at);
    return { value, bytes: end - at };
  },
});

// ---- what the values mean ------------------------------------------------------------------------

/** sint32/sint64: zigzag maps 0, -1, 1, -2, … to 0, 1, 2, 3, … so small negatives stay short. */
export function zigzag(n: number | bigint): bigint {
  const v = BigInt(n);
  if (v < -(2n ** 63n) || v >= 2n ** 63n) invalid(`zigzag takes a 64-bit signed integer, got ${v}`);
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
}
/** The signed integer a zigzag varint stands for. */
export function unzigzag(u: bigint): bigint {
  return u & 1n ? -((u + 1n) >> 1n) : u >> 1n;
}
/** int32/int64: a negative number is written as its 64-bit two's complement (always 10 bytes). */
export const twosComplement = (n: number | bigint): bigint => BigInt.asUintN(64, BigInt(n));
/** The int64 (or int32) a varint stands for. */
export const signed64 = (u: bigint): bigint => BigInt.asIntN(64, u);

/** float ↔ the 32 bits of an I32 field; double ↔ the 64 bits of an I64 field. */
export function floatBits(x: number): number {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return b.readUInt32LE();
}
export function bitsFloat(u: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(u);
  return b.readFloatLE();
}
export function doubleBits(x: number): bigint {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.readBigUInt64LE();
}
export function bitsDouble(u: bigint): number {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(u);
  return b.readDoubleLE();
}

// ---- fields and messages -------------------------------------------------------------------------

/** One field as it is on the wire: its number, its wire type and its raw value. */
export type ProtoField =
  | { field: number; wire: "varint"; value: bigint }
  | { field: number; wire: "i64"; value: bigint }
  | { field: number; wire: "len"; value: Buffer }
  | { field: number; wire: "i32"; value: number };
/** What encode takes: varints also as numbers. */
export type ProtoFieldInput =
  | { field: number; wire: "varint"; value: number | bigint }
  | { field: number; wire: "i64"; value: number | bigint }
  | { field: number; wire: "len"; value: Buffer }
  | { field: number; wire: "i32"; value: number };

/** A field's tag: (field number << 3) | wire type. */
export function tag(field: number, wire: WireType): number {
  if (!Number.isInteger(field) || field < 1 || field > MAX_FIELD)
    invalid(`a field number is from 1 to ${MAX_FIELD}, got ${field}`);
  if (!(wire in WIRE_TYPES)) invalid(`a wire type is varint, i64, len or i32, got ${String(wire)}`);
  return field * 8 + WIRE_TYPES[wire];
}

function planField(f: ProtoFieldInput): { length: number; write(buf: Buffer, at: number): number } {
  objectOf(f, "a protobuf field");
  const t = BigInt(tag(f.field, f.wire));
  const head = varintLength(t);
  switch (f.wire) {
    case "varint": {
      const v = u64(f.value, `field ${f.field}'s varint`);
      return { length: head + varintLength(v), write: (buf, at) => writeVarint(v, buf, writeVarint(t, buf, at)) };
    }
    case "i64": {
      const v = u64(f.value, `field ${f.field}'s 64 bits`);
      return { length: head + 8, write: (buf, at) => buf.writeBigUInt64LE(v, writeVarint(t, buf, at)) };
    }
    case "i32": {
      const v = f.value;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
        invalid(`field ${f.field}'s 32 bits must be an integer from 0 to 2^32 - 1, got ${String(v)}`);
      return { length: head + 4, write: (buf, at) => buf.writeUInt32LE(v, writeVarint(t, buf, at)) };
    }
    case "len": {
      const v = bytesOf(f.value, `field ${f.field}'s bytes`);
      const n = BigInt(v.length);
      return {
        length: head + varintLength(n) + v.length,
        write: (buf, at) => {
          const from = writeVarint(n, buf, writeVarint(t, buf, at));
          return from + v.copy(buf, from);
        },
      };
    }
  }
}

function readField(buf: Buffer, at: number): { value: ProtoField; end: number } {
  const t = readVarint(buf, at);
  if (t.value > 0xffffffffn) fail("ERR_PROTOBUF_BAD_FIELD", at, `a tag above 32 bits (${t.value})`);
  const field = Number(t.value >> 3n);
  const type = Number(t.value & 7n);
  if (type === 3 || type === 4) fail("ERR_PROTOBUF_GROUP", at, `wire type ${type} is a group, not supported`);
  const wire = WIRE_NAMES[type];
  if (wire === undefined) fail("ERR_PROTOBUF_BAD_WIRE_TYPE", at, `wire type ${type} does not exist`);
  if (field === 0) fail("ERR_PROTOBUF_BAD_FIELD", at, "field number 0 is not allowed");
  const from = t.end;
  const need = (n: number, what: string) => {
    if (from + n > buf.length)
      fail("ERR_PROTOBUF_TRUNCATED", from, `field ${field}'s ${what} needs ${n} bytes, ${buf.length - from} left`);
  };
  switch (wire) {
    case "varint": {
      const v = readVarint(buf, from);
      return { value: { field, wire, value: v.value }, end: v.end };
    }
    case "i64":
      need(8, "64 bits");
      return { value: { field, wire, value: buf.readBigUInt64LE(from) }, end: from + 8 };
    case "i32":
      need(4, "32 bits");
      return { value: { field, wire, value: buf.readUInt32LE(from) }, end: from + 4 };
    default: {
      const n = readVarint(buf, from);
      if (n.value > BigInt(buf.length - n.end))
        fail("ERR_PROTOBUF_TRUNCATED", from, `field ${field}'s length ${n.value} runs past the end`);
      const end = n.end + Number(n.value);
      return { value: { field, wire: "len", value: buf.subarray(n.end, end) }, end };
    }
  }
}

/** One field, tag and value. */
export const field = codec<ProtoFieldInput, ProtoField>({
  plan(f) {
    const p = planField(f);
    return { length: p.length, write: (buf, at) => void p.write(buf, at) };
  },
  read(buf, at) {
    const { value, end } = readField(buf, at);
    return { value, bytes: end - at };
  },
});

/** A whole message: its fields in order, unknown ones included. decode reads to the end of the
 *  buffer (a message has no length of its own). */
export const message = codec<ProtoFieldInput[], ProtoField[]>({
  plan(fields) {
    if (!Array.isArray(fields)) invalidType(`a message is an array of fields, got ${typeof fields}`);
    const plans = fields.map(planField);
    return {
      length: plans.reduce((n, p) => n + p.length, 0),
      write(buf, at) {
        for (const p of plans) at = p.write(buf, at);
      },
    };
  },
  read(buf, at) {
    const fields: ProtoField[] = [];
    let pos = at;
    while (pos < buf.length) {
      const { value, end } = readField(buf, pos);
      fields.push(value);
      pos = end;
    }
    return { value: fields, bytes: pos - at };
  },
});

/** A packed repeated field's payload: varints back to back (decode reads to the end). */
export const packedVarints = codec<(number | bigint)[], bigint[]>({
  plan(values) {
    if (!Array.isArray(values)) invalidType(`packed varints are an array, got ${typeof values}`);
    const vs = values.map((v, i) => u64(v, `packed value ${i}`));
    return {
      length: vs.reduce((n, v) => n + varintLength(v), 0),
      write(buf, at) {
        for (const v of vs) at = writeVarint(v, buf, at);
      },
    };
  },
  read(buf, at) {
    const values: bigint[] = [];
    let pos = at;
    while (pos < buf.length) {
      const { value, end } = readVarint(buf, pos);
      values.push(value);
      pos = end;
    }
    return { value: values, bytes: pos - at };
  },
});
