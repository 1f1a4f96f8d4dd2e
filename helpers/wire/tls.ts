// The TLS record layer's framing (RFC 8446 §5.1; TLS 1.2's, RFC 5246 §6.2, is the same): a
// content type, the legacy record version, a 16-bit length and that many bytes of fragment. A
// record is a codec (helpers/wire/codec.ts); `tlsRecords` splits a captured byte stream into
// records. What is inside a record (handshake messages, encrypted data) is not decoded here.
import { bytesOf, codec, CodecError, invalid, objectOf, uint } from "./codec";

export const RECORD_TYPES: Record<number, string> = {
  20: "change_cipher_spec",
  21: "alert",
  22: "handshake",
  23: "application_data",
};

/** The longest fragment a record may carry: 2^14 bytes of plaintext plus 256 of AEAD expansion
 *  (RFC 8446 §5.2); anything longer is a record_overflow. */
export const MAX_FRAGMENT = 2 ** 14 + 256;

export type TlsErrorCode =
  | "ERR_TLS_TRUNCATED" // a record header cut short, or a fragment that runs past the end
  | "ERR_TLS_RECORD_OVERFLOW"; // a length above MAX_FRAGMENT

export class TlsError extends CodecError<TlsErrorCode> {
  constructor(code: TlsErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed TLS record at offset ${offset}: ${reason} (${code})`);
    this.name = "TlsError";
  }
}
const fail = (code: TlsErrorCode, offset: number, reason: string): never => {
  throw new TlsError(code, offset, reason);
};

export interface TlsRecordInput {
  /** 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data */
  type: number;
  /** legacy_record_version: 0x0303 (what TLS 1.3 writes after its first ClientHello) unless
   *  told otherwise. */
  version?: number;
  body: Buffer;
}
export interface TlsRecord extends Required<TlsRecordInput> {
  /** The 5-byte record header (type, legacy version, length): the AEAD's additional data in
   *  TLS 1.3. Decoded only; encode writes it from the fields. */
  header: Buffer;
}

export const tlsRecord = codec<TlsRecordInput, TlsRecord>({
  plan(r) {
    objectOf(r, "a TLS record");
    const type = uint(r.type, 8, "type");
    const version = uint(r.version ?? 0x0303, 16, "version");
    const body = bytesOf(r.body, "body");
    if (body.length > MAX_FRAGMENT) invalid(`a record carries at most ${MAX_FRAGMENT} bytes, not ${body.length}`);
    return {
      length: 5 + body.length,
      write(buf, at) {
        buf[at] = type;
        buf.writeUInt16BE(version, at + 1);
        buf.writeUInt16BE(body.length, at + 3);
        body.copy(buf, at + 5);
      },
    };
  },
  read(buf, at) {
    if (at + 5 > buf.length)
      fail("ERR_TLS_TRUNCATED", at, `a record header needs 5 bytes, ${Math.max(0, buf.length - at)} left`);
    const length = buf.readUInt16BE(at + 3);
    if (length > MAX_FRAGMENT) fail("ERR_TLS_RECORD_OVERFLOW", at + 3, `length ${length} is above ${MAX_FRAGMENT}`);
    if (at + 5 + length > buf.length)
      fail(
        "ERR_TLS_TRUNCATED",
        at + 3,
        `a fragment of ${length} bytes runs past the end (${buf.length - at - 5} left)`,
      );
    const value = {
      type: buf[at],
      version: buf.readUInt16BE(at + 1),
      header: buf.subarray(at, at + 5),
      body: buf.subarray(at + 5, at + 5 + length),
    };
    return { value, bytes: 5 + length };
  },
});

/** Splits a byte stream into TLS records; a trailing partial record (more is still to come) is
 *  left out. */
export function tlsRecords(stream: Buffer): TlsRecord[] {
  const records: TlsRecord[] = [];
  for (let at = 0; at + 5 <= stream.length && at + 5 + stream.readUInt16BE(at + 3) <= stream.length;) {
    const { value, bytes } = tlsRecord.read(stream, at);
    records.push(value);
    at += bytes;
  }
  return records;
}
