// Addresses, once for every module: IPv4 as text, bytes and 32-bit numbers (RFC 791's dotted
// quad), prefixes, masks and CIDR membership (RFC 4632), IPv6 text in any RFC 4291 §2.2 form in
// and RFC 5952's canonical form out, IPv4 embedded in IPv6 for NAT64 (RFC 6052), interface
// identifiers from MACs for SLAAC (modified EUI-64, RFC 4291 appendix A and RFC 2464 §4), and
// Ethernet MAC addresses (IEEE 802, "aa:bb:cc:dd:ee:ff").
// Text that is not an address is a RangeError with code ERR_INVALID_ARG_VALUE, naming `what`.
import { invalid } from "./codec";

const label = (what: string | undefined) => (what ? `${what}: ` : "");

// ---- IPv4 ---------------------------------------------------------------------------------------

const DOTTED = /^(?:(?:0|[1-9]\d{0,2})\.){3}(?:0|[1-9]\d{0,2})$/;

/** "10.0.0.1" is; "10.0.0", "10.0.0.256" and "010.0.0.1" (octal to some parsers) are not. */
export function isIpv4(text: unknown): text is string {
  return typeof text === "string" && DOTTED.test(text) && text.split(".").every((p) => Number(p) <= 255);
}

/** "10.0.0.1" → its 4 bytes, in network order. */
export function ipv4Bytes(text: string, what?: string): Buffer {
  if (!isIpv4(text)) invalid(`${label(what)}not an IPv4 address: ${JSON.stringify(text)}`);
  return Buffer.from(text.split(".").map(Number));
}

/** The 4 bytes at `offset` as dotted-quad text. */
export function ipv4Text(buf: Buffer, offset = 0): string {
  if (offset + 4 > buf.length)
    invalid(`an IPv4 address needs 4 bytes at offset ${offset}, the buffer has ${buf.length}`);
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** "10.0.0.7" → 0x0a000007 (unsigned), for address arithmetic. */
export const ipv4ToInt = (text: string, what?: string): number => ipv4Bytes(text, what).readUInt32BE(0);

/** 0x0a000007 → "10.0.0.7". */
export function intToIpv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) invalid(`not a 32-bit address: ${n}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return ipv4Text(b);
}

// ---- prefixes, masks, CIDR ----------------------------------------------------------------------

/** The mask of a prefix length as a number: 24 → 0xffffff00. */
export function prefixMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) invalid(`a prefix length is 0..32, not ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** 24 → "255.255.255.0". */
export const prefixToMask = (prefix: number): string => intToIpv4(prefixMask(prefix));

/** "255.255.255.0" → 24; a mask with holes ("255.0.255.0") is refused. */
export function maskToPrefix(mask: string): number {
  const n = ipv4ToInt(mask, "mask");
  const prefix = 32 - Math.log2(((~n >>> 0) + 1) >>> 0 || 2 ** 32);
  if (!Number.isInteger(prefix)) invalid(`not a contiguous subnet mask: ${mask}`);
  return prefix;
}

export interface Cidr {
  /** The network address (host bits cleared), as a number. */
  network: number;
  prefix: number;
  /** The first and last address of the block, as numbers. */
  first: number;
  last: number;
}

/** "10.66.0.0/24" (or a plain address, a /32) → the block it names. Host bits may be set
 *  ("10.66.0.5/24" is 10.66.0.0/24), as in `ip addr`. */
export function parseCidr(text: string, what?: string): Cidr {
  const m = typeof text === "string" ? /^([^/]+)(?:\/(\d{1,2}))?$/.exec(text) : null;
  if (!m || !isIpv4(m[1]) || (m[2] !== undefined && Number(m[2]) > 32))
    invalid(`${label(what)}not an IPv4 address or subnet: ${JSON.stringify(text)}`);
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  const mask = prefixMask(prefix);
  const network = (ipv4ToInt(m[1]) & mask) >>> 0;
  return { network, prefix, first: network, last: (network | ~mask) >>> 0 };
}

/** Is `address` inside the block `cidr`? */
export function inCidr(address: string, cidr: string | Cidr): boolean {
  const block = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  const a = ipv4ToInt(address);
  return a >= block.first && a <= block.last;
}

// ---- IPv6 ---------------------------------------------------------------------------------------

/** The 16 bytes of an IPv6 address in any valid text form, a dotted IPv4 tail included
 *  ("::ffff:127.0.0.1"). */
export function ipv6Bytes(text: string, what?: string): Buffer {
  const bad = (): never => invalid(`${label(what)}not an IPv6 address: ${JSON.stringify(text)}`);
  if (typeof text !== "string") bad();
  let head = text;
  let v4: number[] = []; // a dotted IPv4 tail, as two 16-bit words
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (m) {
    if (!isIpv4(m[2])) bad();
    const b = ipv4Bytes(m[2]);
    v4 = [b.readUInt16BE(0), b.readUInt16BE(2)];
    head = m[1].endsWith("::") ? m[1] : m[1].slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) bad();
  const hex = (h: string) =>
    h === "" ? [] : h.split(":").map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad()));
  const left = hex(halves[0]);
  let words: number[];
  if (halves.length === 1) words = [...left, ...v4];
  else {
    const right = [...hex(halves[1]), ...v4];
    const gap = 8 - left.length - right.length;
    if (gap < 1) bad();
    words = [...left, ...new Array<number>(gap).fill(0), ...right];
  }
  if (words.length !== 8) bad();
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

/** The 16 bytes at `offset` in RFC 5952's canonical text: lower case, no leading zeros, the
 *  longest run (the first, on a tie) of two or more zero groups written "::". */
export function ipv6Text(buf: Buffer, offset = 0): string {
  if (offset + 16 > buf.length)
    invalid(`an IPv6 address needs 16 bytes at offset ${offset}, the buffer has ${buf.length}`);
  const words = Array.from({ length: 8 }, (_, i) => buf.readUInt16BE(offset + i * 2));
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { start: i, len: j - i };
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(":");
  if (best.start < 0) return hex(words);
  return `${hex(words.slice(0, best.start))}::${hex(words.slice(best.start + best.len))}`;
}

// ---- IPv4 inside IPv6: NAT64 (RFC 6052) --------------------------------------------------------

/** The prefix lengths RFC 6052 §2.2 allows for an IPv4-embedded IPv6 address. */
export const NAT64_PREFIX_LENGTHS = [32, 40, 48, 56, 64, 96] as const;
/** The Well-Known Prefix (RFC 6052 §2.1). */
export const NAT64_WELL_KNOWN_PREFIX = "64:ff9b::/96";

function nat64Prefix(prefix: string): { bytes: Buffer; length: number } {
  const [base, len, extra] = String(prefix).split("/");
  const length = Number(len);
  if (extra !== undefined || !NAT64_PREFIX_LENGTHS.some((l) => l === length))
    invalid(`NAT64 prefix ${JSON.stringify(prefix)}: the length must be one of ${NAT64_PREFIX_LENGTHS.join(", ")}`);
  const bytes = ipv6Bytes(base, "NAT64 prefix");
  if (length === 96 && bytes[8] !== 0)
    invalid(`NAT64 prefix ${JSON.stringify(prefix)}: bits 64..71 (the "u" octet) must be zero`);
  return { bytes, length };
}

/** Where the 32 bits of IPv4 go for each prefix length: right after the prefix, but never in
 *  bits 64..71 (the "u" octet, always zero), so for /40../56 the address is split around it and
 *  for /64 it starts after it; for /96 it is the last 32 bits (RFC 6052 §2.2, figure 1). */
const v4Positions = (length: number) => {
  const start = length / 8;
  return [0, 1, 2, 3].map((i) => (start <= 8 && start + i >= 8 ? start + i + 1 : start + i));
};

/** The IPv4-embedded IPv6 address of `ipv4` under `prefix` ("64:ff9b::/96", "2001:db8:100::/40"):
 *  what a DNS64 server synthesizes and a NAT64 translates back. The suffix is zero. */
export function embedIpv4(prefix: string, ipv4: string): string {
  const { bytes, length } = nat64Prefix(prefix);
  const out = Buffer.alloc(16);
  bytes.copy(out, 0, 0, length / 8);
  const v4 = ipv4Bytes(ipv4, "IPv4 address to embed");
  v4Positions(length).forEach((at, i) => (out[at] = v4[i]));
  return ipv6Text(out);
}

/** The IPv4 address embedded in `address` under a prefix of `length` bits (RFC 6052 §2.3). */
export function extractIpv4(address: string, length: number): string {
  if (!NAT64_PREFIX_LENGTHS.some((l) => l === length))
    invalid(`NAT64 prefix length ${length}: must be one of ${NAT64_PREFIX_LENGTHS.join(", ")}`);
  const bytes = ipv6Bytes(address, "IPv4-embedded IPv6 address");
  return v4Positions(length)
    .map((at) => bytes[at])
    .join(".");
}

// ---- SLAAC interface identifiers (modified EUI-64) ----------------------------------------------

/** The 64-bit interface identifier SLAAC derives from a 48-bit MAC: ff:fe inserted in the middle
 *  and the universal/local bit (0x02 of the first octet) inverted (RFC 4291 appendix A; RFC 2464
 *  §4's example: 34-56-78-9A-BC-DE gives 36-56-78-FF-FE-9A-BC-DE). */
export function eui64InterfaceId(mac: string): Buffer {
  const m = macBytes(mac, "MAC for EUI-64");
  return Buffer.from([m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]]);
}

/** The address SLAAC forms on a /64 `prefix` ("2001:db8:1::/64", or "fe80::/64" for the
 *  link-local one) from an interface's MAC. */
export function slaacAddress(prefix: string, mac: string): string {
  const [base, len] = String(prefix).split("/");
  if (len !== "64") invalid(`SLAAC prefix ${JSON.stringify(prefix)}: must be a /64`);
  const out = ipv6Bytes(base, "SLAAC prefix");
  eui64InterfaceId(mac).copy(out, 8);
  return ipv6Text(out);
}

// ---- MAC addresses ------------------------------------------------------------------------------

/** 1 to 16 octets of two hex digits, separated by ":" or "-": what DHCP's chaddr may hold. */
const HARDWARE = /^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){0,14})?$/;

/** "aa:bb:cc:dd:ee:ff" (or with "-") is an Ethernet address. */
export const isMac = (text: unknown): text is string =>
  typeof text === "string" && HARDWARE.test(text) && text.length === 17;

/** "02:00:00:00:00:01" → its 6 bytes. */
export function macBytes(text: string, what?: string): Buffer {
  if (!isMac(text)) invalid(`${label(what)}not a MAC address like aa:bb:cc:dd:ee:ff: ${JSON.stringify(text)}`);
  return Buffer.from(text.replace(/[:-]/g, ""), "hex");
}

/** Any link-layer address of 1 to 16 octets ("02:00:5e:10:00:01"), as DHCP's chaddr carries it. */
export function hardwareBytes(text: string, what?: string): Buffer {
  if (typeof text !== "string" || !HARDWARE.test(text))
    invalid(`${label(what)}not a hardware address: ${JSON.stringify(text)}`);
  return Buffer.from(text.replace(/[:-]/g, ""), "hex");
}

/** `length` bytes at `offset` (6: a MAC) as lower-case hex pairs joined by ":". */
export function macText(buf: Buffer, offset = 0, length = 6): string {
  if (offset + length > buf.length)
    invalid(
      `a ${length}-byte address needs the bytes at ${offset}..${offset + length - 1}, the buffer has ${buf.length}`,
    );
  return Array.from(buf.subarray(offset, offset + length), (b) => b.toString(16).padStart(2, "0")).join(":");
}
