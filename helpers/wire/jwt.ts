// JSON Web Tokens signed with HS256 (RFC 7519 on RFC 7515's compact form), by hand:
//   base64url(header JSON) "." base64url(payload JSON) "." base64url(HMAC-SHA256(key, first two parts))
// `verify` accepts only HS256, compares signatures in constant time, and rejects with one error
// type, JwtError, whose `reason` says which check failed.
import { createHmac, timingSafeEqual } from "node:crypto";

export type JwtReason =
  | "malformed" // not three base64url parts, or a part is not a JSON object, or a claim has the wrong type
  | "alg-none" // "alg": "none", an unsigned token
  | "alg-not-allowed" // any other algorithm than HS256 (HS384, RS256, ...)
  | "bad-signature" // the HMAC does not match: wrong key or changed header/payload
  | "expired" // now >= exp
  | "not-yet-valid" // now < nbf
  | "missing-iat" // a maximum age was asked for, but the token has no iat
  | "too-old"; // iat is further back than the maximum age allows

export class JwtError extends Error {
  readonly code = "ERR_JWT";
  constructor(
    readonly reason: JwtReason,
    detail: string,
  ) {
    super(`${detail} (${reason})`);
    this.name = "JwtError";
  }
}

/** base64url without padding (RFC 7515 §2), strict on the way in: only the URL-safe alphabet, no
 *  "=", and no unused bits set, so each byte string has exactly one text form. */
export const base64url = {
  encode: (data: Buffer | string) => Buffer.from(data).toString("base64url"),
  decode(text: string, what = "input"): Buffer {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1)
      throw new JwtError("malformed", `${what} is not base64url`);
    const bytes = Buffer.from(text, "base64url");
    if (bytes.toString("base64url") !== text)
      throw new JwtError("malformed", `${what} is base64url with unused bits set`);
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
    throw new JwtError("malformed", `${what} is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new JwtError("malformed", `${what} is not a JSON object`);
  return value as Record<string, unknown>;
};

/** Splits and parses a token WITHOUT checking anything but its form. Never trust what it returns. */
export function decode(token: string): Decoded {
  if (typeof token !== "string") throw new JwtError("malformed", "token is not a string");
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtError("malformed", `token has ${parts.length} parts, not 3`);
  const header = jsonObject(parts[0], "header");
  if (typeof header.alg !== "string") throw new JwtError("malformed", "header has no alg");
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
  if (header.alg.toLowerCase() === "none") throw new JwtError("alg-none", "unsigned token");
  if (header.alg !== "HS256") throw new JwtError("alg-not-allowed", `algorithm ${header.alg} is not accepted`);
  const expected = hs256(key, signingInput);
  // timingSafeEqual needs equal lengths; the length of an HS256 MAC is public anyway.
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
    throw new JwtError("bad-signature", "signature does not match");

  const now = options.now ?? Math.floor(Date.now() / 1000);
  const skew = options.clockTolerance ?? 0;
  for (const claim of ["exp", "nbf", "iat"] as const)
    if (payload[claim] !== undefined && (typeof payload[claim] !== "number" || !Number.isFinite(payload[claim])))
      throw new JwtError("malformed", `${claim} is not a number`);
  if (payload.exp !== undefined && now >= payload.exp + skew)
    throw new JwtError("expired", `expired ${now - payload.exp} s ago`);
  if (payload.nbf !== undefined && now < payload.nbf - skew)
    throw new JwtError("not-yet-valid", `valid in ${payload.nbf - now} s`);
  if (options.maxAge !== undefined) {
    if (payload.iat === undefined) throw new JwtError("missing-iat", "token has no iat, so its age is unknown");
    if (now - payload.iat > options.maxAge + skew)
      throw new JwtError("too-old", `issued ${now - payload.iat} s ago, more than ${options.maxAge} s`);
  }
  return { header, payload };
}

/** `verify` as a value: { ok: true, payload } or { ok: false, reason, message }. */
export function check(
  token: string,
  key: Buffer | string,
  options: VerifyOptions = {},
): { ok: true; header: JwtHeader; payload: Claims } | { ok: false; reason: JwtReason; message: string } {
  try {
    return { ok: true, ...verify(token, key, options) };
  } catch (e) {
    if (e instanceof JwtError) return { ok: false, reason: e.reason, message: e.message };
    throw e;
  }
}
