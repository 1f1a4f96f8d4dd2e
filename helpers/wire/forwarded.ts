// The `Forwarded` header field of RFC 7239, which proxies use to tell the next hop who the client
// was: a comma-separated list with one element per proxy, each element `name=value` pairs
// separated by ";" (`for`, `by`, `host`, `proto`, or an extension), each value a token or a
// quoted-string (RFC 9110 §5.6.2, §5.6.4):
//
//     Forwarded: for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https;by=203.0.113.43
//
// The codec follows helpers/wire/codec.ts on the field value's bytes (ASCII). decode reads to the
// end of the buffer, lower-cases parameter names (they are case-insensitive, §4), accepts the
// empty list elements RFC 9110 §5.6.1 tells recipients to accept, and refuses a parameter twice
// in one element (§4: "MUST NOT occur more than once"). encode writes a value as a token when it
// is one, else as a quoted-string (an IPv6 node must be quoted: ":" and "[" are not token
// characters), and joins elements with ", ". Text outside HTAB, SP and visible ASCII (RFC 9110's
// obs-text included) is refused both ways. `node()` and `parseNode()` write and read the node
// syntax of §6 ("192.0.2.43", "[2001:db8::1]:4711", "unknown", "_hidden").
import { codec, invalid, invalidType, CodecError } from "./codec";

export type ForwardedCode =
  | "ERR_FORWARDED_EMPTY"
  | "ERR_FORWARDED_TOKEN"
  | "ERR_FORWARDED_EQUALS"
  | "ERR_FORWARDED_QUOTE"
  | "ERR_FORWARDED_CHAR"
  | "ERR_FORWARDED_SEPARATOR"
  | "ERR_FORWARDED_DUPLICATE";

export class ForwardedError extends CodecError<ForwardedCode> {
  constructor(code: ForwardedCode, offset: number, reason: string) {
    super(code, offset, reason);
    this.name = "ForwardedError";
  }
}

export interface ForwardedPair {
  /** The parameter name, lower case when decoded: for, by, host, proto, or an extension. */
  name: string;
  value: string;
}
/** One proxy's element: its pairs, in order. */
export type ForwardedElement = ForwardedPair[];
/** The whole field value: one element per proxy, the client's side first. */
export type Forwarded = ForwardedElement[];

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const isTchar = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
/** HTAB, SP or visible ASCII: what a value may contain. */
const TEXT = /^[\t\x20-\x7e]*$/;

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
const valueText = (value: string) => (TCHAR.test(value) ? value : quoted(value));

function textOf(value: Forwarded): string {
  if (!Array.isArray(value) || value.length === 0) invalid("a Forwarded value needs at least one element");
  return value
    .map((element, i) => {
      if (!Array.isArray(element) || element.length === 0) invalid(`element ${i} must be a non-empty array of pairs`);
      const names = new Set<string>();
      return element
        .map((pair) => {
          if (typeof pair !== "object" || pair === null) invalidType(`element ${i}: a pair must be an object`);
          const { name, value: v } = pair;
          if (typeof name !== "string" || !TCHAR.test(name)) invalid(`element ${i}: not a token: ${String(name)}`);
          if (names.has(name.toLowerCase())) invalid(`element ${i}: ${name} appears twice`);
          names.add(name.toLowerCase());
          if (typeof v !== "string" || !TEXT.test(v)) invalid(`element ${i}: ${name}'s value is not visible ASCII`);
          return `${name}=${valueText(v)}`;
        })
        .join(";");
    })
    .join(", ");
}

function read(buf: Buffer, offset: number): { value: Forwarded; bytes: number } {
  const end = buf.length;
  const fail = (code: ForwardedCode, at: number, reason: string): never => {
    throw new ForwardedError(code, at, reason);
  };
  let i = offset;
  const ows = () => {
    while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
  };
  const token = (what: string) => {
    const start = i;
    while (i < end && isTchar(buf[i])) i++;
    if (i === start) fail("ERR_FORWARDED_TOKEN", i, `expected a token (${what})`);
    return buf.toString("latin1", start, i);
  };
  const quotedString = () => {
    const start = i++;
    let out = "";
    for (;;) {
      if (i >= end) fail("ERR_FORWARDED_QUOTE", start, "a quoted string that does not end");
      const c = buf[i];
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c === 0x5c) {
        i++;
        if (i >= end) fail("ERR_FORWARDED_QUOTE", start, "a quoted string that does not end");
        if (!(buf[i] === 0x09 || (buf[i] >= 0x20 && buf[i] <= 0x7e))) fail("ERR_FORWARDED_CHAR", i, "a bad escape");
      } else if (!(c === 0x09 || (c >= 0x20 && c <= 0x7e)))
        fail("ERR_FORWARDED_CHAR", i, "a control or non-ASCII byte");
      out += String.fromCharCode(buf[i++]);
    }
  };
  const list: Forwarded = [];
  for (;;) {
    ows();
    const element: ForwardedElement = [];
    const names = new Set<string>();
    // forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
    for (;;) {
      if (i < end && isTchar(buf[i])) {
        const at = i;
        const name = token("a parameter name").toLowerCase();
        if (buf[i] !== 0x3d) fail("ERR_FORWARDED_EQUALS", i, `expected "=" after ${name}`);
        i++;
        const v = buf[i] === 0x22 ? quotedString() : token(`the value of ${name}`);
        if (names.has(name)) fail("ERR_FORWARDED_DUPLICATE", at, `${name} twice in one element`);
        names.add(name);
        element.push({ name, value: v });
      }
      if (buf[i] !== 0x3b) break;
      i++;
    }
    if (element.length) list.push(element);
    ows();
    if (i >= end) break;
    if (buf[i] !== 0x2c) fail("ERR_FORWARDED_SEPARATOR", i, 'expected ",", ";" or the end');
    i++;
  }
  if (list.length === 0) fail("ERR_FORWARDED_EMPTY", offset, "no forwarded-pair at all");
  return { value: list, bytes: end - offset };
}

export const forwarded = codec<Forwarded, Forwarded>({
  plan(value) {
    const text = textOf(value);
    return { length: text.length, write: (buf, offset) => void buf.write(text, offset, "latin1") };
  },
  read,
});

/** The field value as text, and back. */
export const formatForwarded = (value: Forwarded): string => textOf(value);
export const parseForwarded = (text: string): Forwarded => forwarded.decode(Buffer.from(text, "latin1"));

/** A node (§6): an IPv4 address, an IPv6 address in brackets, "unknown" or "_obfuscated", with an optional port. */
export function node(address: string, port?: number): string {
  const host = address.includes(":") ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** Reads a node back: `{ address, port? }`; "unknown" and obfuscated names come back as they are. */
export function parseNode(text: string): { address: string; port?: number } {
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  if (v6) return { address: v6[1], ...(v6[2] ? { port: Number(v6[2]) } : {}) };
  const v4 = /^([^:]+)(?::(\d+))?$/.exec(text);
  if (v4) return { address: v4[1], ...(v4[2] ? { port: Number(v4[2]) } : {}) };
  return { address: text };
}
