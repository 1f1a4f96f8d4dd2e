// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
// the data as 16-bit big-endian words. IPv4 puts it over its header, ICMP over its message, UDP
// and TCP over a pseudo-header (the addresses, the protocol and the length) and the segment.
import { ipv4Bytes } from "./addr";

/** The sum of 16-bit big-endian words, an odd last byte padded with zero (RFC 1071 §4.1), with
 *  the carries kept (a JavaScript number holds the sum of any packet exactly). */
export function sum16(buf: Buffer, start = 0, end = buf.length, acc = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (i < end) acc += buf[i] << 8;
  return acc;
}

/** Folds the carries back in (end-around carry) and complements: the value to put in the field. */
export function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** The Internet checksum of `buf`. Over data that includes a correct checksum field it is 0. */
export function checksum(buf: Buffer): number {
  return fold(sum16(buf));
}

/** The addresses of the IPv4 header around a UDP datagram or TCP segment. */
export interface PseudoHeader {
  src: string;
  dst: string;
}

/** The sum of the IPv4 pseudo-header (RFC 768, RFC 9293 §3.1): source, destination, a zero
 *  byte, the protocol and the transport length, for a transport checksum to start from. */
export function pseudoHeaderSum(ph: PseudoHeader, protocol: number, length: number): number {
  const pseudo = Buffer.alloc(12);
  ipv4Bytes(ph.src, "src").copy(pseudo, 0);
  ipv4Bytes(ph.dst, "dst").copy(pseudo, 4);
  pseudo[9] = protocol;
  pseudo.writeUInt16BE(length, 10);
  return sum16(pseudo);
}

/** The checksum of a transport segment `buf[start, end)` under its pseudo-header. */
export function transportChecksum(buf: Buffer, start: number, end: number, ph: PseudoHeader, protocol: number) {
  return fold(sum16(buf, start, end, pseudoHeaderSum(ph, protocol, end - start)));
}
