// Fuzzing helpers/wire/grpc.ts: generated messages round-trip, and a stream of them splits back
// into the same messages; damaged ones decode or fail with a GrpcFrameError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GrpcFrameError, grpcMessage, grpcMessages, type GrpcMessage } from "../../helpers/wire/grpc";
import { bytes, check, corrupted, decodesOrFails, manyBytes, roundTrip, RUNS, same } from "./fuzz";

const messageArb: fc.Arbitrary<GrpcMessage> = fc.record({
  compressed: fc.boolean(),
  message: fc.oneof({ weight: 20, arbitrary: bytes(200) }, { weight: 1, arbitrary: manyBytes(16000, 17000) }),
});

describe("grpc messages, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages, alone and back to back`, () => {
    const cases = check(fc.array(messageArb, { minLength: 1, maxLength: 4 }), (ms) => {
      const wire = ms.map((m) => roundTrip(grpcMessage, m));
      same(grpcMessages(Buffer.concat(wire)), ms, "grpcMessages");
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a GrpcFrameError`, () => {
    const valid = fc
      .array(messageArb, { minLength: 1, maxLength: 3 })
      .map((ms) => Buffer.concat(ms.map((m) => grpcMessage.encode(m))));
    const cases = check(corrupted(valid, 200), (b) => {
      decodesOrFails(grpcMessage.decode, GrpcFrameError, b, () => grpcMessage.decode.bytes);
      decodesOrFails((buf) => grpcMessages(buf), GrpcFrameError, b, undefined, [0]);
    });
    expect(cases).toBe(RUNS);
  });
});
