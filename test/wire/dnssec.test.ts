// helpers/wire/dnssec.ts and DNSSEC's records in helpers/wire/dns.ts against the RFCs' own
// examples: RFC 4034 §4.3's NSEC bytes and §6.1's canonical order, RFC 6605 §6.1 (ECDSA P-256:
// the key tag, the DS digest, the published signature verifies), RFC 8080 §6.1 (Ed25519, whose
// signatures are deterministic: reproduced byte for byte, both as printed and as corrected by
// erratum 4935, which fixed the label count).
import { describe, expect, it } from "vitest";
import * as dns from "../../helpers/wire/dns";
import * as dnssec from "../../helpers/wire/dnssec";

const time = (s: string) =>
  Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(8, 10), +s.slice(10, 12), +s.slice(12)) / 1000;

describe("RFC 4034", () => {
  it("§4.3: the NSEC example's RDATA, byte for byte, and back", () => {
    const rr = {
      name: "alfa.example.com",
      type: "NSEC",
      ttl: 86400,
      data: { nextDomainName: "host.example.com", types: ["A", "MX", "RRSIG", "NSEC", "TYPE1234"] },
    };
    const wire = dns.record.encode(rr);
    const expected = Buffer.concat([
      dns.name.encode("host.example.com"),
      Buffer.from("0006400100000003041b", "hex"),
      Buffer.alloc(26),
      Buffer.from([0x20]),
    ]);
    expect(wire.subarray(wire.length - expected.length).toString("hex")).toBe(expected.toString("hex"));
    expect(dns.record.decode(wire).data).toEqual(rr.data);
  });
  it("§6.1: the canonical order of the RFC's example names", () => {
    const names = [
      "z.a.example",
      "example",
      "yljkjljk.a.example",
      "Z.a.example",
      "a.example",
      "zABC.a.EXAMPLE",
      "z.example",
      "\\001.z.example",
      "*.z.example",
      "\\200.z.example",
    ];
    const sorted = [...names].sort(dnssec.compareNames);
    expect(sorted).toEqual(
      [
        "example",
        "a.example",
        "yljkjljk.a.example",
        "Z.a.example",
        "zABC.a.EXAMPLE",
        "z.example",
        "\\001.z.example",
        "*.z.example",
        "\\200.z.example",
      ].flatMap((n) => (n === "Z.a.example" ? ["z.a.example", "Z.a.example"] : [n])),
    );
  });
});

describe("RFC 6605 §6.1, ECDSA P-256", () => {
  const key = dnssec.importKey(13, 257, "GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ=");
  const rrset = [{ name: "www.example.net", type: "A", class: "IN", ttl: 3600, data: "192.0.2.1" }];
  const published: dns.RrsigData = {
    typeCovered: "A",
    algorithm: 13,
    labels: 3,
    originalTtl: 3600,
    expiration: time("20100909100439"),
    inception: time("20100812100439"),
    keyTag: 55648,
    signersName: "example.net",
    signature: Buffer.from(
      "qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==",
      "base64",
    ),
  };
  it("the public key, its tag (Appendix B) and its DS digest", () => {
    expect(key.dnskey.key.toString("base64")).toBe(
      "GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA==",
    );
    expect(key.tag).toBe(55648);
    expect(dnssec.dsFor("example.net.", key.dnskey).digest.toString("hex")).toBe(
      "b4c8c1fe2e7477127b27115656ad6256f424625bf5c1e2770ce6d6e37df61d17",
    );
  });
  it("the published signature verifies; a changed byte or another record does not", () => {
    expect(dnssec.verifyRRset(rrset, published, key.dnskey)).toBe(true);
    const bad = Buffer.from(published.signature);
    bad[10] ^= 1;
    expect(dnssec.verifyRRset(rrset, { ...published, signature: bad }, key.dnskey)).toBe(false);
    expect(dnssec.verifyRRset([{ ...rrset[0], data: "192.0.2.2" }], published, key.dnskey)).toBe(false);
  });
  it("our own signature (ECDSA is randomized) verifies", () => {
    const ours = dnssec.signRRset(rrset, key, {
      signer: "example.net",
      inception: published.inception,
      expiration: published.expiration,
    });
    expect(ours.data.signature.length).toBe(64);
    expect(dnssec.verifyRRset(rrset, ours.data, key.dnskey)).toBe(true);
  });
});

describe("RFC 8080 §6.1, Ed25519", () => {
  const mx = [
    {
      name: "example.com",
      type: "MX",
      class: "IN",
      ttl: 3600,
      data: Buffer.concat([Buffer.from([0, 10]), dns.name.encode("mail.example.com")]),
    },
  ];
  const vectors = [
    {
      priv: "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=",
      pub: "l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
      tag: 3613,
      ds: "3aa5ab37efce57f737fc1627013fee07bdf241bd10f3b1964ab55c78e79a304b",
      printed: "Edk+IB9KNNWg0HAjm7FazXyrd5m3Rk8zNZbvNpAcM+eysqcUOMIjWoevFkjH5GaMWeG96GUVZu6ECKOQmemHDg==",
      corrected: "oL9krJun7xfBOIWcGHi7mag5/hdZrKWw15jPGrHpjQeRAvTdszaPD+QLs3fx8A4M3e23mRZ9VrbpMngwcrqNAg==",
    },
    {
      priv: "DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=",
      pub: "zPnZ/QwEe7S8C5SPz2OfS5RR40ATk2/rYnE9xHIEijs=",
      tag: 35217,
      ds: "401781b934e392de492ec77ae2e15d70f6575a1c0bc59c5275c04ebe80c6614c",
      printed: "5LL2obmzdqjWI+Xto5eP5adXt/T5tMhasWvwcyW4L3SzfcRawOle9bodhC+oip9ayUGjY9T/rL4rN3bOuESGDA==",
      corrected: "zXQ0bkYgQTEFyfLyi9QoiY6D8ZdYo4wyUhVioYZXFdT410QPRITQSqJSnzQoSm5poJ7gD7AQR0O7KuI5k2pcBg==",
    },
  ];
  it.each(vectors)("key $tag: public key, tag, DS, and both signatures byte for byte", (v) => {
    const key = dnssec.importKey(15, 257, v.priv);
    expect(key.dnskey.key.toString("base64")).toBe(v.pub);
    expect(key.tag).toBe(v.tag);
    expect(dnssec.dsFor("example.com", key.dnskey).digest.toString("hex")).toBe(v.ds);
    const sign = (labels?: number) =>
      dnssec.signRRset(mx, key, { signer: "example.com", inception: 1438207200, expiration: 1440021600, labels }).data;
    expect(sign().labels).toBe(2);
    expect(sign().signature.toString("base64")).toBe(v.corrected);
    expect(sign(3).signature.toString("base64")).toBe(v.printed);
    expect(dnssec.verifyRRset(mx, sign(), key.dnskey)).toBe(true);
  });
});

describe("zones", () => {
  it("an NSEC chain closes at the apex and lists RRSIG and NSEC at every name", () => {
    const rrs = [
      { name: "a.test", type: "SOA", data: Buffer.alloc(0) },
      { name: "www.a.test", type: "A", data: "127.0.0.1" },
      { name: "b.a.test", type: "A", data: "127.0.0.2" },
    ];
    const chain = dnssec.nsecChain(rrs, "a.test", 300);
    expect(chain.map((n) => [n.name, n.data.nextDomainName])).toEqual([
      ["a.test", "b.a.test"],
      ["b.a.test", "www.a.test"],
      ["www.a.test", "a.test"],
    ]);
    expect(chain[0].data.types).toEqual(["SOA", "RRSIG", "NSEC"]);
    const twice = dnssec.nsecChain(
      [...rrs, { name: "a.test", type: "NS", data: "ns.a.test" }, { name: "a.test", type: "NS", data: "ns2.a.test" }],
      "a.test",
      300,
    );
    expect(twice[0].data.types).toEqual(["NS", "SOA", "RRSIG", "NSEC"]); // each type once, by number
    expect(chain.every(dnssec.isNsec)).toBe(true);
    expect(dnssec.isRrsig(chain[0])).toBe(false);
  });
  it("zone-file lines, as the tools read them", () => {
    expect(dnssec.timeText(1440021600)).toBe("20150819220000");
    const key = dnssec.importKey(15, 257, "ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=");
    expect(dnssec.zoneLine({ name: "example.com", type: "DNSKEY", ttl: 3600, data: key.dnskey })).toBe(
      "example.com. 3600 IN DNSKEY 257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
    );
    const soa = dnssec.soaData({
      mname: "ns.a.test",
      rname: "h.a.test",
      serial: 1,
      refresh: 2,
      retry: 3,
      expire: 4,
      minimum: 5,
    });
    expect(dnssec.zoneLine({ name: "a.test", type: "SOA", ttl: 60, data: soa })).toBe(
      "a.test. 60 IN SOA ns.a.test. h.a.test. 1 2 3 4 5",
    );
  });
});
