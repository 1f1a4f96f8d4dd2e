// helpers/wire/dhcp.ts against bytes written out by hand from RFC 2131 and 2132, the server's rules
// without a network, and one clear DhcpError (never a RangeError from Buffer) on bad input.
// dhcp.fuzz.test.ts generates many more messages and corruptions.
import { describe, expect, it } from "vitest";
import { CodecError } from "../../helpers/wire/codec";
import {
  createDhcpCodec,
  decode,
  DhcpError,
  encode,
  encodingLength,
  summarize,
  type DhcpErrorCode,
  type DhcpMessage,
  type DhcpMessageInput,
} from "../../helpers/wire/dhcp";
import { dhcpClient } from "../../helpers/net/dhcp-client";
import { createDhcpResponder } from "../../helpers/net/dhcp-server";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const MAC = "02:00:5e:10:00:01";

const discover: DhcpMessageInput = {
  xid: 0x3903f326,
  broadcast: true,
  chaddr: MAC,
  options: {
    messageType: "DISCOVER",
    requestedIp: "10.77.0.100",
    parameterRequestList: [1, 3, 6, 51],
    hostName: "lab",
  },
};

/** The fixed part of a BOOTREQUEST from MAC with xid 0x3903f326 and the broadcast flag. */
const FIXED_REQUEST =
  "01 01 06 00" + // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
  "3903f326" + // xid
  "0000 8000" + // secs 0, flags: the broadcast bit
  "00000000 00000000 00000000 00000000" + // ciaddr yiaddr siaddr giaddr
  "02005e100001" +
  "00".repeat(10) + // chaddr, padded to 16 bytes
  "00".repeat(64) +
  "00".repeat(128); // sname, file
const COOKIE = "63825363";

describe("encode: the bytes RFC 2131 and 2132 describe", () => {
  it("a DISCOVER, field by field, padded to 300 bytes", () => {
    const bytes = encode(discover);
    const options =
      "35 01 01" + // 53 message type: DISCOVER (written first)
      "0c 03 6c6162" + // 12 host name "lab"
      "32 04 0a4d0064" + // 50 requested address 10.77.0.100
      "37 04 01030633" + // 55 parameter request list: 1, 3, 6, 51
      "ff"; // end
    const want = FIXED_REQUEST + COOKIE + options;
    expect(bytes.length).toBe(300);
    expect(bytes.toString("hex")).toBe(
      hex(want).toString("hex") + "00".repeat(300 - want.replace(/\s+/g, "").length / 2),
    );
    expect(encodingLength(discover)).toBe(300);
  });

  it("an ACK with every named option decodes to what was encoded", () => {
    const ack: DhcpMessageInput = {
      op: "BOOTREPLY",
      xid: 7,
      secs: 3,
      chaddr: MAC,
      ciaddr: "10.77.0.100",
      yiaddr: "10.77.0.100",
      siaddr: "10.77.0.1",
      hops: 1,
      sname: "wirebook",
      file: "boot/pxe",
      options: {
        messageType: "ACK",
        subnetMask: "255.255.255.0",
        routers: ["10.77.0.1", "10.77.0.2"],
        dnsServers: ["10.77.0.53"],
        hostName: "lab",
        domainName: "wirebook.test",
        broadcastAddress: "10.77.0.255",
        requestedIp: "10.77.0.100",
        leaseTime: 3600,
        serverId: "10.77.0.1",
        parameterRequestList: [1, 3],
        message: "hello",
        maxMessageSize: 1472,
        renewalTime: 1800,
        rebindingTime: 3150,
        vendorClassId: "wirebook 1",
        clientId: "0102005e100001",
        unknown: [{ code: 224, data: "cafe" }],
      },
    };
    const m = decode(encode(ack));
    expect(m).toEqual({ htype: 1, hlen: 6, broadcast: false, giaddr: "0.0.0.0", ...ack });
    expect(encode(m)).toEqual(encode(ack));
  });

  it("an option longer than 255 bytes is split, and a split option is joined again (RFC 3396)", () => {
    const long = "ab".repeat(300);
    const bytes = encode({ chaddr: MAC, options: { messageType: "INFORM", unknown: [{ code: 224, data: long }] } });
    const at = 240 + 3; // after the cookie and the message type
    expect([bytes[at], bytes[at + 1], bytes[at + 2 + 255], bytes[at + 2 + 255 + 1]]).toEqual([224, 255, 224, 45]);
    expect(decode(bytes).options.unknown).toEqual([{ code: 224, data: long }]);
  });

  it("a reply type makes a BOOTREPLY unless told otherwise; the broadcast flag is bit 15", () => {
    const offer = encode({ chaddr: MAC, broadcast: true, options: { messageType: "OFFER" } });
    expect([offer[0], offer.readUInt16BE(10)]).toEqual([2, 0x8000]);
    expect(encode({ chaddr: MAC, options: { messageType: "RELEASE" } })[0]).toBe(1);
  });

  it("refuses what DHCP cannot carry, naming the field", () => {
    const bad = (patch: object) => () => encode({ ...discover, ...patch } as DhcpMessageInput);
    expect(bad({ chaddr: "02:00:zz:00:00:01" })).toThrow(/chaddr: not a hardware address/);
    expect(bad({ ciaddr: "10.0.0.256" })).toThrow(/ciaddr: not an IPv4 address/);
    expect(bad({ xid: 2 ** 32 })).toThrow(/xid must be an integer/);
    expect(bad({ sname: "x".repeat(64) })).toThrow(/sname: at most 63 bytes/);
    expect(bad({ options: { messageType: "HELLO" } })).toThrow(/messageType: one of DISCOVER/);
    expect(bad({ options: { messageType: "ACK", routers: [] } })).toThrow(/routers: a non-empty list/);
    expect(bad({ options: { messageType: "ACK", leaseTime: -1 } })).toThrow(/leaseTime must be an integer/);
    expect(bad({ options: { messageType: "ACK", unknown: [{ code: 51, data: "00" }] } })).toThrow(
      /must be 1..254, not one with a name/,
    );
    expect(bad({ hlen: 4 })).toThrow(/hlen: 4, but chaddr/);
    expect(bad({ options: { messageType: "ACK", hostName: "lab\0" } })).toThrow(/does not end in NUL/);
    expect(bad({ options: {} })).toThrow(/needs options.messageType/);
  });

  it("summarize: one short line per message for transcripts", () => {
    expect(summarize(decode(encode(discover)))).toEqual({
      type: "DISCOVER",
      xid: "0x3903f326",
      chaddr: MAC,
      broadcast: true,
      options: {
        hostName: "lab",
        requestedIp: "10.77.0.100",
        parameterRequestList: ["subnetMask", "routers", "dnsServers", "leaseTime"],
      },
    });
  });
});

describe("decode: what other implementations send", () => {
  it("a message with pad bytes between options, a NUL-terminated host name, and no padding to 300", () => {
    const m = decode(hex(FIXED_REQUEST + COOKIE + "00 00 35 01 03 0c 04 6c616200 00 36 04 0a4d0001 ff"));
    expect(m.options).toEqual({ messageType: "REQUEST", hostName: "lab", serverId: "10.77.0.1" });
    expect([m.op, m.xid, m.broadcast, m.chaddr]).toEqual(["BOOTREQUEST", 0x3903f326, true, MAC]);
  });

  it("anything after the end option is ignored", () => {
    expect(decode(hex(FIXED_REQUEST + COOKIE + "35 01 01 ff 0c 99")).options).toEqual({ messageType: "DISCOVER" });
  });

  it("plain BOOTP (no option 53) only when asked for", () => {
    const bootp = hex(FIXED_REQUEST + COOKIE + "ff");
    const bootpCodec = createDhcpCodec({ allowBootp: true });
    expect(bootpCodec.decode(bootp).options).toEqual({});
    expect(summarize(bootpCodec.decode(bootp)).type).toBe("BOOTP");
    expect(bootpCodec.encode(bootpCodec.decode(bootp)).subarray(0, bootp.length)).toEqual(bootp); // then pad
    expect(() => encode({ chaddr: MAC, options: {} })).toThrow(/needs options.messageType/);
  });
});

/** The error decode throws; fails the test if it returns or throws anything else. */
function decodeError(bytes: Buffer): DhcpError {
  try {
    decode(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DhcpError);
    return e as DhcpError;
  }
  throw new Error("expected a DhcpError, but the message decoded");
}

describe("decode: malformed input gives one clear DhcpError", () => {
  const withOptions = (options: string) => FIXED_REQUEST + COOKIE + options;
  const cases: [string, string, DhcpErrorCode, number][] = [
    ["empty input", "", "ERR_DHCP_TRUNCATED", 0],
    ["fixed fields cut short (100 bytes)", FIXED_REQUEST.replace(/\s+/g, "").slice(0, 200), "ERR_DHCP_TRUNCATED", 100],
    ["the fixed fields and no cookie", FIXED_REQUEST, "ERR_DHCP_MISSING_COOKIE", 236],
    ["half a cookie", FIXED_REQUEST + "6382", "ERR_DHCP_MISSING_COOKIE", 236],
    [
      "a wrong magic cookie (BOOTP's old vendor area)",
      FIXED_REQUEST + "00000000" + "35 01 01 ff",
      "ERR_DHCP_BAD_COOKIE",
      236,
    ],
    ["op 3", "03" + FIXED_REQUEST.replace(/\s+/g, "").slice(2) + COOKIE + "35 01 01 ff", "ERR_DHCP_BAD_OP", 0],
    ["hlen 17", "010111" + FIXED_REQUEST.replace(/\s+/g, "").slice(6) + COOKIE + "35 01 01 ff", "ERR_DHCP_BAD_HLEN", 2],
    ["a cookie and then nothing", withOptions(""), "ERR_DHCP_MISSING_END", 240],
    ["options without an end", withOptions("35 01 01 00 00"), "ERR_DHCP_MISSING_END", 245],
    ["an option whose length runs past the end", withOptions("35 01 01 0c 08 6c6162"), "ERR_DHCP_OPTION_PAST_END", 243],
    ["an option code with no length byte", withOptions("35 01 01 0c"), "ERR_DHCP_OPTION_PAST_END", 243],
    ["a 3-byte subnet mask", withOptions("35 01 01 01 03 ffffff ff"), "ERR_DHCP_BAD_OPTION_LENGTH", 243],
    ["a router list of 6 bytes", withOptions("35 01 01 03 06 0a4d00010a4d ff"), "ERR_DHCP_BAD_OPTION_LENGTH", 243],
    ["a 2-byte message type", withOptions("35 02 0101 ff"), "ERR_DHCP_BAD_OPTION_LENGTH", 240],
    ["an empty host name", withOptions("35 01 01 0c 00 ff"), "ERR_DHCP_BAD_OPTION_LENGTH", 243],
    ["message type 9", withOptions("35 01 09 ff"), "ERR_DHCP_UNKNOWN_MESSAGE_TYPE", 240],
    ["message type 0", withOptions("35 01 00 ff"), "ERR_DHCP_UNKNOWN_MESSAGE_TYPE", 240],
    ["no message type (BOOTP)", withOptions("32 04 0a4d0064 ff"), "ERR_DHCP_MISSING_MESSAGE_TYPE", 240],
    ["longer than one Ethernet frame", withOptions("35 01 01 ff") + "00".repeat(1300), "ERR_DHCP_TOO_LONG", 1472],
  ];

  it.each(cases)("%s", (_, bytes, code, offset) => {
    const e = decodeError(hex(bytes));
    expect({ name: e.name, code: e.code, offset: e.offset }).toEqual({ name: "DhcpError", code, offset });
    expect(e).toBeInstanceOf(CodecError);
    expect(e.message).toBe(`malformed DHCP message at offset ${offset}: ${e.reason} (${code})`);
  });

  it("a longer limit can be asked for", () => {
    const long = hex(withOptions("35 01 01 ff") + "00".repeat(1300));
    expect(createDhcpCodec({ maxLength: 2000 }).decode(long).options.messageType).toBe("DISCOVER");
  });

  it("random bytes never hang and never throw anything but DhcpError", () => {
    let seed = 42; // a fixed linear congruential generator: the same bytes every run
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >> 16;
    const valid = createDhcpCodec({ minLength: 0 }).encode({
      ...discover,
      options: { ...discover.options, routers: ["10.0.0.1"], leaseTime: 60, clientId: "01aabbccddeeff" },
    });
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const bytes = Buffer.from(valid.subarray(0, 200 + (next() % (valid.length - 199))));
      for (let k = next() % 3; k > 0; k--) bytes[240 + (next() % (bytes.length - 240 || 1))] = next() & 0xff;
      try {
        decode(bytes);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(DhcpError);
      }
    }
    expect(decoded).toBeGreaterThan(0); // some survive: the generator does reach the option parser
  });
});

describe("the server's rules, without a network", () => {
  const T0 = 1_700_000_000_000;
  const config = {
    iface: "eth0",
    serverIp: "10.77.0.1",
    poolStart: "10.77.0.100",
    poolEnd: "10.77.0.101",
    router: "10.77.0.1",
    leaseTime: 60,
  };
  const mac = (n: number) => `02:00:5e:10:00:0${n}`;
  const msg = (n: number, options: DhcpMessageInput["options"], fields: Partial<DhcpMessageInput> = {}): DhcpMessage =>
    decode(encode({ xid: n, broadcast: true, chaddr: mac(n), ...fields, options }));
  const dora = (r: ReturnType<typeof createDhcpResponder>, n: number, now = T0) => {
    const offer = r.handle(msg(n, { messageType: "DISCOVER" }), now);
    const ip = offer.reply!.yiaddr!;
    return {
      offer,
      ip,
      ack: r.handle(msg(n, { messageType: "REQUEST", serverId: "10.77.0.1", requestedIp: ip }), now),
    };
  };

  it("DISCOVER → OFFER of the first free address, broadcast as the client asked; REQUEST → ACK, a bound lease", () => {
    const r = createDhcpResponder(config);
    const { offer, ip, ack } = dora(r, 1);
    expect(offer.reply!.options).toMatchObject({
      messageType: "OFFER",
      serverId: "10.77.0.1",
      subnetMask: "255.255.255.0",
      routers: ["10.77.0.1"],
      leaseTime: 60,
      renewalTime: 30,
      rebindingTime: 52,
    });
    expect(offer.to).toMatchObject({ address: "255.255.255.255", port: 68, how: "broadcast" });
    expect(ip).toBe("10.77.0.100");
    expect(ack.reply!.options.messageType).toBe("ACK");
    expect(r.leases(T0)).toEqual([
      { ip, client: `mac:${mac(1)}`, chaddr: mac(1), state: "bound", expiresAt: T0 + 60_000 },
    ]);
  });

  it("without the broadcast flag the reply is still broadcast, and says why", () => {
    const d = createDhcpResponder(config).handle(msg(1, { messageType: "DISCOVER" }, { broadcast: false }), T0);
    expect(d.to).toMatchObject({ how: "broadcast", why: expect.stringMatching(/raw socket/) });
  });

  it("NAK: an address that was not offered, or one from another network; silence for another server's id", () => {
    const r = createDhcpResponder(config);
    r.handle(msg(1, { messageType: "DISCOVER" }), T0);
    const notOffered = r.handle(
      msg(1, { messageType: "REQUEST", serverId: "10.77.0.1", requestedIp: "10.77.0.101" }),
      T0,
    );
    expect(notOffered.reply!.options).toMatchObject({
      messageType: "NAK",
      message: "10.77.0.101 was not offered to this client",
    });
    expect(notOffered.to!.how).toBe("broadcast");
    const otherNet = r.handle(msg(2, { messageType: "REQUEST", requestedIp: "192.168.1.20" }), T0);
    expect(otherNet.reply!.options).toMatchObject({
      messageType: "NAK",
      message: "192.168.1.20 is not on this network (10.77.0.0/24)",
    });
    const otherServer = r.handle(
      msg(1, { messageType: "REQUEST", serverId: "10.77.0.9", requestedIp: "10.77.0.100" }),
      T0,
    );
    expect([otherServer.reply, otherServer.note]).toEqual([
      undefined,
      expect.stringMatching(/chose server 10.77.0.9; our offer is withdrawn/),
    ]);
    expect(r.leases(T0)).toEqual([]);
  });

  it("renewal extends the lease and is unicast to ciaddr; RELEASE frees it", () => {
    const r = createDhcpResponder(config);
    const { ip } = dora(r, 1);
    const renew = r.handle(msg(1, { messageType: "REQUEST" }, { ciaddr: ip, broadcast: false }), T0 + 30_000);
    expect(renew.reply).toMatchObject({ ciaddr: ip, yiaddr: ip, options: { messageType: "ACK" } });
    expect(renew.to).toMatchObject({ address: ip, how: "unicast" });
    expect(r.leases(T0 + 30_000)[0].expiresAt).toBe(T0 + 90_000);
    expect(r.handle(msg(1, { messageType: "RELEASE", serverId: "10.77.0.1" }, { ciaddr: ip }), T0 + 31_000)).toEqual({
      note: `${ip} released`,
    });
    expect(r.leases(T0 + 31_000)).toEqual([]);
  });

  it("leases expire; an unanswered offer is held only offerHoldMs", () => {
    const r = createDhcpResponder({ ...config, offerHoldMs: 5000 });
    dora(r, 1);
    r.handle(msg(2, { messageType: "DISCOVER" }), T0);
    expect(r.leases(T0 + 4999).map((l) => l.state)).toEqual(["bound", "offered"]);
    expect(r.leases(T0 + 5000).map((l) => l.state)).toEqual(["bound"]);
    expect(r.leases(T0 + 60_000)).toEqual([]);
  });

  it("a full pool gets no reply; a declined address stays out of the pool", () => {
    const r = createDhcpResponder({ ...config, declineHoldMs: 10_000 });
    dora(r, 1);
    dora(r, 2);
    expect(r.handle(msg(3, { messageType: "DISCOVER" }), T0)).toEqual({ note: "no reply: the pool is exhausted" });
    expect(
      r.handle(msg(2, { messageType: "DECLINE", serverId: "10.77.0.1", requestedIp: "10.77.0.101" }), T0).note,
    ).toMatch(/declined/);
    expect(r.leases(T0).map((l) => [l.ip, l.state])).toEqual([
      ["10.77.0.100", "bound"],
      ["10.77.0.101", "declined"],
    ]);
    expect(r.handle(msg(3, { messageType: "DISCOVER" }), T0).reply).toBeUndefined();
    expect(r.handle(msg(3, { messageType: "DISCOVER" }), T0 + 10_000).reply!.yiaddr).toBe("10.77.0.101");
  });

  it("INIT-REBOOT: ACK for the client's own address, NAK for another, silence for an unknown client", () => {
    const r = createDhcpResponder(config);
    const { ip } = dora(r, 1);
    expect(r.handle(msg(1, { messageType: "REQUEST", requestedIp: ip }), T0).reply!.options.messageType).toBe("ACK");
    expect(
      r.handle(msg(1, { messageType: "REQUEST", requestedIp: "10.77.0.101" }), T0).reply!.options.messageType,
    ).toBe("NAK");
    expect(r.handle(msg(5, { messageType: "REQUEST", requestedIp: "10.77.0.101" }), T0).reply).toBeUndefined();
  });

  it("a client identifier (61), when sent, names the client rather than its MAC", () => {
    const r = createDhcpResponder(config);
    r.handle(msg(1, { messageType: "DISCOVER", clientId: "ff0001" }), T0);
    const ack = r.handle(
      msg(2, { messageType: "REQUEST", clientId: "ff0001", serverId: "10.77.0.1", requestedIp: "10.77.0.100" }),
      T0,
    );
    expect(ack.reply!.options).toMatchObject({ messageType: "ACK", clientId: "ff0001" });
    expect(r.leases(T0)[0].client).toBe("id:ff0001");
  });

  it("refuses a configuration that cannot work", () => {
    expect(() => createDhcpResponder({ ...config, poolEnd: "10.77.1.5" })).toThrow(/not inside 10.77.0.0\/24/);
    expect(() => createDhcpResponder({ ...config, poolStart: "10.77.0.200", poolEnd: "10.77.0.100" })).toThrow(
      /is empty/,
    );
    expect(() => createDhcpResponder({ ...config, serverIp: "10.77.0" })).toThrow(/not an IPv4 address/);
  });
});

describe("the client checks its options before it opens a socket", () => {
  it.each([
    [{ iface: "eth0/1" }, /iface: not an interface name/],
    [{ iface: "eth0", renew: true }, /renew needs apply: true/],
    [{ iface: "eth0", timeoutMs: 0 }, /timeoutMs must be a positive whole number/],
    [{ iface: "eth0", attempts: 1.5 }, /attempts must be a positive whole number/],
    [{ iface: "eth0", rebootIp: "10.0.0" }, /rebootIp: not an IPv4 address/],
    [{ iface: "eth0", mac: "02:00:5e" }, /mac: not an Ethernet address/],
  ])("%j", async (opts, message) => {
    await expect(dhcpClient(opts)).rejects.toMatchObject({
      code: "ERR_INVALID_ARG_VALUE",
      message: expect.stringMatching(message),
    });
  });
});
