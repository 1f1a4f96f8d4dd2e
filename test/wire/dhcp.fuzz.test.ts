// Fuzzing helpers/wire/dhcp.ts: generated messages (every named option, unknown ones, options
// longer than 255 bytes that RFC 3396 splits) round-trip; damaged ones decode or fail with a
// DhcpError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createDhcpCodec,
  dhcp,
  DhcpError,
  MESSAGE_TYPES,
  type DhcpMessage,
  type DhcpMessageInput,
  type DhcpOptions,
} from "../../helpers/wire/dhcp";
import { check, corrupted, decodesOrFails, defined, ipv4Address, roundTrip, RUNS, same, u16, u32, u8 } from "./fuzz";

const hex = (min: number, max: number) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u).toString("hex"));
const text = (maxBytes: number) =>
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((s) => Buffer.byteLength(s) <= maxBytes);
const addresses = fc.array(ipv4Address, { minLength: 1, maxLength: 4 });
const NAMED = new Set([1, 3, 6, 12, 15, 28, 50, 51, 53, 54, 55, 56, 57, 58, 59, 60, 61]);

const options: fc.Arbitrary<DhcpOptions> = fc.record(
  {
    messageType: fc.constantFrom(...MESSAGE_TYPES),
    subnetMask: ipv4Address,
    routers: addresses,
    dnsServers: addresses,
    hostName: text(40),
    domainName: text(40),
    broadcastAddress: ipv4Address,
    requestedIp: ipv4Address,
    leaseTime: u32,
    serverId: ipv4Address,
    parameterRequestList: fc.array(u8, { minLength: 1, maxLength: 12 }),
    message: text(60),
    maxMessageSize: u16,
    renewalTime: u32,
    rebindingTime: u32,
    vendorClassId: text(30),
    clientId: hex(1, 20),
    unknown: fc.uniqueArray(
      fc.record({
        code: fc.integer({ min: 1, max: 254 }).filter((c) => !NAMED.has(c)),
        data: fc.oneof({ weight: 5, arbitrary: hex(0, 30) }, { weight: 1, arbitrary: hex(256, 400) }),
      }),
      { selector: (u) => u.code, maxLength: 3 },
    ),
  },
  { requiredKeys: ["messageType"] },
);

const roomy = createDhcpCodec({ maxLength: 0xffff });
const messageArb: fc.Arbitrary<DhcpMessageInput> = fc
  .record(
    {
      op: fc.constantFrom("BOOTREQUEST" as const, "BOOTREPLY" as const),
      htype: u8,
      hops: u8,
      xid: u32,
      secs: u16,
      broadcast: fc.boolean(),
      ciaddr: ipv4Address,
      yiaddr: ipv4Address,
      siaddr: ipv4Address,
      giaddr: ipv4Address,
      chaddr: fc
        .uint8Array({ maxLength: 16 })
        .map((u) => Array.from(u, (b) => b.toString(16).padStart(2, "0")).join(":")),
      sname: text(63),
      file: text(127),
      options,
    },
    { requiredKeys: ["chaddr", "options"] },
  )
  .filter((m) => roomy.encodingLength(m) <= 1472); // one Ethernet frame: what the codec accepts

const REPLIES = new Set(["OFFER", "ACK", "NAK"]);
const expected = (m: DhcpMessageInput) =>
  defined({
    op: m.op ?? (REPLIES.has(m.options.messageType ?? "") ? "BOOTREPLY" : "BOOTREQUEST"),
    htype: m.htype ?? 1,
    hlen: m.chaddr === "" ? 0 : m.chaddr.split(":").length,
    hops: m.hops ?? 0,
    xid: m.xid ?? 0,
    secs: m.secs ?? 0,
    broadcast: m.broadcast ?? false,
    ciaddr: m.ciaddr ?? "0.0.0.0",
    yiaddr: m.yiaddr ?? "0.0.0.0",
    siaddr: m.siaddr ?? "0.0.0.0",
    giaddr: m.giaddr ?? "0.0.0.0",
    chaddr: m.chaddr,
    sname: m.sname ?? "",
    file: m.file ?? "",
    options: defined({ ...m.options, unknown: m.options.unknown?.length ? m.options.unknown : undefined }),
  });
const seen = (d: DhcpMessage) => d;

describe("dhcp, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages`, () => {
    const unpadded = createDhcpCodec({ minLength: 0 });
    const cases = check(messageArb, (m) => {
      roundTrip(dhcp, m, expected, seen);
      same(unpadded.decode(unpadded.encode(m)), expected(m), "without padding");
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged messages or fails with a DhcpError`, () => {
    const valid = messageArb.map((m) => createDhcpCodec({ minLength: 0 }).encode(m));
    const cases = check(corrupted(valid, 600), (b) =>
      decodesOrFails(dhcp.decode, DhcpError, b, () => dhcp.decode.bytes),
    );
    expect(cases).toBe(RUNS);
  });
});
