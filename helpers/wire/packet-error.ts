// The one error of the packet layers (ethernet.ts, ipv4.ts, icmp.ts, udp.ts, tcp.ts and their
// composition dissect.ts): a CodecError whose offset counts from the start of the buffer given to
// decode, so an error deep in a frame points at the byte in the frame.
import { CodecError } from "./codec";

/** Stable codes for malformed packets. */
export type PacketErrorCode =
  | "ERR_PACKET_TRUNCATED" // fewer bytes than a fixed header needs
  | "ERR_PACKET_BAD_VERSION" // an IPv4 header whose version nibble is not 4
  | "ERR_PACKET_BAD_IHL" // IHL below 5 (a header is at least 20 bytes), or past the end
  | "ERR_PACKET_BAD_LENGTH" // a length field that disagrees with the header or runs past the buffer
  | "ERR_PACKET_NO_LAYER"; // dissect was asked for a layer the packet does not have

export class PacketError extends CodecError<PacketErrorCode> {
  constructor(code: PacketErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed packet at offset ${offset}: ${reason} (${code})`);
    this.name = "PacketError";
  }
}

export const fail = (code: PacketErrorCode, offset: number, reason: string): never => {
  throw new PacketError(code, offset, reason);
};

/** Throws unless `n` bytes starting at `offset` lie inside `buf`. */
export const need = (buf: Buffer, offset: number, n: number, what: string) => {
  if (offset + n > buf.length)
    fail("ERR_PACKET_TRUNCATED", offset, `${what} needs ${n} bytes, ${Math.max(0, buf.length - offset)} left`);
};
