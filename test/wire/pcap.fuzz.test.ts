// Fuzzing helpers/wire/pcap.ts: generated files (either byte order, micro- or nanosecond stamps,
// records cut at the snaplen) round-trip; damaged ones decode or fail with a PcapError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pcap, PcapError, type PcapFile, type PcapFileInput } from "../../helpers/wire/pcap";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, u16, u32 } from "./fuzz";

const fileArb: fc.Arbitrary<PcapFileInput> = fc
  .record({
    linktype: fc.oneof(fc.constantFrom(1, 101), u32),
    snaplen: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    version: fc.option(
      fc.tuple(u16, u16).map(([a, b]) => `${a}.${b}`),
      { nil: undefined },
    ),
    nanosecond: fc.option(fc.boolean(), { nil: undefined }),
    bigEndian: fc.option(fc.boolean(), { nil: undefined }),
    records: fc.array(
      fc.record({
        seconds: u32,
        fraction: fc.integer({ min: 0, max: 999_999_999 }),
        data: bytes(120),
        extra: fc.option(fc.integer({ min: 0, max: 1500 }), { nil: undefined }),
      }),
      { maxLength: 5 },
    ),
  })
  .map(({ records, ...header }) => ({
    ...header,
    records: records.map(({ seconds, fraction, data, extra }) => {
      // a time to the microsecond, as decode gives it; a nanosecond file's records carry the rest
      const micros = Math.floor(fraction / 1000);
      const time = seconds * 1000 + micros / 1000;
      return {
        time,
        ...(header.nanosecond ? { nanos: fraction } : {}),
        data,
        ...(extra === undefined ? {} : { origLength: data.length + extra }),
      };
    }),
  }));

const expected = (f: PcapFileInput) => {
  const snaplen = f.snaplen ?? 262144;
  return {
    linktype: f.linktype,
    snaplen,
    version: f.version ?? "2.4",
    nanosecond: f.nanosecond ?? false,
    bigEndian: f.bigEndian ?? false,
    records: f.records.map((r) => ({
      ...r,
      data: r.data.subarray(0, snaplen),
      origLength: r.origLength ?? r.data.length,
    })),
  };
};
const seen = (f: PcapFile) => f;

describe("pcap, fuzzed", () => {
  it(`round-trips ${RUNS} generated files`, () => {
    expect(check(fileArb, (f) => void roundTrip(pcap, f, expected, seen))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged files or fails with a PcapError`, () => {
    const valid = fileArb.map((f) => pcap.encode(f));
    const cases = check(corrupted(valid, 200), (b) =>
      decodesOrFails(pcap.decode, PcapError, b, () => pcap.decode.bytes),
    );
    expect(cases).toBe(RUNS);
  });
});
