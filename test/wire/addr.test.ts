// helpers/wire/addr.ts against Node's own address handling, an independent implementation:
// net.isIPv4 for dotted quads, the WHATWG URL parser's IPv6 serializer (RFC 5952's canonical
// text) and net.BlockList for CIDR membership; generated cases with fast-check, and the edges.
import fc from "fast-check";
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import {
  embedIpv4,
  eui64InterfaceId,
  extractIpv4,
  NAT64_PREFIX_LENGTHS,
  NAT64_WELL_KNOWN_PREFIX,
  slaacAddress,
  hardwareBytes,
  inCidr,
  intToIpv4,
  ipv4Bytes,
  ipv4Text,
  ipv4ToInt,
  ipv6Bytes,
  ipv6Text,
  isIpv4,
  isMac,
  macBytes,
  macText,
  maskToPrefix,
  parseCidr,
  prefixToMask,
} from "../../helpers/wire/addr";
import { bytes, ipv4Address, params, u32 } from "./fuzz";

/** What the WHATWG URL parser makes of an IPv6 address: its canonical text. */
const whatwg = (text: string) => new URL(`http://[${text}]/`).hostname.slice(1, -1);

describe("IPv4", () => {
  it("text, bytes and numbers agree with each other and with net.isIPv4", () => {
    fc.assert(
      fc.property(ipv4Address, (a) => {
        expect(ipv4Text(ipv4Bytes(a))).toBe(a);
        expect(intToIpv4(ipv4ToInt(a))).toBe(a);
        expect(ipv4ToInt(a)).toBe(ipv4Bytes(a).readUInt32BE(0));
      }),
      params,
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{0,16}$/), (s) => {
        expect(isIpv4(s)).toBe(net.isIPv4(s));
      }),
      params,
    );
  });
  it("refuses what is not a dotted quad, naming the field", () => {
    for (const bad of ["10.0.0", "10.0.0.256", "010.0.0.1", "1.2.3.4.5", " 1.2.3.4", "", "a.b.c.d"])
      expect(() => ipv4Bytes(bad, "src")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(() => ipv4Bytes("10.0.0", "src")).toThrow(/^src: not an IPv4 address: "10.0.0"$/);
    expect(() => intToIpv4(2 ** 32)).toThrow(RangeError);
    expect(() => ipv4Text(Buffer.alloc(3))).toThrow(RangeError);
  });
});

describe("prefixes, masks and CIDR", () => {
  it("masks and prefixes both ways", () => {
    expect([prefixToMask(24), prefixToMask(0), prefixToMask(32), prefixToMask(20)]).toEqual([
      "255.255.255.0",
      "0.0.0.0",
      "255.255.255.255",
      "255.255.240.0",
    ]);
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
    expect(() => maskToPrefix("255.0.255.0")).toThrow(/not a contiguous subnet mask/);
    expect(() => prefixToMask(33)).toThrow(RangeError);
  });
  it("membership is what net.BlockList says", () => {
    fc.assert(
      fc.property(ipv4Address, fc.integer({ min: 0, max: 32 }), ipv4Address, (network, prefix, a) => {
        const list = new net.BlockList();
        list.addSubnet(network, prefix, "ipv4");
        expect(inCidr(a, `${network}/${prefix}`)).toBe(list.check(a, "ipv4"));
        expect(inCidr(network, `${network}/${prefix}`)).toBe(true);
      }),
      params,
    );
    expect(parseCidr("10.66.0.5/24")).toEqual({
      network: 0x0a420000,
      prefix: 24,
      first: 0x0a420000,
      last: 0x0a4200ff,
    });
    expect(parseCidr("10.0.0.1").prefix).toBe(32);
    for (const bad of ["10.0.0.0/33", "10.0.0/8", "10.0.0.0/", "/8"]) expect(() => parseCidr(bad)).toThrow(RangeError);
  });
});

describe("IPv6", () => {
  it("16 bytes print as the WHATWG URL parser prints them (RFC 5952), and parse back", () => {
    // zero runs are where the cases are: bias the bytes toward zero
    const words = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(words, (ws) => {
        const b = Buffer.alloc(16);
        ws.forEach((w, i) => b.writeUInt16BE(w, i * 2));
        const text = ipv6Text(b);
        expect(text).toBe(whatwg(text));
        expect(ipv6Bytes(text)).toEqual(b);
        expect(ipv6Bytes(ws.map((w) => w.toString(16).toUpperCase()).join(":"))).toEqual(b); // the full form
      }),
      params,
    );
  });
  it("the forms of RFC 4291 §2.2, and what is not one", () => {
    expect(ipv6Text(ipv6Bytes("0:0:0:0:0:0:0:1"))).toBe("::1");
    expect(ipv6Text(ipv6Bytes("FD00:0:0:1:0:0:0:53"))).toBe("fd00:0:0:1::53");
    expect(ipv6Text(ipv6Bytes("1:0:0:2:0:0:3:4"))).toBe("1::2:0:0:3:4"); // a tie: the first run
    expect(ipv6Bytes("::ffff:127.0.0.1").toString("hex")).toBe("00000000000000000000ffff7f000001");
    expect(ipv6Text(Buffer.concat([Buffer.alloc(3), ipv6Bytes("::1")]), 3)).toBe("::1");
    for (const bad of ["1:2:3", "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7:8:9", "::1.2.3.256", ":::"])
      expect(() => ipv6Bytes(bad)).toThrow(/not an IPv6 address/);
  });
});

describe("MAC addresses", () => {
  it("bytes to text and back", () => {
    fc.assert(
      fc.property(bytes(6, 6), u32, (b, n) => {
        const text = macText(b);
        expect(isMac(text)).toBe(true);
        expect(macBytes(text)).toEqual(b);
        expect(macBytes(text.toUpperCase().replace(/:/g, "-"))).toEqual(b);
        const hw = b.subarray(0, 1 + (n % 6));
        expect(hardwareBytes(macText(hw, 0, hw.length))).toEqual(hw);
      }),
      params,
    );
    expect(() => macBytes("02:00:00:00:00")).toThrow(/not a MAC address/);
    expect(() => macBytes("02:00:00:00:00:0g")).toThrow(/not a MAC address/);
    expect(() => macBytes("02:00-00:00:00:01")).toThrow(/not a MAC address/); // one separator throughout
    expect(() => hardwareBytes("", "chaddr")).toThrow(/^chaddr: not a hardware address/);
    expect(() => hardwareBytes("aa:".repeat(16) + "aa")).toThrow(/not a hardware address/); // 17 octets
  });
});

describe("IPv4-embedded IPv6 addresses (RFC 6052)", () => {
  // RFC 6052 §2.4, the table of examples: 192.0.2.33 under each prefix length.
  const vectors: Array<[string, string]> = [
    ["2001:db8::/32", "2001:db8:c000:221::"],
    ["2001:db8:100::/40", "2001:db8:1c0:2:21::"],
    ["2001:db8:122::/48", "2001:db8:122:c000:2:2100::"],
    ["2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"],
    ["2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"],
    ["2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"],
  ];
  it("embeds 192.0.2.33 as the RFC's table shows, for every prefix length", () => {
    for (const [prefix, expected] of vectors) {
      expect(ipv6Bytes(embedIpv4(prefix, "192.0.2.33"))).toEqual(ipv6Bytes(expected));
      expect(extractIpv4(expected, Number(prefix.split("/")[1]))).toBe("192.0.2.33");
    }
    expect(embedIpv4(NAT64_WELL_KNOWN_PREFIX, "192.0.2.33")).toBe("64:ff9b::c000:221");
  });
  it("round-trips any IPv4 address under any allowed length, keeping the u octet zero", () => {
    fc.assert(
      fc.property(ipv4Address, fc.constantFrom(...NAT64_PREFIX_LENGTHS), (v4, len) => {
        const a = embedIpv4(`2001:db8:ffff:ffff:ff:ffff::/${len}`, v4);
        expect(extractIpv4(a, len)).toBe(v4);
        expect(ipv6Bytes(a)[8]).toBe(0);
      }),
      params,
    );
  });
  it("refuses other prefix lengths", () => {
    expect(() => embedIpv4("2001:db8::/33", "192.0.2.33")).toThrow(/must be one of 32, 40, 48, 56, 64, 96/);
    expect(() => extractIpv4("2001:db8::", 100)).toThrow(RangeError);
    expect(() => embedIpv4("2001:db8:0:0:100::/96", "192.0.2.33")).toThrow(/"u" octet/);
  });
});

describe("modified EUI-64 interface identifiers (RFC 4291 appendix A)", () => {
  it("matches RFC 2464 §4's example and forms the SLAAC address on a /64", () => {
    expect(eui64InterfaceId("34-56-78-9A-BC-DE").toString("hex")).toBe("365678fffe9abcde");
    expect(slaacAddress("fe80::/64", "34:56:78:9a:bc:de")).toBe("fe80::3656:78ff:fe9a:bcde");
    expect(slaacAddress("2001:db8:1::/64", "02:00:00:00:01:02")).toBe("2001:db8:1::ff:fe00:102");
    expect(() => slaacAddress("2001:db8::/48", "02:00:00:00:01:02")).toThrow(/must be a \/64/);
  });
});
