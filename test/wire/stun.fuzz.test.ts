// Fuzzing helpers/wire/stun.ts: generated messages (every attribute kind, IPv4 and IPv6 addresses
// XORed and plain, unknown types, MESSAGE-INTEGRITY and FINGERPRINT computed or given) round-trip;
// a computed FINGERPRINT always holds and a computed HMAC verifies with its key; damaged messages
// decode or fail with a StunError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv6Text } from "../../helpers/wire/addr";
import * as stun from "../../helpers/wire/stun";
import { bytes, check, corrupted, decodesOrFails, ipv4Address, roundTrip, RUNS, same, u16, u32 } from "./fuzz";

const KNOWN_METHODS = new Set(Object.values(stun.METHODS));
const KNOWN_ATTRIBUTES = new Set(Object.values(stun.ATTRIBUTES));
const method = fc.oneof(
  fc.constantFrom(...Object.keys(stun.METHODS)),
  fc
    .integer({ min: 0, max: 0xfff })
    .filter((n) => !KNOWN_METHODS.has(n))
    .map((n) => `METHOD0x${n.toString(16).padStart(3, "0")}`),
);
const address = fc.oneof(
  ipv4Address,
  bytes(16, 16).map((b) => ipv6Text(b)),
);
const text = fc.string({ unit: "grapheme", maxLength: 40 });
const key = bytes(40, 1);

const attributeArb: fc.Arbitrary<stun.StunAttribute> = fc.oneof(
  fc.record({
    type: fc.constantFrom(
      "MAPPED-ADDRESS",
      "XOR-MAPPED-ADDRESS",
      "XOR-PEER-ADDRESS",
      "XOR-RELAYED-ADDRESS",
      "ALTERNATE-SERVER",
      "RESPONSE-ORIGIN",
      "OTHER-ADDRESS",
    ),
    address,
    port: u16,
  }),
  fc.record({ type: fc.constantFrom("USERNAME", "REALM", "NONCE", "SOFTWARE"), value: text }),
  fc.record({ type: fc.constantFrom("LIFETIME", "PRIORITY"), value: u32 }),
  fc.record({ type: fc.constant("CHANNEL-NUMBER"), value: u16 }),
  fc.record({
    type: fc.constantFrom("ICE-CONTROLLED", "ICE-CONTROLLING"),
    tiebreaker: fc.bigInt(0n, (1n << 64n) - 1n),
  }),
  fc.record({
    type: fc.constant("ERROR-CODE"),
    code: fc.integer({ min: 0, max: 7 }).chain((c) => fc.integer({ min: c * 100, max: c * 100 + 99 })),
    reason: text,
  }),
  fc.record({ type: fc.constant("UNKNOWN-ATTRIBUTES"), types: fc.array(u16, { maxLength: 5 }) }),
  fc.oneof(
    fc.record({ type: fc.constant("MESSAGE-INTEGRITY"), key }),
    fc.record({ type: fc.constant("MESSAGE-INTEGRITY"), hmac: bytes(20, 20) }),
  ),
  fc.oneof(fc.record({ type: fc.constant("FINGERPRINT") }), fc.record({ type: fc.constant("FINGERPRINT"), crc: u32 })),
  fc.record({ type: fc.constant("DATA"), data: bytes(60) }),
  fc.record({ type: fc.constant("REQUESTED-TRANSPORT"), protocol: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ type: fc.constant("USE-CANDIDATE") }),
  fc.record({
    type: u16.filter((n) => !KNOWN_ATTRIBUTES.has(n)).map((n): stun.RawType => `0x${n.toString(16).padStart(4, "0")}`),
    data: bytes(30),
  }),
);

const messageArb: fc.Arbitrary<stun.StunMessageInput> = fc.record({
  method,
  class: fc.constantFrom(...stun.CLASSES),
  transactionId: bytes(12, 12),
  attributes: fc.array(attributeArb, { maxLength: 6 }),
});

/** What decode returns, less what only encode or only decode can know (keys, computed values). */
const comparable = (a: stun.StunAttribute): stun.StunAttribute => {
  if (a.type === "MESSAGE-INTEGRITY") return { type: a.type };
  if (a.type === "FINGERPRINT") return { type: a.type };
  return a;
};
const expected = (m: stun.StunMessageInput) => ({ ...m, attributes: (m.attributes ?? []).map(comparable) });
const seen = (m: stun.StunMessage) => ({ ...m, attributes: m.attributes.map(comparable) });

describe("stun, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages; computed fingerprints hold, computed HMACs verify`, () => {
    let computed = 0;
    const cases = check(messageArb, (m) => {
      const wire = roundTrip(stun.message, m, expected, seen);
      const back = stun.decode(wire).attributes;
      (m.attributes ?? []).forEach((a, i) => {
        const b = back[i];
        if (a.type === "FINGERPRINT" && a.crc === undefined && b.type === "FINGERPRINT") {
          same(b.ok, true, "a computed fingerprint");
          computed++;
        }
        if (a.type === "FINGERPRINT" && a.crc !== undefined && b.type === "FINGERPRINT") same(b.crc, a.crc, "crc");
      });
      const firstIntegrity = (m.attributes ?? []).find((a) => a.type === "MESSAGE-INTEGRITY");
      if (firstIntegrity?.type === "MESSAGE-INTEGRITY" && firstIntegrity.key)
        same(stun.verifyIntegrity(wire, firstIntegrity.key), true, "a computed HMAC");
    });
    expect(cases).toBe(RUNS);
    expect(computed).toBeGreaterThan(RUNS / 10);
  });
  it(`decodes ${RUNS} damaged messages or fails with a StunError`, () => {
    const valid = messageArb.map((m) => stun.encode(m));
    const cases = check(corrupted(valid, 200), (b) => {
      decodesOrFails(stun.decode, stun.StunError, b, () => stun.decode.bytes);
      decodesOrFails((buf, at) => stun.verifyIntegrity(buf, Buffer.from("k"), at), stun.StunError, b);
    });
    expect(cases).toBe(RUNS);
  });
});
