// Fuzzing helpers/wire/mqtt.ts: generated packets of all 14 types round-trip (payloads long
// enough to need 1, 2 and 3 bytes of remaining length), a stream of them splits back into the
// same packets with a partial one kept; damaged ones decode or fail with an MqttError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as mqtt from "../../helpers/wire/mqtt";
import { bytes, check, corrupted, decodesOrFails, manyBytes, roundTrip, RUNS, same, u8 } from "./fuzz";

const text = (max: number) => fc.string({ unit: "grapheme", maxLength: max }).filter((s) => !s.includes("\u0000"));
const id = fc.integer({ min: 1, max: 0xffff });
const qos = fc.constantFrom<mqtt.QoS>(0, 1, 2);
const payload = fc.oneof(
  { weight: 20, arbitrary: bytes(150) },
  { weight: 2, arbitrary: manyBytes(16380, 16390) },
  { weight: 1, arbitrary: manyBytes(120, 135) },
);
const will = fc.record({ topic: text(20), payload: bytes(20), qos, retain: fc.boolean() });
const connect = fc
  .record(
    {
      clientId: text(23),
      cleanSession: fc.boolean(),
      keepAlive: fc.integer({ min: 0, max: 0xffff }),
      will,
      username: text(10),
      password: bytes(10),
    },
    { requiredKeys: ["clientId", "cleanSession", "keepAlive"] },
  )
  .map((c) => ({ type: "connect" as const, ...c, ...(c.username === undefined ? { password: undefined } : {}) }));
const publish = fc
  .record({ topic: text(30), payload, qos, retain: fc.boolean(), dup: fc.boolean(), packetId: id })
  .map((p) => ({
    type: "publish" as const,
    ...p,
    dup: p.qos > 0 && p.dup,
    packetId: p.qos > 0 ? p.packetId : undefined,
  }));
const packetArb: fc.Arbitrary<mqtt.MqttPacket> = fc.oneof(
  connect,
  fc.record({ type: fc.constant("connack" as const), sessionPresent: fc.boolean(), returnCode: u8 }),
  publish,
  fc.record({
    type: fc.constantFrom(
      "puback" as const,
      "pubrec" as const,
      "pubrel" as const,
      "pubcomp" as const,
      "unsuback" as const,
    ),
    packetId: id,
  }),
  fc.record({
    type: fc.constant("subscribe" as const),
    packetId: id,
    subscriptions: fc.array(fc.record({ topic: text(20), qos }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant("suback" as const),
    packetId: id,
    granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant("unsubscribe" as const),
    packetId: id,
    topics: fc.array(text(20), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ type: fc.constantFrom("pingreq" as const, "pingresp" as const, "disconnect" as const) }),
);

describe("mqtt packets, fuzzed", () => {
  it(`round-trips ${RUNS} generated packets, and splits streams of them back`, () => {
    const cases = check(fc.tuple(fc.array(packetArb, { minLength: 1, maxLength: 3 }), fc.nat()), ([ps, cut]) => {
      const wire = ps.map((p) => roundTrip(mqtt.packet, p));
      const last = wire[wire.length - 1];
      const partial = last.subarray(0, cut % last.length);
      const { packets, rest } = mqtt.splitPackets(Buffer.concat([...wire, partial]));
      same(packets, ps, "splitPackets");
      same(rest, partial, "the partial packet kept");
    });
    expect(cases).toBe(RUNS);
  });
  it(`round-trips ${RUNS} remaining lengths from 0 to 268,435,455`, () => {
    const n = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: mqtt.MAX_REMAINING }));
    expect(check(n, (v) => void roundTrip(mqtt.remainingLength, v))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged packets or fails with an MqttError`, () => {
    const valid = packetArb.map((p) => mqtt.packet.encode(p));
    const cases = check(corrupted(valid, 200), (b) => {
      decodesOrFails(mqtt.packet.decode, mqtt.MqttError, b, () => mqtt.packet.decode.bytes);
      decodesOrFails((buf) => mqtt.splitPackets(buf), mqtt.MqttError, b, undefined, [0]);
    });
    expect(cases).toBe(RUNS);
  });
});
