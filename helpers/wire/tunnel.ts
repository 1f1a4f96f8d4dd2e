// The datagram of notebook 65's own VPN tunnel, on the codec contract: a 16-byte header — type
// (1: data), three zero bytes, the receiver's 32-bit session id, a 64-bit little-endian counter
// (the AEAD nonce's last 8 bytes, as in WireGuard's transport message) — then the sealed inner
// packet: ciphertext and a 16-byte tag. The header is the AEAD's additional data, so a changed
// header fails authentication. The sealing itself is net/aead-tunnel.ts; this is only the layout.
import { bytesOf, codec, invalid, objectOf, uint, CodecError } from "./codec";

export type TunnelErrorCode = "ERR_TUNNEL_TRUNCATED" | "ERR_TUNNEL_BAD_TYPE" | "ERR_TUNNEL_BAD_RESERVED";

export class TunnelError extends CodecError<TunnelErrorCode> {
  constructor(code: TunnelErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed tunnel datagram at offset ${offset}: ${reason} (${code})`);
    this.name = "TunnelError";
  }
}

export const HEADER_LENGTH = 16;
export const TAG_LENGTH = 16;
/** What the tunnel adds to each inner packet: header and tag (plus UDP 8 and IPv4 20 outside). */
export const OVERHEAD = HEADER_LENGTH + TAG_LENGTH;
const DATA = 1;

export interface TunnelDatagram {
  type: "data";
  receiver: number;
  counter: bigint;
  /** Ciphertext followed by the tag: at least TAG_LENGTH bytes. */
  sealed: Buffer;
}

export const tunnelDatagram = codec<TunnelDatagram, TunnelDatagram>({
  plan(v) {
    objectOf(v, "a tunnel datagram");
    if (v.type !== "data") invalid(`type must be "data", got ${String(v.type)}`);
    const receiver = uint(v.receiver, 32, "receiver");
    if (typeof v.counter !== "bigint" || v.counter < 0n || v.counter >= 1n << 64n)
      invalid(`counter must be a bigint from 0 to 2^64-1, got ${String(v.counter)}`);
    const sealed = bytesOf(v.sealed, "sealed");
    if (sealed.length < TAG_LENGTH) invalid(`sealed must hold at least the ${TAG_LENGTH}-byte tag`);
    return {
      length: HEADER_LENGTH + sealed.length,
      write(buf, at) {
        buf.writeUInt32LE(DATA, at); // type 1, then three zero bytes
        buf.writeUInt32LE(receiver, at + 4);
        buf.writeBigUInt64LE(v.counter, at + 8);
        sealed.copy(buf, at + HEADER_LENGTH);
      },
    };
  },
  read(buf, at) {
    if (buf.length - at < HEADER_LENGTH + TAG_LENGTH)
      throw new TunnelError(
        "ERR_TUNNEL_TRUNCATED",
        at,
        `a datagram needs ${HEADER_LENGTH + TAG_LENGTH} bytes, ${buf.length - at} given`,
      );
    if (buf[at] !== DATA) throw new TunnelError("ERR_TUNNEL_BAD_TYPE", at, `type ${buf[at]} is not 1 (data)`);
    if (buf[at + 1] | buf[at + 2] | buf[at + 3])
      throw new TunnelError("ERR_TUNNEL_BAD_RESERVED", at + 1, "the three reserved bytes are not zero");
    return {
      value: {
        type: "data",
        receiver: buf.readUInt32LE(at + 4),
        counter: buf.readBigUInt64LE(at + 8),
        sealed: Buffer.from(buf.subarray(at + HEADER_LENGTH)),
      },
      bytes: buf.length - at,
    };
  },
});
