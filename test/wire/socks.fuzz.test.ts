// Fuzzing helpers/wire/socks.ts: generated greetings, sub-negotiations, requests and replies (all
// three address types) round-trip; damaged ones decode or fail with a SocksError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as socks from "../../helpers/wire/socks";
import { check, corrupted, decodesOrFails, ipv4Address, roundTrip, RUNS, u16, u8 } from "./fuzz";
import { ipv6Text } from "../../helpers/wire/addr";

const name = (min: number) =>
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789.-"), minLength: min, maxLength: 255 });
const address: fc.Arbitrary<socks.SocksAddress> = fc.oneof(
  ipv4Address.map((host) => ({ type: "ipv4" as const, host })),
  fc
    .uint8Array({ minLength: 16, maxLength: 16 })
    .map((u) => ({ type: "ipv6" as const, host: ipv6Text(Buffer.from(u)) })),
  name(1).map((host) => ({ type: "domain" as const, host })),
);
const requestArb = fc.record({ code: u8, address, port: u16 });
type Any =
  | { codec: "greeting"; value: socks.Greeting }
  | { codec: "methodChoice"; value: socks.MethodChoice }
  | { codec: "userPass"; value: socks.UserPass }
  | { codec: "userPassReply"; value: socks.UserPassReply }
  | { codec: "request" | "reply"; value: socks.SocksRequest };
const anyArb: fc.Arbitrary<Any> = fc.oneof(
  fc.array(u8, { minLength: 1, maxLength: 255 }).map((methods): Any => ({ codec: "greeting", value: { methods } })),
  u8.map((method): Any => ({ codec: "methodChoice", value: { method } })),
  fc.record({ username: name(1), password: name(0) }).map((value): Any => ({ codec: "userPass", value })),
  u8.map((status): Any => ({ codec: "userPassReply", value: { status } })),
  requestArb.map((value): Any => ({ codec: "request", value })),
  requestArb.map((value): Any => ({ codec: "reply", value })),
);
/** Each kind round-tripped with its own codec; the bytes. */
function roundTripAny(m: Any): Buffer {
  switch (m.codec) {
    case "greeting":
      return roundTrip(socks.greeting, m.value);
    case "methodChoice":
      return roundTrip(socks.methodChoice, m.value);
    case "userPass":
      return roundTrip(socks.userPass, m.value);
    case "userPassReply":
      return roundTrip(socks.userPassReply, m.value);
    default:
      return roundTrip(m.codec === "request" ? socks.request : socks.reply, m.value);
  }
}
const decoders = [socks.greeting, socks.methodChoice, socks.userPass, socks.userPassReply, socks.request, socks.reply];

describe("socks messages, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages of all six kinds`, () => {
    expect(check(anyArb, (m) => void roundTripAny(m))).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a SocksError`, () => {
    const valid = anyArb.map((m) => roundTripAny(m));
    const cases = check(corrupted(valid, 300), (b) => {
      for (const c of decoders) decodesOrFails(c.decode, socks.SocksError, b, () => c.decode.bytes);
    });
    expect(cases).toBe(RUNS);
  });
});
