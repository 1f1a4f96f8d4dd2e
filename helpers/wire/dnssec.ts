// DNSSEC's arithmetic on top of the record codecs of dns.ts (RFC 4033-4035): key tags (RFC 4034
// Appendix B), the canonical name order and the canonical form of an RRset (§6), what an RRSIG
// signs (§3.1.8.1), DS digests (SHA-256, RFC 4509), NSEC chains (RFC 4035 §2.3), signing and
// verifying with ECDSA P-256 / SHA-256 (algorithm 13, RFC 6605: the key is X || Y, the signature
// r || s) and Ed25519 (algorithm 15, RFC 8080: 32-byte keys, 64-byte signatures), and the zone
// file's text form of each record, for the tools that read zone files (ldns, BIND, nsd). Pure:
// keys and times are passed in.
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { invalid } from "./codec";
import * as dns from "./dns";

export const ALGORITHMS: Record<number, string> = { 13: "ECDSAP256SHA256", 15: "ED25519" };

// ---- key tags, DS --------------------------------------------------------------------------------

/** A DNSKEY's RDATA: flags, protocol, algorithm, key. */
export function dnskeyRdata(k: dns.DnskeyData): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(k.flags);
  head[2] = k.protocol;
  head[3] = k.algorithm;
  return Buffer.concat([head, k.key]);
}

/** RFC 4034 Appendix B: the RDATA summed as 16-bit words (odd bytes high, even bytes low), the
 *  carry folded in once. (Algorithm 1, RSA/MD5, has its own rule, not needed here.) */
export function keyTag(k: dns.DnskeyData): number {
  const rdata = dnskeyRdata(k);
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i] : rdata[i] << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** The owner name's canonical wire form: lower case, uncompressed. */
export const canonicalName = (name: string): Buffer => dns.name.encode(name.toLowerCase());

/** The DS record data for a DNSKEY of `owner`: SHA-256 over the owner name and the RDATA. */
export function dsFor(owner: string, k: dns.DnskeyData): dns.DsData {
  const digest = createHash("sha256")
    .update(Buffer.concat([canonicalName(owner), dnskeyRdata(k)]))
    .digest();
  return { keyTag: keyTag(k), algorithm: k.algorithm, digestType: 2, digest };
}

// ---- canonical order and form --------------------------------------------------------------------

/** RFC 4034 §6.1: names compared label by label from the right, lower case, as unsigned bytes. */
export function compareNames(a: string, b: string): number {
  const labels = (n: string) => {
    const wire = canonicalName(n);
    const out: Buffer[] = [];
    for (let i = 0; wire[i] !== 0; i += 1 + wire[i]) out.push(wire.subarray(i + 1, i + 1 + wire[i]));
    return out.reverse();
  };
  const [la, lb] = [labels(a), labels(b)];
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const c = Buffer.compare(la[i], lb[i]);
    if (c) return c;
  }
  return la.length - lb.length;
}

/** The labels an RRSIG counts: the owner's, without the root and a leading "*". */
export const labelCount = (name: string): number =>
  name
    .replace(/\.$/, "")
    .split(".")
    .filter((l, i) => l !== "" && !(i === 0 && l === "*")).length;

/** What an RRSIG signs (RFC 4034 §3.1.8.1): its own RDATA without the signature, then every RR
 *  of the set in canonical form (owner in lower case, the original TTL), ordered by RDATA. */
export function signedData(rrset: dns.ResourceRecord[], sig: Omit<dns.RrsigData, "signature">): Buffer {
  const rrsig = dns.record.encode({
    name: ".",
    type: "RRSIG",
    data: { ...sig, signersName: sig.signersName.toLowerCase(), signature: Buffer.alloc(0) },
  });
  // each RR's RDATA starts after its owner name and the 10 bytes of type, class, TTL and RDLENGTH
  const rrs = rrset.map((rr) => {
    const wire = dns.record.encode({
      ...rr,
      name: rr.name.toLowerCase(),
      class: rr.class ?? "IN",
      ttl: sig.originalTtl,
    });
    return { wire, rdata: wire.subarray(canonicalName(rr.name).length + 10) };
  });
  rrs.sort((x, y) => Buffer.compare(x.rdata, y.rdata));
  return Buffer.concat([rrsig.subarray(1 + 10), ...rrs.map((r) => r.wire)]);
}

// ---- keys, signing, verifying --------------------------------------------------------------------

export interface SigningKey {
  /** The DNSKEY it publishes. */
  dnskey: dns.DnskeyData;
  tag: number;
  privateKey: KeyObject;
}

const b64url = (s: string | undefined) => Buffer.from(s ?? "", "base64url");

/** The DNSKEY field of a public key: P-256's X || Y, Ed25519's 32 bytes. */
function publicKeyField(algorithm: number, pub: KeyObject): Buffer {
  const jwk = pub.export({ format: "jwk" });
  return algorithm === 13 ? Buffer.concat([b64url(jwk.x), b64url(jwk.y)]) : b64url(jwk.x);
}

function keyOf(algorithm: number, flags: number, privateKey: KeyObject): SigningKey {
  const dnskey = { flags, protocol: 3, algorithm, key: publicKeyField(algorithm, createPublicKey(privateKey)) };
  return { dnskey, tag: keyTag(dnskey), privateKey };
}

const supported = (algorithm: number) => {
  if (algorithm !== 13 && algorithm !== 15) invalid(`algorithm ${algorithm}: only 13 (ECDSA P-256) and 15 (Ed25519)`);
};

/** A fresh key: flags 257 for a key-signing key (KSK), 256 for a zone-signing key (ZSK). */
export function generateKey(algorithm: number, flags: number): SigningKey {
  supported(algorithm);
  const { privateKey } =
    algorithm === 13 ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("ed25519");
  return keyOf(algorithm, flags, privateKey);
}

/** A key from the `PrivateKey:` field of a BIND private-key file (the RFCs print their examples
 *  so): P-256's scalar d, Ed25519's 32-byte seed, in base64. */
export function importKey(algorithm: number, flags: number, privateKeyBase64: string): SigningKey {
  supported(algorithm);
  const raw = Buffer.from(privateKeyBase64, "base64");
  // PKCS#8 wrappers around the raw key (RFC 5915 for EC without the public key, RFC 8410 for Ed25519)
  const prefix =
    algorithm === 13
      ? "3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420"
      : "302e020100300506032b657004220420";
  const der = Buffer.concat([Buffer.from(prefix, "hex"), raw]);
  return keyOf(algorithm, flags, createPrivateKey({ key: der, format: "der", type: "pkcs8" }));
}

/** An RRSIG record, its data typed. */
export type Rrsig = Omit<dns.ResourceRecord, "data"> & { data: dns.RrsigData };
/** An NSEC record, its data typed. */
export type Nsec = Omit<dns.ResourceRecord, "data"> & { data: dns.NsecData };

export interface SignOptions {
  signer: string;
  inception: number;
  expiration: number;
  /** The label count, normally the owner's (RFC 8080's examples once printed a wrong one). */
  labels?: number;
}

/** The RRSIG record over `rrset` (one owner, one type) made with `key`. */
export function signRRset(rrset: dns.ResourceRecord[], key: SigningKey, o: SignOptions): Rrsig {
  const [first] = rrset;
  const fields = {
    typeCovered: first.type,
    algorithm: key.dnskey.algorithm,
    labels: o.labels ?? labelCount(first.name),
    originalTtl: first.ttl ?? 0,
    expiration: o.expiration,
    inception: o.inception,
    keyTag: key.tag,
    signersName: o.signer,
  };
  const data = signedData(rrset, fields);
  const signature =
    key.dnskey.algorithm === 13
      ? cryptoSign("sha256", data, { key: key.privateKey, dsaEncoding: "ieee-p1363" })
      : cryptoSign(null, data, key.privateKey);
  return { name: first.name, type: "RRSIG", class: "IN", ttl: first.ttl, data: { ...fields, signature } };
}

/** Whether `sig` (RRSIG data) is a valid signature over `rrset` by the key `k` (DNSKEY data).
 *  Only the cryptography: the validity period and the key tag are the caller's to check. */
export function verifyRRset(rrset: dns.ResourceRecord[], sig: dns.RrsigData, k: dns.DnskeyData): boolean {
  if (k.algorithm !== sig.algorithm) return false;
  const { signature, ...fields } = sig;
  const data = signedData(rrset, fields);
  try {
    if (k.algorithm === 13) {
      const jwk = {
        kty: "EC",
        crv: "P-256",
        x: k.key.subarray(0, 32).toString("base64url"),
        y: k.key.subarray(32).toString("base64url"),
      };
      const pub = createPublicKey({ key: jwk, format: "jwk" });
      return cryptoVerify("sha256", data, { key: pub, dsaEncoding: "ieee-p1363" }, signature);
    }
    if (k.algorithm === 15) {
      const pub = createPublicKey({
        key: { kty: "OKP", crv: "Ed25519", x: k.key.toString("base64url") },
        format: "jwk",
      });
      return cryptoVerify(null, data, pub, signature);
    }
  } catch {
    return false; // not a key of that algorithm
  }
  return false;
}

// ---- zones ---------------------------------------------------------------------------------------

/** SOA record data as bytes (dns.ts keeps SOA data raw). */
export interface Soa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}
export function soaData(s: Soa): Buffer {
  const numbers = Buffer.alloc(20);
  [s.serial, s.refresh, s.retry, s.expire, s.minimum].forEach((n, i) => numbers.writeUInt32BE(n, 4 * i));
  return Buffer.concat([dns.name.encode(s.mname), dns.name.encode(s.rname), numbers]);
}

/** The records grouped into RRsets (owner in lower case + type), in canonical name order. */
export function rrsets(records: dns.ResourceRecord[]): dns.ResourceRecord[][] {
  const sets = new Map<string, dns.ResourceRecord[]>();
  for (const rr of records) {
    const key = `${rr.name.toLowerCase()}\u0000${rr.type}`;
    sets.set(key, [...(sets.get(key) ?? []), rr]);
  }
  return [...sets.values()].sort(
    (a, b) => compareNames(a[0].name, b[0].name) || dns.typeNumber(a[0].type) - dns.typeNumber(b[0].type),
  );
}

/** The NSEC chain of a zone (RFC 4035 §2.3): one NSEC per name, in canonical order, each naming
 *  the next (the last the apex) and the types at its own name (each once, by number), NSEC and
 *  RRSIG included. */
export function nsecChain(records: dns.ResourceRecord[], apex: string, ttl: number): Nsec[] {
  const names = [...new Set(records.map((r) => r.name.toLowerCase()))].sort(compareNames);
  return names.map((n, i) => {
    const types = records.filter((r) => r.name.toLowerCase() === n).map((r) => r.type);
    const present = [...new Set([...types, "RRSIG", "NSEC"])].sort((x, y) => dns.typeNumber(x) - dns.typeNumber(y));
    const data = { nextDomainName: names[(i + 1) % names.length] ?? apex, types: present };
    return { name: n, type: "NSEC", class: "IN", ttl, data };
  });
}

export interface ZoneKeys {
  /** Sign the DNSKEY RRset. */
  ksks: SigningKey[];
  /** Sign everything else. */
  zsks: SigningKey[];
}

/** A signed zone: the records, the DNSKEYs, the NSEC chain, and RRSIGs by every key of its role
 *  (so each algorithm signs every RRset, as RFC 4035 §2.2 asks). */
export function signZone(
  records: dns.ResourceRecord[],
  keys: ZoneKeys,
  o: { apex: string; inception: number; expiration: number; ttl: number; negativeTtl: number },
): dns.ResourceRecord[] {
  const all = [...keys.ksks, ...keys.zsks];
  const dnskeys = all.map((k) => ({ name: o.apex, type: "DNSKEY", class: "IN", ttl: o.ttl, data: k.dnskey }));
  const unsigned = [...records, ...dnskeys];
  const withNsec = [...unsigned, ...nsecChain(unsigned, o.apex, o.negativeTtl)];
  const signatures = rrsets(withNsec).flatMap((set) =>
    (set[0].type === "DNSKEY" ? keys.ksks : keys.zsks).map((k) => signRRset(set, k, { ...o, signer: o.apex })),
  );
  return rrsets([...withNsec, ...signatures]).flat();
}

// ---- the zone file's text --------------------------------------------------------------------------

const absolute = (n: string) => (n === "." ? "." : `${n.replace(/\.$/, "")}.`);
/** 1440021600 → "20150819220000" (RFC 4034 §3.2). */
export function timeText(t: number): string {
  return new Date(t * 1000).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** The record's data in presentation form. */
export function dataText(rr: dns.ResourceRecord): string {
  const d = rr.data;
  if (typeof d === "string") return ["NS", "CNAME", "PTR"].includes(rr.type) ? absolute(d) : d;
  if (Buffer.isBuffer(d)) {
    if (rr.type !== "SOA") return `\\# ${d.length} ${d.toString("hex")}`;
    const mname = dns.name.decode(d, 0);
    const at = dns.name.decode.bytes;
    const rname = dns.name.decode(d, at);
    const o = at + dns.name.decode.bytes;
    const numbers = [0, 4, 8, 12, 16].map((i) => d.readUInt32BE(o + i));
    return [absolute(mname), absolute(rname), ...numbers].join(" ");
  }
  if ("flags" in d) return `${d.flags} ${d.protocol} ${d.algorithm} ${d.key.toString("base64")}`;
  if ("digestType" in d) return `${d.keyTag} ${d.algorithm} ${d.digestType} ${d.digest.toString("hex")}`;
  if ("typeCovered" in d)
    return [
      d.typeCovered,
      d.algorithm,
      d.labels,
      d.originalTtl,
      timeText(d.expiration),
      timeText(d.inception),
      d.keyTag,
      absolute(d.signersName),
      d.signature.toString("base64"),
    ].join(" ");
  return [absolute(d.nextDomainName), ...d.types].join(" ");
}

/** One line of a zone file. */
export const zoneLine = (rr: dns.ResourceRecord): string =>
  `${absolute(rr.name)} ${rr.ttl ?? 0} ${rr.class ?? "IN"} ${rr.type} ${dataText(rr)}`;

// ---- telling records apart -------------------------------------------------------------------------

const dataIs = (d: dns.RecordData, field: string) => typeof d === "object" && !Buffer.isBuffer(d) && field in d;
/** An RRSIG record, with its data typed. */
export const isRrsig = (rr: dns.ResourceRecord): rr is Rrsig => rr.type === "RRSIG" && dataIs(rr.data, "typeCovered");
/** An NSEC record, with its data typed. */
export const isNsec = (rr: dns.ResourceRecord): rr is Nsec => rr.type === "NSEC" && dataIs(rr.data, "nextDomainName");
/** A DNSKEY record, with its data typed. */
export const isDnskey = (rr: dns.ResourceRecord): rr is Omit<dns.ResourceRecord, "data"> & { data: dns.DnskeyData } =>
  rr.type === "DNSKEY" && dataIs(rr.data, "flags");
