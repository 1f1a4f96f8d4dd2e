// Fuzzing helpers/wire/icmp.ts: generated echoes, errors with their quotes and other types
// round-trip with a checksum that verifies; damaged ones decode or fail with a PacketError.
import { describe, expect, it } from "vitest";
import { icmp } from "../../helpers/wire/icmp";
import { PacketError } from "../../helpers/wire/packet-error";
import { check, corrupted, decodesOrFails, roundTrip, RUNS } from "./fuzz";
import { icmpArb, icmpExpected, icmpSeen } from "./packet-arbitraries";

describe("icmp, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages`, () => {
    expect(check(icmpArb, (v) => void roundTrip(icmp, v, icmpExpected, icmpSeen))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a PacketError`, () => {
    const valid = icmpArb.map((v) => icmp.encode(v));
    expect(
      check(corrupted(valid, 120), (b) => decodesOrFails(icmp.decode, PacketError, b, () => icmp.decode.bytes)),
    ).toBe(RUNS);
  });
});
