// Fuzzing helpers/wire/forwarded.ts: generated Forwarded values round-trip (names lower case, no
// name twice in an element, values any visible ASCII, which forces quoting and escapes); damaged
// ones decode or fail with a ForwardedError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { forwarded, ForwardedError, type Forwarded } from "../../helpers/wire/forwarded";
import { check, corrupted, decodesOrFails, roundTrip, RUNS } from "./fuzz";

const tchar = fc.constantFrom(..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz".split(""));
const name = fc.oneof(
  fc.constantFrom("for", "by", "host", "proto"),
  fc.array(tchar, { minLength: 1, maxLength: 8 }).map((a) => a.join("")),
);
const text = fc.array(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  { maxLength: 24 },
);
const value = fc.oneof(
  text.map((a) => a.join("")),
  fc.constantFrom("192.0.2.43", "[2001:db8:cafe::17]:4711", "unknown", "_gazonk", "\t", ""),
);
const element = fc.uniqueArray(fc.record({ name, value }), { minLength: 1, maxLength: 5, selector: (p) => p.name });
const arb: fc.Arbitrary<Forwarded> = fc.array(element, { minLength: 1, maxLength: 5 });

describe("Forwarded, fuzzed", () => {
  it(`round-trips ${RUNS} generated field values`, () => {
    expect(check(arb, (v) => void roundTrip(forwarded, v))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged field values or fails with a ForwardedError`, () => {
    const valid = arb.map((v) => forwarded.encode(v));
    const damaged = corrupted(valid, 200);
    expect(
      check(damaged, (b) => decodesOrFails(forwarded.decode, ForwardedError, b, () => forwarded.decode.bytes)),
    ).toBe(RUNS);
  });
});
