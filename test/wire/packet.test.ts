// The packet layers (helpers/wire/checksum, ethernet, ipv4, icmp, udp, tcp, dissect): round trips,
// golden bytes checked by hand, and one clear PacketError (code + offset, never a RangeError from
// a Buffer read) for every kind of malformed input. tshark and the kernel check the same codecs
// independently in pcap.test.ts and rawsock.test.ts; *.fuzz.test.ts generate many more cases.
import { describe, expect, it } from "vitest";
import { checksum } from "../../helpers/wire/checksum";
import { dissect } from "../../helpers/wire/dissect";
import { ethernet } from "../../helpers/wire/ethernet";
import { icmp, isIcmpError } from "../../helpers/wire/icmp";
import { ipv4, PROTO } from "../../helpers/wire/ipv4";
import { PacketError, type PacketErrorCode } from "../../helpers/wire/packet-error";
import { tcp, TCP_FLAGS } from "../../helpers/wire/tcp";
import { udp, type UdpInput } from "../../helpers/wire/udp";
import { rng } from "../../helpers/models/random";

/** Runs `f` and returns the PacketError it throws (failing the test on anything else). */
function packetError(f: () => unknown): PacketError {
  try {
    f();
  } catch (e) {
    if (e instanceof PacketError) return e;
    throw new Error(`expected a PacketError, got ${String(e)}`);
  }
  throw new Error("expected a PacketError, nothing was thrown");
}
const expectError = (f: () => unknown, code: PacketErrorCode, offset: number) => {
  const e = packetError(f);
  expect({ code: e.code, offset: e.offset }).toEqual({ code, offset });
  expect(e.reason).toMatch(/\w/);
  expect(e.message).toContain(`offset ${offset}`);
};

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("the Internet checksum (RFC 1071)", () => {
  it("matches RFC 1071 §3's worked example (sum 0xddf2, checksum its complement)", () => {
    // 00 01 f2 03 f4 f5 f6 f7: the one's complement sum is ddf2.
    expect(checksum(hex("0001f203f4f5f6f7"))).toBe(~0xddf2 & 0xffff);
  });
  it("pads an odd last byte with zero and is 0 over data that carries its own checksum", () => {
    expect(checksum(hex("ab"))).toBe(checksum(hex("ab00")));
    const data = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
    expect(checksum(data)).toBe(0);
  });
  it("folds carries back in (end-around carry)", () => {
    // ffff+ffff+0001 = 1ffff → ffff+1 = 10000 → 0000+1 = 0001; the checksum is ~0001 = fffe
    expect(checksum(hex("ffff ffff 0001"))).toBe(0xfffe);
  });
});

describe("ICMP echo", () => {
  // Checksum by hand: 0800 + 1234 + 0001 + 6162 + 6364 = defb (no carry); ~defb = 2104.
  const golden = hex("08 00 2104 1234 0001 61626364");
  it("encodes a known echo request to golden bytes with the hand-computed checksum 0x2104", () => {
    expect(icmp.encode({ kind: "echo-request", id: 0x1234, seq: 1, data: Buffer.from("abcd") })).toEqual(golden);
  });
  it("decodes it back, checksum verified", () => {
    expect(icmp.decode(golden)).toEqual({
      kind: "echo-request",
      type: 8,
      code: 0,
      id: 0x1234,
      seq: 1,
      data: Buffer.from("abcd"),
      checksum: 0x2104,
      checksumOk: true,
    });
  });
  it("reports a flipped bit as checksumOk false, and round-trips a reply with an odd-length payload", () => {
    const bad = Buffer.from(golden);
    bad[9] ^= 1;
    expect(icmp.decode(bad).checksumOk).toBe(false);
    const reply = icmp.encode({ kind: "echo-reply", id: 65535, seq: 65535, data: Buffer.from("odd") });
    expect(icmp.decode(reply)).toMatchObject({
      kind: "echo-reply",
      id: 65535,
      seq: 65535,
      data: Buffer.from("odd"),
      checksumOk: true,
    });
  });
});

describe("IPv4", () => {
  // A well-known header (192.168.0.1 → 192.168.0.199, UDP, DF, TTL 64, total length 115).
  const goldenHeader = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  const value = {
    protocol: PROTO.UDP,
    src: "192.168.0.1",
    dst: "192.168.0.199",
    df: true,
    ttl: 64,
    payload: Buffer.alloc(95, 0xaa),
  };

  it("encodes the well-known header byte for byte, checksum 0xb861 included", () => {
    expect(ipv4.encode(value).subarray(0, 20)).toEqual(goldenHeader);
  });

  it("round-trips every field: DSCP/ECN, id, flags, fragment offset in bytes (/8 on the wire), options", () => {
    const v = {
      dscp: 46,
      ecn: 1,
      id: 0xbeef,
      df: false,
      mf: true,
      fragmentOffset: 1480,
      ttl: 3,
      protocol: PROTO.ICMP,
      src: "10.0.0.1",
      dst: "10.0.0.2",
      options: hex("01010100"),
      payload: Buffer.from("payload"),
    };
    const buf = ipv4.encode(v);
    expect(buf[0]).toBe(0x46); // IHL 6: one 4-byte option word
    expect(buf.readUInt16BE(6) & 0x1fff).toBe(1480 / 8);
    expect(ipv4.decode(buf)).toEqual({
      ...v,
      version: 4,
      headerLength: 24,
      totalLength: buf.length,
      checksum: buf.readUInt16BE(10),
      checksumOk: true,
      truncated: false,
    });
  });

  it("verifies the header checksum on decode", () => {
    const buf = ipv4.encode(value);
    buf[8] = 63; // TTL changed without fixing the checksum, as a router that forgot would
    expect(ipv4.decode(buf).checksumOk).toBe(false);
  });

  it("ignores link-layer padding after totalLength", () => {
    const buf = Buffer.concat([ipv4.encode({ ...value, payload: Buffer.from("x") }), Buffer.alloc(25)]);
    expect(ipv4.decode(buf).payload).toEqual(Buffer.from("x"));
  });

  it("rejects values it cannot encode with ERR_INVALID_ARG_VALUE", () => {
    expect(() => ipv4.encode({ ...value, fragmentOffset: 3 })).toThrow(/multiple of 8/);
    expect(() => ipv4.encode({ ...value, src: "1.2.3" })).toThrow(/src: not an IPv4 address/);
    expect(() => ipv4.encode({ ...value, options: Buffer.alloc(3) })).toThrow(/options/);
    expect(() => ipv4.encode({ ...value, ttl: 256 })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }),
    );
  });
});

describe("ICMP errors quote the original header + 8 bytes", () => {
  const original = ipv4.encode({
    protocol: PROTO.UDP,
    src: "10.0.0.1",
    dst: "10.0.0.2",
    id: 7,
    payload: udp.encode({
      srcPort: 4000,
      dstPort: 33434,
      payload: Buffer.alloc(100),
      src: "10.0.0.1",
      dst: "10.0.0.2",
    }),
  });

  it("destination unreachable, fragmentation needed: next-hop MTU and the quote decode", () => {
    const buf = icmp.encode({ kind: "destination-unreachable", code: 4, nextHopMtu: 1400, original });
    expect(buf.length).toBe(8 + 20 + 8);
    expect(buf.readUInt16BE(6)).toBe(1400);
    const m = icmp.decode(buf);
    if (m.kind !== "destination-unreachable") throw new Error(m.kind);
    expect(m).toMatchObject({ type: 3, code: 4, nextHopMtu: 1400, checksumOk: true });
    expect(m.quote.ip).toMatchObject({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      id: 7,
      protocol: 17,
      totalLength: original.length,
      truncated: true,
      checksumOk: true,
    });
    expect(udp.decode(Buffer.concat([m.quote.first8, Buffer.alloc(100)]))).toMatchObject({
      srcPort: 4000,
      dstPort: 33434,
    });
    expect(m.original).toEqual(original.subarray(0, 28));
  });

  it("port unreachable has no MTU; time exceeded round-trips", () => {
    expect(icmp.decode(icmp.encode({ kind: "destination-unreachable", code: 3, original }))).not.toHaveProperty(
      "nextHopMtu",
    );
    expect(() => icmp.encode({ kind: "destination-unreachable", code: 3, nextHopMtu: 1400, original })).toThrow(
      /code 4/,
    );
    const te = icmp.decode(icmp.encode({ kind: "time-exceeded", code: 0, original }));
    expect(te).toMatchObject({
      kind: "time-exceeded",
      type: 11,
      code: 0,
      checksumOk: true,
      original: original.subarray(0, 28),
    });
  });

  it("isIcmpError tells the errors, which quote a datagram, from the other kinds", () => {
    const unreachable = icmp.decode(icmp.encode({ kind: "destination-unreachable", code: 3, original }));
    const exceeded = icmp.decode(icmp.encode({ kind: "time-exceeded", code: 0, original }));
    const echo = icmp.decode(icmp.encode({ kind: "echo-reply", id: 1, seq: 1 }));
    const other = icmp.decode(icmp.encode({ kind: "other", type: 13, code: 0, body: Buffer.alloc(12) }));
    expect([unreachable, exceeded, echo, other, undefined, null].map(isIcmpError)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    if (!isIcmpError(exceeded)) throw new Error("time exceeded is an error");
    expect(exceeded.quote.ip.id).toBe(7); // the guard narrows: the quote is there to read
  });

  it("other types keep their bytes", () => {
    // A timestamp request: a type this module does not know.
    const buf = icmp.encode({ kind: "other", type: 13, code: 0, rest: hex("00010002"), body: Buffer.alloc(12) });
    expect(icmp.decode(buf)).toMatchObject({
      kind: "other",
      type: 13,
      rest: hex("00010002"),
      body: Buffer.alloc(12),
      checksumOk: true,
    });
  });
});

describe("UDP with the IPv4 pseudo-header", () => {
  const ph = { src: "127.0.0.1", dst: "127.0.0.2" };
  /** The datagram as dissect reads it inside an IPv4 packet between `addresses`. */
  const inIp = (datagram: Buffer, addresses = ph) =>
    dissect(ipv4.encode({ protocol: PROTO.UDP, ...addresses, payload: datagram })).udp;
  it("round-trips and verifies the checksum only with the right addresses", () => {
    const buf = udp.encode({ srcPort: 5353, dstPort: 53, payload: Buffer.from("hi"), ...ph });
    expect(buf.readUInt16BE(4)).toBe(10);
    expect(udp.encode.bytes).toBe(10);
    expect(inIp(buf)).toEqual({
      srcPort: 5353,
      dstPort: 53,
      length: 10,
      checksum: buf.readUInt16BE(6),
      checksumOk: true,
      payload: Buffer.from("hi"),
      ...ph,
    });
    expect(inIp(buf, { ...ph, dst: "127.0.0.3" })?.checksumOk).toBe(false);
    expect(udp.decode(buf).checksumOk).toBeUndefined(); // nothing to check it against
    expect(udp.decode.bytes).toBe(10);
  });
  it("matches a checksum computed by hand", () => {
    // pseudo: 7f00 0001 7f00 0002 0011 000a; UDP: 14e9 0035 000a 0000 6869
    // 7f00+0001+7f00+0002+0011+000a+14e9+0035+000a+6869 = 1 7baf → 7baf+1 = 7bb0; ~7bb0 = 844f
    expect(udp.encode({ srcPort: 5353, dstPort: 53, payload: Buffer.from("hi"), ...ph }).readUInt16BE(6)).toBe(0x844f);
  });
  it("a checksum field of 0 means none was sent, both ways", () => {
    const none: UdpInput = { srcPort: 1, dstPort: 2, payload: Buffer.alloc(0), ...ph, checksum: 0 };
    const buf = udp.encode(none);
    expect(buf.readUInt16BE(6)).toBe(0);
    expect(inIp(buf)?.checksumOk).toBeUndefined();
    expect(udp.encode(inIp(buf) ?? none)).toEqual(buf); // the decoded datagram says so too
  });
  it("without addresses the checksum is written as given, so a decoded datagram encodes back to its bytes", () => {
    const buf = udp.encode({ srcPort: 5353, dstPort: 53, payload: Buffer.from("hi"), ...ph });
    const alone = udp.decode(buf);
    expect(alone).not.toHaveProperty("src");
    expect(udp.encode(alone)).toEqual(buf);
    expect(udp.encode({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(0) }).readUInt16BE(6)).toBe(0);
    expect(() => udp.encode({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(0), src: "10.0.0.1" })).toThrow(
      /both src and dst/,
    );
  });
});

describe("Ethernet II and dissect", () => {
  it("round-trips the header and decodes a frame layer by layer", () => {
    const ip = ipv4.encode({
      protocol: PROTO.ICMP,
      src: "10.1.0.1",
      dst: "10.1.0.2",
      payload: icmp.encode({ kind: "echo-request", id: 1, seq: 2 }),
    });
    const frame = ethernet.encode({
      dst: "02:00:00:00:00:02",
      src: "02:00:00:00:00:01",
      ethertype: 0x0800,
      payload: ip,
    });
    expect(ethernet.decode(frame)).toEqual({
      dst: "02:00:00:00:00:02",
      src: "02:00:00:00:00:01",
      ethertype: 0x0800,
      payload: ip,
    });
    const layers = dissect(frame, "ethernet");
    expect(layers.ip).toMatchObject({ src: "10.1.0.1", checksumOk: true });
    expect(layers.icmp).toMatchObject({ kind: "echo-request", id: 1, seq: 2, checksumOk: true });
    expect(() =>
      ethernet.encode({ dst: "02:00:00:00:00", src: "02:00:00:00:00:01", ethertype: 0x800, payload: ip }),
    ).toThrow(/MAC/);
  });
  it("leaves fragments' transport layer alone", () => {
    const frag = ipv4.encode({
      protocol: PROTO.UDP,
      src: "10.0.0.1",
      dst: "10.0.0.2",
      mf: true,
      payload: udp
        .encode({ srcPort: 1, dstPort: 2, payload: Buffer.alloc(100), src: "10.0.0.1", dst: "10.0.0.2" })
        .subarray(0, 48),
    });
    expect(dissect(frag).udp).toBeUndefined();
  });
});

describe("TCP (RFC 9293)", () => {
  // A SYN from 10.0.0.1:40000 to 10.0.0.2:80: seq 1, data offset 7 (28 bytes), flags 0x02,
  // window 64240, checksum left 0, options MSS 1460, NOP, NOP, SACK permitted.
  const syn = hex("9c40 0050 00000001 00000000 7002 faf0 0000 0000 020405b4 0101 0402");
  it("decodes ports, numbers, flags and the options", () => {
    expect(tcp.decode(syn)).toEqual({
      srcPort: 40000,
      dstPort: 80,
      seq: 1,
      ack: 0,
      headerLength: 28,
      flags: TCP_FLAGS.SYN,
      window: 64240,
      checksum: 0,
      checksumOk: undefined,
      urgent: 0,
      options: [
        { kind: 2, data: hex("05b4") },
        { kind: 1, data: Buffer.alloc(0) },
        { kind: 1, data: Buffer.alloc(0) },
        { kind: 4, data: Buffer.alloc(0) },
      ],
      payload: Buffer.alloc(0),
    });
  });
  it("encodes the same SYN byte for byte (options padded to a multiple of 4 with end-of-list)", () => {
    const value = tcp.decode(syn);
    expect(tcp.encode(value)).toEqual(syn); // no addresses: the checksum field is written as it was
    const padded = tcp.encode({
      srcPort: 1,
      dstPort: 2,
      options: [
        { kind: 2, data: hex("05b4") },
        { kind: 1, data: Buffer.alloc(0) },
      ],
    });
    expect(padded.subarray(12, 13)).toEqual(hex("70")); // 20 + 4 + 1, padded to 28: data offset 7
    expect(padded.subarray(20)).toEqual(hex("020405b4 01000000"));
    expect(tcp.decode(padded).options).toHaveLength(2);
  });
  it("computes the checksum over the pseudo-header, as a sum by hand says", () => {
    // pseudo: 0a00 0001 0a00 0002 0006 001e (30 bytes); header 9c40 0050 0000 0001 0000 0000
    // 7002 faf0 0000 0000, options 0204 05b4 0101 0402, payload 6869 ("hi").
    // 0a00+0001+0a00+0002+0006+001e+9c40+0050+0001+7002+faf0+0204+05b4+0101+0402+6869 = 2 90ce
    // → 90ce+2 = 90d0; ~90d0 = 6f2f
    const ends = { src: "10.0.0.1", dst: "10.0.0.2" };
    const seg = tcp.encode({ ...tcp.decode(syn), payload: Buffer.from("hi"), ...ends });
    expect(seg.readUInt16BE(16)).toBe(0x6f2f);
    const packet = ipv4.encode({ protocol: PROTO.TCP, ...ends, payload: seg });
    expect(dissect(packet).tcp).toMatchObject({ checksumOk: true, payload: Buffer.from("hi"), ...ends });
    expect(dissect(ipv4.encode({ protocol: PROTO.TCP, ...ends, ttl: 3, payload: seg })).tcp?.checksumOk).toBe(true);
    seg[21] ^= 1;
    expect(dissect(ipv4.encode({ protocol: PROTO.TCP, ...ends, payload: seg })).tcp?.checksumOk).toBe(false);
  });
  it("refuses options it cannot write", () => {
    const bad = (options: { kind: number; data: Buffer }[]) => () => tcp.encode({ srcPort: 1, dstPort: 2, options });
    expect(bad([{ kind: 0, data: Buffer.alloc(0) }])).toThrow(/end of the list/);
    expect(bad([{ kind: 1, data: Buffer.alloc(1) }])).toThrow(/NOP/);
    expect(bad([{ kind: 8, data: Buffer.alloc(39) }])).toThrow(/40-byte/);
    expect(bad(Array(11).fill({ kind: 4, data: Buffer.alloc(2) }))).toThrow(/at most 40/);
  });
  it("dissect finds it inside IPv4; a bad data offset or option length is a PacketError", () => {
    const packet = ipv4.encode({
      protocol: PROTO.TCP,
      src: "10.0.0.1",
      dst: "10.0.0.2",
      payload: Buffer.concat([syn, Buffer.from("hi")]),
    });
    expect(dissect(packet).tcp).toMatchObject({ dstPort: 80, payload: Buffer.from("hi") });
    const bad = (at: number, byte: number) => {
      const b = Buffer.from(syn);
      b[at] = byte;
      return b;
    };
    expectError(() => tcp.decode(bad(12, 0x40)), "ERR_PACKET_BAD_LENGTH", 12);
    expectError(() => tcp.decode(bad(12, 0xf0)), "ERR_PACKET_BAD_LENGTH", 12);
    expectError(() => tcp.decode(bad(21, 9)), "ERR_PACKET_BAD_LENGTH", 21);
    expectError(() => tcp.decode(syn.subarray(0, 19)), "ERR_PACKET_TRUNCATED", 0);
  });
});

describe("malformed input: one PacketError with a code and the offset of the field at fault", () => {
  const ip = ipv4.encode({
    protocol: PROTO.UDP,
    src: "10.0.0.1",
    dst: "10.0.0.2",
    payload: udp.encode({ srcPort: 1, dstPort: 2, payload: Buffer.from("data"), src: "10.0.0.1", dst: "10.0.0.2" }),
  });
  const patched = (at: number, byte: number, buf = ip) => {
    const b = Buffer.from(buf);
    b[at] = byte;
    return b;
  };

  it.each<[string, () => unknown, PacketErrorCode, number]>([
    ["a truncated IPv4 header", () => ipv4.decode(ip.subarray(0, 19)), "ERR_PACKET_TRUNCATED", 0],
    [
      "a truncated header at an offset",
      () => ipv4.decode(Buffer.concat([Buffer.alloc(5), ip.subarray(0, 10)]), 5),
      "ERR_PACKET_TRUNCATED",
      5,
    ],
    ["an offset past the end", () => ipv4.decode(ip, ip.length + 4), "ERR_PACKET_TRUNCATED", ip.length + 4],
    ["version 6 in an IPv4 decoder", () => ipv4.decode(patched(0, 0x65)), "ERR_PACKET_BAD_VERSION", 0],
    ["IHL 4", () => ipv4.decode(patched(0, 0x44)), "ERR_PACKET_BAD_IHL", 0],
    ["IHL 15 with 32 bytes there", () => ipv4.decode(patched(0, 0x4f)), "ERR_PACKET_BAD_IHL", 0],
    ["total length past the buffer", () => ipv4.decode(ip.subarray(0, ip.length - 1)), "ERR_PACKET_BAD_LENGTH", 2],
    [
      "total length shorter than the header",
      () => ipv4.decode(patched(3, 10, patched(2, 0))),
      "ERR_PACKET_BAD_LENGTH",
      2,
    ],
    ["an ICMP message shorter than 8 bytes", () => icmp.decode(hex("0800 f7ff 0000")), "ERR_PACKET_TRUNCATED", 0],
    ["an ICMP error with no quote", () => icmp.decode(hex("0300 0000 00000000")), "ERR_PACKET_TRUNCATED", 8],
    [
      "an ICMP error quoting version 6",
      () => icmp.decode(Buffer.concat([hex("0b00 0000 00000000"), patched(0, 0x60)])),
      "ERR_PACKET_BAD_VERSION",
      8,
    ],
    [
      "an ICMP error quoting fewer than 8 bytes",
      () => icmp.decode(Buffer.concat([hex("0b00 0000 00000000"), ip.subarray(0, 24)])),
      "ERR_PACKET_TRUNCATED",
      28,
    ],
    ["a UDP header shorter than 8 bytes", () => udp.decode(hex("0001 0002 0008")), "ERR_PACKET_TRUNCATED", 0],
    ["a UDP length past the end", () => udp.decode(hex("0001 0002 0010 0000 00")), "ERR_PACKET_BAD_LENGTH", 4],
    ["a UDP length below 8", () => udp.decode(hex("0001 0002 0004 0000")), "ERR_PACKET_BAD_LENGTH", 4],
    ["an Ethernet header shorter than 14 bytes", () => ethernet.decode(Buffer.alloc(13)), "ERR_PACKET_TRUNCATED", 0],
    [
      "a bad IPv4 header inside an Ethernet frame (offset counts from the frame)",
      () => dissect(Buffer.concat([hex("020000000002 020000000001 0800"), patched(0, 0x43)]), "ethernet"),
      "ERR_PACKET_BAD_IHL",
      14,
    ],
    [
      "a UDP length past the IP payload (offset counts from the packet)",
      () => dissect(patched(25, 0xff)),
      "ERR_PACKET_BAD_LENGTH",
      24,
    ],
  ])("%s", (_, f, code, offset) => expectError(f, code, offset));

  it("every prefix and many random corruptions of a frame give a value or a PacketError, nothing else", () => {
    const frame = ethernet.encode({
      dst: "02:00:00:00:00:02",
      src: "02:00:00:00:00:01",
      ethertype: 0x0800,
      payload: ip,
    });
    const errorQuote = ethernet.encode({
      dst: "02:00:00:00:00:02",
      src: "02:00:00:00:00:01",
      ethertype: 0x0800,
      payload: ipv4.encode({
        protocol: PROTO.ICMP,
        src: "10.0.0.9",
        dst: "10.0.0.1",
        payload: icmp.encode({ kind: "time-exceeded", code: 0, original: ip }),
      }),
    });
    const attempt = (buf: Buffer) => {
      try {
        dissect(buf, "ethernet");
      } catch (e) {
        if (!(e instanceof PacketError)) throw e;
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(buf.length);
      }
    };
    for (const f of [frame, errorQuote]) for (let n = 0; n <= f.length; n++) attempt(f.subarray(0, n));
    const random = rng(1071);
    for (let i = 0; i < 3000; i++) {
      const f = Buffer.from(i % 2 ? frame : errorQuote);
      for (let j = 0; j < 3; j++) f[Math.floor(random() * f.length)] = Math.floor(random() * 256);
      attempt(f.subarray(0, Math.floor(random() * (f.length + 1))));
    }
  });
});

describe("dissect with the layers a caller needs", () => {
  const echo = ipv4.encode({
    protocol: PROTO.ICMP,
    src: "10.0.0.2",
    dst: "10.0.0.1",
    payload: icmp.encode({ kind: "echo-reply", id: 7, seq: 1, data: Buffer.from("hi") }),
  });

  it("returns them, typed as present", () => {
    const { ip, icmp: m } = dissect(echo, "ip", ["ip", "icmp"]);
    expect([ip.src, m.kind]).toEqual(["10.0.0.2", "echo-reply"]);
  });

  it("says which one is missing", () => {
    expect(() => dissect(echo, "ip", ["udp"])).toThrow(
      expect.objectContaining({ code: "ERR_PACKET_NO_LAYER", reason: "no udp layer in this packet (found ip, icmp)" }),
    );
  });
});
