// Fuzzing helpers/wire/tls.ts: generated records round-trip, and a stream of them splits back into
// the same records with a partial one at the end left out; damaged streams decode or fail with a
// TlsError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_FRAGMENT,
  TlsError,
  tlsRecord,
  tlsRecords,
  type TlsRecord,
  type TlsRecordInput,
} from "../../helpers/wire/tls";
import { bytes, check, corrupted, decodesOrFails, manyBytes, roundTrip, RUNS, same, u16, u8 } from "./fuzz";

const recordArb: fc.Arbitrary<TlsRecordInput> = fc.record(
  {
    type: fc.oneof(fc.constantFrom(20, 21, 22, 23), u8),
    version: fc.oneof(fc.constantFrom(0x0301, 0x0303), u16),
    body: fc.oneof(
      { weight: 20, arbitrary: bytes(300) },
      { weight: 1, arbitrary: manyBytes(MAX_FRAGMENT - 50, MAX_FRAGMENT) },
    ),
  },
  { requiredKeys: ["type", "body"] },
);
const expected = (r: TlsRecordInput) => ({ type: r.type, version: r.version ?? 0x0303, body: r.body });
const seen = ({ header, ...fields }: TlsRecord) => {
  same(header.readUInt16BE(3), fields.body.length, "the header's length");
  return fields;
};

describe("tls records, fuzzed", () => {
  it(`round-trips ${RUNS} generated records, and splits streams of them back into records`, () => {
    const cases = check(fc.tuple(fc.array(recordArb, { minLength: 1, maxLength: 4 }), fc.nat()), ([records, cut]) => {
      const wire = records.map((r) => roundTrip(tlsRecord, r, expected, seen));
      const stream = Buffer.concat(wire);
      const partial = wire[wire.length - 1].subarray(0, cut % wire[wire.length - 1].length); // more to come
      same(tlsRecords(Buffer.concat([stream, partial])).map(seen), records.map(expected), "tlsRecords");
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged records or fails with a TlsError`, () => {
    const valid = recordArb.map((r) => tlsRecord.encode(r));
    const cases = check(corrupted(valid, 200), (b) => {
      decodesOrFails(tlsRecord.decode, TlsError, b, () => tlsRecord.decode.bytes);
      decodesOrFails((buf) => tlsRecords(buf), TlsError, b, undefined, [0]);
    });
    expect(cases).toBe(RUNS);
  });
});
