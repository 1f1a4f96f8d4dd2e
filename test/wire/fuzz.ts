// Property-based fuzzing of the codec contract (helpers/wire/codec.ts) with fast-check, shared by
// every test/wire/*.fuzz.test.ts: a round trip of generated values, and corrupted bytes that must
// decode to a value or fail with the codec's own CodecError subclass, quickly. The seed is fixed
// so that CI sees the same cases every run; FUZZ_SEED=<n> explores others, and a failure prints
// the seed and the shrunk counterexample.
import fc from "fast-check";
import { expect } from "vitest";
import { CodecError, type Codec } from "../../helpers/wire/codec";

/** Generated cases per property: the house minimum for a codec. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
export const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
/** A decode of a few hundred bytes takes microseconds; one that takes this long is a hang. */
export const CASE_MS = 250;

export const params = { numRuns: RUNS, seed: SEED };

/** Runs `property` with the suite's runs and seed and returns how many cases ran. */
export function check<T>(arb: fc.Arbitrary<T>, property: (value: T) => void): number {
  let cases = 0;
  fc.assert(
    fc.property(arb, (v) => {
      cases++;
      property(v);
    }),
    params,
  );
  return cases;
}

/** Deep equality of plain data (objects of any prototype, arrays, Buffers, primitives; keys whose
 *  value is undefined count as absent), fast enough for tens of thousands of cases; on a
 *  difference, expect's diff says where. */
export function same(actual: unknown, wanted: unknown, what = "value"): void {
  if (!equal(actual, wanted)) expect(actual, what).toEqual(wanted);
}
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => equal(ra[k], rb[k]));
}

/** encode → bytes → decode: the same value back (as `expected` says it should read), the
 *  lengths agree, the decoded value encodes to the same bytes, and all of it also works at an
 *  offset inside a larger buffer. */
export function roundTrip<In, Out extends In>(
  codec: Codec<In, Out>,
  value: In,
  expected: (value: In) => unknown = (v) => v,
  seen: (decoded: Out) => unknown = (d) => d,
): Buffer {
  const bytes = codec.encode(value);
  const n = bytes.length;
  same({ written: codec.encode.bytes, encodingLength: codec.encodingLength(value) }, { written: n, encodingLength: n });
  const decoded = codec.decode(bytes);
  same(codec.decode.bytes, n, "decode.bytes");
  const want = expected(value);
  same(seen(decoded), want, "decoded");
  same(codec.encode(decoded), bytes, "the decoded value, encoded again"); // symmetric
  const big = Buffer.alloc(n + 7, 0xee);
  if (codec.encode(value, big, 3) !== big) throw new Error("encode did not return the buffer it was given");
  same(big.subarray(3, 3 + n), bytes, "encoded at offset 3");
  same(seen(codec.decode(big.subarray(0, 3 + n), 3)), want, "decoded at offset 3");
  return bytes;
}

/** One way to damage a buffer; positions are fractions of its length, so they always land. */
export type Mutation =
  | { op: "truncate"; at: number }
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; count: number }
  | { op: "length"; at: number; value: number; wide: boolean } // a length field pointing past the end
  | { op: "pointer"; at: number; to: number }; // a DNS compression pointer, often back to itself

const where = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: where }),
  fc.record({ op: fc.constant("flip" as const), at: where, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant("set" as const), at: where, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("insert" as const), at: where, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant("delete" as const), at: where, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant("length" as const),
    at: where,
    value: fc.oneof(fc.constant(0xffff), fc.integer({ min: 0, max: 64 })),
    wide: fc.boolean(),
  }),
  fc.record({ op: fc.constant("pointer" as const), at: where, to: fc.double({ min: -0.1, max: 0.2, noNaN: true }) }),
);

export function mutate(valid: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(valid);
  for (const m of mutations) {
    const at = Math.floor(m.at * b.length);
    switch (m.op) {
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "flip":
        if (b.length) b[at] ^= 1 << m.bit;
        break;
      case "set":
        if (b.length) b[at] = m.byte;
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
        break;
      case "length": {
        // what is left after the field, plus a little: just past the end
        const value = m.value === 0xffff ? 0xffff : b.length - at + m.value;
        if (m.wide && at + 2 <= b.length) b.writeUInt16BE(value & 0xffff, at);
        else if (at < b.length) b[at] = value & 0xff;
        break;
      }
      case "pointer": {
        // to itself (0), a little before (a loop through an earlier label), or a little after
        const target = Math.max(0, Math.min(0x3fff, at + Math.round(m.to * b.length)));
        if (at + 2 <= b.length) b.writeUInt16BE(0xc000 | target, at);
        break;
      }
    }
  }
  return b;
}

/** Bytes to feed a decoder: valid encodings damaged a few times, a few pure noise. */
export function corrupted(valid: fc.Arbitrary<Buffer>, maxNoise = 600): fc.Arbitrary<Buffer> {
  return fc.oneof(
    {
      weight: 9,
      arbitrary: fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([v, m]) => mutate(v, m)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxNoise }).map((u) => Buffer.from(u)) },
  );
}

/** decode(bytes) returns a value or throws `ErrorClass` (a CodecError: code, offset inside the
 *  buffer, a reason) and nothing else, within CASE_MS; also at an offset past some junk. */
export function decodesOrFails(
  decode: (buf: Buffer, offset?: number) => unknown,
  ErrorClass: new (...args: never[]) => CodecError,
  bytes: Buffer,
  consumed?: () => number,
  starts = [0, 5],
): void {
  for (const start of starts) {
    const buf = start ? Buffer.concat([Buffer.alloc(start, 0xa5), bytes]) : bytes;
    const t0 = performance.now();
    let n = 0;
    try {
      decode(buf, start);
      n = consumed?.() ?? 0;
    } catch (e) {
      if (!(e instanceof ErrorClass) || !(e instanceof CodecError)) throw e;
      const ok = /^ERR_[A-Z0-9_]+$/.test(e.code) && /\w/.test(e.reason);
      if (!ok || !Number.isInteger(e.offset) || e.offset < start || e.offset > buf.length)
        throw new Error(`a bad error from ${buf.length} bytes at ${start}: ${e.code} at ${e.offset}: ${e.reason}`);
    }
    if (n < 0 || n > buf.length - start) throw new Error(`decode says it consumed ${n} of ${buf.length - start} bytes`);
    const ms = performance.now() - t0;
    if (ms >= CASE_MS) throw new Error(`decoding ${bytes.length} bytes took ${ms.toFixed(1)} ms`);
  }
}

// ---- arbitraries shared by several codecs --------------------------------------------------------

export const u8 = fc.integer({ min: 0, max: 0xff });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const bytes = (maxLength: number, minLength = 0) =>
  fc.uint8Array({ minLength, maxLength }).map((u) => Buffer.from(u));
/** Many bytes, cheaply: a length and a seed for a small generator (fast-check makes byte arrays
 *  one arbitrary element at a time, too slowly for 16 KiB). */
export const manyBytes = (minLength: number, maxLength: number) =>
  fc.tuple(fc.integer({ min: minLength, max: maxLength }), fc.integer()).map(([n, seed]) => {
    const b = Buffer.alloc(n);
    let x = seed | 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  });
export const ipv4Address = fc.tuple(u8, u8, u8, u8).map((o) => o.join("."));
export const macAddress = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((u) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join(":"));

/** Drops the keys whose value is undefined, as a decoder never sets them. */
export const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
