// WireGuard's four messages (the whitepaper's §5.4, "Messages"), on the codec contract: handshake
// initiation (type 1, 148 bytes), handshake response (type 2, 92 bytes), cookie reply (type 3,
// 64 bytes) and transport data (type 4: a 16-byte header, then the encrypted packet and its
// 16-byte tag). Each starts with the type and three zero bytes; indices and the counter are
// little-endian. Layout only: the cryptographic fields (ephemeral keys, sealed statics,
// timestamps, MACs) are carried as bytes.
import { bytesOf, codec, invalid, objectOf, uint, CodecError } from "./codec";

export type WireGuardErrorCode =
  | "ERR_WG_TRUNCATED" // fewer bytes than the message type needs
  | "ERR_WG_BAD_TYPE" // a type that is not 1..4
  | "ERR_WG_BAD_RESERVED" // the three bytes after the type are not zero
  | "ERR_WG_BAD_LENGTH"; // a fixed-size message of another size

export class WireGuardError extends CodecError<WireGuardErrorCode> {
  constructor(code: WireGuardErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed WireGuard message at offset ${offset}: ${reason} (${code})`);
    this.name = "WireGuardError";
  }
}

export interface Initiation {
  type: "initiation";
  sender: number;
  ephemeral: Buffer; // 32
  encryptedStatic: Buffer; // 32 + 16
  encryptedTimestamp: Buffer; // 12 + 16
  mac1: Buffer; // 16
  mac2: Buffer; // 16
}
export interface Response {
  type: "response";
  sender: number;
  receiver: number;
  ephemeral: Buffer; // 32
  encryptedNothing: Buffer; // 16
  mac1: Buffer;
  mac2: Buffer;
}
export interface CookieReply {
  type: "cookie-reply";
  receiver: number;
  nonce: Buffer; // 24
  encryptedCookie: Buffer; // 16 + 16
}
export interface TransportData {
  type: "transport";
  receiver: number;
  counter: bigint;
  /** The encrypted packet and its tag: at least 16 bytes (16 alone: a keepalive). */
  encrypted: Buffer;
}
export type WireGuardMessage = Initiation | Response | CookieReply | TransportData;

type Field = [name: string, size: number];
/** The byte fields after the 4-byte type word and the indices, in order, per type. */
const LAYOUT = {
  initiation: {
    code: 1,
    ids: ["sender"],
    fields: [
      ["ephemeral", 32],
      ["encryptedStatic", 48],
      ["encryptedTimestamp", 28],
      ["mac1", 16],
      ["mac2", 16],
    ] as Field[],
  },
  response: {
    code: 2,
    ids: ["sender", "receiver"],
    fields: [
      ["ephemeral", 32],
      ["encryptedNothing", 16],
      ["mac1", 16],
      ["mac2", 16],
    ] as Field[],
  },
  "cookie-reply": {
    code: 3,
    ids: ["receiver"],
    fields: [
      ["nonce", 24],
      ["encryptedCookie", 32],
    ] as Field[],
  },
} as const;
const SIZES: Record<number, number> = { 1: 148, 2: 92, 3: 64 };
const TYPES = ["", "initiation", "response", "cookie-reply", "transport"] as const;
export const TRANSPORT_HEADER = 16;
export const TAG = 16;

export const wireguard = codec<WireGuardMessage, WireGuardMessage>({
  plan(m) {
    objectOf(m, "a WireGuard message");
    if (m.type === "transport") {
      const receiver = uint(m.receiver, 32, "receiver");
      if (typeof m.counter !== "bigint" || m.counter < 0n || m.counter >= 1n << 64n)
        invalid("counter must be a bigint from 0 to 2^64-1");
      const encrypted = bytesOf(m.encrypted, "encrypted");
      if (encrypted.length < TAG) invalid(`encrypted must hold at least the ${TAG}-byte tag`);
      return {
        length: TRANSPORT_HEADER + encrypted.length,
        write(buf, at) {
          buf.writeUInt32LE(4, at);
          buf.writeUInt32LE(receiver, at + 4);
          buf.writeBigUInt64LE(m.counter, at + 8);
          encrypted.copy(buf, at + TRANSPORT_HEADER);
        },
      };
    }
    const layout = LAYOUT[m.type];
    if (!layout) return invalid(`type must be one of ${TYPES.slice(1).join(", ")}`);
    const record = m as unknown as Record<string, unknown>;
    const ids = layout.ids.map((k) => uint(record[k], 32, k));
    const fields = layout.fields.map(([k, size]) => {
      const b = bytesOf(record[k], k);
      if (b.length !== size) invalid(`${k} must be ${size} bytes, got ${b.length}`);
      return b;
    });
    return {
      length: SIZES[layout.code],
      write(buf, at) {
        buf.writeUInt32LE(layout.code, at);
        let p = at + 4;
        for (const id of ids) (buf.writeUInt32LE(id, p), (p += 4));
        for (const b of fields) (b.copy(buf, p), (p += b.length));
      },
    };
  },
  read(buf, at) {
    const left = buf.length - at;
    if (left < 4) throw new WireGuardError("ERR_WG_TRUNCATED", at, `a message needs at least 4 bytes, ${left} left`);
    const code = buf[at];
    const type = TYPES[code];
    if (!type) throw new WireGuardError("ERR_WG_BAD_TYPE", at, `type ${code} is not 1..4`);
    if (buf[at + 1] | buf[at + 2] | buf[at + 3])
      throw new WireGuardError("ERR_WG_BAD_RESERVED", at + 1, "the three reserved bytes are not zero");
    if (type === "transport") {
      if (left < TRANSPORT_HEADER + TAG)
        throw new WireGuardError(
          "ERR_WG_TRUNCATED",
          at,
          `transport data needs ${TRANSPORT_HEADER + TAG} bytes, ${left} left`,
        );
      const value: TransportData = {
        type,
        receiver: buf.readUInt32LE(at + 4),
        counter: buf.readBigUInt64LE(at + 8),
        encrypted: Buffer.from(buf.subarray(at + TRANSPORT_HEADER)),
      };
      return { value, bytes: left };
    }
    if (left !== SIZES[code])
      throw new WireGuardError("ERR_WG_BAD_LENGTH", at, `a ${type} is ${SIZES[code]} bytes, not ${left}`);
    const layout = LAYOUT[type];
    const out: Record<string, unknown> = { type };
    let p = at + 4;
    for (const k of layout.ids) ((out[k] = buf.readUInt32LE(p)), (p += 4));
    for (const [k, size] of layout.fields) ((out[k] = Buffer.from(buf.subarray(p, p + size))), (p += size));
    return { value: out as unknown as WireGuardMessage, bytes: left };
  },
});

/** The session indices a message carries: its sender's and/or its receiver's. */
export function indicesOf(m: WireGuardMessage): { sender?: number; receiver?: number } {
  if (m.type === "initiation") return { sender: m.sender };
  if (m.type === "response") return { sender: m.sender, receiver: m.receiver };
  return { receiver: m.receiver };
}
