// Fuzzing helpers/wire/ipv4.ts: generated packets round-trip with a header checksum that
// verifies; damaged ones decode or fail with a PacketError, quickly.
import { describe, expect, it } from "vitest";
import { ipv4, type Ipv4, type Ipv4Input } from "../../helpers/wire/ipv4";
import { PacketError } from "../../helpers/wire/packet-error";
import { same, check, corrupted, decodesOrFails, roundTrip, RUNS } from "./fuzz";
import { ipv4Arb } from "./packet-arbitraries";

const DEFAULTS = { dscp: 0, ecn: 0, id: 0, df: false, mf: false, fragmentOffset: 0, ttl: 64, options: Buffer.alloc(0) };
const expected = (v: Ipv4Input) => ({ ...DEFAULTS, ...v });
const seen = ({ version, headerLength, totalLength, checksum, checksumOk, truncated, ...fields }: Ipv4) => {
  same({ version, checksumOk, truncated }, { version: 4, checksumOk: true, truncated: false });
  same(totalLength, headerLength + fields.payload.length);
  same(checksum >= 0, true);
  return fields;
};

describe("ipv4, fuzzed", () => {
  it(`round-trips ${RUNS} generated packets`, () => {
    expect(check(ipv4Arb(), (v) => void roundTrip(ipv4, v, expected, seen))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged packets or fails with a PacketError`, () => {
    const valid = ipv4Arb().map((v) => ipv4.encode(v));
    expect(
      check(corrupted(valid, 120), (b) => decodesOrFails(ipv4.decode, PacketError, b, () => ipv4.decode.bytes)),
    ).toBe(RUNS);
  });
});
