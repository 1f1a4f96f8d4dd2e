// Fuzzing helpers/wire/quic.ts: generated varints, long headers and frames round-trip; sealed
// packets open to what was sealed; damaged bytes decode (or open) or fail with a QuicError,
// quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as quic from "../../helpers/wire/quic";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, same, u32 } from "./fuzz";

const bigArb = fc.bigInt({ min: 0n, max: quic.VARINT_MAX });
const cid = bytes(20);
const small = fc.oneof(fc.nat(63), fc.nat(16383), fc.nat(2 ** 30 - 1), fc.nat(Number.MAX_SAFE_INTEGER));
const headerArb: fc.Arbitrary<quic.LongHeader> = fc.oneof(
  fc
    .record({
      type: fc.constantFrom("initial" as const, "0-rtt" as const, "handshake" as const),
      flags: fc.nat(15),
      version: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
      dcid: cid,
      scid: cid,
      payload: bytes(300),
      lengthBytes: fc.constantFrom(2 as const, 4 as const, 8 as const),
    })
    .chain((h) => (h.type === "initial" ? bytes(40).map((token) => ({ ...h, token })) : fc.constant(h))),
  fc.record({
    type: fc.constant("retry" as const),
    flags: fc.nat(15),
    version: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    dcid: cid,
    scid: cid,
    token: bytes(60),
    tag: bytes(16, 16),
  }),
  fc.record({
    type: fc.constant("version-negotiation" as const),
    flags: fc.nat(127),
    dcid: cid,
    scid: cid,
    versions: fc.array(u32, { maxLength: 6 }),
  }),
);
const frameArb: fc.Arbitrary<quic.QuicFrame> = fc.oneof(
  fc.record({ type: fc.constant("PADDING" as const), length: fc.integer({ min: 1, max: 300 }) }),
  fc.constant<quic.QuicFrame>({ type: "PING" }),
  fc.record(
    {
      type: fc.constant("ACK" as const),
      largest: small,
      delay: small,
      firstRange: small,
      ranges: fc.array(fc.tuple(small, small), { maxLength: 4 }),
      ecn: fc.tuple(small, small, small),
    },
    { requiredKeys: ["type", "largest", "delay", "firstRange", "ranges"] },
  ),
  fc.record({ type: fc.constant("CRYPTO" as const), offset: small, data: bytes(200) }),
  fc.oneof(
    fc.record({
      type: fc.constant("CONNECTION_CLOSE" as const),
      application: fc.constant(false),
      errorCode: small,
      frameType: small,
      reason: fc.string({ maxLength: 30 }),
    }),
    fc.record({
      type: fc.constant("CONNECTION_CLOSE" as const),
      application: fc.constant(true),
      errorCode: small,
      reason: fc.string({ maxLength: 30 }),
    }),
  ),
);
const sealArb = fc.record({
  dcid: cid,
  scid: cid,
  token: bytes(20),
  packetNumber: fc.nat(255),
  pnLength: fc.integer({ min: 1, max: 4 }),
  payload: bytes(200, 20),
});

describe("quic, fuzzed", () => {
  it(`round-trips ${RUNS} varints, long headers and frames`, () => {
    const cases = check(fc.tuple(bigArb, headerArb, frameArb), ([n, h, f]) => {
      roundTrip(quic.varintBig, n);
      roundTrip(quic.longHeader, h);
      roundTrip(quic.frame, f);
    });
    expect(cases).toBe(RUNS);
  });
  it(`opens ${RUNS} sealed Initial packets to what was sealed`, () => {
    const cases = check(sealArb, (s) => {
      const keys = quic.initialKeys(s.dcid).client;
      const { packet } = quic.seal({ keys, ...s });
      const o = quic.open(packet, keys);
      same(
        { pn: o.packetNumber, len: o.pnLength, payload: o.payload, bytes: o.bytes },
        { pn: s.packetNumber, len: s.pnLength, payload: s.payload, bytes: packet.length },
      );
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged headers, frames and packets or fails with a QuicError`, () => {
    const keys = quic.initialKeys(Buffer.from("8394c8f03e515708", "hex")).client;
    const valid = fc.oneof(
      headerArb.map((h) => quic.longHeader.encode(h)),
      frameArb.map((f) => quic.frame.encode(f)),
      sealArb.map((s) => quic.seal({ keys, ...s }).packet),
    );
    const any = (b: Buffer, offset = 0) => {
      for (const d of [quic.longHeader.decode, quic.frame.decode, quic.varint.decode]) {
        try {
          d(b, offset);
        } catch (e) {
          if (!(e instanceof quic.QuicError)) throw e;
        }
      }
      quic.open(b, keys, offset);
    };
    expect(check(corrupted(valid, 300), (b) => decodesOrFails(any, quic.QuicError, b))).toBe(RUNS);
  });
});
