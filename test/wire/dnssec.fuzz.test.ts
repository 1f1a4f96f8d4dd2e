// Fuzzing DNSSEC's record data in helpers/wire/dns.ts (DNSKEY, RRSIG, NSEC, DS): generated records
// round-trip alone and inside messages (the type bitmap comes back sorted, without duplicates);
// damaged ones decode or fail with a DnsFormatError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DnsFormatError, message, record, TYPES, typeName, type ResourceRecord } from "../../helpers/wire/dns";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, same, u16, u32, u8 } from "./fuzz";

const label = fc.stringMatching(/^[a-z0-9-]{1,10}$/);
const nameArb = fc.array(label, { minLength: 0, maxLength: 4 }).map((l) => (l.length ? l.join(".") : "."));
const typeArb = fc.oneof(
  fc.constantFrom(...Object.keys(TYPES)),
  u16.map((n) => typeName(n)),
);

const dataArb = fc.oneof(
  fc.record({
    type: fc.constant("DNSKEY"),
    data: fc.record({ flags: u16, protocol: u8, algorithm: u8, key: bytes(64) }),
  }),
  fc.record({
    type: fc.constant("DS"),
    data: fc.record({ keyTag: u16, algorithm: u8, digestType: u8, digest: bytes(48) }),
  }),
  fc.record({
    type: fc.constant("RRSIG"),
    data: fc.record({
      typeCovered: typeArb,
      algorithm: u8,
      labels: u8,
      originalTtl: u32,
      expiration: u32,
      inception: u32,
      keyTag: u16,
      signersName: nameArb,
      signature: bytes(64),
    }),
  }),
  fc.record({
    type: fc.constant("NSEC"),
    data: fc.record({ nextDomainName: nameArb, types: fc.array(typeArb, { maxLength: 8 }) }),
  }),
);
const recordArb: fc.Arbitrary<ResourceRecord> = fc
  .tuple(nameArb, u32, dataArb)
  .map(([name, ttl, d]) => ({ name, class: "IN", ttl, ...d }));

const NUMBERS = new Map(Object.entries(TYPES));
const number = (t: string) => NUMBERS.get(t) ?? Number(t.slice(4));
/** What decode gives back: an NSEC's types sorted by number, each once. */
const expected = (rr: ResourceRecord) => {
  const d = rr.data;
  if (rr.type !== "NSEC" || typeof d !== "object" || Buffer.isBuffer(d) || !("types" in d)) return rr;
  const types = [...new Set(d.types.map(number))].sort((a, b) => a - b).map((n) => typeName(n));
  return { ...rr, data: { ...d, types } };
};

describe("dnssec records, fuzzed", () => {
  it(`round-trips ${RUNS} generated DNSKEY, DS, RRSIG and NSEC records, alone and in messages`, () => {
    const cases = check(fc.array(recordArb, { minLength: 1, maxLength: 3 }), (rrs) => {
      for (const rr of rrs) roundTrip(record, rr, expected);
      const m = { id: 1, flags: {}, questions: [], answers: rrs };
      same(message.decode(message.encode(m)).answers, rrs.map(expected), "in a message");
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages of such records or fails with a DnsFormatError`, () => {
    const valid = fc
      .array(recordArb, { minLength: 1, maxLength: 3 })
      .map((answers) => message.encode({ id: 7, flags: {}, questions: [], answers }));
    const cases = check(corrupted(valid, 200), (b) =>
      decodesOrFails(message.decode, DnsFormatError, b, () => message.decode.bytes),
    );
    expect(cases).toBe(RUNS);
  });
});
