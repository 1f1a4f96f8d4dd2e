// BGP-4 messages (RFC 4271 §4) on the codec contract: the 19-byte header (a marker of sixteen
// 0xff bytes, the length, the type) and the five message types — OPEN with its capabilities
// (RFC 5492), UPDATE with withdrawn routes, path attributes and NLRI, NOTIFICATION, KEEPALIVE and
// ROUTE-REFRESH (RFC 2918). AS numbers are four octets wide in AS_PATH, as between two speakers
// that both announced the 4-octet AS capability (RFC 6793); IPv4 unicast NLRI only.
// `bgpStream` cuts messages out of a TCP byte stream; `routeOf` reads an UPDATE's attributes.
import { bytesOf, codec, invalid, objectOf, uint, CodecError, type Plan } from "./codec";
import { ipv4Bytes, ipv4Text, isIpv4 } from "./addr";

export type BgpErrorCode =
  | "ERR_BGP_TRUNCATED" // fewer bytes than a field needs
  | "ERR_BGP_BAD_MARKER" // the header's marker is not sixteen 0xff bytes
  | "ERR_BGP_BAD_LENGTH" // a length field out of range or disagreeing with what it covers
  | "ERR_BGP_BAD_TYPE" // a message type that is not 1..5
  | "ERR_BGP_BAD_PREFIX" // a prefix length over 32
  | "ERR_BGP_BAD_ATTRIBUTE"; // a path attribute whose value cannot be what its type says

export class BgpError extends CodecError<BgpErrorCode> {
  constructor(code: BgpErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed BGP message at offset ${offset}: ${reason} (${code})`);
    this.name = "BgpError";
  }
}
const fail = (code: BgpErrorCode, offset: number, reason: string): never => {
  throw new BgpError(code, offset, reason);
};
const need = (buf: Buffer, at: number, n: number, what: string, end = buf.length) => {
  if (at + n > end) fail("ERR_BGP_TRUNCATED", at, `${what} needs ${n} bytes, ${Math.max(0, end - at)} left`);
};

export const BGP_PORT = 179;
export const HEADER_LENGTH = 19;
/** RFC 4271 §4.1: no message is longer (RFC 8654's extended messages are not negotiated here). */
export const MAX_LENGTH = 4096;
/** RFC 6793: the 2-octet "My AS" of an OPEN whose real AS number does not fit in it. */
export const AS_TRANS = 23456;
export const MESSAGE_TYPES = { open: 1, update: 2, notification: 3, keepalive: 4, "route-refresh": 5 } as const;
export type MessageType = keyof typeof MESSAGE_TYPES;
const TYPE_NAMES = Object.fromEntries(Object.entries(MESSAGE_TYPES).map(([k, v]) => [v, k])) as Record<
  number,
  MessageType
>;

/** Capability codes (IANA "Capability Codes") the notebooks name. */
export const CAPABILITY = { multiprotocol: 1, routeRefresh: 2, gracefulRestart: 64, as4: 65, enhancedRefresh: 70 };

export interface Capability {
  code: number;
  data: Buffer;
}
export interface Open {
  type: "open";
  /** Always 4 (the field is checked on decode only by the peer, as RFC 4271 says). */
  version?: number;
  /** The 2-octet field: the AS number, or AS_TRANS when it is wider (see the as4 capability). */
  myAs: number;
  holdTime: number;
  /** The BGP identifier, written like an IPv4 address. */
  bgpId: string;
  /** All in one optional parameter of type 2 (RFC 5492); decode flattens several into one list. */
  capabilities: Capability[];
}
export const ORIGINS = ["igp", "egp", "incomplete"] as const;
export type Origin = (typeof ORIGINS)[number];
export interface AsPathSegment {
  /** AS_SET (1) or AS_SEQUENCE (2). */
  kind: "set" | "sequence";
  asns: number[];
}
/** A path attribute: the five RFC 4271 ones the decision process reads, typed; others raw. */
export type PathAttribute = (
  | { type: "origin"; origin: Origin }
  | { type: "as-path"; segments: AsPathSegment[] }
  | { type: "next-hop"; nextHop: string }
  | { type: "med"; med: number }
  | { type: "local-pref"; localPref: number }
  | { type: "communities"; communities: number[] }
  | { type: "other"; code: number; data: Buffer }
) & {
  /** Optional, transitive, partial, extended length (0x80, 0x40, 0x20, 0x10); default: the RFC's
   *  for the type, with extended length only when the value needs it. */
  flags?: number;
};
export interface Update {
  type: "update";
  withdrawn: string[];
  attributes: PathAttribute[];
  nlri: string[];
}
export interface Notification {
  type: "notification";
  code: number;
  subcode: number;
  data: Buffer;
}
export interface Keepalive {
  type: "keepalive";
}
export interface RouteRefresh {
  type: "route-refresh";
  afi: number;
  safi: number;
}
export type BgpMessage = Open | Update | Notification | Keepalive | RouteRefresh;

const ATTRIBUTE_CODES = { origin: 1, "as-path": 2, "next-hop": 3, med: 4, "local-pref": 5, communities: 8 } as const;
const ATTRIBUTE_NAMES: Record<number, Exclude<PathAttribute["type"], "other">> = {
  1: "origin",
  2: "as-path",
  3: "next-hop",
  4: "med",
  5: "local-pref",
  8: "communities",
};
/** RFC 4271 §5: ORIGIN, AS_PATH, NEXT_HOP, LOCAL_PREF are well-known (transitive); MED is optional
 *  non-transitive; COMMUNITIES (RFC 1997) optional transitive. */
const DEFAULT_FLAGS: Record<number, number> = { 1: 0x40, 2: 0x40, 3: 0x40, 4: 0x80, 5: 0x40, 8: 0xc0 };
const EXTENDED = 0x10;

// ---- the pieces -------------------------------------------------------------------------------

function prefixPlan(text: unknown, what: string): Buffer {
  const m = typeof text === "string" ? /^([^/]+)\/(\d{1,2})$/.exec(text) : null;
  if (!m || !isIpv4(m[1]) || Number(m[2]) > 32)
    invalid(`${what}: "${String(text)}" is not an IPv4 prefix like 10.1.0.0/16`);
  const len = Number(m[2]);
  const addr = ipv4Bytes(m[1]);
  const n = Math.ceil(len / 8);
  const out = Buffer.alloc(1 + n);
  out[0] = len;
  addr.copy(out, 1, 0, n);
  return out;
}
function readPrefix(buf: Buffer, at: number, end: number): { text: string; bytes: number } {
  need(buf, at, 1, "a prefix length", end);
  const len = buf[at];
  if (len > 32) fail("ERR_BGP_BAD_PREFIX", at, `prefix length ${len} is over 32`);
  const n = Math.ceil(len / 8);
  need(buf, at + 1, n, `a /${len} prefix`, end);
  const addr = Buffer.alloc(4);
  buf.copy(addr, 0, at + 1, at + 1 + n);
  return { text: `${ipv4Text(addr)}/${len}`, bytes: 1 + n };
}
function readPrefixes(buf: Buffer, at: number, end: number): string[] {
  const out: string[] = [];
  while (at < end) {
    const p = readPrefix(buf, at, end);
    out.push(p.text);
    at += p.bytes;
  }
  return out;
}

function attributeValue(a: PathAttribute, i: number): { code: number; value: Buffer } {
  const what = `attribute ${i} (${String(a.type)})`;
  switch (a.type) {
    case "origin": {
      const k = ORIGINS.indexOf(a.origin);
      if (k < 0) invalid(`${what}: origin must be one of ${ORIGINS.join(", ")}`);
      return { code: 1, value: Buffer.from([k]) };
    }
    case "as-path": {
      if (!Array.isArray(a.segments)) invalid(`${what}: segments must be an array`);
      const parts = a.segments.map((s, k) => {
        objectOf(s, `${what} segment ${k}`);
        if (s.kind !== "set" && s.kind !== "sequence") invalid(`${what} segment ${k}: kind is "set" or "sequence"`);
        if (!Array.isArray(s.asns) || s.asns.length < 1 || s.asns.length > 255)
          invalid(`${what} segment ${k}: 1 to 255 AS numbers`);
        const b = Buffer.alloc(2 + 4 * s.asns.length);
        b[0] = s.kind === "set" ? 1 : 2;
        b[1] = s.asns.length;
        s.asns.forEach((asn, j) => b.writeUInt32BE(uint(asn, 32, `${what} AS number`), 2 + 4 * j));
        return b;
      });
      return { code: 2, value: Buffer.concat(parts) };
    }
    case "next-hop":
      if (!isIpv4(a.nextHop)) invalid(`${what}: nextHop must be an IPv4 address`);
      return { code: 3, value: ipv4Bytes(a.nextHop) };
    case "med":
    case "local-pref": {
      const v = Buffer.alloc(4);
      v.writeUInt32BE(uint(a.type === "med" ? a.med : a.localPref, 32, what));
      return { code: ATTRIBUTE_CODES[a.type], value: v };
    }
    case "communities": {
      if (!Array.isArray(a.communities)) invalid(`${what}: communities must be an array`);
      const v = Buffer.alloc(4 * a.communities.length);
      a.communities.forEach((c, j) => v.writeUInt32BE(uint(c, 32, `${what} community`), 4 * j));
      return { code: 8, value: v };
    }
    case "other": {
      const code = uint(a.code, 8, `${what} code`);
      if (ATTRIBUTE_NAMES[code]) invalid(`${what}: code ${code} is "${ATTRIBUTE_NAMES[code]}", write it typed`);
      return { code, value: bytesOf(a.data, `${what} data`) };
    }
    default:
      return invalid(`${what}: unknown attribute type`);
  }
}

function attributesPlan(list: unknown): Buffer {
  if (!Array.isArray(list)) invalid("attributes must be an array");
  return Buffer.concat(
    list.map((a: PathAttribute, i) => {
      objectOf(a, `attribute ${i}`);
      const { code, value } = attributeValue(a, i);
      const given = a.flags === undefined ? undefined : uint(a.flags, 8, `attribute ${i} flags`);
      if (given !== undefined && given & 0x0f) invalid(`attribute ${i}: the low four flag bits must be 0`);
      const flags = given ?? (DEFAULT_FLAGS[code] ?? 0xc0) | (value.length > 255 ? EXTENDED : 0);
      const ext = (flags & EXTENDED) !== 0;
      if (!ext && value.length > 255) invalid(`attribute ${i}: ${value.length} bytes need the extended-length flag`);
      if (value.length > 0xffff) invalid(`attribute ${i}: over 65535 bytes`);
      const head = Buffer.alloc(ext ? 4 : 3);
      head[0] = flags;
      head[1] = code;
      if (ext) head.writeUInt16BE(value.length, 2);
      else head[2] = value.length;
      return Buffer.concat([head, value]);
    }),
  );
}

function readAttribute(buf: Buffer, at: number, end: number): { value: PathAttribute; bytes: number } {
  need(buf, at, 3, "a path attribute header", end);
  const flags = buf[at];
  const code = buf[at + 1];
  const ext = (flags & EXTENDED) !== 0;
  if (ext) need(buf, at, 4, "an extended-length attribute header", end);
  const len = ext ? buf.readUInt16BE(at + 2) : buf[at + 2];
  const v = at + (ext ? 4 : 3);
  if (v + len > end)
    fail("ERR_BGP_BAD_LENGTH", at + 2, `attribute ${code} says ${len} bytes, ${end - v} are left in the attributes`);
  if (flags & 0x0f) fail("ERR_BGP_BAD_ATTRIBUTE", at, `attribute ${code}: the low four flag bits are not 0`);
  const bad = (reason: string) =>
    fail("ERR_BGP_BAD_ATTRIBUTE", at, `attribute ${code} (${ATTRIBUTE_NAMES[code]}): ${reason}`);
  const fixed = (n: number) => len !== n && bad(`${len} bytes, not ${n}`);
  const name = ATTRIBUTE_NAMES[code];
  let value: PathAttribute;
  switch (name) {
    case "origin":
      fixed(1);
      if (buf[v] > 2) bad(`origin ${buf[v]} is not 0, 1 or 2`);
      value = { type: "origin", origin: ORIGINS[buf[v]] };
      break;
    case "as-path": {
      const segments: AsPathSegment[] = [];
      for (let p = v; p < v + len;) {
        if (p + 2 > v + len) bad("a segment header runs past the attribute");
        const kind = buf[p];
        const n = buf[p + 1];
        if (kind !== 1 && kind !== 2) bad(`segment type ${kind} is neither AS_SET (1) nor AS_SEQUENCE (2)`);
        if (n === 0) bad("an empty segment");
        if (p + 2 + 4 * n > v + len) bad(`a segment of ${n} four-octet AS numbers runs past the attribute`);
        const asns: number[] = [];
        for (let j = 0; j < n; j++) asns.push(buf.readUInt32BE(p + 2 + 4 * j));
        segments.push({ kind: kind === 1 ? "set" : "sequence", asns });
        p += 2 + 4 * n;
      }
      value = { type: "as-path", segments };
      break;
    }
    case "next-hop":
      fixed(4);
      value = { type: "next-hop", nextHop: ipv4Text(buf, v) };
      break;
    case "med":
    case "local-pref":
      fixed(4);
      value =
        name === "med"
          ? { type: "med", med: buf.readUInt32BE(v) }
          : { type: "local-pref", localPref: buf.readUInt32BE(v) };
      break;
    case "communities": {
      if (len % 4) bad(`${len} bytes is not a whole number of communities`);
      const communities: number[] = [];
      for (let p = v; p < v + len; p += 4) communities.push(buf.readUInt32BE(p));
      value = { type: "communities", communities };
      break;
    }
    default:
      value = { type: "other", code, data: Buffer.from(buf.subarray(v, v + len)) };
  }
  value.flags = flags;
  return { value, bytes: v + len - at };
}

// ---- the message ------------------------------------------------------------------------------

function bodyPlan(m: BgpMessage): Buffer {
  switch (m.type) {
    case "open": {
      const caps = Array.isArray(m.capabilities) ? m.capabilities : invalid("capabilities must be an array");
      const capBytes = Buffer.concat(
        caps.map((c, i) => {
          objectOf(c, `capability ${i}`);
          const data = bytesOf(c.data, `capability ${i} data`);
          if (data.length > 255) invalid(`capability ${i}: over 255 bytes`);
          return Buffer.concat([Buffer.from([uint(c.code, 8, `capability ${i} code`), data.length]), data]);
        }),
      );
      if (capBytes.length > 253) invalid("capabilities: over 253 bytes do not fit in one optional parameter");
      const params = caps.length ? Buffer.concat([Buffer.from([2, capBytes.length]), capBytes]) : Buffer.alloc(0);
      if (!isIpv4(m.bgpId)) invalid("bgpId must be written like an IPv4 address");
      const b = Buffer.alloc(10);
      b[0] = uint(m.version ?? 4, 8, "version");
      b.writeUInt16BE(uint(m.myAs, 16, "myAs (use AS_TRANS and the as4 capability above 65535)"), 1);
      b.writeUInt16BE(uint(m.holdTime, 16, "holdTime"), 3);
      ipv4Bytes(m.bgpId).copy(b, 5);
      b[9] = params.length;
      return Buffer.concat([b, params]);
    }
    case "update": {
      if (!Array.isArray(m.withdrawn) || !Array.isArray(m.nlri)) invalid("withdrawn and nlri must be arrays");
      const withdrawn = Buffer.concat(m.withdrawn.map((p, i) => prefixPlan(p, `withdrawn ${i}`)));
      const attrs = attributesPlan(m.attributes);
      const nlri = Buffer.concat(m.nlri.map((p, i) => prefixPlan(p, `nlri ${i}`)));
      const w = Buffer.alloc(2);
      w.writeUInt16BE(withdrawn.length);
      const a = Buffer.alloc(2);
      a.writeUInt16BE(attrs.length);
      return Buffer.concat([w, withdrawn, a, attrs, nlri]);
    }
    case "notification":
      return Buffer.concat([
        Buffer.from([uint(m.code, 8, "code"), uint(m.subcode, 8, "subcode")]),
        bytesOf(m.data, "data"),
      ]);
    case "keepalive":
      return Buffer.alloc(0);
    case "route-refresh": {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(uint(m.afi, 16, "afi"));
      b[2] = 0;
      b[3] = uint(m.safi, 8, "safi");
      return b;
    }
    default:
      return invalid(`type must be one of ${Object.keys(MESSAGE_TYPES).join(", ")}`);
  }
}

function readBody(type: MessageType, buf: Buffer, at: number, end: number): BgpMessage {
  switch (type) {
    case "open": {
      need(buf, at, 10, "an OPEN", end);
      const plen = buf[at + 9];
      if (at + 10 + plen !== end)
        fail("ERR_BGP_BAD_LENGTH", at + 9, `optional parameters of ${plen} bytes do not end where the message does`);
      const capabilities: Capability[] = [];
      for (let p = at + 10; p < end;) {
        need(buf, p, 2, "an optional parameter header", end);
        const ptype = buf[p];
        const n = buf[p + 1];
        need(buf, p + 2, n, `an optional parameter of ${n} bytes`, end);
        if (ptype !== 2) fail("ERR_BGP_BAD_ATTRIBUTE", p, `optional parameter type ${ptype} is not Capabilities (2)`);
        for (let c = p + 2; c < p + 2 + n;) {
          need(buf, c, 2, "a capability header", p + 2 + n);
          need(buf, c + 2, buf[c + 1], `a capability of ${buf[c + 1]} bytes`, p + 2 + n);
          capabilities.push({ code: buf[c], data: Buffer.from(buf.subarray(c + 2, c + 2 + buf[c + 1])) });
          c += 2 + buf[c + 1];
        }
        p += 2 + n;
      }
      return {
        type: "open",
        version: buf[at],
        myAs: buf.readUInt16BE(at + 1),
        holdTime: buf.readUInt16BE(at + 3),
        bgpId: ipv4Text(buf, at + 5),
        capabilities,
      };
    }
    case "update": {
      need(buf, at, 2, "the withdrawn routes length", end);
      const wlen = buf.readUInt16BE(at);
      if (at + 2 + wlen + 2 > end)
        fail("ERR_BGP_BAD_LENGTH", at, `withdrawn routes of ${wlen} bytes leave no room for the attributes length`);
      const withdrawn = readPrefixes(buf, at + 2, at + 2 + wlen);
      const a = at + 2 + wlen;
      const alen = buf.readUInt16BE(a);
      if (a + 2 + alen > end) fail("ERR_BGP_BAD_LENGTH", a, `path attributes of ${alen} bytes run past the message`);
      const attributes: PathAttribute[] = [];
      for (let p = a + 2; p < a + 2 + alen;) {
        const r = readAttribute(buf, p, a + 2 + alen);
        attributes.push(r.value);
        p += r.bytes;
      }
      return { type: "update", withdrawn, attributes, nlri: readPrefixes(buf, a + 2 + alen, end) };
    }
    case "notification":
      need(buf, at, 2, "a NOTIFICATION's code and subcode", end);
      return {
        type: "notification",
        code: buf[at],
        subcode: buf[at + 1],
        data: Buffer.from(buf.subarray(at + 2, end)),
      };
    case "keepalive":
      if (end !== at) fail("ERR_BGP_BAD_LENGTH", at - 3, "a KEEPALIVE is the header alone (19 bytes)");
      return { type: "keepalive" };
    case "route-refresh":
      if (end !== at + 4) fail("ERR_BGP_BAD_LENGTH", at - 3, "a ROUTE-REFRESH is 23 bytes");
      return { type: "route-refresh", afi: buf.readUInt16BE(at), safi: buf[at + 3] };
  }
}

function checkedPlan(m: BgpMessage): Plan {
  objectOf(m, "a BGP message");
  const body = bodyPlan(m);
  const length = HEADER_LENGTH + body.length;
  if (length > MAX_LENGTH) invalid(`a ${length}-byte message is over BGP's ${MAX_LENGTH}`);
  return {
    length,
    write(buf, at) {
      buf.fill(0xff, at, at + 16);
      buf.writeUInt16BE(length, at + 16);
      buf[at + 18] = MESSAGE_TYPES[m.type];
      body.copy(buf, at + HEADER_LENGTH);
    },
  };
}

/** One BGP message: header and body. */
export const bgp = codec<BgpMessage, BgpMessage>({
  plan: checkedPlan,
  read(buf, at) {
    need(buf, at, HEADER_LENGTH, "a BGP header");
    for (let i = 0; i < 16; i++)
      if (buf[at + i] !== 0xff) fail("ERR_BGP_BAD_MARKER", at + i, "the marker is not sixteen 0xff bytes");
    const length = buf.readUInt16BE(at + 16);
    if (length < HEADER_LENGTH || length > MAX_LENGTH)
      fail("ERR_BGP_BAD_LENGTH", at + 16, `length ${length} is outside ${HEADER_LENGTH}..${MAX_LENGTH}`);
    if (at + length > buf.length)
      fail("ERR_BGP_TRUNCATED", at + 16, `length ${length} runs past the end (${buf.length - at} bytes left)`);
    const type = TYPE_NAMES[buf[at + 18]];
    if (!type) fail("ERR_BGP_BAD_TYPE", at + 18, `message type ${buf[at + 18]} is not 1..5`);
    return { value: readBody(type, buf, at + HEADER_LENGTH, at + length), bytes: length };
  },
});

// ---- conveniences -----------------------------------------------------------------------------

/** The capabilities our speaker announces: IPv4 unicast (RFC 4760) and the 4-octet AS (RFC 6793). */
export function capabilities(asn: number): Capability[] {
  const as4 = Buffer.alloc(4);
  as4.writeUInt32BE(uint(asn, 32, "asn"));
  return [
    { code: CAPABILITY.multiprotocol, data: Buffer.from([0, 1, 0, 1]) },
    { code: CAPABILITY.as4, data: as4 },
  ];
}

/** The AS number an OPEN stands for: the as4 capability's when present, else the 2-octet field. */
export function openAs(open: Open): number {
  const c = open.capabilities.find((k) => k.code === CAPABILITY.as4 && k.data.length === 4);
  return c ? c.data.readUInt32BE(0) : open.myAs;
}

/** What an UPDATE says about its NLRI, as the decision process reads it. */
export interface RouteAttributes {
  origin?: Origin;
  /** AS_SEQUENCE numbers in order; an AS_SET counts as one AS (RFC 4271 §9.1.2.2 a). */
  asPath: number[];
  asPathLength: number;
  nextHop?: string;
  med?: number;
  localPref?: number;
  communities: string[];
}
export function routeOf(update: Update): RouteAttributes {
  const r: RouteAttributes = { asPath: [], asPathLength: 0, communities: [] };
  for (const a of update.attributes) {
    if (a.type === "origin") r.origin = a.origin;
    else if (a.type === "next-hop") r.nextHop = a.nextHop;
    else if (a.type === "med") r.med = a.med;
    else if (a.type === "local-pref") r.localPref = a.localPref;
    else if (a.type === "communities") r.communities = a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`);
    else if (a.type === "as-path")
      for (const s of a.segments) {
        r.asPath.push(...s.asns);
        r.asPathLength += s.kind === "sequence" ? s.asns.length : 1;
      }
  }
  return r;
}

/** An attribute's value in a few words: "sequence 65001 65030", "10.44.1.2", "igp". */
export function attributeText(a: PathAttribute): string {
  switch (a.type) {
    case "origin":
      return a.origin;
    case "as-path":
      return a.segments.map((s) => `${s.kind} ${s.asns.join(" ")}`).join("; ") || "(empty)";
    case "next-hop":
      return a.nextHop;
    case "med":
      return String(a.med);
    case "local-pref":
      return String(a.localPref);
    case "communities":
      return a.communities.map((c) => `${c >>> 16}:${c & 0xffff}`).join(" ");
    default:
      return `code ${a.code}: ${a.data.toString("hex")}`;
  }
}

/** An UPDATE announcing `nlri` with the usual attributes. */
export function announce(
  nlri: string[],
  route: { asPath: number[]; nextHop: string; origin?: Origin; med?: number; localPref?: number },
): Update {
  const attributes: PathAttribute[] = [
    { type: "origin", origin: route.origin ?? "igp" },
    { type: "as-path", segments: route.asPath.length ? [{ kind: "sequence", asns: route.asPath }] : [] },
    { type: "next-hop", nextHop: route.nextHop },
  ];
  if (route.med !== undefined) attributes.push({ type: "med", med: route.med });
  if (route.localPref !== undefined) attributes.push({ type: "local-pref", localPref: route.localPref });
  return { type: "update", withdrawn: [], attributes, nlri };
}

/** RFC 4271 §4.5 and RFC 4486's subcodes: a NOTIFICATION's code and subcode in words. */
export function notificationText(code: number, subcode: number): string {
  const codes: Record<number, [string, Record<number, string>]> = {
    1: ["Message Header Error", { 1: "Connection Not Synchronized", 2: "Bad Message Length", 3: "Bad Message Type" }],
    2: [
      "OPEN Message Error",
      {
        1: "Unsupported Version Number",
        2: "Bad Peer AS",
        3: "Bad BGP Identifier",
        4: "Unsupported Optional Parameter",
        6: "Unacceptable Hold Time",
        7: "Unsupported Capability",
      },
    ],
    3: [
      "UPDATE Message Error",
      {
        1: "Malformed Attribute List",
        2: "Unrecognized Well-known Attribute",
        3: "Missing Well-known Attribute",
        4: "Attribute Flags Error",
        5: "Attribute Length Error",
        6: "Invalid ORIGIN Attribute",
        8: "Invalid NEXT_HOP Attribute",
        9: "Optional Attribute Error",
        10: "Invalid Network Field",
        11: "Malformed AS_PATH",
      },
    ],
    4: ["Hold Timer Expired", {}],
    5: ["Finite State Machine Error", {}],
    6: [
      "Cease",
      {
        1: "Maximum Number of Prefixes Reached",
        2: "Administrative Shutdown",
        3: "Peer De-configured",
        4: "Administrative Reset",
        5: "Connection Rejected",
        6: "Other Configuration Change",
        7: "Connection Collision Resolution",
        8: "Out of Resources",
      },
    ],
  };
  const [name, subs] = codes[code] ?? [`code ${code}`, {}];
  return subcode ? `${name} / ${subs[subcode] ?? `subcode ${subcode}`}` : name;
}

/** Cuts BGP messages out of a TCP byte stream: push() what arrived, get whole messages back
 *  (decoded, with their bytes); a partial message waits for the rest. */
export function bgpStream() {
  let pending: Buffer = Buffer.alloc(0);
  return {
    push(chunk: Buffer): Array<{ message: BgpMessage; bytes: Buffer }> {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const out: Array<{ message: BgpMessage; bytes: Buffer }> = [];
      while (pending.length >= HEADER_LENGTH) {
        const length = pending.readUInt16BE(16);
        if (length < HEADER_LENGTH || length > MAX_LENGTH) bgp.decode(pending); // throws the BgpError
        if (pending.length < length) break;
        const bytes = Buffer.from(pending.subarray(0, length));
        pending = pending.subarray(length);
        out.push({ message: bgp.decode(bytes), bytes });
      }
      return out;
    },
  };
}
