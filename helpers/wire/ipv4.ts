// The IPv4 header (RFC 791 §3.1): version and IHL, DSCP and ECN (RFC 2474, RFC 3168), total
// length, identification, the DF and MF flags and the fragment offset, TTL, protocol, the header
// checksum (RFC 1071, over the header only, always computed by encode), the addresses, raw
// options, then the payload. Bytes after the total length (Ethernet padding) are not payload.
import { ipv4Bytes, ipv4Text } from "./addr";
import { checksum } from "./checksum";
import { bytesOf, codec, invalid, objectOf, uint } from "./codec";
import { fail, need } from "./packet-error";

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** What encode needs; everything else has a default, and the checksum is always computed. */
export interface Ipv4Input {
  dscp?: number; // 6 bits
  ecn?: number; // 2 bits
  id?: number;
  df?: boolean; // don't fragment
  mf?: boolean; // more fragments
  /** In bytes, as the reassembler thinks of it; a multiple of 8 (the wire carries it /8). */
  fragmentOffset?: number;
  ttl?: number; // default 64
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes, kept as they are; a multiple of 4, at most 40. */
  options?: Buffer;
  payload: Buffer;
}

/** A decoded header: every input field, and what only a decoder knows (encode ignores these). */
export interface Ipv4 extends Required<Ipv4Input> {
  version: 4;
  /** IHL × 4. */
  headerLength: number;
  totalLength: number;
  checksum: number;
  checksumOk: boolean;
  /** True only for the quoted original inside an ICMP error (icmp.ts): fewer payload bytes
   *  were there than totalLength says. The ipv4 codec's own decode refuses such input. */
  truncated: boolean;
}

export const ipv4 = codec<Ipv4Input, Ipv4>({
  plan(v) {
    objectOf(v, "an IPv4 packet");
    const options = v.options === undefined ? Buffer.alloc(0) : bytesOf(v.options, "options");
    if (options.length % 4 !== 0 || options.length > 40)
      invalid(`IPv4 options must be a multiple of 4 bytes and at most 40, got ${options.length}`);
    const payload = bytesOf(v.payload, "payload");
    const fragOffset = v.fragmentOffset ?? 0;
    if (typeof fragOffset !== "number" || fragOffset % 8 !== 0)
      invalid(`fragmentOffset is in bytes and must be a multiple of 8, got ${fragOffset}`);
    uint(fragOffset / 8, 13, "fragmentOffset / 8");
    const headerLength = 20 + options.length;
    const total = uint(headerLength + payload.length, 16, "the total length");
    const tos = (uint(v.dscp ?? 0, 6, "dscp") << 2) | uint(v.ecn ?? 0, 2, "ecn");
    const id = uint(v.id ?? 0, 16, "id");
    const flags = (v.df ? 0x4000 : 0) | (v.mf ? 0x2000 : 0) | (fragOffset / 8);
    const ttl = uint(v.ttl ?? 64, 8, "ttl");
    const protocol = uint(v.protocol, 8, "protocol");
    const src = ipv4Bytes(v.src, "src");
    const dst = ipv4Bytes(v.dst, "dst");
    return {
      length: total,
      write(buf, at) {
        buf[at] = 0x40 | (headerLength / 4);
        buf[at + 1] = tos;
        buf.writeUInt16BE(total, at + 2);
        buf.writeUInt16BE(id, at + 4);
        buf.writeUInt16BE(flags, at + 6);
        buf[at + 8] = ttl;
        buf[at + 9] = protocol;
        buf.writeUInt16BE(0, at + 10);
        src.copy(buf, at + 12);
        dst.copy(buf, at + 16);
        options.copy(buf, at + 20);
        buf.writeUInt16BE(checksum(buf.subarray(at, at + headerLength)), at + 10); // over the header only
        payload.copy(buf, at + headerLength);
      },
    };
  },
  read: (buf, at) => readIpv4(buf, at, false),
});

/** Reads the header at `at` and its payload. With `partial` (the quote in an ICMP error, which
 *  holds the original's header and only its first bytes) a payload shorter than totalLength is
 *  accepted and marked `truncated`; it consumes what there is. */
export function readIpv4(buf: Buffer, at: number, partial: boolean): { value: Ipv4; bytes: number } {
  need(buf, at, 20, "an IPv4 header");
  const version = buf[at] >> 4;
  if (version !== 4) fail("ERR_PACKET_BAD_VERSION", at, `IP version ${version}, expected 4`);
  const ihl = buf[at] & 0x0f;
  if (ihl < 5) fail("ERR_PACKET_BAD_IHL", at, `IHL ${ihl} is below the minimum 5 (20 bytes)`);
  const headerLength = ihl * 4;
  if (at + headerLength > buf.length)
    fail("ERR_PACKET_BAD_IHL", at, `IHL ${ihl} says ${headerLength} header bytes, ${buf.length - at} left`);
  const totalLength = buf.readUInt16BE(at + 2);
  if (totalLength < headerLength)
    fail(
      "ERR_PACKET_BAD_LENGTH",
      at + 2,
      `total length ${totalLength} is shorter than the ${headerLength}-byte header`,
    );
  const truncated = at + totalLength > buf.length;
  if (truncated && !partial)
    fail(
      "ERR_PACKET_BAD_LENGTH",
      at + 2,
      `total length ${totalLength} runs past the end (${buf.length - at} bytes left)`,
    );
  const end = Math.min(buf.length, at + totalLength);
  const flags = buf.readUInt16BE(at + 6);
  const value: Ipv4 = {
    version: 4,
    headerLength,
    dscp: buf[at + 1] >> 2,
    ecn: buf[at + 1] & 3,
    totalLength,
    id: buf.readUInt16BE(at + 4),
    df: (flags & 0x4000) !== 0,
    mf: (flags & 0x2000) !== 0,
    fragmentOffset: (flags & 0x1fff) * 8,
    ttl: buf[at + 8],
    protocol: buf[at + 9],
    checksum: buf.readUInt16BE(at + 10),
    checksumOk: checksum(buf.subarray(at, at + headerLength)) === 0,
    src: ipv4Text(buf, at + 12),
    dst: ipv4Text(buf, at + 16),
    options: buf.subarray(at + 20, at + headerLength),
    payload: buf.subarray(at + headerLength, end),
    truncated,
  };
  return { value, bytes: end - at };
}
