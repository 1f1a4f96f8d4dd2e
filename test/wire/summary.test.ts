// helpers/wire/summary: one tcpdump-like line per frame, without what is random per packet.
import { describe, expect, it } from "vitest";
import { summarize } from "../../helpers/wire/summary";
import { ETHERTYPE, ethernet, icmp, ipv4, ipv4Bytes, macBytes, PROTO, udp } from "../../helpers/wire/packet";

describe("summarize", () => {
  const ends = { src: "10.0.0.1", dst: "10.0.0.2" };
  const frame = (payload: Buffer) =>
    ethernet.encode({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02", ethertype: 0x0800, payload });

  it("prints UDP, ICMP and fragments without the random identification", () => {
    const dg = ipv4.encode({
      ...ends,
      protocol: PROTO.UDP,
      id: 999,
      payload: udp.encode({ srcPort: 40000, dstPort: 53, payload: Buffer.from("q"), ...ends }),
    });
    expect(summarize(frame(dg), { ephemeral: (p) => p === 40000 })).toBe(
      "IPv4, ttl 64, 10.0.0.1.ephemeral > 10.0.0.2.53: UDP, length 1",
    );
    expect(summarize(frame(dg), { link: true })).toBe(
      "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, ttl 64, 10.0.0.1.40000 > 10.0.0.2.53: UDP, length 1",
    );
    const echo = ipv4.encode({
      ...ends,
      protocol: PROTO.ICMP,
      df: true,
      payload: icmp.encode({ kind: "echo-request", id: 7, seq: 1, data: Buffer.from("abcd") }),
    });
    expect(summarize(frame(echo))).toMatch(
      /ttl 64 DF, 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id 7, seq 1, length 12$/,
    );
    const frag = ipv4.encode({
      ...ends,
      protocol: PROTO.UDP,
      id: 5,
      fragmentOffset: 1480,
      mf: true,
      payload: Buffer.alloc(16),
    });
    expect(summarize(frame(frag))).toMatch(
      /ttl 64 frag offset 1480 \+MF, 10\.0\.0\.1 > 10\.0\.0\.2: UDP fragment, length 16$/,
    );
  });

  it("prints the MACs of an ARP frame, whose subject they are", () => {
    const request = Buffer.alloc(28);
    request.writeUInt16BE(1, 0); // Ethernet
    request.writeUInt16BE(0x0800, 2); // IPv4
    request.writeUInt8(6, 4);
    request.writeUInt8(4, 5);
    request.writeUInt16BE(1, 6); // request
    macBytes("02:00:00:00:00:01").copy(request, 8);
    ipv4Bytes("10.0.0.1").copy(request, 14);
    ipv4Bytes("10.0.0.2").copy(request, 24);
    const broadcast = { src: "02:00:00:00:00:01", dst: "ff:ff:ff:ff:ff:ff", ethertype: ETHERTYPE.ARP };
    expect(summarize(ethernet.encode({ ...broadcast, payload: request }))).toBe(
      "02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1",
    );
  });
});
