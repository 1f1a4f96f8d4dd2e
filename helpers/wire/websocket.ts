// WebSocket frames (RFC 6455 §5): FIN, three reserved bits, the opcode, the MASK bit, a payload
// length in 7 bits or, past 125, in 16 or 64 more, the 4-byte masking key a client must use, and
// the payload (unmasked by decode). A codec on the contract of codec.ts. Frames RFC 6455 says
// to fail the connection over (a reserved opcode, a reserved bit set, a control frame that is
// fragmented or longer than 125 bytes, a 64-bit length with the top bit set) are one
// WebSocketError carrying the close code the endpoint sends (1002). Also the opening handshake's
// Sec-WebSocket-Accept (§4.2.2) and the close codes (§7.4.1).
import { createHash } from "node:crypto";
import { bytesOf, codec, CodecError, invalid, objectOf, uint } from "./codec";

export const OPCODES: Record<number, string> = {
  0: "continuation",
  1: "text",
  2: "binary",
  8: "close",
  9: "ping",
  10: "pong",
};
export const CLOSE_CODES: Record<number, string> = {
  1000: "normal closure",
  1001: "going away",
  1002: "protocol error",
  1003: "unsupported data",
  1007: "invalid frame payload data",
  1008: "policy violation",
  1009: "message too big",
  1011: "internal error",
};

export type WebSocketErrorCode =
  | "ERR_WS_TRUNCATED" // fewer bytes than the header or the payload needs
  | "ERR_WS_BAD_OPCODE" // a reserved opcode (3-7, 11-15)
  | "ERR_WS_RESERVED_BITS" // RSV1-3 set with no extension agreed
  | "ERR_WS_BAD_CONTROL" // a control frame fragmented or with more than 125 bytes
  | "ERR_WS_BAD_LENGTH"; // a 64-bit length with the most significant bit set, or past 2^53

export class WebSocketError extends CodecError<WebSocketErrorCode> {
  /** The close code to fail the connection with (RFC 6455 §7.4.1). */
  readonly closeCode = 1002;
  constructor(code: WebSocketErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed WebSocket frame at offset ${offset}: ${reason} (${code})`);
    this.name = "WebSocketError";
  }
}
const fail = (code: WebSocketErrorCode, offset: number, reason: string): never => {
  throw new WebSocketError(code, offset, reason);
};

export interface WsFrame {
  fin?: boolean;
  /** RSV1-3 as a 3-bit number; 0 unless an extension says otherwise. */
  rsv?: number;
  opcode: number;
  /** The 4-byte masking key: a client's frames have one, a server's none. */
  mask?: Buffer;
  /** The payload, unmasked. */
  payload: Buffer;
  /** How the length was written: 7 bits, 16 or 64 (default: the shortest that fits). */
  lengthBits?: 7 | 16 | 64;
}

/** XORs `data` with the 4-byte key, repeating (masking and unmasking are the same). */
export function applyMask(data: Buffer, key: Buffer): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] ^ key[i & 3];
  return out;
}

const isControl = (op: number) => op >= 8;

export const frame = codec<WsFrame, WsFrame>({
  plan(f) {
    objectOf(f, "a WebSocket frame");
    const op = uint(f.opcode, 4, "opcode");
    const payload = bytesOf(f.payload, "payload");
    const rsv = uint(f.rsv ?? 0, 3, "rsv");
    const fin = f.fin ?? true;
    if (isControl(op) && (!fin || payload.length > 125))
      invalid("a control frame is never fragmented and carries at most 125 bytes");
    if (f.mask !== undefined && bytesOf(f.mask, "mask").length !== 4) invalid("a masking key is 4 bytes");
    const bits = f.lengthBits ?? (payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64);
    if ((bits === 7 && payload.length > 125) || (bits === 16 && payload.length > 65535) || ![7, 16, 64].includes(bits))
      invalid(`${payload.length} bytes do not fit a ${bits}-bit length`);
    const head = 2 + (bits === 16 ? 2 : bits === 64 ? 8 : 0) + (f.mask ? 4 : 0);
    const mask = f.mask;
    return {
      length: head + payload.length,
      write(buf, at) {
        buf[at] = (fin ? 0x80 : 0) | (rsv << 4) | op;
        const len7 = bits === 7 ? payload.length : bits === 16 ? 126 : 127;
        buf[at + 1] = (mask ? 0x80 : 0) | len7;
        let i = at + 2;
        if (bits === 16) i = buf.writeUInt16BE(payload.length, i);
        if (bits === 64) i = buf.writeBigUInt64BE(BigInt(payload.length), i);
        if (mask) i += mask.copy(buf, i);
        (mask ? applyMask(payload, mask) : payload).copy(buf, i);
      },
    };
  },
  read(buf, at) {
    if (at + 2 > buf.length) fail("ERR_WS_TRUNCATED", at, "a frame header needs 2 bytes");
    const b0 = buf[at];
    const b1 = buf[at + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 7;
    const opcode = b0 & 0x0f;
    if (!(opcode in OPCODES)) fail("ERR_WS_BAD_OPCODE", at, `opcode ${opcode} is reserved`);
    if (rsv)
      fail("ERR_WS_RESERVED_BITS", at, `reserved bits ${rsv.toString(2).padStart(3, "0")} set, no extension agreed`);
    let i = at + 2;
    let length = b1 & 0x7f;
    let lengthBits: 7 | 16 | 64 = 7;
    if (length === 126) {
      if (i + 2 > buf.length) fail("ERR_WS_TRUNCATED", i, "a 16-bit length needs 2 bytes");
      length = buf.readUInt16BE(i);
      i += 2;
      lengthBits = 16;
    } else if (length === 127) {
      if (i + 8 > buf.length) fail("ERR_WS_TRUNCATED", i, "a 64-bit length needs 8 bytes");
      const big = buf.readBigUInt64BE(i);
      if (big >> 63n) fail("ERR_WS_BAD_LENGTH", i, "the 64-bit length's most significant bit must be 0");
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) fail("ERR_WS_BAD_LENGTH", i, `a length of ${big} bytes`);
      length = Number(big);
      i += 8;
      lengthBits = 64;
    }
    if (isControl(opcode) && (!fin || length > 125))
      fail(
        "ERR_WS_BAD_CONTROL",
        at,
        fin ? `a ${OPCODES[opcode]} frame of ${length} bytes, above 125` : `a fragmented ${OPCODES[opcode]} frame`,
      );
    let mask: Buffer | undefined;
    if (b1 & 0x80) {
      if (i + 4 > buf.length) fail("ERR_WS_TRUNCATED", i, "the masking key needs 4 bytes");
      mask = Buffer.from(buf.subarray(i, i + 4));
      i += 4;
    }
    if (i + length > buf.length)
      fail("ERR_WS_TRUNCATED", i, `a payload of ${length} bytes runs past the end (${buf.length - i} left)`);
    const raw = buf.subarray(i, i + length);
    const payload = mask ? applyMask(raw, mask) : Buffer.from(raw);
    return { value: { fin, rsv, opcode, ...(mask ? { mask } : {}), payload, lengthBits }, bytes: i + length - at };
  },
});

/** The GUID of RFC 6455 §1.3, appended to the client's key. */
export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)). */
export const acceptFor = (key: string) =>
  createHash("sha1")
    .update(key + WS_GUID)
    .digest("base64");

/** A close frame's payload: a 2-byte code and a UTF-8 reason. */
export const closePayload = (code: number, reason = "") =>
  Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason, "utf8")]);
