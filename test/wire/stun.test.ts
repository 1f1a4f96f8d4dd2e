// helpers/wire/stun.ts against RFC 5769's test vectors (§2.1 the sample request, §2.2 and §2.3 the
// IPv4 and IPv6 responses, short-term credential "VOkJxbRl1RmTxUk/WvJxBt"): the same bytes rebuilt
// by our encoder, the HMAC and CRC verified; the message type's bit interleaving; and one clear
// StunError on bad input. stun.fuzz.test.ts generates many more messages and corruptions.
import { describe, expect, it } from "vitest";
import { CodecError } from "../../helpers/wire/codec";
import * as stun from "../../helpers/wire/stun";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
export const RFC5769 = {
  transactionId: hex("b7e7a701 bc34d686 fa87dfae"),
  password: "VOkJxbRl1RmTxUk/WvJxBt",
  request: hex(`00010058 2112a442 b7e7a701 bc34d686 fa87dfae 80220010 5354554e 20746573 7420636c 69656e74
    00240004 6e0001ff 80290008 932ff9b1 51263b36 00060009 6576746a 3a683676 59202020 00080014 9aeaa70c
    bfd8cb56 781ef2b5 b2d3f249 c1b571a2 80280004 e57a3bcf`),
  ipv4Response: hex(`0101003c 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200008
    0001a147 e112a643 00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7 80280004 c07d4c96`),
  ipv6Response: hex(`01010048 2112a442 b7e7a701 bc34d686 fa87dfae 8022000b 74657374 20766563 746f7220 00200014
    0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9 00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
    80280004 c8fb0b4c`),
};

describe("stun, RFC 5769's vectors", () => {
  const key = stun.shortTermKey(RFC5769.password);
  it("§2.1: decodes the sample request, verifies it, and rebuilds it byte for byte", () => {
    const m = stun.decode(RFC5769.request);
    expect(m.method).toBe("Binding");
    expect(m.class).toBe("request");
    expect(stun.attribute(m, "USERNAME")?.value).toBe("evtj:h6vY");
    expect(stun.attribute(m, "FINGERPRINT")?.ok).toBe(true);
    expect(stun.verifyIntegrity(RFC5769.request, key)).toBe(true);
    expect(stun.verifyIntegrity(RFC5769.request, stun.shortTermKey("wrong"))).toBe(false);
    const mine = stun.encode({
      method: "Binding",
      class: "request",
      transactionId: RFC5769.transactionId,
      padding: 0x20,
      attributes: [
        { type: "SOFTWARE", value: "STUN test client" },
        { type: "PRIORITY", value: 0x6e0001ff },
        { type: "ICE-CONTROLLED", tiebreaker: 0x932ff9b151263b36n },
        { type: "USERNAME", value: "evtj:h6vY" },
        { type: "MESSAGE-INTEGRITY", key },
        { type: "FINGERPRINT" },
      ],
    });
    expect(mine.toString("hex")).toBe(RFC5769.request.toString("hex"));
  });
  it("§2.2 and §2.3: the XOR-mapped addresses, and our responses are the RFC's bytes", () => {
    for (const [bytes, address] of [
      [RFC5769.ipv4Response, "192.0.2.1"],
      [RFC5769.ipv6Response, "2001:db8:1234:5678:11:2233:4455:6677"],
    ] as const) {
      const m = stun.decode(bytes);
      expect(m.class).toBe("success");
      expect(stun.attribute(m, "XOR-MAPPED-ADDRESS")).toEqual({ type: "XOR-MAPPED-ADDRESS", address, port: 32853 });
      expect(stun.verifyIntegrity(bytes, key)).toBe(true);
      const again = stun.encode({
        method: "Binding",
        class: "success",
        transactionId: RFC5769.transactionId,
        padding: 0x20,
        attributes: [
          { type: "SOFTWARE", value: "test vector" },
          { type: "XOR-MAPPED-ADDRESS", address, port: 32853 },
          { type: "MESSAGE-INTEGRITY", key },
          { type: "FINGERPRINT" },
        ],
      });
      expect(again.toString("hex")).toBe(bytes.toString("hex"));
    }
  });
  it("one flipped bit: the fingerprint fails and so does the HMAC", () => {
    const bad = Buffer.from(RFC5769.ipv4Response);
    bad[45] ^= 1; // inside the XORed address
    expect(stun.attribute(stun.decode(bad), "FINGERPRINT")?.ok).toBe(false);
    expect(stun.verifyIntegrity(bad, key)).toBe(false);
  });
});

describe("stun, the message type", () => {
  it("interleaves method and class bits as RFC 8489 §5 draws them", () => {
    expect(stun.messageType("Binding", "request")).toBe(0x0001);
    expect(stun.messageType("Binding", "indication")).toBe(0x0011);
    expect(stun.messageType("Binding", "success")).toBe(0x0101);
    expect(stun.messageType("Binding", "error")).toBe(0x0111);
    expect(stun.messageType("Allocate", "error")).toBe(0x0113);
    expect(stun.messageType("Send", "indication")).toBe(0x0016);
    expect(stun.messageType("Data", "indication")).toBe(0x0017);
    expect(stun.messageType("METHOD0xfff", "error")).toBe(0x3fff);
  });
  it("the long-term key is MD5(username:realm:password)", () => {
    expect(stun.longTermKey("user", "realm", "pass").toString("hex")).toBe("8493fbc53ba582fb4c044c456bdc40eb");
  });
});

describe("stun, bad input", () => {
  const cases: [string, Buffer, stun.StunErrorCode][] = [
    ["19 bytes", RFC5769.request.subarray(0, 19), "ERR_STUN_TRUNCATED"],
    ["ChannelData's first bits", Buffer.concat([hex("4000"), RFC5769.request.subarray(2)]), "ERR_STUN_NOT_STUN"],
    ["an RFC 3489 header", Buffer.concat([RFC5769.request.subarray(0, 4), Buffer.alloc(16)]), "ERR_STUN_BAD_COOKIE"],
    ["a length of 3", Buffer.concat([hex("00010003"), RFC5769.request.subarray(4, 23)]), "ERR_STUN_BAD_LENGTH"],
    ["cut short", RFC5769.request.subarray(0, 60), "ERR_STUN_TRUNCATED"],
    [
      "an attribute past the end",
      Buffer.concat([hex("00010004 2112a442"), Buffer.alloc(12), hex("80220009")]),
      "ERR_STUN_ATTRIBUTE_PAST_END",
    ],
    [
      "family 3",
      Buffer.concat([hex("00010008 2112a442"), Buffer.alloc(12), hex("00200004 0003abcd")]),
      "ERR_STUN_BAD_FAMILY",
    ],
    [
      "a 4-byte FINGERPRINT of 3",
      Buffer.concat([hex("00010008 2112a442"), Buffer.alloc(12), hex("80280003 00000000")]),
      "ERR_STUN_BAD_ATTRIBUTE",
    ],
  ];
  it.each(cases)("%s: %s", (_what, bytes, code) => {
    const e = (() => {
      try {
        stun.decode(bytes);
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(stun.StunError);
    expect(e).toBeInstanceOf(CodecError);
    expect((e as stun.StunError).code).toBe(code);
  });
  it("refuses values it cannot write, before writing anything", () => {
    const base = { method: "Binding", class: "request", transactionId: Buffer.alloc(12) } as const;
    expect(() => stun.encode({ ...base, transactionId: Buffer.alloc(11) })).toThrow(RangeError);
    expect(() => stun.encode({ ...base, method: "Nope" })).toThrow(/unknown STUN method/);
    expect(() => stun.encode({ ...base, attributes: [{ type: "XOR-MAPPED-ADDRESS", address: "x", port: 1 }] })).toThrow(
      RangeError,
    );
    expect(() => stun.encode({ ...base, attributes: [{ type: "0x0020", data: Buffer.alloc(0) }] })).toThrow(
      /unknown STUN attribute/,
    );
  });
});
