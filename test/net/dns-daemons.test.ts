// helpers/net/dns-daemons: a zone signed by helpers/wire/dnssec passes ldns-verify-zone and
// dnssec-verify, nsd serves it and unbound, trusting only its DS, validates it (AD) — and a changed
// signature byte makes both checkers fail and unbound answer SERVFAIL. Skipped where the programs
// are missing.
import { describe, expect, it } from "vitest";
import { query, startNsd, startUnbound, verifyZone } from "../../helpers/net/dns-daemons";
import { hasProgram } from "../../helpers/os/programs";
import type { ResourceRecord } from "../../helpers/wire/dns";
import * as dnssec from "../../helpers/wire/dnssec";

const apex = "wirebook.test";
const now = Math.floor(Date.now() / 1000);
const keys = { ksks: [dnssec.generateKey(13, 257)], zsks: [dnssec.generateKey(13, 256)] };
const soa = dnssec.soaData({
  mname: "ns1.wirebook.test",
  rname: "h.wirebook.test",
  serial: 1,
  refresh: 7200,
  retry: 3600,
  expire: 1209600,
  minimum: 300,
});
const records: ResourceRecord[] = [
  { name: apex, type: "SOA", ttl: 3600, data: soa },
  { name: apex, type: "NS", ttl: 3600, data: "ns1.wirebook.test" },
  { name: "ns1.wirebook.test", type: "A", ttl: 3600, data: "127.0.0.53" },
  { name: "www.wirebook.test", type: "A", ttl: 3600, data: "127.0.0.80" },
];
const signed = dnssec.signZone(records, keys, {
  apex,
  inception: now - 3600,
  expiration: now + 86400,
  ttl: 3600,
  negativeTtl: 300,
});
const text = (rrs: ResourceRecord[]) => rrs.map(dnssec.zoneLine).join("\n") + "\n";
const tampered = signed.map((rr) => {
  const d = rr.data;
  if (
    rr.name !== "www.wirebook.test" ||
    typeof d !== "object" ||
    Buffer.isBuffer(d) ||
    !("typeCovered" in d) ||
    d.typeCovered !== "A"
  )
    return rr;
  const signature = Buffer.from(d.signature);
  signature[20] ^= 0xff;
  return { ...rr, data: { ...d, signature } };
});
const all = ["nsd", "unbound", "ldns-verify-zone", "dnssec-verify"].every(hasProgram);

describe.skipIf(!all)("net/dns-daemons", () => {
  it("both checkers accept the signed zone and reject the tampered one", async () => {
    for (const tool of ["ldns-verify-zone", "dnssec-verify"] as const) {
      expect((await verifyZone(tool, apex, text(signed))).ok).toBe(true);
      expect((await verifyZone(tool, apex, text(tampered))).ok).toBe(false);
    }
  }, 30_000);
  it("unbound validates through nsd: AD for the good zone, SERVFAIL for the tampered one", async () => {
    const anchors = keys.ksks.map((k) =>
      dnssec.zoneLine({ name: apex, type: "DS", ttl: 3600, data: dnssec.dsFor(apex, k.dnskey) }),
    );
    for (const [zone, want] of [
      [signed, { rcode: "NOERROR", ad: true }],
      [tampered, { rcode: "SERVFAIL", ad: false }],
    ] as const) {
      const nsd = await startNsd(apex, text(zone));
      const unbound = await startUnbound(apex, nsd.port, anchors);
      try {
        expect(await query(unbound.port, "www.wirebook.test", "A")).toMatchObject(want);
      } finally {
        await unbound.close();
        await nsd.close();
      }
    }
  }, 60_000);
});
