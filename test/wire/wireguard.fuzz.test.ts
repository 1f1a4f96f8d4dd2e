// Fuzzing helpers/wire/wireguard.ts: generated messages of the four types round-trip; damaged
// ones decode or fail with a WireGuardError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { wireguard, WireGuardError, type WireGuardMessage } from "../../helpers/wire/wireguard";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, u32 } from "./fuzz";

const exact = (n: number) => bytes(n, n);
const message: fc.Arbitrary<WireGuardMessage> = fc.oneof(
  fc.record({
    type: fc.constant("initiation" as const),
    sender: u32,
    ephemeral: exact(32),
    encryptedStatic: exact(48),
    encryptedTimestamp: exact(28),
    mac1: exact(16),
    mac2: exact(16),
  }),
  fc.record({
    type: fc.constant("response" as const),
    sender: u32,
    receiver: u32,
    ephemeral: exact(32),
    encryptedNothing: exact(16),
    mac1: exact(16),
    mac2: exact(16),
  }),
  fc.record({
    type: fc.constant("cookie-reply" as const),
    receiver: u32,
    nonce: exact(24),
    encryptedCookie: exact(32),
  }),
  fc.record({
    type: fc.constant("transport" as const),
    receiver: u32,
    counter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    encrypted: bytes(120, 16),
  }),
);

describe("wireguard, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages`, () => {
    expect(check(message, (m) => void roundTrip(wireguard, m))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a WireGuardError`, () => {
    const valid = message.map((m) => wireguard.encode(m));
    expect(
      check(corrupted(valid, 200), (b) =>
        decodesOrFails(wireguard.decode, WireGuardError, b, () => wireguard.decode.bytes),
      ),
    ).toBe(RUNS);
  });
});
