// JSON Web Tokens signed with HS256 (RFC 7519 on RFC 7515's compact form), by hand:
//   base64url(header JSON) "." base64url(payload JSON) "." base64url(HMAC-SHA256(key, first two parts))
// `verify` accepts only HS256, compares signatures in constant time, and rejects with one error
// type, JwtError, whose `code` says which check failed and `reason` says it in words.
import { createHmac, timingSafeEqual } from "node:crypto";
import { CodecError } from "./codec";

/** Why a token was refused: a stable code and, for people, a short reason (JwtError.reason). */
export const JWT_REASONS = {
  ERR_JWT_MALFORMED: "not a well-formed token", // not three base64url JSON parts, or a claim of the wrong type
  ERR_JWT_ALG_NONE: "an unsigned token", // "alg": "none"
  ERR_JWT_ALG_NOT_ALLOWED: "an algorithm other than HS256", // HS384, RS256, ...
  ERR_JWT_BAD_SIGNATURE: "the signature does not match", // wrong key, or a changed header or payload
  ERR_JWT_EXPIRED: "the token has expired", // now >= exp
  ERR_JWT_NOT_YET_VALID: "the token is not valid yet", // now < nbf
  ERR_JWT_MISSING_IAT: "the token has no issue time", // a maximum age was asked for, but there is no iat
  ERR_JWT_TOO_OLD: "the token is older than allowed", // iat is further back than the maximum age
} as const;
export type JwtCode = keyof typeof JWT_REASONS;

/** A refused token: a CodecError whose `code` says which check failed (ERR_JWT_EXPIRED), its
 *  `reason` the same in words, and its message the details. */
export class JwtError extends CodecError<JwtCode> {
  constructor(code: JwtCode, detail: string) {
    super(code, 0, JWT_REASONS[code], `${JWT_REASONS[code]}: ${detail} (${code})`);
    this.name = "JwtError";
  }
}

/** base64url without padding (RFC 7515 §2), strict on the way in: only the URL-safe alphabet, no
 *  "=", and no unused bits set, so each byte string has exactly one text form. */
export const base64url = {
  encode: (data: Buffer | string) => Buffer.from(data).toString("base64url"),
  decode(text: string, what = "input"): Buffer {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1)
      throw new JwtError("ERR_JWT_MALFORMED", `${what} is not base64url`);
    const bytes = Buffer.from(text, "base64url");
    if (bytes.toString("base64url") !== text)
      throw new JwtError("ERR_JWT_MALFORMED", `${what} is base64url with unused bits set`);
    return bytes;
  },
};

export type Claims = Record<string, unknown> & { sub?: string; iat?: number; nbf?: number; exp?: number };
export interface JwtHeader {
  alg: string;
  typ?: string;
  [k: string]: unknown;
}

const hs256 = (key: Buffer | string, signingInput: string) => createHmac("sha256", key).update(signingInput).digest();

/** A signed token. The header is {"alg":"HS256","typ":"JWT"}; `extraHeader` adds fields (kid, ...). */
export function sign(payload: Claims, key: Buffer | string, extraHeader: Record<string, unknown> = {}): string {
  const header = { alg: "HS256", typ: "JWT", ...extraHeader };
  if (header.alg !== "HS256") throw new RangeError("sign() makes HS256 tokens only");
  const signingInput = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${signingInput}.${base64url.encode(hs256(key, signingInput))}`;
}

export interface Decoded {
  header: JwtHeader;
  payload: Claims;
  signature: Buffer;
  /** The bytes the signature covers: the first two parts as they appear in the token. */
  signingInput: string;
}

const jsonObject = (part: string, what: string): Record<string, unknown> => {
  const bytes = base64url.decode(part, what);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new JwtError("ERR_JWT_MALFORMED", `${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new JwtError("ERR_JWT_MALFORMED", `${what} is not a JSON object`);
  return value as Record<string, unknown>;
};

/** Splits and parses a token WITHOUT checking anything but its form. Never trust what it returns. */
export function decode(token: string): Decoded {
  if (typeof token !== "string") throw new JwtError("ERR_JWT_MALFORMED", "token is not a string");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("ERR_JWT_MALFORMED", `token has ${parts.length} parts, not 3`);
  const header = jsonObject(parts[0], "header");
  if (typeof header.alg !== "string") throw new JwtError("ERR_JWT_MALFORMED", "header has no alg");
  const payload = jsonObject(parts[1], "payload");
  const signature = base64url.decode(parts[2], "signature");
  return {
    header: header as JwtHeader,
    payload: payload as Claims,
    signature,
    signingInput: `${parts[0]}.${parts[1]}`,
  };
}

export interface VerifyOptions {
  /** The current time in seconds since the epoch (default: the clock). */
  now?: number;
  /** Seconds of clock skew forgiven on exp, nbf and iat (default 0). */
  clockTolerance?: number;
  /** If set, iat is required and may be at most this many seconds ago. */
  maxAge?: number;
}

/** Checks, in this order: form, algorithm, signature, then the time claims. Claims are looked at
 *  only once the signature proves the server itself issued them. */
export function verify(
  token: string,
  key: Buffer | string,
  options: VerifyOptions = {},
): { header: JwtHeader; payload: Claims } {
  const { header, payload, signature, signingInput } = decode(token);
  if (header.alg.toLowerCase() === "none") throw new JwtError("ERR_JWT_ALG_NONE", "unsigned token");
  if (header.alg !== "HS256") throw new JwtError("ERR_JWT_ALG_NOT_ALLOWED", `algorithm ${header.alg} is not accepted`);
  const expected = hs256(key, signingInput);
  // timingSafeEqual needs equal lengths; the length of an HS256 MAC is public anyway.
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
    throw new JwtError("ERR_JWT_BAD_SIGNATURE", "signature does not match");

  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = options.clockTolerance ?? 0;
  for (const claim of ["exp", "nbf", "iat"] as const)
    if (payload[claim] !== undefined && (typeof payload[claim] !== "number" || !Number.isFinite(payload[claim])))
      throw new JwtError("ERR_JWT_MALFORMED", `${claim} is not a number`);
  if (payload.exp !== undefined && now >= payload.exp + skew)
    throw new JwtError("ERR_JWT_EXPIRED", `expired ${now - payload.exp} s ago`);
  if (payload.nbf !== undefined && now < payload.nbf - skew)
    throw new JwtError("ERR_JWT_NOT_YET_VALID", `valid in ${payload.nbf - now} s`);
  if (options.maxAge !== undefined) {
    if (payload.iat === undefined) throw new JwtError("ERR_JWT_MISSING_IAT", "token has no iat, so its age is unknown");
    if (now - payload.iat > options.maxAge + skew)
      throw new JwtError("ERR_JWT_TOO_OLD", `issued ${now - payload.iat} s ago, more than ${options.maxAge} s`);
  }
  return { header, payload };
}

/** `verify` as a value: { ok: true, payload } or { ok: false, code, reason, message }. */
export function check(
  token: string,
  key: Buffer | string,
  options: VerifyOptions = {},
): { ok: true; header: JwtHeader; payload: Claims } | { ok: false; code: JwtCode; reason: string; message: string } {
  try {
    return { ok: true, ...verify(token, key, options) };
  } catch (e) {
    if (e instanceof JwtError) return { ok: false, code: e.code, reason: e.reason, message: e.message };
    throw e;
  }
}
