// Fuzzing helpers/wire/tunnel.ts: generated datagrams round-trip; damaged ones decode or fail
// with a TunnelError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tunnelDatagram, TunnelError, type TunnelDatagram } from "../../helpers/wire/tunnel";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, u32 } from "./fuzz";

const datagram: fc.Arbitrary<TunnelDatagram> = fc.record({
  type: fc.constant("data" as const),
  receiver: u32,
  counter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  sealed: bytes(200, 16),
});

describe("tunnel datagram, fuzzed", () => {
  it(`round-trips ${RUNS} generated datagrams`, () => {
    expect(check(datagram, (d) => void roundTrip(tunnelDatagram, d))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged datagrams or fails with a TunnelError`, () => {
    const valid = datagram.map((d) => tunnelDatagram.encode(d));
    expect(
      check(corrupted(valid, 100), (b) =>
        decodesOrFails(tunnelDatagram.decode, TunnelError, b, () => tunnelDatagram.decode.bytes),
      ),
    ).toBe(RUNS);
  });
});
