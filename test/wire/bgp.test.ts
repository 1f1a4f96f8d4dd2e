// helpers/wire/bgp.ts: golden bytes laid out by hand from RFC 4271 §4 (header, OPEN, UPDATE,
// KEEPALIVE, NOTIFICATION), RFC 5492 (capabilities) and RFC 6793 (4-octet AS_PATH), BIRD 2's own
// OPEN as notebook 44 received it, the stream cutter, and one typed BgpError for bad bytes.
// (Notebook 44 checks the same codec against BIRD and tshark on a live session.)
import { describe, expect, it } from "vitest";
import {
  announce,
  bgp,
  BgpError,
  bgpStream,
  capabilities,
  notificationText,
  openAs,
  routeOf,
  type BgpMessage,
} from "../../helpers/wire/bgp";

const MARKER = "ff".repeat(16);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("bgp: golden bytes", () => {
  it("KEEPALIVE is the 19-byte header alone (§4.4)", () => {
    expect(bgp.encode({ type: "keepalive" })).toEqual(hex(`${MARKER} 0013 04`));
    expect(bgp.decode(hex(`${MARKER} 0013 04`))).toEqual({ type: "keepalive" });
  });
  it("OPEN with IPv4 unicast and 4-octet AS capabilities (§4.2, RFC 5492, RFC 6793)", () => {
    const m: BgpMessage = {
      type: "open",
      version: 4,
      myAs: 65001,
      holdTime: 90,
      bgpId: "10.255.0.3",
      capabilities: capabilities(65001),
    };
    const want = hex(`${MARKER} 002b 01 04 fde9 005a 0aff0003 0e 02 0c 01 04 00010001 41 04 0000fde9`);
    expect(bgp.encode(m)).toEqual(want);
    expect(bgp.decode(want)).toEqual(m);
  });
  it("decodes BIRD 2.0.12's OPEN and finds its AS in the as4 capability", () => {
    const bird = hex(
      `${MARKER} 0035 01 04 fde8 00f0 0a2c0001 18 02 16 01 04 00010001 02 00 40 02 0078 41 04 0000fde8 46 00 47 00`,
    );
    const m = bgp.decode(bird);
    expect(m.type === "open" && [m.holdTime, m.bgpId, m.capabilities.map((c) => c.code), openAs(m)]).toEqual([
      240,
      "10.44.0.1",
      [1, 2, 64, 65, 70, 71],
      65000,
    ]);
    // one optional parameter holding every capability, as our encoder writes it too
    expect(bgp.encode(m)).toEqual(bird);
  });
  it("UPDATE: ORIGIN, AS_PATH with 4-octet ASNs, NEXT_HOP, MED and one /24 of NLRI (§4.3)", () => {
    const u = announce(["10.1.1.0/24"], { asPath: [65001, 65030], nextHop: "10.44.1.2", med: 10 });
    const want = hex(
      `${MARKER} 003a 02 0000 001f 400101 00 40020a 02 02 0000fde9 0000fe06 400304 0a2c0102 800404 0000000a 18 0a0101`,
    );
    expect(bgp.encode(u)).toEqual(want);
    const back = bgp.decode(want);
    expect(back.type === "update" && routeOf(back)).toEqual({
      origin: "igp",
      asPath: [65001, 65030],
      asPathLength: 2,
      nextHop: "10.44.1.2",
      med: 10,
      communities: [],
    });
  });
  it("withdrawals: prefixes of 0, 9, 24 and 32 bits take 0, 2, 3 and 4 address bytes", () => {
    const m: BgpMessage = {
      type: "update",
      withdrawn: ["0.0.0.0/0", "10.128.0.0/9", "192.0.2.0/24", "192.0.2.7/32"],
      attributes: [],
      nlri: [],
    };
    const want = hex(`${MARKER} 0024 02 000d 00 090a80 18c00002 20c0000207 0000`);
    expect(bgp.encode(m)).toEqual(want);
    expect(bgp.decode(want)).toEqual(m);
  });
  it("an attribute longer than 255 bytes gets the extended-length flag", () => {
    const asns = Array.from({ length: 70 }, (_, i) => 64512 + i);
    const b = bgp.encode(announce(["10.0.0.0/8"], { asPath: asns, nextHop: "10.0.0.1" }));
    const at = 19 + 2 + 2 + 4; // after ORIGIN
    expect([b[at], b[at + 1], b.readUInt16BE(at + 2)]).toEqual([0x50, 2, 2 + 4 * 70]);
    const back = bgp.decode(b);
    expect(back.type === "update" && routeOf(back).asPath).toEqual(asns);
  });
  it("NOTIFICATION and ROUTE-REFRESH", () => {
    const n = hex(`${MARKER} 0019 03 02 02 0000fdec`);
    expect(bgp.decode(n)).toEqual({ type: "notification", code: 2, subcode: 2, data: hex("0000fdec") });
    expect(notificationText(2, 2)).toBe("OPEN Message Error / Bad Peer AS");
    expect(notificationText(1, 1)).toBe("Message Header Error / Connection Not Synchronized");
    expect(bgp.encode({ type: "route-refresh", afi: 1, safi: 1 })).toEqual(hex(`${MARKER} 0017 05 0001 00 01`));
  });
});

describe("bgp: bad bytes", () => {
  const fails = (b: Buffer, code: string) => {
    try {
      bgp.decode(b);
    } catch (e) {
      expect(e).toBeInstanceOf(BgpError);
      expect((e as BgpError).code).toBe(code);
      return;
    }
    throw new Error("decoded");
  };
  it("each fault has its code", () => {
    fails(hex(`${"ff".repeat(15)}00 0013 04`), "ERR_BGP_BAD_MARKER");
    fails(hex(`${MARKER} 0012 04`), "ERR_BGP_BAD_LENGTH");
    fails(hex(`${MARKER} 0014 04 00`), "ERR_BGP_BAD_LENGTH");
    fails(hex(`${MARKER} 0013 09`), "ERR_BGP_BAD_TYPE");
    fails(hex(`${MARKER} 0020 04`), "ERR_BGP_TRUNCATED");
    fails(hex(`${MARKER} 0018 02 0000 0000 21`), "ERR_BGP_BAD_PREFIX");
    fails(hex(`${MARKER} 001b 02 0000 0004 400101 05`), "ERR_BGP_BAD_ATTRIBUTE");
  });
  it("encode refuses what it cannot write, before writing", () => {
    expect(() => bgp.encode({ type: "update", withdrawn: ["10.0.0.0/33"], attributes: [], nlri: [] })).toThrow(
      RangeError,
    );
    expect(() => bgp.encode({ type: "open", myAs: 70000, holdTime: 90, bgpId: "1.2.3.4", capabilities: [] })).toThrow(
      /AS_TRANS/,
    );
  });
});

describe("bgpStream", () => {
  it("cuts messages out of a stream however it is split", () => {
    const bytes = Buffer.concat([
      bgp.encode({ type: "keepalive" }),
      bgp.encode(announce(["10.1.0.0/16"], { asPath: [65001], nextHop: "10.0.0.1" })),
      bgp.encode({ type: "keepalive" }),
    ]);
    for (const cut of [1, 7, 19, 20, 40]) {
      const s = bgpStream();
      const got = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))].map((m) => m.message.type);
      expect(got).toEqual(["keepalive", "update", "keepalive"]);
    }
  });
});
