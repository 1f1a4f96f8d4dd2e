// Fuzzing helpers/wire/tls-hello.ts: generated ClientHellos and ServerHellos round-trip; damaged
// ones decode or fail with a TlsHelloError. And RFC 9001 A.2's ClientHello and A.3's ServerHello
// read as the RFC describes them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extension, hello, TlsHelloError, type Hello } from "../../helpers/wire/tls-hello";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, u16 } from "./fuzz";

const helloArb: fc.Arbitrary<Hello> = fc
  .record({
    kind: fc.constantFrom("client" as const, "server" as const),
    legacyVersion: u16,
    random: bytes(32, 32),
    sessionId: bytes(32),
    suites: fc.array(u16, { minLength: 1, maxLength: 5 }),
    extensions: fc.array(fc.tuple(u16, bytes(40)), { maxLength: 6 }),
  })
  .map(({ suites, kind, ...h }) => ({ ...h, kind, cipherSuites: kind === "server" ? suites.slice(0, 1) : suites }));

describe("tls hello", () => {
  it("reads RFC 9001's ClientHello (A.2) and ServerHello (A.3)", () => {
    const v = JSON.parse(readFileSync(join(__dirname, "../../fixtures/quic-rfc9001-appendix-a.json"), "utf8"));
    const ch = hello.decode(Buffer.from(v.a2.payloadPrefix, "hex").subarray(4)); // after the CRYPTO frame's header
    expect(ch.kind).toBe("client");
    expect(ch.cipherSuites).toEqual([0x1301, 0x1302]);
    expect(extension(ch, 0)?.subarray(5).toString()).toBe("example.com");
    const sh = hello.decode(Buffer.from(v.a3.payload, "hex").subarray(9)); // after ACK and the CRYPTO header
    expect(sh.kind).toBe("server");
    expect(sh.cipherSuites).toEqual([0x1301]);
    expect(extension(sh, 43)?.toString("hex")).toBe("0304");
  });
  it(`round-trips ${RUNS} generated hellos`, () => {
    expect(check(helloArb, (h) => void roundTrip(hello, h))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged hellos or fails with a TlsHelloError`, () => {
    const valid = helloArb.map((h) => hello.encode(h));
    expect(
      check(corrupted(valid, 300), (b) => decodesOrFails(hello.decode, TlsHelloError, b, () => hello.decode.bytes)),
    ).toBe(RUNS);
  });
});
