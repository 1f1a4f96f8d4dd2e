// Fuzzing helpers/wire/udp.ts: generated datagrams round-trip, with and without the pseudo-header's
// addresses (then the checksum verifies, unless 0 was asked for: none sent); damaged ones decode
// or fail with a PacketError, quickly.
import { describe, expect, it } from "vitest";
import { PacketError } from "../../helpers/wire/packet-error";
import { readUdp, udp, type Udp, type UdpInput } from "../../helpers/wire/udp";
import { same, check, corrupted, decodesOrFails, roundTrip, RUNS } from "./fuzz";
import { udpArb } from "./packet-arbitraries";

const expected = ({ srcPort, dstPort, payload }: UdpInput) => ({
  srcPort,
  dstPort,
  payload,
  length: 8 + payload.length,
});
const seen = ({ srcPort, dstPort, payload, length, checksumOk }: Udp) => {
  same(checksumOk, undefined); // alone, there are no addresses to check it against
  return { srcPort, dstPort, payload, length };
};

describe("udp, fuzzed", () => {
  it(`round-trips ${RUNS} generated datagrams, checksums as the addresses say`, () => {
    const cases = check(udpArb, (v) => {
      const bytes = roundTrip(udp, v, expected, seen);
      const sum = bytes.readUInt16BE(6);
      if (v.src !== undefined && v.dst !== undefined) {
        const inIp = readUdp(bytes, 0, { src: v.src, dst: v.dst }).value;
        same(inIp.checksumOk, v.checksum === 0 ? undefined : true);
        same(udp.encode(inIp), bytes); // with its addresses, as dissect returns it
        if (v.checksum !== 0) same(sum === 0, false); // a computed 0 goes out as 0xffff
      } else same(sum, v.checksum ?? 0);
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged datagrams or fails with a PacketError`, () => {
    const valid = udpArb.map((v) => udp.encode(v));
    expect(
      check(corrupted(valid, 120), (b) => decodesOrFails(udp.decode, PacketError, b, () => udp.decode.bytes)),
    ).toBe(RUNS);
  });
});
