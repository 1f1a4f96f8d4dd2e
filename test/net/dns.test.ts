// net/dns: the zone server (and its DNS64 synthesis, RFC 6147 §5.1, under RFC 6052 prefixes) and
// the stub resolver, on loopback over IPv4 and IPv6; and the pure responder on bad bytes.
import { describe, expect, it } from "vitest";
import { dnsServer, resolve, respond } from "../../helpers/net/dns";
import * as dns from "../../helpers/wire/dns";

const zone = { "both.test": { A: ["192.0.2.1"], AAAA: ["2001:db8::1"] }, "v4only.test": { A: ["192.0.2.33"] } };

describe("dnsServer and resolve", () => {
  it("answers A and AAAA from the zone, NXDOMAIN otherwise, over IPv4 and IPv6", async () => {
    const server = await dnsServer(0, { zone, address: "::1" });
    const four = await dnsServer(0, { zone, address: "127.0.0.1" });
    try {
      expect((await resolve("::1", server.port, "both.test", "AAAA")).addresses).toEqual(["2001:db8::1"]);
      expect((await resolve("127.0.0.1", four.port, "both.test", "A")).addresses).toEqual(["192.0.2.1"]);
      expect((await resolve("::1", server.port, "v4only.test", "AAAA")).addresses).toEqual([]);
      expect((await resolve("::1", server.port, "nowhere.test", "A")).rcode).toBe("NXDOMAIN");
      expect(server.asked().map((a) => a.answer)).toEqual(["AAAA 2001:db8::1", "no records", "NXDOMAIN"]);
    } finally {
      await Promise.all([server.close(), four.close()]);
    }
  });

  it("synthesizes AAAA from A under the NAT64 prefix only for names without AAAA", async () => {
    const server = await dnsServer(0, { zone, address: "127.0.0.1", dns64Prefix: "2001:db8:122:344::/96" });
    try {
      expect((await resolve("127.0.0.1", server.port, "v4only.test", "AAAA")).addresses).toEqual([
        "2001:db8:122:344::c000:221",
      ]);
      expect((await resolve("127.0.0.1", server.port, "both.test", "AAAA")).addresses).toEqual(["2001:db8::1"]);
      expect(server.asked()[0].answer).toBe("AAAA 2001:db8:122:344::c000:221 (synthesized)");
    } finally {
      await server.close();
    }
  });

  it("reports a lost answer as a timeout", async () => {
    const r = await resolve("127.0.0.1", 9, "both.test", "A", 200);
    expect(r.rcode === "timeout" || r.addresses.length === 0).toBe(true);
  });

  it("answers garbage with FORMERR, or not at all when there is no ID", () => {
    expect(respond(Buffer.from([1]), { zone }).reply).toBeNull();
    const reply = respond(Buffer.from([0x12, 0x34, 0xff]), { zone }).reply;
    expect(reply && dns.decode(reply)).toMatchObject({ id: 0x1234, flags: { qr: true, rcode: 1 } });
  });
});
