// Fuzzing helpers/wire/bgp.ts: generated messages of all five types (OPEN with capabilities,
// UPDATE with withdrawn routes, typed and raw path attributes and NLRI, NOTIFICATION, KEEPALIVE,
// ROUTE-REFRESH) round-trip; damaged ones decode or fail with a BgpError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bgp, BgpError, type BgpMessage, type PathAttribute } from "../../helpers/wire/bgp";
import { bytes, check, corrupted, decodesOrFails, ipv4Address, roundTrip, RUNS, u16, u32, u8 } from "./fuzz";

const prefix = fc.tuple(fc.integer({ min: 0, max: 32 }), u32).map(([len, n]) => {
  const masked = len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 0xff).join(".")}/${len}`;
});
const flags = (base: number) => fc.option(fc.constant(base), { nil: undefined });
const attribute: fc.Arbitrary<PathAttribute> = fc.oneof(
  fc.record({
    type: fc.constant("origin" as const),
    origin: fc.constantFrom("igp" as const, "egp" as const, "incomplete" as const),
    flags: flags(0x40),
  }),
  fc.record({
    type: fc.constant("as-path" as const),
    segments: fc.array(
      fc.record({
        kind: fc.constantFrom("set" as const, "sequence" as const),
        asns: fc.array(u32, { minLength: 1, maxLength: 8 }),
      }),
      { maxLength: 3 },
    ),
    flags: flags(0x40),
  }),
  fc.record({ type: fc.constant("next-hop" as const), nextHop: ipv4Address, flags: flags(0x40) }),
  fc.record({ type: fc.constant("med" as const), med: u32, flags: flags(0x80) }),
  fc.record({ type: fc.constant("local-pref" as const), localPref: u32, flags: flags(0x40) }),
  fc.record({
    type: fc.constant("communities" as const),
    communities: fc.array(u32, { maxLength: 4 }),
    flags: flags(0xc0),
  }),
  fc.record({
    type: fc.constant("other" as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => ![1, 2, 3, 4, 5, 8].includes(c)),
    data: bytes(40),
    flags: fc.option(fc.constantFrom(0x80, 0xc0, 0xe0, 0xd0), { nil: undefined }),
  }),
);
export const bgpArb: fc.Arbitrary<BgpMessage> = fc.oneof(
  fc.record({
    type: fc.constant("open" as const),
    version: fc.constant(4),
    myAs: u16,
    holdTime: u16,
    bgpId: ipv4Address,
    capabilities: fc.array(fc.record({ code: u8, data: bytes(12) }), { maxLength: 6 }),
  }),
  fc.record({
    type: fc.constant("update" as const),
    withdrawn: fc.array(prefix, { maxLength: 6 }),
    attributes: fc.array(attribute, { maxLength: 6 }),
    nlri: fc.array(prefix, { maxLength: 6 }),
  }),
  fc.record({ type: fc.constant("notification" as const), code: u8, subcode: u8, data: bytes(20) }),
  fc.constant({ type: "keepalive" as const }),
  fc.record({ type: fc.constant("route-refresh" as const), afi: u16, safi: u8 }),
);

/** A decoded attribute always carries its flags: the defaults the encoder used, or the ones given. */
const DEFAULTS: Record<string, number> = {
  origin: 0x40,
  "as-path": 0x40,
  "next-hop": 0x40,
  med: 0x80,
  "local-pref": 0x40,
  communities: 0xc0,
  other: 0xc0,
};
const expected = (m: BgpMessage): unknown =>
  m.type === "update"
    ? { ...m, attributes: m.attributes.map((a) => ({ ...a, flags: a.flags ?? DEFAULTS[a.type] })) }
    : m;

describe("bgp, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages`, () => {
    expect(check(bgpArb, (m) => void roundTrip(bgp, m, expected))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a BgpError`, () => {
    const valid = bgpArb.map((m) => bgp.encode(m));
    expect(check(corrupted(valid, 200), (b) => decodesOrFails(bgp.decode, BgpError, b, () => bgp.decode.bytes))).toBe(
      RUNS,
    );
  });
});
