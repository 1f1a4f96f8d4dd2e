// helpers/wire/dns.ts against dns-packet, an independent implementation: the same bytes both ways,
// and one clear DnsFormatError (never a hang, never a RangeError from Buffer) on bad input.
// dns.fuzz.test.ts generates many more messages and corruptions.
import dnsPacket from "dns-packet";
import { describe, expect, it } from "vitest";
import { ipv6Bytes, ipv6Text } from "../../helpers/wire/addr";
import { CodecError } from "../../helpers/wire/codec";
import {
  decode,
  DnsFormatError,
  encode,
  encodingLength,
  flagsFromNumber,
  flagsToNumber,
  header,
  name,
  question,
  record,
  uncompressed,
  type DnsErrorCode,
  type Message,
} from "../../helpers/wire/dns";

/** Our message in dns-packet's vocabulary: the QR bit becomes `type`, the other 15 bits `flags`. */
function toPacket(m: Message): dnsPacket.Packet {
  const f = flagsToNumber(m.flags);
  const rr = (r: NonNullable<Message["answers"]>[number]) =>
    ({ name: r.name, type: r.type, class: r.class ?? "IN", ttl: r.ttl ?? 0, data: r.data }) as dnsPacket.Answer;
  return {
    id: m.id,
    type: f & 0x8000 ? "response" : "query",
    flags: f & 0x7fff,
    questions: m.questions.map((q) => ({ name: q.name, type: q.type, class: q.class ?? "IN" }) as dnsPacket.Question),
    answers: (m.answers ?? []).map(rr),
    authorities: (m.authorities ?? []).map(rr),
    additionals: (m.additionals ?? []).map(rr),
  };
}

/** What dns-packet decoded, reduced to the fields our codec models. */
function meaningOf(p: dnsPacket.DecodedPacket) {
  const rr = (r: any) => ({ name: r.name, type: r.type, class: r.class, ttl: r.ttl, data: r.data });
  return {
    id: p.id,
    flags: flagsToNumber({}) | (p.flags ?? 0) | (p.type === "response" ? 0x8000 : 0),
    questions: p.questions!.map((q) => ({ name: q.name, type: q.type, class: q.class })),
    answers: p.answers!.map(rr),
    authorities: p.authorities!.map(rr),
    additionals: p.additionals!.map(rr),
  };
}
const ourMeaning = (m: ReturnType<typeof decode>) => ({ ...m, flags: flagsToNumber(m.flags) });

const query: Message = { id: 0xbeef, flags: { rd: true }, questions: [{ name: "api.wirebook.test", type: "A" }] };
const response: Message = {
  id: 0x1234,
  flags: { qr: true, aa: true, rd: true },
  questions: [{ name: "www.wirebook.test", type: "A" }],
  answers: [
    { name: "www.wirebook.test", type: "CNAME", ttl: 300, data: "wirebook.test" },
    { name: "wirebook.test", type: "A", ttl: 60, data: "127.0.0.10" },
    { name: "wirebook.test", type: "A", ttl: 60, data: "127.0.0.11" },
  ],
  authorities: [{ name: "wirebook.test", type: "NS", ttl: 3600, data: "ns1.wirebook.test" }],
  additionals: [{ name: "ns1.wirebook.test", type: "AAAA", ttl: 3600, data: "::1" }],
};
const nxdomain: Message = {
  id: 9,
  flags: { qr: true, aa: true, rcode: 3 },
  questions: [{ name: "nope.wirebook.test", type: "AAAA" }],
};

describe("encode: our bytes are dns-packet's bytes", () => {
  it.each([
    ["a query", query],
    ["a response with CNAME, A, NS and AAAA", response],
    ["an NXDOMAIN response", nxdomain],
  ])("%s, uncompressed, is byte for byte what dns-packet.encode writes", (_, m) => {
    const ours = uncompressed.encode(m);
    expect(ours.toString("hex")).toBe(dnsPacket.encode(toPacket(m)).toString("hex"));
    expect(uncompressed.encodingLength(m)).toBe(ours.length);
    expect(uncompressed.encode.bytes).toBe(ours.length);
  });

  it("the query's bytes, field by field, in network byte order", () => {
    expect(encode(query).toString("hex")).toBe(
      "beef" +
        "0100" +
        "0001" +
        "0000" +
        "0000" +
        "0000" + // id, flags (RD), QD/AN/NS/AR counts
        "03" +
        "617069" +
        "08" +
        "77697265626f6f6b" +
        "04" +
        "74657374" +
        "00" + // 3 api 8 wirebook 4 test 0
        "0001" +
        "0001", // QTYPE A, QCLASS IN
    );
  });

  it("compressed: dns-packet decodes the pointers to the same message, and it is shorter", () => {
    const compressed = encode(response);
    expect(compressed.length).toBeLessThan(uncompressed.encode(response).length);
    expect(compressed.length).toBe(encodingLength(response));
    // the first answer's owner name is a pointer to the question name at offset 12
    const firstAnswer = 12 + name.encodingLength("www.wirebook.test") + 4;
    expect(compressed.readUInt16BE(firstAnswer)).toBe(0xc00c);
    expect(meaningOf(dnsPacket.decode(compressed))).toEqual(ourMeaning(decode(uncompressed.encode(response))));
  });

  it("each part's encode writes encodingLength bytes into the buffer it is given, and returns it", () => {
    const buf = Buffer.alloc(512);
    expect(header.encode({ id: 1, flags: {}, qdcount: 1, ancount: 0, nscount: 0, arcount: 0 }, buf, 3)).toBe(buf);
    expect(header.encode.bytes).toBe(12);
    expect(header.decode(buf, 3)).toMatchObject({ id: 1, qdcount: 1, flags: flagsFromNumber(0) });
    name.encode("wirebook.test", buf, 0);
    expect(name.encode.bytes).toBe(name.encodingLength("wirebook.test"));
    expect(question.encode({ name: "a.test", type: "AAAA" }).length).toBe(
      question.encodingLength({ name: "a.test", type: "AAAA" }),
    );
    const rr = { name: "a.test", type: "A", ttl: 5, data: "127.0.0.1" };
    record.encode(rr, buf, 7);
    expect(record.encode.bytes).toBe(record.encodingLength(rr));
    expect(record.decode(buf, 7)).toEqual({ ...rr, class: "IN" });
    expect(record.decode.bytes).toBe(record.encodingLength(rr));
    expect(() => record.encode(rr, buf, 510)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
  });

  it("a message is written and read at any offset: its pointers count from its own first byte", () => {
    const framed = Buffer.alloc(2 + encodingLength(response)); // DNS over TCP: a 2-byte length first
    framed.writeUInt16BE(framed.length - 2);
    encode(response, framed, 2);
    expect(framed.subarray(2)).toEqual(encode(response));
    expect(ourMeaning(decode(framed, 2))).toEqual(ourMeaning(decode(encode(response))));
    expect(decode.bytes).toBe(framed.length - 2);
  });

  it("refuses to encode names DNS cannot carry", () => {
    expect(() => name.encodingLength("a..test")).toThrow(/empty label/);
    expect(() => name.encodingLength("x".repeat(64) + ".test")).toThrow(/64 bytes/);
    expect(() => name.encodingLength(Array(130).fill("ab").join("."))).toThrow(/255/);
    expect(() => encode({ ...query, questions: [{ name: "a", type: "BOGUS" }] })).toThrow(/unknown DNS type/);
  });
});

describe("decode: dns-packet's bytes mean the same to us", () => {
  it.each([
    ["a query", query],
    ["a response with CNAME, A, NS and AAAA", response],
    ["an NXDOMAIN response", nxdomain],
  ])("%s", (_, m) => {
    const bytes = dnsPacket.encode(toPacket(m));
    expect(ourMeaning(decode(bytes))).toEqual(meaningOf(dnsPacket.decode(bytes)));
  });

  it("a query as dig-like clients send it, with an EDNS OPT record, keeps the OPT data as bytes", () => {
    const bytes = dnsPacket.encode({
      type: "query",
      id: 1,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "AAAA", name: "wirebook.test" }],
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, options: [] } as any],
    });
    const m = decode(bytes);
    expect(m.additionals).toEqual([{ name: ".", type: "OPT", class: "CLASS1232", ttl: 0, data: Buffer.alloc(0) }]);
  });

  it("header flags bit by bit", () => {
    const all = flagsFromNumber(0xffff);
    expect(all).toEqual({
      qr: true,
      opcode: 15,
      aa: true,
      tc: true,
      rd: true,
      ra: true,
      z: true,
      ad: true,
      cd: true,
      rcode: 15,
    });
    expect(flagsToNumber(all)).toBe(0xffff);
    const h = dnsPacket.decode(
      dnsPacket.encode({
        type: "response",
        id: 0,
        flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.AUTHENTIC_DATA | 2,
        questions: [],
      }),
    );
    expect(h.flag_tc && h.flag_ad && (h as { rcode?: string }).rcode === "SERVFAIL").toBe(true);
    expect(flagsFromNumber(flagsToNumber({ qr: true, tc: true, ad: true, rcode: 2 }))).toMatchObject({
      tc: true,
      ad: true,
      rcode: 2,
      aa: false,
    });
  });

  it("IPv6 text is RFC 5952 canonical; compare addresses by bytes with other decoders", () => {
    expect(ipv6Text(ipv6Bytes("0:0:0:0:0:0:0:1"))).toBe("::1");
    // The longer zero run is the one shortened.
    expect(ipv6Text(ipv6Bytes("FD00:0:0:1:0:0:0:53"))).toBe("fd00:0:0:1::53");
    expect(ipv6Text(ipv6Bytes("1:0:0:2:0:0:3:4"))).toBe("1::2:0:0:3:4"); // a tie: the first run
    expect(ipv6Bytes("::ffff:127.0.0.1").toString("hex")).toBe("00000000000000000000ffff7f000001");
    // dns-packet's ip codec shortens the first zero run, not the longest, so its text can differ
    // from ours for the same 16 bytes; the bytes agree.
    const bytes = dnsPacket.encode(
      toPacket({
        id: 1,
        flags: { qr: true },
        questions: [],
        answers: [{ name: "a.test", type: "AAAA", data: "fd00:0:0:1::53" }],
      }),
    );
    const theirs = String((dnsPacket.decode(bytes).answers![0] as dnsPacket.StringAnswer).data);
    expect(ipv6Bytes(theirs)).toEqual(ipv6Bytes(String(decode(bytes).answers[0].data)));
    for (const bad of ["1:2:3", "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7:8:9"])
      expect(() => ipv6Bytes(bad)).toThrow(/not an IPv6 address/);
  });

  it("labels with dots or odd bytes round-trip in presentation form", () => {
    const buf = Buffer.from([3, 0x61, 0x2e, 0x62, 2, 0x20, 0xff, 0]);
    const value = name.decode(buf, 0);
    expect([value, name.decode.bytes]).toEqual(["a\\.b.\\032\\255", 8]);
    expect(name.encode(value)).toEqual(buf);
  });
});

/** The error decode throws; fails the test if it returns or throws anything else. */
function decodeError(bytes: Buffer): DnsFormatError {
  try {
    decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DnsFormatError);
    return e as DnsFormatError;
  }
  throw new Error("expected a DnsFormatError, but the message decoded");
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const HEADER_1Q = "0001 0100 0001 0000 0000 0000"; // id 1, RD, one question
const HEADER_1Q_1A = "0001 8400 0001 0001 0000 0000"; // a response with one question, one answer

describe("decode: malformed input gives one clear DnsFormatError", () => {
  const cases: [string, string, DnsErrorCode, number][] = [
    ["empty input", "", "ERR_DNS_TRUNCATED_HEADER", 0],
    ["a truncated header (11 bytes)", "0001 0100 0001 0000 0000 00", "ERR_DNS_TRUNCATED_HEADER", 0],
    ["a header promising a question that is not there", HEADER_1Q, "ERR_DNS_LABEL_PAST_END", 12],
    ["a label running past the end", HEADER_1Q + "08 7769726562", "ERR_DNS_LABEL_PAST_END", 12],
    ["a name without its final zero byte", HEADER_1Q + "04 74657374", "ERR_DNS_LABEL_PAST_END", 17],
    ["a question without QTYPE/QCLASS", HEADER_1Q + "04 74657374 00 0001", "ERR_DNS_TRUNCATED", 18],
    ["a pointer to itself", HEADER_1Q + "c00c 0001 0001", "ERR_DNS_POINTER_LOOP", 12],
    [
      "a label and then a pointer back to it (abc.abc.abc...)",
      HEADER_1Q + "03 616263 c00c 0001 0001",
      "ERR_DNS_POINTER_LOOP",
      16,
    ],
    ["a pointer to later data", HEADER_1Q + "c00e 00 0001 0001", "ERR_DNS_POINTER_FORWARD", 12],
    ["a pointer cut in half", HEADER_1Q + "c0", "ERR_DNS_TRUNCATED", 12],
    ["a reserved label type (0x40)", HEADER_1Q + "41 61 00 0001 0001", "ERR_DNS_BAD_LABEL_TYPE", 12],
    [
      "a name longer than 255 bytes",
      HEADER_1Q + "3f".concat("61".repeat(63)).repeat(4) + "00 0001 0001",
      "ERR_DNS_NAME_TOO_LONG",
      12 + 3 * 64,
    ],
    [
      "record data running past the end",
      HEADER_1Q_1A + "00 0001 0001" + "00 0001 0001 0000003c 0004 7f00",
      "ERR_DNS_TRUNCATED",
      28,
    ],
    [
      "an A record with 5 bytes of data",
      HEADER_1Q_1A + "00 0001 0001" + "00 0001 0001 0000003c 0005 7f00000100",
      "ERR_DNS_BAD_RDATA_LENGTH",
      26,
    ],
    [
      "an AAAA record with 4 bytes of data",
      HEADER_1Q_1A + "00 001c 0001" + "00 001c 0001 0000003c 0004 7f000001",
      "ERR_DNS_BAD_RDATA_LENGTH",
      26,
    ],
    [
      "a CNAME whose name runs past its RDLENGTH",
      HEADER_1Q_1A + "00 0001 0001" + "00 0005 0001 0000003c 0002 0161 00",
      "ERR_DNS_LABEL_PAST_END",
      30,
    ],
    ["a record without its fixed fields", HEADER_1Q_1A + "00 0001 0001" + "00 0001 0001 0000", "ERR_DNS_TRUNCATED", 18],
  ];

  it.each(cases)("%s", (_, bytes, code, offset) => {
    const e = decodeError(hex(bytes));
    expect({ name: e.name, code: e.code, offset: e.offset }).toEqual({ name: "DnsFormatError", code, offset });
    expect(e).toBeInstanceOf(CodecError);
    expect(e.reason).toMatch(/^[a-z][^ ]* .*[a-z0-9)]$/i); // prose, not a code
    expect(e.message).toBe(`malformed DNS message at offset ${offset}: ${e.reason} (${code})`);
  });

  it("dns-packet rejects the same broken headers and names", () => {
    // (it is more lenient with record data: it reads an A record's 4 bytes, or a CNAME's name,
    // whatever RDLENGTH says)
    const nameOrHeader = cases.filter(([, bytes]) => !bytes.startsWith(HEADER_1Q_1A));
    expect(nameOrHeader.length).toBe(12);
    for (const [, bytes] of nameOrHeader) expect(() => dnsPacket.decode(hex(bytes))).toThrow();
  });

  it("a header that promises 65535 questions fails at the first missing byte, at once", () => {
    const e = decodeError(hex("0001 0100 ffff ffff ffff ffff" + "00 0001 0001"));
    expect([e.code, e.offset]).toEqual(["ERR_DNS_LABEL_PAST_END", 17]);
  });

  it("random bytes never hang and never throw anything but DnsFormatError", () => {
    let seed = 42; // a fixed linear congruential generator: the same bytes every run
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
    const valid = encode(response);
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(valid.subarray(0, next() % (valid.length + 1)));
      for (let k = next() % 4; k > 0; k--) if (bytes.length) bytes[next() % bytes.length] = next() & 0xff;
      try {
        decode(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(DnsFormatError);
      }
    }
  });
});
