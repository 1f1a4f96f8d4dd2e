// Fuzzing helpers/wire/http2.ts: generated frames of every type round-trip (as decode reads them:
// its header's length and flags added), a stream of them after the preface splits back into the
// same frames; damaged bytes decode or fail with an Http2Error, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { frame, frames, Http2Error, PREFACE, type DecodedFrame, type Frame } from "../../helpers/wire/http2";
import { bytes, check, corrupted, decodesOrFails, roundTrip, RUNS, same, u32, u8 } from "./fuzz";

const stream = fc.integer({ min: 1, max: 2 ** 31 - 1 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const padding = opt(fc.integer({ min: 0, max: 255 }));
const priority = fc.record({
  exclusive: fc.boolean(),
  dependsOn: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  weight: fc.integer({ min: 1, max: 256 }),
});
const setting = fc.oneof(
  fc.tuple(fc.constant(2), fc.integer({ min: 0, max: 1 })),
  fc.tuple(fc.constant(4), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
  fc.tuple(fc.constant(5), fc.integer({ min: 16384, max: 2 ** 24 - 1 })),
  fc.tuple(fc.constantFrom(1, 3, 6, 8, 9, 0x99), u32),
);
export const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant("DATA" as const),
    streamId: stream,
    data: bytes(200),
    endStream: opt(fc.boolean()),
    padding,
  }),
  fc.record({
    type: fc.constant("HEADERS" as const),
    streamId: stream,
    block: bytes(100),
    endStream: opt(fc.boolean()),
    endHeaders: opt(fc.boolean()),
    padding,
    priority: opt(priority),
  }),
  fc
    .record({ type: fc.constant("PRIORITY" as const), streamId: stream })
    .chain((f) => priority.map((p) => ({ ...f, ...p }))),
  fc.record({ type: fc.constant("RST_STREAM" as const), streamId: stream, errorCode: u32 }),
  fc.oneof(
    fc.record({ type: fc.constant("SETTINGS" as const), settings: fc.array(setting, { maxLength: 6 }) }),
    fc.constant<Frame>({ type: "SETTINGS", ack: true, settings: [] }),
  ),
  fc.record({
    type: fc.constant("PUSH_PROMISE" as const),
    streamId: stream,
    promisedStreamId: stream,
    block: bytes(60),
    endHeaders: opt(fc.boolean()),
    padding,
  }),
  fc.record({ type: fc.constant("PING" as const), ack: opt(fc.boolean()), data: bytes(8, 8) }),
  fc.record({
    type: fc.constant("GOAWAY" as const),
    lastStreamId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    errorCode: u32,
    debug: opt(bytes(40)),
  }),
  fc.record({
    type: fc.constant("WINDOW_UPDATE" as const),
    streamId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    increment: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  }),
  fc.record({
    type: fc.constant("CONTINUATION" as const),
    streamId: stream,
    block: bytes(60),
    endHeaders: opt(fc.boolean()),
  }),
  fc.record({
    type: fc.constant("UNKNOWN" as const),
    typeCode: fc.integer({ min: 10, max: 255 }),
    flags: u8,
    streamId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    payload: bytes(50),
  }),
);

/** What decode gives for a generated frame: booleans only when set, GOAWAY's debug always, and
 *  SETTINGS's ack only when true; compared without the header's length and flags. */
const plain = (f: Frame): unknown =>
  Object.fromEntries(
    Object.entries({ ...f, ...(f.type === "GOAWAY" ? { debug: f.debug ?? Buffer.alloc(0) } : {}) }).filter(
      ([k, v]) =>
        v !== undefined &&
        v !== false &&
        !(k === "streamId" && v === 0 && f.type !== "WINDOW_UPDATE" && f.type !== "UNKNOWN"),
    ),
  );
const seen = ({ length, flags, ...f }: DecodedFrame) => {
  void length;
  return plain(f.type === "UNKNOWN" ? { ...f, flags } : f);
};

describe("http2 frames, fuzzed", () => {
  it(`round-trips ${RUNS} generated frames, and splits a connection's bytes back into them`, () => {
    const cases = check(fc.array(frameArb, { minLength: 1, maxLength: 4 }), (list) => {
      const wire = list.map((f) => roundTrip(frame, f, plain, seen));
      const all = frames(Buffer.concat([PREFACE, ...wire, wire[0].subarray(0, 5)]));
      same(
        { preface: all.preface, frames: all.frames.map(seen), rest: all.rest },
        { preface: true, frames: list.map(plain), rest: 5 },
      );
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged frames or fails with an Http2Error`, () => {
    const valid = frameArb.map((f) => frame.encode(f));
    expect(
      check(corrupted(valid, 200), (b) => decodesOrFails(frame.decode, Http2Error, b, () => frame.decode.bytes)),
    ).toBe(RUNS);
  });
});
