// helpers/wire/summary: one tcpdump-like line per frame, without what is random per packet.
import { describe, expect, it } from "vitest";
import { summarize } from "../../helpers/wire/summary";
import { ethernet, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";

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
      "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, ttl 64, 10.0.0.1.ephemeral > 10.0.0.2.53: UDP, length 1",
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
});
