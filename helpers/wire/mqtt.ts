// MQTT 3.1.1 control packets (OASIS standard, mqtt-v3.1.1-os), every one of the 14 types, on the
// codec contract (helpers/wire/codec.ts). A packet is a fixed header (the type in the high nibble
// of byte 0, flags in the low nibble, then the *remaining length*) and that many bytes of variable
// header and payload. The remaining length is a varint of 1 to 4 bytes, 7 bits each, least
// significant first, the top bit saying "more follows" (§2.2.3): 0–127 take one byte, up to
// 16,383 two, up to 2,097,151 three and up to 268,435,455, the largest, four. Strings are a 2-byte
// big-endian length and UTF-8 (§1.5.3: well-formed, no U+0000). `packet` reads one packet;
// `splitPackets` cuts a TCP byte stream into packets and keeps a partial one for later; and
// `topicMatches` is the broker's rule for topic filters with `+` and `#` (§4.7).
import { bytesOf, codec, CodecError, invalid, invalidType, objectOf, uint } from "./codec";

export type MqttErrorCode =
  | "ERR_MQTT_TRUNCATED" // the bytes end inside a packet (more may still come on a stream)
  | "ERR_MQTT_BAD_LENGTH" // a remaining length of 5 bytes or more, or one that disagrees with the contents
  | "ERR_MQTT_BAD_TYPE" // packet type 0 or 15 (reserved)
  | "ERR_MQTT_BAD_FLAGS" // fixed-header flags other than the type's own, QoS 3, reserved bits set
  | "ERR_MQTT_BAD_STRING" // ill-formed UTF-8, or U+0000
  | "ERR_MQTT_PROTOCOL"; // a CONNECT that is not "MQTT" level 4, or a field the spec forbids

export class MqttError extends CodecError<MqttErrorCode> {
  constructor(code: MqttErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed MQTT packet at offset ${offset}: ${reason} (${code})`);
    this.name = "MqttError";
  }
}
const fail = (code: MqttErrorCode, offset: number, reason: string): never => {
  throw new MqttError(code, offset, reason);
};

/** The largest remaining length: four bytes of seven bits. */
export const MAX_REMAINING = 268_435_455;

export const PACKET_TYPES = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
} as const;
export type PacketType = keyof typeof PACKET_TYPES;
const TYPE_NAMES = Object.fromEntries(Object.entries(PACKET_TYPES).map(([k, v]) => [v, k])) as Record<
  number,
  PacketType
>;

/** CONNACK return codes (§3.2.2.3). */
export const CONNACK_CODES: Record<number, string> = {
  0: "accepted",
  1: "unacceptable protocol version",
  2: "identifier rejected",
  3: "server unavailable",
  4: "bad user name or password",
  5: "not authorized",
};

export type QoS = 0 | 1 | 2;
export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
}
export type MqttPacket =
  | {
      type: "connect";
      clientId: string;
      cleanSession: boolean;
      /** Seconds; 0 turns keep-alive off. */
      keepAlive: number;
      will?: Will;
      username?: string;
      password?: Buffer;
    }
  | { type: "connack"; sessionPresent: boolean; returnCode: number }
  | {
      type: "publish";
      topic: string;
      payload: Buffer;
      qos: QoS;
      retain: boolean;
      dup: boolean;
      /** Only with QoS 1 and 2. */
      packetId?: number;
    }
  | { type: "puback" | "pubrec" | "pubrel" | "pubcomp" | "unsuback"; packetId: number }
  | { type: "subscribe"; packetId: number; subscriptions: { topic: string; qos: QoS }[] }
  | { type: "suback"; packetId: number; /** 0, 1, 2 granted; 0x80 failure. */ granted: number[] }
  | { type: "unsubscribe"; packetId: number; topics: string[] }
  | { type: "pingreq" | "pingresp" | "disconnect" };

// ---- the remaining length ------------------------------------------------------------------------

function lengthSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}
function writeLength(n: number, buf: Buffer, at: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[at++] = b;
  } while (n > 0);
  return at;
}
function readLength(buf: Buffer, at: number): { value: number; end: number } {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    if (at + i >= buf.length) fail("ERR_MQTT_TRUNCATED", at, `the remaining length is cut short after ${i} bytes`);
    const b = buf[at + i];
    value += (b & 0x7f) * mult;
    if (b < 0x80) return { value, end: at + i + 1 };
    mult *= 128;
  }
  return fail("ERR_MQTT_BAD_LENGTH", at, "a remaining length longer than 4 bytes");
}

/** The remaining length alone: 0 to 268,435,455 in 1 to 4 bytes. */
export const remainingLength = codec<number, number>({
  plan(n) {
    const v = uint(n, 32, "a remaining length");
    if (v > MAX_REMAINING) invalid(`a remaining length is at most ${MAX_REMAINING}, not ${v}`);
    return { length: lengthSize(v), write: (buf, at) => void writeLength(v, buf, at) };
  },
  read(buf, at) {
    const { value, end } = readLength(buf, at);
    return { value, bytes: end - at };
  },
});

// ---- strings -------------------------------------------------------------------------------------

const utf8 = new TextDecoder("utf-8", { fatal: true });

function checkString(s: unknown, what: string): Buffer {
  if (typeof s !== "string") invalidType(`${what} must be a string, got ${typeof s}`);
  if (s.includes("\u0000")) invalid(`${what} must not contain U+0000`);
  if (/\p{Cs}/u.test(s)) invalid(`${what} must be well-formed Unicode (a lone surrogate)`);
  const b = Buffer.from(s, "utf8");
  if (b.length > 0xffff) invalid(`${what} is at most 65535 bytes of UTF-8, not ${b.length}`);
  return b;
}
function checkBinary(b: unknown, what: string): Buffer {
  const v = bytesOf(b, what);
  if (v.length > 0xffff) invalid(`${what} is at most 65535 bytes, not ${v.length}`);
  return v;
}

/** A reader over one packet's body, bounded by its remaining length. */
class Body {
  constructor(
    readonly buf: Buffer,
    public at: number,
    readonly end: number,
  ) {}
  need(n: number, what: string): void {
    if (this.at + n > this.end)
      fail(
        "ERR_MQTT_BAD_LENGTH",
        this.at,
        `${what} needs ${n} bytes, the remaining length leaves ${this.end - this.at}`,
      );
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.at++];
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  binary(what: string): Buffer {
    const n = this.u16(`${what}'s length`);
    this.need(n, what);
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  string(what: string): string {
    const from = this.at;
    const b = this.binary(what);
    let s = "";
    try {
      s = utf8.decode(b);
    } catch {
      fail("ERR_MQTT_BAD_STRING", from, `${what} is not well-formed UTF-8`);
    }
    if (s.includes("\u0000")) fail("ERR_MQTT_BAD_STRING", from, `${what} contains U+0000`);
    return s;
  }
  rest(): Buffer {
    const v = this.buf.subarray(this.at, this.end);
    this.at = this.end;
    return v;
  }
  done(what: string): void {
    if (this.at !== this.end)
      fail("ERR_MQTT_BAD_LENGTH", this.at, `${this.end - this.at} bytes left over after the ${what}`);
  }
}

// ---- packets -------------------------------------------------------------------------------------

type Part = { length: number; write(buf: Buffer, at: number): number };
const u8p = (v: number): Part => ({ length: 1, write: (buf, at) => ((buf[at] = v), at + 1) });
const u16p = (v: number): Part => ({ length: 2, write: (buf, at) => buf.writeUInt16BE(v, at) });
const binp = (b: Buffer): Part => ({
  length: 2 + b.length,
  write: (buf, at) => {
    const from = buf.writeUInt16BE(b.length, at);
    return from + b.copy(buf, from);
  },
});
const rawp = (b: Buffer): Part => ({ length: b.length, write: (buf, at) => at + b.copy(buf, at) });
const packetId = (v: unknown): number => {
  const id = uint(v, 16, "packetId");
  if (id === 0) invalid("packetId must be from 1 to 65535, not 0");
  return id;
};
const qosOf = (v: unknown, what: string): QoS => {
  if (v !== 0 && v !== 1 && v !== 2) invalid(`${what} must be 0, 1 or 2, got ${String(v)}`);
  return v;
};
const bool = (v: unknown, what: string): boolean => {
  if (typeof v !== "boolean") invalidType(`${what} must be a boolean, got ${typeof v}`);
  return v;
};

/** The fixed-header flags and the parts after the remaining length. */
function layout(p: MqttPacket): { flags: number; parts: Part[] } {
  switch (p.type) {
    case "connect": {
      const clientId = checkString(p.clientId, "clientId");
      const keepAlive = uint(p.keepAlive, 16, "keepAlive");
      let flags = bool(p.cleanSession, "cleanSession") ? 0x02 : 0;
      const parts: Part[] = [binp(Buffer.from("MQTT")), u8p(4), u8p(0), u16p(keepAlive), binp(clientId)];
      if (p.will !== undefined) {
        objectOf(p.will, "will");
        const qos = qosOf(p.will.qos, "will.qos");
        flags |= 0x04 | (qos << 3) | (bool(p.will.retain, "will.retain") ? 0x20 : 0);
        parts.push(binp(checkString(p.will.topic, "will.topic")), binp(checkBinary(p.will.payload, "will.payload")));
      }
      if (p.username !== undefined) {
        flags |= 0x80;
        parts.push(binp(checkString(p.username, "username")));
      }
      if (p.password !== undefined) {
        if (p.username === undefined) invalid("MQTT 3.1.1 sends a password only with a user name (§3.1.2.9)");
        flags |= 0x40;
        parts.push(binp(checkBinary(p.password, "password")));
      }
      parts[2] = u8p(flags);
      return { flags: 0, parts };
    }
    case "connack":
      return {
        flags: 0,
        parts: [u8p(bool(p.sessionPresent, "sessionPresent") ? 1 : 0), u8p(uint(p.returnCode, 8, "returnCode"))],
      };
    case "publish": {
      const qos = qosOf(p.qos, "qos");
      const parts = [binp(checkString(p.topic, "topic"))];
      if (qos > 0) parts.push(u16p(packetId(p.packetId)));
      else if (p.packetId !== undefined) invalid("a QoS 0 PUBLISH has no packetId");
      if (qos === 0 && p.dup) invalid("the DUP flag must be 0 with QoS 0 (§3.3.1.1)");
      parts.push(rawp(bytesOf(p.payload, "payload")));
      const flags = (bool(p.dup, "dup") ? 8 : 0) | (qos << 1) | (bool(p.retain, "retain") ? 1 : 0);
      return { flags, parts };
    }
    case "puback":
    case "pubrec":
    case "pubcomp":
    case "unsuback":
      return { flags: 0, parts: [u16p(packetId(p.packetId))] };
    case "pubrel":
      return { flags: 2, parts: [u16p(packetId(p.packetId))] };
    case "subscribe": {
      if (!Array.isArray(p.subscriptions) || p.subscriptions.length === 0)
        invalid("a SUBSCRIBE carries at least one topic filter (§3.8.3)");
      const parts = [u16p(packetId(p.packetId))];
      for (const s of p.subscriptions)
        parts.push(binp(checkString(s.topic, "a topic filter")), u8p(qosOf(s.qos, "qos")));
      return { flags: 2, parts };
    }
    case "suback": {
      if (!Array.isArray(p.granted) || p.granted.length === 0) invalid("a SUBACK carries at least one return code");
      for (const g of p.granted)
        if (g !== 0 && g !== 1 && g !== 2 && g !== 0x80) invalid(`a SUBACK return code is 0, 1, 2 or 0x80, not ${g}`);
      return { flags: 0, parts: [u16p(packetId(p.packetId)), rawp(Buffer.from(p.granted))] };
    }
    case "unsubscribe": {
      if (!Array.isArray(p.topics) || p.topics.length === 0)
        invalid("an UNSUBSCRIBE carries at least one topic filter (§3.10.3)");
      return {
        flags: 2,
        parts: [u16p(packetId(p.packetId)), ...p.topics.map((t) => binp(checkString(t, "a topic filter")))],
      };
    }
    case "pingreq":
    case "pingresp":
    case "disconnect":
      return { flags: 0, parts: [] };
    default:
      return invalid(`not an MQTT packet type: ${String((p as { type: unknown }).type)}`);
  }
}

function readBody(type: PacketType, flags: number, b: Body, at: number): MqttPacket {
  const fixedFlags = type === "pubrel" || type === "subscribe" || type === "unsubscribe" ? 2 : 0;
  if (type !== "publish" && flags !== fixedFlags)
    fail("ERR_MQTT_BAD_FLAGS", at, `${type.toUpperCase()} has flags ${flags}, the spec says ${fixedFlags}`);
  switch (type) {
    case "connect": {
      const from = b.at;
      const name = b.string("the protocol name");
      const level = b.u8("the protocol level");
      if (name !== "MQTT" || level !== 4)
        fail("ERR_MQTT_PROTOCOL", from, `protocol ${JSON.stringify(name)} level ${level}, not "MQTT" level 4`);
      const f = b.u8("the connect flags");
      if (f & 1) fail("ERR_MQTT_PROTOCOL", b.at - 1, "the reserved connect flag is set");
      const willQos = (f >> 3) & 3;
      if (willQos === 3) fail("ERR_MQTT_BAD_FLAGS", b.at - 1, "will QoS 3");
      if (!(f & 0x04) && (willQos || f & 0x20))
        fail("ERR_MQTT_PROTOCOL", b.at - 1, "will QoS or retain without a will");
      if (f & 0x40 && !(f & 0x80)) fail("ERR_MQTT_PROTOCOL", b.at - 1, "a password without a user name");
      const keepAlive = b.u16("keep alive");
      const p: MqttPacket = { type, clientId: b.string("the client identifier"), cleanSession: !!(f & 2), keepAlive };
      if (f & 0x04)
        p.will = {
          topic: b.string("the will topic"),
          payload: b.binary("the will message"),
          qos: willQos as QoS,
          retain: !!(f & 0x20),
        };
      if (f & 0x80) p.username = b.string("the user name");
      if (f & 0x40) p.password = b.binary("the password");
      b.done("CONNECT");
      return p;
    }
    case "connack": {
      const ack = b.u8("the acknowledge flags");
      if (ack & 0xfe) fail("ERR_MQTT_BAD_FLAGS", b.at - 1, `reserved acknowledge flags set (${ack})`);
      const p: MqttPacket = { type, sessionPresent: ack === 1, returnCode: b.u8("the return code") };
      b.done("CONNACK");
      return p;
    }
    case "publish": {
      const qos = (flags >> 1) & 3;
      if (qos === 3) fail("ERR_MQTT_BAD_FLAGS", at, "PUBLISH with QoS 3");
      const dup = !!(flags & 8);
      if (qos === 0 && dup) fail("ERR_MQTT_BAD_FLAGS", at, "DUP set on a QoS 0 PUBLISH");
      const topic = b.string("the topic name");
      const p: MqttPacket = { type, topic, payload: Buffer.alloc(0), qos: qos as QoS, retain: !!(flags & 1), dup };
      if (qos > 0) {
        const id = b.u16("the packet identifier");
        if (id === 0) fail("ERR_MQTT_PROTOCOL", b.at - 2, "packet identifier 0");
        p.packetId = id;
      }
      p.payload = b.rest();
      return p;
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
    case "unsuback": {
      const id = b.u16("the packet identifier");
      b.done(type.toUpperCase());
      return { type, packetId: id };
    }
    case "subscribe": {
      const packetId = b.u16("the packet identifier");
      const subscriptions: { topic: string; qos: QoS }[] = [];
      while (b.at < b.end) {
        const topic = b.string("a topic filter");
        const q = b.u8("the requested QoS");
        if (q > 2) fail("ERR_MQTT_BAD_FLAGS", b.at - 1, `requested QoS byte ${q}`);
        subscriptions.push({ topic, qos: q as QoS });
      }
      if (!subscriptions.length) fail("ERR_MQTT_PROTOCOL", b.at, "a SUBSCRIBE without a topic filter");
      return { type, packetId, subscriptions };
    }
    case "suback": {
      const packetId = b.u16("the packet identifier");
      const granted = [...b.rest()];
      if (!granted.length) fail("ERR_MQTT_PROTOCOL", b.at, "a SUBACK without a return code");
      const bad = granted.findIndex((g) => g > 2 && g !== 0x80);
      if (bad >= 0) fail("ERR_MQTT_PROTOCOL", b.at - granted.length + bad, `SUBACK return code ${granted[bad]}`);
      return { type, packetId, granted };
    }
    case "unsubscribe": {
      const packetId = b.u16("the packet identifier");
      const topics: string[] = [];
      while (b.at < b.end) topics.push(b.string("a topic filter"));
      if (!topics.length) fail("ERR_MQTT_PROTOCOL", b.at, "an UNSUBSCRIBE without a topic filter");
      return { type, packetId, topics };
    }
    default:
      b.done(type.toUpperCase());
      return { type };
  }
}

/** One control packet. decode needs the whole packet (ERR_MQTT_TRUNCATED otherwise). */
export const packet = codec<MqttPacket, MqttPacket>({
  plan(p) {
    objectOf(p, "an MQTT packet");
    const { flags, parts } = layout(p);
    const body = parts.reduce((n, x) => n + x.length, 0);
    if (body > MAX_REMAINING) invalid(`a packet's remaining length is at most ${MAX_REMAINING}, not ${body}`);
    return {
      length: 1 + lengthSize(body) + body,
      write(buf, at) {
        buf[at] = (PACKET_TYPES[p.type] << 4) | flags;
        let pos = writeLength(body, buf, at + 1);
        for (const x of parts) pos = x.write(buf, pos);
      },
    };
  },
  read(buf, at) {
    if (at >= buf.length) fail("ERR_MQTT_TRUNCATED", at, "no fixed header");
    const type = TYPE_NAMES[buf[at] >> 4];
    if (type === undefined) fail("ERR_MQTT_BAD_TYPE", at, `packet type ${buf[at] >> 4} is reserved`);
    const { value: length, end: from } = readLength(buf, at + 1);
    if (from + length > buf.length)
      fail("ERR_MQTT_TRUNCATED", at + 1, `remaining length ${length}, ${buf.length - from} bytes there`);
    const value = readBody(type, buf[at] & 0x0f, new Body(buf, from, from + length), at);
    return { value, bytes: from + length - at };
  },
});

/** Cuts a TCP byte stream into packets: the complete ones, and the bytes of a partial one at the
 *  end (keep them and prepend them to what arrives next). Malformed bytes throw an MqttError. */
export function splitPackets(stream: Buffer): { packets: MqttPacket[]; rest: Buffer } {
  const packets: MqttPacket[] = [];
  let at = 0;
  while (at < stream.length) {
    try {
      const { value, bytes } = packet.read(stream, at);
      packets.push(value);
      at += bytes;
    } catch (e) {
      if (e instanceof MqttError && e.code === "ERR_MQTT_TRUNCATED") break;
      throw e;
    }
  }
  return { packets, rest: stream.subarray(at) };
}

// ---- topics --------------------------------------------------------------------------------------

/** Whether `filter` is a valid topic filter (§4.7.1): `#` only as the whole last level, `+` only as
 *  a whole level, not empty. */
export function validFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes("\u0000")) return false;
  const levels = filter.split("/");
  return levels.every((l, i) =>
    l === "#" ? i === levels.length - 1 : l === "+" || (!l.includes("#") && !l.includes("+")),
  );
}
/** Whether `topic` is a valid topic name to publish to: no wildcards, not empty. */
export function validTopic(topic: string): boolean {
  return topic.length > 0 && !topic.includes("\u0000") && !topic.includes("+") && !topic.includes("#");
}

/** Whether a subscription to `filter` receives a message published to `topic` (§4.7): level by
 *  level, `+` matches exactly one level (an empty one too), `#` the parent level and any number
 *  below it; a filter starting with a wildcard does not match topics starting with `$` (§4.7.2). */
export function topicMatches(filter: string, topic: string): boolean {
  if (!validFilter(filter))
    throw Object.assign(new RangeError(`not a topic filter: ${JSON.stringify(filter)}`), {
      code: "ERR_INVALID_ARG_VALUE",
    });
  if (!validTopic(topic))
    throw Object.assign(new RangeError(`not a topic name: ${JSON.stringify(topic)}`), {
      code: "ERR_INVALID_ARG_VALUE",
    });
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
