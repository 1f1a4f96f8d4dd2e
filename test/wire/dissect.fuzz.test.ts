// Fuzzing helpers/wire/dissect.ts, the composition: frames built from generated layers dissect back
// into those layers, with the transport checksum verified from the IPv4 addresses; damaged frames
// and packets dissect or fail with a PacketError, quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dissect } from "../../helpers/wire/dissect";
import { ethernet } from "../../helpers/wire/ethernet";
import { icmp } from "../../helpers/wire/icmp";
import { ipv4, PROTO } from "../../helpers/wire/ipv4";
import { PacketError } from "../../helpers/wire/packet-error";
import { tcp } from "../../helpers/wire/tcp";
import { udp } from "../../helpers/wire/udp";
import { bytes, check, corrupted, decodesOrFails, macAddress, RUNS, same } from "./fuzz";
import { icmpArb, icmpExpected, icmpSeen, ipv4Arb, tcpArb, udpArb } from "./packet-arbitraries";

/** A transport message, its protocol number, and an IPv4 header around it (not a fragment, or
 *  sometimes one), on Ethernet or raw. */
const capture = fc
  .record({
    transport: fc.oneof(
      icmpArb.map((v) => ({ protocol: PROTO.ICMP, icmp: v })),
      udpArb.map((v) => ({ protocol: PROTO.UDP, udp: v })),
      tcpArb.map((v) => ({ protocol: PROTO.TCP, tcp: v })),
      bytes(40).map((payload) => ({ protocol: 47, payload })), // GRE: not decoded further
    ),
    ip: ipv4Arb(fc.constant(Buffer.alloc(0))),
    fragment: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    link: fc.option(fc.record({ dst: macAddress, src: macAddress, padding: bytes(20) }), { nil: undefined }),
  })
  .map(({ transport, ip, fragment, link }) => {
    const ends = { src: ip.src, dst: ip.dst };
    const payload =
      "icmp" in transport
        ? icmp.encode(transport.icmp)
        : "udp" in transport
          ? udp.encode({ ...transport.udp, ...ends, checksum: undefined })
          : "tcp" in transport
            ? tcp.encode({ ...transport.tcp, ...ends, checksum: undefined })
            : transport.payload;
    const packet = ipv4.encode({
      ...ip,
      protocol: transport.protocol,
      mf: fragment,
      fragmentOffset: fragment ? (ip.fragmentOffset ?? 0) : 0,
      payload,
    });
    const frame = link
      ? Buffer.concat([ethernet.encode({ ...link, ethertype: 0x0800, payload: packet }), link.padding])
      : packet;
    return { transport, fragment, link: link ? ("ethernet" as const) : ("ip" as const), frame, packet, ends };
  });

describe("dissect, fuzzed", () => {
  it(`dissects ${RUNS} generated frames into the layers they were built from`, () => {
    const cases = check(capture, ({ transport, fragment, link, frame, packet, ends }) => {
      const l = dissect(frame, link);
      same(l.ip && ipv4.encode(l.ip), packet, "the IPv4 layer, encoded again");
      if (link === "ethernet") same(l.ethernet?.ethertype, 0x0800);
      if (fragment) return same([l.icmp, l.udp, l.tcp], [undefined, undefined, undefined], "a fragment's transport");
      if ("icmp" in transport) same(l.icmp && icmpSeen(l.icmp), icmpExpected(transport.icmp), "icmp");
      if ("udp" in transport) {
        same(l.udp?.checksumOk, true, "udp checksum");
        same(l.udp && udp.encode(l.udp), packet.subarray(packet.length - 8 - transport.udp.payload.length));
        same({ src: l.udp?.src, dst: l.udp?.dst }, ends);
      }
      if ("tcp" in transport) {
        same(l.tcp?.checksumOk, true, "tcp checksum");
        same(l.tcp && tcp.encode(l.tcp), tcp.encode({ ...transport.tcp, ...ends, checksum: undefined }));
      }
      if ("payload" in transport)
        same([l.icmp, l.udp, l.tcp, l.ip?.payload], [undefined, undefined, undefined, transport.payload]);
    });
    expect(cases).toBe(RUNS);
  });
  it(`dissects ${RUNS} damaged frames and packets or fails with a PacketError`, () => {
    const valid = fc
      .tuple(capture, fc.boolean())
      .map(([c, raw]) => ({ bytes: raw ? c.packet : c.frame, link: raw ? "ip" : c.link }));
    const damaged = fc
      .tuple(
        valid,
        corrupted(
          valid.map((v) => v.bytes),
          200,
        ),
      )
      .map(([v, b]) => ({ ...v, bytes: b }));
    const cases = check(damaged, ({ bytes, link }) =>
      decodesOrFails((buf) => dissect(buf, link as "ethernet" | "ip"), PacketError, bytes, undefined, [0]),
    );
    expect(cases).toBe(RUNS);
  });
});
