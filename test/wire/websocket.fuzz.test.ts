// Fuzzing helpers/wire/websocket.ts: generated frames (masked and not, every length form)
// round-trip; damaged bytes decode or fail with a WebSocketError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frame, WebSocketError, type WsFrame } from "../../helpers/wire/websocket";
import { bytes, check, corrupted, decodesOrFails, manyBytes, roundTrip, RUNS } from "./fuzz";

const frameArb: fc.Arbitrary<WsFrame> = fc.oneof(
  fc
    .record({
      fin: fc.boolean(),
      rsv: fc.constant(0),
      opcode: fc.constantFrom(0, 1, 2),
      mask: fc.option(bytes(4, 4), { nil: undefined }),
      payload: fc.oneof({ weight: 10, arbitrary: bytes(300) }, { weight: 1, arbitrary: manyBytes(65530, 70000) }),
    })
    .map((f) => ({
      ...f,
      lengthBits: f.payload.length < 126 ? (7 as const) : f.payload.length < 65536 ? (16 as const) : (64 as const),
    })),
  fc.record({
    fin: fc.constant(true),
    rsv: fc.constant(0),
    opcode: fc.constantFrom(8, 9, 10),
    mask: fc.option(bytes(4, 4), { nil: undefined }),
    payload: bytes(125),
    lengthBits: fc.constant(7 as const),
  }),
  fc.record({
    fin: fc.boolean(),
    rsv: fc.constant(0),
    opcode: fc.constantFrom(1, 2),
    payload: bytes(100),
    lengthBits: fc.constantFrom(16 as const, 64 as const),
  }),
);

describe("websocket frames, fuzzed", () => {
  it(`round-trips ${RUNS} generated frames`, () => {
    expect(check(frameArb, (f) => void roundTrip(frame, f))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged frames or fails with a WebSocketError`, () => {
    const valid = frameArb.map((f) => frame.encode(f));
    expect(
      check(corrupted(valid, 200), (b) => decodesOrFails(frame.decode, WebSocketError, b, () => frame.decode.bytes)),
    ).toBe(RUNS);
  });
});
