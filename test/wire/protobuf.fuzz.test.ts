// Fuzzing helpers/wire/protobuf.ts: generated messages (every wire type, field numbers up to the
// largest, varints up to 2^64 - 1) round-trip; damaged ones decode or fail with a ProtobufError,
// quickly; and packed varints round-trip too.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as pb from "../../helpers/wire/protobuf";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, same, u32 } from "./fuzz";

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const fieldNumber = fc.oneof(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: pb.MAX_FIELD }));
const fieldArb: fc.Arbitrary<pb.ProtoFieldInput> = fc.oneof(
  fc.record({ field: fieldNumber, wire: fc.constant("varint" as const), value: fc.oneof(u64, fc.nat()) }),
  fc.record({ field: fieldNumber, wire: fc.constant("i64" as const), value: u64 }),
  fc.record({ field: fieldNumber, wire: fc.constant("i32" as const), value: u32 }),
  fc.record({ field: fieldNumber, wire: fc.constant("len" as const), value: bytes(200) }),
);
const messageArb = fc.array(fieldArb, { maxLength: 8 });
const expected = (fields: pb.ProtoFieldInput[]) =>
  fields.map((f) => (f.wire === "varint" || f.wire === "i64" ? { ...f, value: BigInt(f.value) } : f));

describe("protobuf, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages`, () => {
    expect(check(messageArb, (m) => void roundTrip(pb.message, m, expected))).toBe(RUNS);
  });
  it(`round-trips ${RUNS} packed varint payloads and single fields`, () => {
    const cases = check(fc.tuple(fc.array(u64, { maxLength: 12 }), fieldArb), ([vs, f]) => {
      roundTrip(pb.packedVarints, vs);
      roundTrip(pb.field, f, (x) => expected([x])[0]);
      same(pb.varint.decode(pb.varint.encode(vs[0] ?? 0n)), vs[0] ?? 0n);
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a ProtobufError`, () => {
    const valid = messageArb.map((m) => pb.message.encode(m));
    const cases = check(corrupted(valid, 300), (b) => {
      decodesOrFails(pb.message.decode, pb.ProtobufError, b, () => pb.message.decode.bytes);
      decodesOrFails(pb.field.decode, pb.ProtobufError, b, () => pb.field.decode.bytes);
      decodesOrFails(pb.packedVarints.decode, pb.ProtobufError, b, () => pb.packedVarints.decode.bytes);
    });
    expect(cases).toBe(RUNS);
  });
});
