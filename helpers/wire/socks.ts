// SOCKS version 5 (RFC 1928) and its username/password sub-negotiation (RFC 1929), the six
// messages of a CONNECT, each a codec (helpers/wire/codec.ts):
//   greeting        client → proxy  VER 5, NMETHODS, METHODS            (RFC 1928 §3)
//   methodChoice    proxy → client  VER 5, METHOD (0xff: none acceptable)
//   userPass        client → proxy  VER 1, ULEN, UNAME, PLEN, PASSWD    (RFC 1929 §2)
//   userPassReply   proxy → client  VER 1, STATUS (0: success)
//   request         client → proxy  VER 5, CMD, RSV 0, ATYP, DST.ADDR, DST.PORT  (RFC 1928 §4)
//   reply           proxy → client  VER 5, REP, RSV 0, ATYP, BND.ADDR, BND.PORT  (RFC 1928 §6)
// An address is IPv4 (ATYP 1, 4 bytes), a domain name (ATYP 3, a length byte and up to 255
// bytes, resolved by the proxy) or IPv6 (ATYP 4, 16 bytes). Messages arrive over TCP in pieces:
// a decoder given too few bytes throws ERR_SOCKS_TRUNCATED, and `complete` says whether a
// message is all there.
import { ipv4Bytes, ipv4Text, ipv6Bytes, ipv6Text } from "./addr";
import { codec, CodecError, invalid, invalidType, objectOf, uint } from "./codec";

export type SocksErrorCode =
  | "ERR_SOCKS_TRUNCATED" // fewer bytes than the message needs (more may still come)
  | "ERR_SOCKS_BAD_VERSION" // VER is not 5 (or 1 in RFC 1929's messages)
  | "ERR_SOCKS_NO_METHODS" // NMETHODS 0
  | "ERR_SOCKS_BAD_RESERVED" // RSV is not 0
  | "ERR_SOCKS_BAD_ADDRESS_TYPE" // ATYP other than 1, 3, 4
  | "ERR_SOCKS_BAD_NAME"; // an empty domain name, or an empty user name

export class SocksError extends CodecError<SocksErrorCode> {
  constructor(code: SocksErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed SOCKS message at offset ${offset}: ${reason} (${code})`);
    this.name = "SocksError";
  }
}
const fail = (code: SocksErrorCode, offset: number, reason: string): never => {
  throw new SocksError(code, offset, reason);
};
const need = (buf: Buffer, at: number, n: number, what: string) => {
  if (at + n > buf.length)
    fail(
      "ERR_SOCKS_TRUNCATED",
      Math.min(at, buf.length),
      `${what} needs ${n} bytes, ${Math.max(0, buf.length - at)} left`,
    );
};
const version = (buf: Buffer, at: number, v: number, what: string) => {
  need(buf, at, 1, what);
  if (buf[at] !== v) fail("ERR_SOCKS_BAD_VERSION", at, `${what} has version ${buf[at]}, not ${v}`);
};

export const METHODS = { noAuth: 0x00, gssapi: 0x01, userPass: 0x02, noneAcceptable: 0xff } as const;
export const COMMANDS = { connect: 1, bind: 2, udpAssociate: 3 } as const;
/** RFC 1928 §6's reply codes. */
export const REPLIES: Record<number, string> = {
  0: "succeeded",
  1: "general SOCKS server failure",
  2: "connection not allowed by ruleset",
  3: "network unreachable",
  4: "host unreachable",
  5: "connection refused",
  6: "TTL expired",
  7: "command not supported",
  8: "address type not supported",
};

export type SocksAddress =
  { type: "ipv4"; host: string } | { type: "ipv6"; host: string } | { type: "domain"; host: string };
const ATYP = { ipv4: 1, domain: 3, ipv6: 4 } as const;

function planAddress(a: SocksAddress): { length: number; write(buf: Buffer, at: number): number } {
  objectOf(a, "an address");
  if (typeof a.host !== "string") invalidType(`the host must be a string, got ${typeof a.host}`);
  let body: Buffer;
  if (a.type === "ipv4") body = ipv4Bytes(a.host, "an IPv4 address");
  else if (a.type === "ipv6") body = ipv6Bytes(a.host, "an IPv6 address");
  else if (a.type === "domain") {
    const name = Buffer.from(a.host, "utf8");
    if (name.length < 1 || name.length > 255) invalid(`a domain name is 1 to 255 bytes, not ${name.length}`);
    body = Buffer.concat([Buffer.from([name.length]), name]);
  } else return invalid(`an address type is ipv4, ipv6 or domain, got ${String((a as { type: unknown }).type)}`);
  const atyp = ATYP[a.type];
  return {
    length: 1 + body.length,
    write(buf, at) {
      buf[at] = atyp;
      return at + 1 + body.copy(buf, at + 1);
    },
  };
}
function readAddress(buf: Buffer, at: number): { value: SocksAddress; end: number } {
  need(buf, at, 1, "ATYP");
  const atyp = buf[at];
  if (atyp === 1) {
    need(buf, at + 1, 4, "an IPv4 address");
    return { value: { type: "ipv4", host: ipv4Text(buf, at + 1) }, end: at + 5 };
  }
  if (atyp === 4) {
    need(buf, at + 1, 16, "an IPv6 address");
    return { value: { type: "ipv6", host: ipv6Text(buf, at + 1) }, end: at + 17 };
  }
  if (atyp === 3) {
    need(buf, at + 1, 1, "a name's length");
    const n = buf[at + 1];
    if (n === 0) fail("ERR_SOCKS_BAD_NAME", at + 1, "an empty domain name");
    need(buf, at + 2, n, "a domain name");
    return { value: { type: "domain", host: buf.toString("utf8", at + 2, at + 2 + n) }, end: at + 2 + n };
  }
  return fail("ERR_SOCKS_BAD_ADDRESS_TYPE", at, `address type ${atyp} is not 1, 3 or 4`);
}

export interface Greeting {
  /** The authentication methods the client offers, 1 to 255 of them. */
  methods: number[];
}
export const greeting = codec<Greeting, Greeting>({
  plan(g) {
    objectOf(g, "a greeting");
    if (!Array.isArray(g.methods) || g.methods.length < 1 || g.methods.length > 255)
      invalid("a greeting offers 1 to 255 methods");
    const methods = g.methods.map((m) => uint(m, 8, "a method"));
    return {
      length: 2 + methods.length,
      write(buf, at) {
        buf[at] = 5;
        buf[at + 1] = methods.length;
        Buffer.from(methods).copy(buf, at + 2);
      },
    };
  },
  read(buf, at) {
    version(buf, at, 5, "the greeting");
    need(buf, at + 1, 1, "NMETHODS");
    const n = buf[at + 1];
    if (n === 0) fail("ERR_SOCKS_NO_METHODS", at + 1, "NMETHODS is 0");
    need(buf, at + 2, n, "the methods");
    return { value: { methods: [...buf.subarray(at + 2, at + 2 + n)] }, bytes: 2 + n };
  },
});

export interface MethodChoice {
  method: number;
}
export const methodChoice = codec<MethodChoice, MethodChoice>({
  plan(m) {
    const method = uint(objectOf(m, "a method choice").method, 8, "method");
    return { length: 2, write: (buf, at) => void buf.set([5, method], at) };
  },
  read(buf, at) {
    version(buf, at, 5, "the method choice");
    need(buf, at + 1, 1, "METHOD");
    return { value: { method: buf[at + 1] }, bytes: 2 };
  },
});

export interface UserPass {
  username: string;
  password: string;
}
export const userPass = codec<UserPass, UserPass>({
  plan(u) {
    objectOf(u, "a username/password request");
    if (typeof u.username !== "string" || typeof u.password !== "string")
      invalidType("username and password must be strings");
    const name = Buffer.from(u.username, "utf8");
    const pass = Buffer.from(u.password, "utf8");
    if (name.length < 1 || name.length > 255) invalid(`a user name is 1 to 255 bytes, not ${name.length}`);
    if (pass.length > 255) invalid(`a password is at most 255 bytes, not ${pass.length}`);
    return {
      length: 3 + name.length + pass.length,
      write(buf, at) {
        buf[at] = 1;
        buf[at + 1] = name.length;
        name.copy(buf, at + 2);
        buf[at + 2 + name.length] = pass.length;
        pass.copy(buf, at + 3 + name.length);
      },
    };
  },
  read(buf, at) {
    version(buf, at, 1, "the username/password request");
    need(buf, at + 1, 1, "ULEN");
    const n = buf[at + 1];
    if (n === 0) fail("ERR_SOCKS_BAD_NAME", at + 1, "an empty user name");
    need(buf, at + 2, n + 1, "the user name and PLEN");
    const p = buf[at + 2 + n];
    need(buf, at + 3 + n, p, "the password");
    const username = buf.toString("utf8", at + 2, at + 2 + n);
    const password = buf.toString("utf8", at + 3 + n, at + 3 + n + p);
    return { value: { username, password }, bytes: 3 + n + p };
  },
});

export interface UserPassReply {
  /** 0: success; anything else: failure, and the proxy closes the connection. */
  status: number;
}
export const userPassReply = codec<UserPassReply, UserPassReply>({
  plan(r) {
    const status = uint(objectOf(r, "a username/password reply").status, 8, "status");
    return { length: 2, write: (buf, at) => void buf.set([1, status], at) };
  },
  read(buf, at) {
    version(buf, at, 1, "the username/password reply");
    need(buf, at + 1, 1, "STATUS");
    return { value: { status: buf[at + 1] }, bytes: 2 };
  },
});

/** A request (CMD) or a reply (REP): the same layout. */
function requestLike(field: "command" | "reply", what: string) {
  return codec<
    { code: number; address: SocksAddress; port: number },
    { code: number; address: SocksAddress; port: number }
  >({
    plan(r) {
      objectOf(r, what);
      const code = uint(r.code, 8, field);
      const port = uint(r.port, 16, "port");
      const addr = planAddress(r.address);
      return {
        length: 3 + addr.length + 2,
        write(buf, at) {
          buf.set([5, code, 0], at);
          buf.writeUInt16BE(port, addr.write(buf, at + 3));
        },
      };
    },
    read(buf, at) {
      version(buf, at, 5, what);
      need(buf, at + 1, 2, `${field} and RSV`);
      if (buf[at + 2] !== 0) fail("ERR_SOCKS_BAD_RESERVED", at + 2, `RSV is ${buf[at + 2]}, not 0`);
      const { value: address, end } = readAddress(buf, at + 3);
      need(buf, end, 2, "the port");
      return { value: { code: buf[at + 1], address, port: buf.readUInt16BE(end) }, bytes: end + 2 - at };
    },
  });
}
export interface SocksRequest {
  /** CMD: 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE. */
  code: number;
  address: SocksAddress;
  port: number;
}
/** The client's request (`code` is CMD). */
export const request = requestLike("command", "a request");
/** The proxy's reply (`code` is REP; address and port are where the proxy's own socket is bound). */
export const reply = requestLike("reply", "a reply");

/** Whether `buf` holds a whole message for `c` yet (false while it is still arriving; a malformed
 *  message throws). */
export function complete(c: { decode(buf: Buffer): unknown }, buf: Buffer): boolean {
  try {
    c.decode(buf);
    return true;
  } catch (e) {
    if (e instanceof SocksError && e.code === "ERR_SOCKS_TRUNCATED") return false;
    throw e;
  }
}
