// Fuzzing helpers/wire/ethernet.ts: generated frames round-trip; damaged ones decode or fail with
// a PacketError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ethernet, type Ethernet } from "../../helpers/wire/ethernet";
import { PacketError } from "../../helpers/wire/packet-error";
import { bytes, check, corrupted, decodesOrFails, macAddress, roundTrip, RUNS, u16 } from "./fuzz";

const frame: fc.Arbitrary<Ethernet> = fc.record({
  dst: macAddress,
  src: macAddress,
  ethertype: u16,
  payload: bytes(120),
});

describe("ethernet, fuzzed", () => {
  it(`round-trips ${RUNS} generated frames`, () => {
    expect(check(frame, (v) => void roundTrip(ethernet, v))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged frames or fails with a PacketError`, () => {
    const valid = frame.map((v) => ethernet.encode(v));
    expect(check(corrupted(valid, 64), (b) => decodesOrFails(ethernet.decode, PacketError, b))).toBe(RUNS);
  });
});
