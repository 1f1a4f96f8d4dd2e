// helpers/wire/socks.ts: RFC 1928's and RFC 1929's messages as golden bytes (the layouts of
// RFC 1928 §3, §4, §5, §6 and RFC 1929 §2), every address type, and each fault named.
import { describe, expect, it } from "vitest";
import * as socks from "../../helpers/wire/socks";

const hex = (b: Buffer) => b.toString("hex");
const fault = (c: { decode(b: Buffer): unknown }, h: string) => {
  try {
    c.decode(Buffer.from(h, "hex"));
    return "decoded";
  } catch (e) {
    return e instanceof socks.SocksError ? `${e.code}@${e.offset}` : String(e);
  }
};

describe("socks5 messages", () => {
  it("lay out greetings, choices and RFC 1929's sub-negotiation", () => {
    expect(hex(socks.greeting.encode({ methods: [0, 2] }))).toBe("05020002");
    expect(hex(socks.methodChoice.encode({ method: 0xff }))).toBe("05ff");
    expect(hex(socks.userPass.encode({ username: "ada", password: "pw" }))).toBe("010361646102" + "7077");
    expect(hex(socks.userPassReply.encode({ status: 0 }))).toBe("0100");
  });
  it("lay out requests and replies with each address type", () => {
    const r = (address: socks.SocksAddress) => hex(socks.request.encode({ code: 1, address, port: 80 }));
    expect(r({ type: "ipv4", host: "127.0.0.1" })).toBe("050100017f0000010050");
    expect(r({ type: "domain", host: "a.test" })).toBe("0501000306612e746573740050");
    expect(r({ type: "ipv6", host: "::1" })).toBe("05010004" + "0".repeat(31) + "1" + "0050");
    const reply = { code: 5, address: { type: "ipv4", host: "0.0.0.0" }, port: 0 } as const;
    expect(hex(socks.reply.encode(reply))).toBe("05050001000000000000");
    expect(socks.reply.decode(socks.reply.encode(reply))).toEqual(reply);
  });
  it("say when a message is not all there yet", () => {
    expect(socks.complete(socks.request, Buffer.from("0501000306612e74", "hex"))).toBe(false);
    expect(socks.complete(socks.request, Buffer.from("0501000306612e746573740050", "hex"))).toBe(true);
    expect(() => socks.complete(socks.request, Buffer.from("04", "hex"))).toThrow(socks.SocksError);
  });
  it("name each fault", () => {
    expect(fault(socks.greeting, "04010050")).toBe("ERR_SOCKS_BAD_VERSION@0");
    expect(fault(socks.greeting, "0500")).toBe("ERR_SOCKS_NO_METHODS@1");
    expect(fault(socks.greeting, "050300")).toBe("ERR_SOCKS_TRUNCATED@2");
    expect(fault(socks.request, "0501010100000000")).toBe("ERR_SOCKS_BAD_RESERVED@2");
    expect(fault(socks.request, "0501000500")).toBe("ERR_SOCKS_BAD_ADDRESS_TYPE@3");
    expect(fault(socks.request, "050100030000")).toBe("ERR_SOCKS_BAD_NAME@4");
    expect(fault(socks.userPass, "0100")).toBe("ERR_SOCKS_BAD_NAME@1");
    expect(fault(socks.userPass, "05036164610170")).toBe("ERR_SOCKS_BAD_VERSION@0");
    expect(fault(socks.userPassReply, "01")).toBe("ERR_SOCKS_TRUNCATED@1");
  });
  it("check what they are asked to write", () => {
    expect(() => socks.greeting.encode({ methods: [] })).toThrow(RangeError);
    expect(() => socks.userPass.encode({ username: "", password: "x" })).toThrow(RangeError);
    expect(() =>
      socks.request.encode({ code: 1, address: { type: "domain", host: "x".repeat(256) }, port: 1 }),
    ).toThrow(RangeError);
    expect(() => socks.request.encode({ code: 1, address: { type: "ipv4", host: "::1" }, port: 1 })).toThrow();
  });
});
