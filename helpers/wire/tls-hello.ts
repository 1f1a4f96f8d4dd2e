// TLS 1.3's first two handshake messages (RFC 8446 §4.1.2, §4.1.3), ClientHello and ServerHello,
// as QUIC carries them in CRYPTO frames (and TCP in handshake records): the 4-byte handshake
// header (type, 24-bit length), the legacy version, the 32-byte random, the session ID, the cipher
// suites (one, in a ServerHello), the compression methods and the extensions, each a type and its
// bytes. A codec on the contract of codec.ts; what is inside an extension is left as bytes, with
// `extensionName` to name it. Bad bytes are one TlsHelloError.
import { bytesOf, codec, CodecError, invalid, objectOf, uint } from "./codec";

export type TlsHelloErrorCode =
  | "ERR_TLS_HELLO_TRUNCATED" // a field that runs past the message or the buffer
  | "ERR_TLS_HELLO_TYPE"; // a handshake message that is neither ClientHello (1) nor ServerHello (2)

export class TlsHelloError extends CodecError<TlsHelloErrorCode> {
  constructor(code: TlsHelloErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed TLS hello at offset ${offset}: ${reason} (${code})`);
    this.name = "TlsHelloError";
  }
}
const fail = (code: TlsHelloErrorCode, offset: number, reason: string): never => {
  throw new TlsHelloError(code, offset, reason);
};

export const EXTENSIONS: Record<number, string> = {
  0: "server_name",
  10: "supported_groups",
  13: "signature_algorithms",
  16: "application_layer_protocol_negotiation",
  41: "pre_shared_key",
  43: "supported_versions",
  45: "psk_key_exchange_modes",
  51: "key_share",
  57: "quic_transport_parameters",
};
export const extensionName = (t: number) => EXTENSIONS[t] ?? `0x${t.toString(16)}`;
export const CIPHER_SUITES: Record<number, string> = {
  0x1301: "TLS_AES_128_GCM_SHA256",
  0x1302: "TLS_AES_256_GCM_SHA384",
  0x1303: "TLS_CHACHA20_POLY1305_SHA256",
  0x1304: "TLS_AES_128_CCM_SHA256",
  0x1305: "TLS_AES_128_CCM_8_SHA256",
};

export interface Hello {
  kind: "client" | "server";
  legacyVersion?: number;
  random: Buffer;
  sessionId?: Buffer;
  /** A ClientHello's offer, or (one entry) the ServerHello's choice. */
  cipherSuites: number[];
  extensions: [type: number, data: Buffer][];
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
function planHello(h: Hello): Buffer {
  objectOf(h, "a TLS hello");
  if (h.kind !== "client" && h.kind !== "server") invalid("kind is client or server");
  if (bytesOf(h.random, "random").length !== 32) invalid("random is 32 bytes");
  const sid = bytesOf(h.sessionId ?? Buffer.alloc(0), "sessionId");
  if (sid.length > 32) invalid("a session ID is at most 32 bytes");
  if (h.kind === "server" && h.cipherSuites.length !== 1) invalid("a ServerHello names exactly one cipher suite");
  const suites = Buffer.concat(h.cipherSuites.map((s) => u16(uint(s, 16, "cipher suite"))));
  const ext = Buffer.concat(
    h.extensions.flatMap(([t, d]) => [
      u16(uint(t, 16, "extension type")),
      u16(uint(bytesOf(d, "extension").length, 16, "extension length")),
      d,
    ]),
  );
  const body = Buffer.concat([
    u16(uint(h.legacyVersion ?? 0x0303, 16, "legacyVersion")),
    h.random,
    Buffer.from([sid.length]),
    sid,
    ...(h.kind === "client" ? [u16(suites.length), suites, Buffer.from([1, 0])] : [suites, Buffer.from([0])]),
    u16(uint(ext.length, 16, "extensions length")),
    ext,
  ]);
  if (body.length >= 2 ** 24) invalid("a hello is under 16 MiB");
  return Buffer.concat([
    Buffer.from([h.kind === "client" ? 1 : 2, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]),
    body,
  ]);
}

function readHello(buf: Buffer, at: number): { value: Hello; bytes: number } {
  const need = (i: number, n: number, what: string) => {
    if (i + n > end)
      fail(
        "ERR_TLS_HELLO_TRUNCATED",
        Math.min(i, buf.length),
        `${what} needs ${n} bytes, ${Math.max(0, end - i)} left`,
      );
  };
  let end = buf.length;
  need(at, 4, "the handshake header");
  const type = buf[at];
  if (type !== 1 && type !== 2)
    fail("ERR_TLS_HELLO_TYPE", at, `handshake type ${type} is not a ClientHello (1) or ServerHello (2)`);
  const length = buf.readUIntBE(at + 1, 3);
  need(at + 4, length, "the hello");
  end = at + 4 + length;
  let i = at + 4;
  need(i, 35, "version, random and session ID length");
  const legacyVersion = buf.readUInt16BE(i);
  const random = Buffer.from(buf.subarray(i + 2, i + 34));
  const sidLen = buf[i + 34];
  i += 35;
  need(i, sidLen, "the session ID");
  const sessionId = Buffer.from(buf.subarray(i, i + sidLen));
  i += sidLen;
  const cipherSuites: number[] = [];
  if (type === 1) {
    need(i, 2, "the cipher suites length");
    const n = buf.readUInt16BE(i);
    need(i + 2, n, "the cipher suites");
    for (let k = 0; k + 1 < n; k += 2) cipherSuites.push(buf.readUInt16BE(i + 2 + k));
    i += 2 + n;
    need(i, 1, "the compression methods length");
    need(i + 1, buf[i], "the compression methods");
    i += 1 + buf[i];
  } else {
    need(i, 3, "the cipher suite and compression method");
    cipherSuites.push(buf.readUInt16BE(i));
    i += 3;
  }
  const extensions: [number, Buffer][] = [];
  if (i < end) {
    need(i, 2, "the extensions length");
    const n = buf.readUInt16BE(i);
    i += 2;
    need(i, n, "the extensions");
    const stop = i + n;
    while (i < stop) {
      if (i + 4 > stop) fail("ERR_TLS_HELLO_TRUNCATED", i, "an extension header runs past the extensions");
      const t = buf.readUInt16BE(i);
      const len = buf.readUInt16BE(i + 2);
      if (i + 4 + len > stop) fail("ERR_TLS_HELLO_TRUNCATED", i + 2, `extension ${t} runs past the extensions`);
      extensions.push([t, Buffer.from(buf.subarray(i + 4, i + 4 + len))]);
      i += 4 + len;
    }
  }
  const kind = type === 1 ? "client" : "server";
  return { value: { kind, legacyVersion, random, sessionId, cipherSuites, extensions }, bytes: end - at };
}

export const hello = codec<Hello, Hello>({
  plan(h) {
    const b = planHello(h);
    return { length: b.length, write: (buf, at) => b.copy(buf, at) };
  },
  read: readHello,
});

/** The data of extension `type`, if the hello has it. */
export const extension = (h: Hello, type: number) => h.extensions.find(([t]) => t === type)?.[1];
