// UDP (RFC 768): ports, length and the checksum over the IPv4 pseudo-header and the datagram.
// The pseudo-header's addresses travel in the value as `src` and `dst`: with them encode computes
// the checksum (a computed 0 is sent as 0xffff, since 0 on the wire means "no checksum") and
// decode verifies it; without them encode writes `checksum` as given (a decoded datagram keeps
// its own; absent: 0) and decode cannot tell. A `checksum` of 0 is always written as 0: the
// sender chose to send none. dissect.ts fills the addresses in from the IPv4 header.
import { fold, pseudoHeaderSum, sum16, transportChecksum, type PseudoHeader } from "./checksum";
import { bytesOf, codec, invalid, objectOf, uint } from "./codec";
import { fail, need } from "./packet-error";

export type { PseudoHeader };

const UDP = 17;

export interface UdpInput {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
  /** The IPv4 addresses around the datagram, for the checksum; both or neither. */
  src?: string;
  dst?: string;
  /** 0: send no checksum. Any other value is written as is only when the addresses are not
   *  given; with them the checksum is computed. */
  checksum?: number;
}
export interface Udp extends UdpInput {
  /** Header + payload, as the length field says. */
  length: number;
  checksum: number;
  /** undefined when the sender sent no checksum (0) or no addresses were there to check it. */
  checksumOk: boolean | undefined;
}

/** The addresses of `v`, when it has both. */
export function addressesOf(v: { src?: string; dst?: string }, what: string): PseudoHeader | undefined {
  if (v.src === undefined && v.dst === undefined) return undefined;
  if (v.src === undefined || v.dst === undefined)
    invalid(`${what}: give both src and dst (the pseudo-header), or neither`);
  return { src: v.src, dst: v.dst };
}

export const udp = codec<UdpInput, Udp>({
  plan(v) {
    objectOf(v, "a UDP datagram");
    const srcPort = uint(v.srcPort, 16, "srcPort");
    const dstPort = uint(v.dstPort, 16, "dstPort");
    const payload = bytesOf(v.payload, "payload");
    const length = uint(8 + payload.length, 16, "the UDP length");
    const ph = addressesOf(v, "UDP");
    const given = v.checksum === undefined ? undefined : uint(v.checksum, 16, "checksum");
    const pseudo = ph ? pseudoHeaderSum(ph, UDP, length) : undefined; // checks the addresses, here
    return {
      length,
      write(buf, at) {
        buf.writeUInt16BE(srcPort, at);
        buf.writeUInt16BE(dstPort, at + 2);
        buf.writeUInt16BE(length, at + 4);
        buf.writeUInt16BE(0, at + 6);
        payload.copy(buf, at + 8);
        const sum =
          pseudo === undefined || given === 0 ? (given ?? 0) : fold(sum16(buf, at, at + length, pseudo)) || 0xffff;
        buf.writeUInt16BE(sum, at + 6);
      },
    };
  },
  read: (buf, at) => readUdp(buf, at, undefined),
});

/** Reads a datagram; with `ph` (the addresses of the IPv4 header around it) the checksum is
 *  verified and the addresses are part of the value. Used by dissect.ts. */
export function readUdp(buf: Buffer, at: number, ph: PseudoHeader | undefined): { value: Udp; bytes: number } {
  need(buf, at, 8, "a UDP header");
  const length = buf.readUInt16BE(at + 4);
  if (length < 8) fail("ERR_PACKET_BAD_LENGTH", at + 4, `UDP length ${length} is shorter than the 8-byte header`);
  if (at + length > buf.length)
    fail("ERR_PACKET_BAD_LENGTH", at + 4, `UDP length ${length} runs past the end (${buf.length - at} bytes left)`);
  const sum = buf.readUInt16BE(at + 6);
  const value: Udp = {
    srcPort: buf.readUInt16BE(at),
    dstPort: buf.readUInt16BE(at + 2),
    length,
    checksum: sum,
    checksumOk: sum === 0 || !ph ? undefined : transportChecksum(buf, at, at + length, ph, UDP) === 0,
    payload: buf.subarray(at + 8, at + length),
    ...(ph ? { src: ph.src, dst: ph.dst } : {}),
  };
  return { value, bytes: length };
}
