// helpers/wire/jwt.ts: tokens made by hand verify independently with node:crypto, RFC 7515's own HS256
// example verifies, and every way a token can be wrong is rejected with its own reason.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { base64url, check, decode, JwtError, sign, verify, type JwtCode } from "../../helpers/wire/jwt";

const key = Buffer.from("a test key of thirty-two bytes!!");
const NOW = 1_700_000_000; // a fixed clock for every check below

/** A token with any header and payload, signed with HS256 over exactly these bytes. */
function handMade(header: object, payload: object, k: Buffer | string = key): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${input}.${createHmac("sha256", k).update(input).digest("base64url")}`;
}

function reasonOf(token: string, options = {}): JwtCode {
  try {
    verify(token, key, { now: NOW, ...options });
  } catch (e) {
    expect(e).toBeInstanceOf(JwtError);
    return (e as JwtError).code;
  }
  throw new Error("expected a JwtError, but the token verified");
}

describe("sign", () => {
  const token = sign({ sub: "alice", iat: NOW, exp: NOW + 900 }, key);

  it("is three base64url parts without padding", () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const [h, p] = token.split(".");
    expect(Buffer.from(h, "base64url").toString()).toBe('{"alg":"HS256","typ":"JWT"}');
    expect(JSON.parse(Buffer.from(p, "base64url").toString())).toEqual({ sub: "alice", iat: NOW, exp: NOW + 900 });
  });

  it("verifies independently: node:crypto's HMAC-SHA256 over `header.payload` is the third part", () => {
    const [h, p, s] = token.split(".");
    const mac = createHmac("sha256", key).update(`${h}.${p}`).digest();
    expect(Buffer.from(s, "base64url").equals(mac)).toBe(true);
  });

  it("and verify accepts it, and a token made entirely by hand", () => {
    expect(verify(token, key, { now: NOW }).payload.sub).toBe("alice");
    expect(verify(handMade({ alg: "HS256" }, { sub: "bob" }), key, { now: NOW }).payload).toEqual({ sub: "bob" });
  });

  it("refuses to make anything but HS256", () => {
    expect(() => sign({}, key, { alg: "none" })).toThrow(RangeError);
  });
});

describe("RFC 7515 Appendix A.1: the specification's own HS256 example", () => {
  // The JWK key "k" and the compact serialization, as printed in the RFC. The header bytes are
  // {"typ":"JWT",\r\n "alg":"HS256"}: the signature covers the base64url text as sent, so
  // re-serializing the JSON would break it; the payload is left unread here on purpose.
  const k = base64url.decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  const jws =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

  it("node:crypto reproduces the RFC's signature", () => {
    const [h, p, s] = jws.split(".");
    expect(createHmac("sha256", k).update(`${h}.${p}`).digest("base64url")).toBe(s);
    expect(base64url.decode(h).toString()).toBe('{"typ":"JWT",\r\n "alg":"HS256"}');
  });

  it("verify accepts it before its exp (2011-03-22T18:43:00Z) and rejects it after", () => {
    const { payload } = verify(jws, k, { now: 1300819380 - 1 });
    expect([payload.iss, payload.exp]).toEqual(["joe", 1300819380]);
    expect(check(jws, k, { now: 1300819380 })).toMatchObject({
      ok: false,
      code: "ERR_JWT_EXPIRED",
      reason: "the token has expired",
    });
  });
});

describe("verify rejects, each with its own reason", () => {
  const good = sign({ sub: "alice", role: "reader", iat: NOW - 60, exp: NOW + 900 }, key);
  const [h, p, s] = good.split(".");

  it("a tampered payload (role changed, signature kept): bad-signature", () => {
    const forged = base64url.encode(JSON.stringify({ sub: "alice", role: "admin", iat: NOW - 60, exp: NOW + 900 }));
    expect(reasonOf(`${h}.${forged}.${s}`)).toBe("ERR_JWT_BAD_SIGNATURE");
  });

  it("a token signed with another key: bad-signature", () => {
    expect(reasonOf(sign({ sub: "alice" }, "some other key"))).toBe("ERR_JWT_BAD_SIGNATURE");
  });

  it("a signature of the wrong length (timingSafeEqual would throw): bad-signature", () => {
    expect(reasonOf(`${h}.${p}.${s.slice(0, 40)}`)).toBe("ERR_JWT_BAD_SIGNATURE");
    expect(reasonOf(`${h}.${p}.`)).toBe("ERR_JWT_BAD_SIGNATURE");
  });

  it("exp in the past, or now: expired (a correct signature does not help)", () => {
    expect(reasonOf(sign({ exp: NOW - 1 }, key))).toBe("ERR_JWT_EXPIRED");
    expect(reasonOf(sign({ exp: NOW }, key))).toBe("ERR_JWT_EXPIRED");
    // A skew within the tolerance is forgiven.
    expect(verify(sign({ exp: NOW - 1 }, key), key, { now: NOW, clockTolerance: 5 }).payload.exp).toBe(NOW - 1);
  });

  it("nbf in the future: not-yet-valid", () => {
    expect(reasonOf(sign({ nbf: NOW + 60, exp: NOW + 900 }, key))).toBe("ERR_JWT_NOT_YET_VALID");
    expect(verify(sign({ nbf: NOW, exp: NOW + 900 }, key), key, { now: NOW }).payload.nbf).toBe(NOW);
  });

  it("alg none, in any spelling, with or without a signature: alg-none", () => {
    const body = base64url.encode(JSON.stringify({ sub: "alice", exp: NOW + 900 }));
    for (const alg of ["none", "None", "NONE"]) {
      const header = base64url.encode(JSON.stringify({ alg, typ: "JWT" }));
      expect(reasonOf(`${header}.${body}.`)).toBe("ERR_JWT_ALG_NONE");
      expect(reasonOf(`${header}.${body}.${s}`)).toBe("ERR_JWT_ALG_NONE");
    }
  });

  it("any other algorithm, even correctly signed with the key: alg-not-allowed", () => {
    const hs384 = `${base64url.encode('{"alg":"HS384"}')}.${p}`;
    expect(reasonOf(`${hs384}.${createHmac("sha384", key).update(hs384).digest("base64url")}`)).toBe(
      "ERR_JWT_ALG_NOT_ALLOWED",
    );
    // the classic confusion attack: RS256 in the header, "signed" with a public key as HMAC secret
    expect(reasonOf(handMade({ alg: "RS256" }, { sub: "alice" }))).toBe("ERR_JWT_ALG_NOT_ALLOWED");
  });

  it("malformed tokens: malformed", () => {
    const cases = [
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      `${h}.${p}.${s}=`, // padding
      `${h}.${p}.${s.slice(0, -1)}+`, // "+" is standard base64, not base64url
      `${base64url.encode("not json")}.${p}.${s}`,
      `${base64url.encode("[1,2]")}.${p}.${s}`,
      `${base64url.encode('{"typ":"JWT"}')}.${p}.${s}`, // no alg
      `${h}.${base64url.encode('"alice"')}.${s}`,
      handMade({ alg: "HS256" }, { exp: "tomorrow" }),
    ];
    for (const t of cases) expect(reasonOf(t), t).toBe("ERR_JWT_MALFORMED");
  });

  it("a signature with unused trailing bits changed (same bytes, other text): malformed", () => {
    // 32 bytes need 43 characters carrying 258 bits; the last 2 bits are unused. A lenient
    // decoder maps "…k" and "…l" to the same MAC, so two texts would verify.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = s.slice(0, -1) + alphabet[alphabet.indexOf(s[s.length - 1]) ^ 1];
    expect(Buffer.from(twin, "base64url").equals(Buffer.from(s, "base64url"))).toBe(true);
    expect(reasonOf(`${h}.${p}.${twin}`)).toBe("ERR_JWT_MALFORMED");
  });

  it("maxAge: missing-iat without iat, too-old when iat is further back", () => {
    expect(reasonOf(sign({ sub: "alice", exp: NOW + 900 }, key), { maxAge: 300 })).toBe("ERR_JWT_MISSING_IAT");
    expect(reasonOf(sign({ sub: "alice", iat: NOW - 301, exp: NOW + 900 }, key), { maxAge: 300 })).toBe(
      "ERR_JWT_TOO_OLD",
    );
    expect(verify(good, key, { now: NOW, maxAge: 300 }).payload.sub).toBe("alice");
  });

  it("checks the signature before the claims: a forged, expired token is bad-signature", () => {
    const forged = base64url.encode(JSON.stringify({ sub: "alice", exp: NOW - 10 }));
    expect(reasonOf(`${h}.${forged}.${s}`)).toBe("ERR_JWT_BAD_SIGNATURE");
  });
});

describe("decode and check", () => {
  it("decode reads without verifying, and says so by its name only", () => {
    const d = decode(sign({ sub: "x" }, "k"));
    expect(d.header).toEqual({ alg: "HS256", typ: "JWT" });
    expect(d.signature.length).toBe(32);
  });

  it("check returns the reason instead of throwing", () => {
    expect(check("abc", key)).toMatchObject({
      ok: false,
      code: "ERR_JWT_MALFORMED",
      reason: "not a well-formed token",
    });
    expect(check(sign({ sub: "x" }, key), key)).toMatchObject({ ok: true, payload: { sub: "x" } });
  });
});
