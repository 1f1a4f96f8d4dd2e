// Fuzzing helpers/wire/tcp.ts: generated segments (options, payload) round-trip, with a checksum
// over the pseudo-header that verifies when the addresses are given; damaged ones decode or fail
// with a PacketError, quickly.
import { describe, expect, it } from "vitest";
import { PacketError } from "../../helpers/wire/packet-error";
import { readTcp, tcp, type Tcp, type TcpInput } from "../../helpers/wire/tcp";
import { same, check, corrupted, decodesOrFails, roundTrip, RUNS } from "./fuzz";
import { tcpArb } from "./packet-arbitraries";

const expected = (v: TcpInput) => ({
  srcPort: v.srcPort,
  dstPort: v.dstPort,
  seq: v.seq ?? 0,
  ack: v.ack ?? 0,
  flags: v.flags ?? 0,
  window: v.window ?? 0,
  urgent: v.urgent ?? 0,
  options: v.options ?? [],
  payload: v.payload ?? Buffer.alloc(0),
});
const seen = ({ checksum, checksumOk, headerLength, ...fields }: Tcp) => {
  same({ checksumOk, aligned: headerLength % 4 === 0, checksum: checksum >= 0 }, { aligned: true, checksum: true });
  return fields;
};

describe("tcp, fuzzed", () => {
  it(`round-trips ${RUNS} generated segments, checksums as the addresses say`, () => {
    const cases = check(tcpArb, (v) => {
      const bytes = roundTrip(tcp, v, expected, seen);
      if (v.src !== undefined && v.dst !== undefined) {
        const inIp = readTcp(bytes, 0, { src: v.src, dst: v.dst }).value;
        same(inIp.checksumOk, true);
        same(tcp.encode(inIp), bytes);
      } else same(bytes.readUInt16BE(16), v.checksum ?? 0);
    });
    expect(cases).toBe(RUNS);
  });
  it(`decodes ${RUNS} damaged segments or fails with a PacketError`, () => {
    const valid = tcpArb.map((v) => tcp.encode(v));
    expect(
      check(corrupted(valid, 120), (b) => decodesOrFails(tcp.decode, PacketError, b, () => tcp.decode.bytes)),
    ).toBe(RUNS);
  });
});
