// Fuzzing helpers/wire/hpack.ts: generated representations round-trip through the stateless
// codec; generated header lists go through an encoder and a decoder that share a history (both
// dynamic tables stay equal, under every Huffman and indexing choice and small tables that
// evict); damaged representations and damaged header blocks decode or fail with an HpackError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  HpackDecoder,
  HpackEncoder,
  HpackError,
  representation,
  type HeaderField,
  type Representation,
} from "../../helpers/wire/hpack";
import { check, corrupted, decodesOrFails, roundTrip, RUNS, same } from "./fuzz";

const octets = (max: number) =>
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max }).map((a) => String.fromCharCode(...a));
const text = fc.oneof(
  octets(40),
  fc.constantFrom("", ":path", "/", "content-type", "gzip, deflate", "www.example.com"),
);
const int = fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 2 ** 32 - 1 }));
const reprArb: fc.Arbitrary<Representation> = fc.oneof(
  fc.record({ kind: fc.constant("indexed" as const), index: int }),
  fc.record({
    kind: fc.constant("size-update" as const),
    size: fc.oneof(fc.nat(5000), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  }),
  fc
    .record({
      kind: fc.constant("literal" as const),
      indexing: fc.constantFrom("incremental" as const, "without" as const, "never" as const),
      nameIndex: fc.oneof(fc.constant(0), int),
      name: text,
      nameHuffman: fc.boolean(),
      value: text,
      valueHuffman: fc.boolean(),
    })
    .map((r) => (r.nameIndex ? { ...r, name: undefined, nameHuffman: undefined } : r)),
);
const fieldArb: fc.Arbitrary<HeaderField> = fc.record(
  {
    name: fc.oneof(fc.constantFrom(":method", ":path", "date", "x-a", "x-b", "cookie"), text),
    value: text,
    sensitive: fc.boolean(),
  },
  { requiredKeys: ["name", "value"] },
);
const historyArb = fc.record({
  blocks: fc.array(fc.array(fieldArb, { maxLength: 6 }), { minLength: 1, maxLength: 5 }),
  huffman: fc.constantFrom("always" as const, "never" as const, "shorter" as const),
  index: fc.boolean(),
  table: fc.constantFrom(0, 64, 256, 4096),
});

describe("hpack, fuzzed", () => {
  it(`round-trips ${RUNS} generated representations`, () => {
    expect(check(reprArb, (r) => void roundTrip(representation, r))).toBe(RUNS);
  });
  it(`carries ${RUNS} generated header histories through an encoder and a decoder`, () => {
    const cases = check(historyArb, ({ blocks, huffman, index, table }) => {
      const e = new HpackEncoder({ huffman, index, maxTableSize: table });
      const d = new HpackDecoder(table);
      for (const fields of blocks) {
        const want = fields.map((f) => (f.sensitive ? { ...f, sensitive: true } : { name: f.name, value: f.value }));
        same(d.decode(e.encode(fields)), want, "decoded header list");
        same(d.table.entries, e.table.entries, "dynamic tables");
      }
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged representations or fails with an HpackError`, () => {
    const valid = reprArb.map((r) => representation.encode(r));
    expect(
      check(corrupted(valid, 200), (b) =>
        decodesOrFails(representation.decode, HpackError, b, () => representation.decode.bytes),
      ),
    ).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged header blocks or fails with an HpackError`, () => {
    const valid = fc.array(fieldArb, { maxLength: 6 }).map((f) => new HpackEncoder().encode(f));
    const decode = (b: Buffer, offset = 0) => new HpackDecoder(4096).decode(b.subarray(offset));
    expect(check(corrupted(valid, 200), (b) => decodesOrFails(decode, HpackError, b, undefined, [0]))).toBe(RUNS);
  });
});
