// HTTP/2 frames (RFC 9113 §4 and §6): the 9-byte frame header (24-bit length, type, flags, a
// reserved bit and the 31-bit stream identifier) and the payload of each of the ten frame types,
// decoded into named fields. `frame` is a codec on the contract of codec.ts; `frames` splits a
// connection's byte stream (after the client's preface) into frames. A frame the RFC calls a
// connection error (a wrong size, a stream identifier where none belongs, padding longer than the
// payload, a SETTINGS value out of range) is one Http2Error carrying the RFC's error code name,
// the way a real endpoint would answer it with GOAWAY. Header blocks stay bytes here: HPACK is
// wire/hpack.ts.
import { bytesOf, codec, CodecError, invalid, objectOf, uint } from "./codec";

/** What a client sends first, before any frame (§3.4). */
export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export const FRAME_TYPES = [
  "DATA",
  "HEADERS",
  "PRIORITY",
  "RST_STREAM",
  "SETTINGS",
  "PUSH_PROMISE",
  "PING",
  "GOAWAY",
  "WINDOW_UPDATE",
  "CONTINUATION",
] as const;
export type FrameTypeName = (typeof FRAME_TYPES)[number];

/** §7: the error codes of RST_STREAM and GOAWAY. */
export const ERROR_CODES = [
  "NO_ERROR",
  "PROTOCOL_ERROR",
  "INTERNAL_ERROR",
  "FLOW_CONTROL_ERROR",
  "SETTINGS_TIMEOUT",
  "STREAM_CLOSED",
  "FRAME_SIZE_ERROR",
  "REFUSED_STREAM",
  "CANCEL",
  "COMPRESSION_ERROR",
  "CONNECT_ERROR",
  "ENHANCE_YOUR_CALM",
  "INADEQUATE_SECURITY",
  "HTTP_1_1_REQUIRED",
] as const;
export const errorName = (code: number) => ERROR_CODES[code] ?? `0x${code.toString(16)}`;

/** §6.5.2: the settings defined by RFC 9113 (8 is RFC 8441's, 9 RFC 9218's). */
export const SETTINGS: Record<number, string> = {
  1: "HEADER_TABLE_SIZE",
  2: "ENABLE_PUSH",
  3: "MAX_CONCURRENT_STREAMS",
  4: "INITIAL_WINDOW_SIZE",
  5: "MAX_FRAME_SIZE",
  6: "MAX_HEADER_LIST_SIZE",
  8: "ENABLE_CONNECT_PROTOCOL",
  9: "NO_RFC7540_PRIORITIES",
};
export const settingName = (id: number) => SETTINGS[id] ?? `0x${id.toString(16)}`;

export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

/** The largest window a flow-control window can be (§6.9.1). */
export const MAX_WINDOW = 2 ** 31 - 1;

export type Http2ErrorCode =
  | "ERR_HTTP2_TRUNCATED" // fewer than 9 bytes of header, or a payload that runs past the end
  | "ERR_HTTP2_FRAME_SIZE" // a fixed-size frame of the wrong length (the RFC's FRAME_SIZE_ERROR)
  | "ERR_HTTP2_BAD_STREAM" // a stream identifier where none belongs, or none where one must be
  | "ERR_HTTP2_BAD_PADDING" // padding as long as the payload or longer
  | "ERR_HTTP2_BAD_SETTING" // a SETTINGS value out of its range
  | "ERR_HTTP2_ZERO_INCREMENT"; // a WINDOW_UPDATE of 0

/** The RFC's own name for each fault: what a real endpoint puts in its GOAWAY. */
const RFC_CODE: Record<Http2ErrorCode, (typeof ERROR_CODES)[number]> = {
  ERR_HTTP2_TRUNCATED: "FRAME_SIZE_ERROR",
  ERR_HTTP2_FRAME_SIZE: "FRAME_SIZE_ERROR",
  ERR_HTTP2_BAD_STREAM: "PROTOCOL_ERROR",
  ERR_HTTP2_BAD_PADDING: "PROTOCOL_ERROR",
  ERR_HTTP2_BAD_SETTING: "PROTOCOL_ERROR",
  ERR_HTTP2_ZERO_INCREMENT: "PROTOCOL_ERROR",
};

export class Http2Error extends CodecError<Http2ErrorCode> {
  /** The RFC 9113 error code an endpoint answers this with (FLOW_CONTROL_ERROR for a window too large). */
  readonly rfcCode: string;
  constructor(code: Http2ErrorCode, offset: number, reason: string, rfcCode: string = RFC_CODE[code]) {
    super(code, offset, reason, `malformed HTTP/2 frame at offset ${offset}: ${reason} (${code}, ${rfcCode})`);
    this.name = "Http2Error";
    this.rfcCode = rfcCode;
  }
}
const fail = (code: Http2ErrorCode, offset: number, reason: string, rfcCode?: string): never => {
  throw new Http2Error(code, offset, reason, rfcCode);
};

export interface Priority {
  exclusive: boolean;
  dependsOn: number;
  /** 1 to 256, as the RFC counts it (the wire holds weight - 1). */
  weight: number;
}

/** One frame, by type. `padding` is the number of padding bytes of a padded frame. */
export type Frame =
  | { type: "DATA"; streamId: number; data: Buffer; endStream?: boolean; padding?: number }
  | {
      type: "HEADERS";
      streamId: number;
      block: Buffer;
      endStream?: boolean;
      endHeaders?: boolean;
      padding?: number;
      priority?: Priority;
    }
  | ({ type: "PRIORITY"; streamId: number } & Priority)
  | { type: "RST_STREAM"; streamId: number; errorCode: number }
  | { type: "SETTINGS"; streamId?: 0; ack?: boolean; settings: [id: number, value: number][] }
  | {
      type: "PUSH_PROMISE";
      streamId: number;
      promisedStreamId: number;
      block: Buffer;
      endHeaders?: boolean;
      padding?: number;
    }
  | { type: "PING"; streamId?: 0; ack?: boolean; data: Buffer }
  | { type: "GOAWAY"; streamId?: 0; lastStreamId: number; errorCode: number; debug?: Buffer }
  | { type: "WINDOW_UPDATE"; streamId: number; increment: number }
  | { type: "CONTINUATION"; streamId: number; block: Buffer; endHeaders?: boolean }
  /** A type this codec does not know (§5.5: receivers ignore it), kept as bytes. */
  | { type: "UNKNOWN"; typeCode: number; flags: number; streamId: number; payload: Buffer };

/** What decode adds: the header's length and flags as they were on the wire. */
export type DecodedFrame = Frame & { length: number; flags: number };

const onStream = (id: unknown, what: string) => {
  const s = uint(id, 31, `${what} streamId`);
  if (s === 0) invalid(`a ${what} frame belongs to a stream: streamId must not be 0`);
  return s;
};
const onConnection = (id: unknown, what: string) => {
  if (id !== undefined && id !== 0) invalid(`a ${what} frame belongs to the connection: streamId must be 0`);
  return 0;
};
const padPlan = (padding: unknown) => (padding === undefined ? -1 : uint(padding, 8, "padding")); // -1: not padded

/** The payload (without padding), flags and stream of a frame, checked. */
function layout(f: Frame): { type: number; flags: number; streamId: number; body: Buffer[]; pad: number } {
  objectOf(f, "an HTTP/2 frame");
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const prio = (p: Priority) => {
    uint(p.weight - 1, 8, "weight - 1");
    const b = Buffer.alloc(5);
    b.writeUInt32BE(((p.exclusive ? 0x80000000 : 0) + uint(p.dependsOn, 31, "dependsOn")) >>> 0);
    b[4] = p.weight - 1;
    return b;
  };
  switch (f.type) {
    case "DATA": {
      const pad = padPlan(f.padding);
      const flags = (f.endStream ? FLAG.END_STREAM : 0) | (pad >= 0 ? FLAG.PADDED : 0);
      return { type: 0, flags, streamId: onStream(f.streamId, "DATA"), body: [bytesOf(f.data, "data")], pad };
    }
    case "HEADERS": {
      const pad = padPlan(f.padding);
      const flags =
        (f.endStream ? FLAG.END_STREAM : 0) |
        (f.endHeaders ? FLAG.END_HEADERS : 0) |
        (pad >= 0 ? FLAG.PADDED : 0) |
        (f.priority ? FLAG.PRIORITY : 0);
      const body = [...(f.priority ? [prio(f.priority)] : []), bytesOf(f.block, "block")];
      return { type: 1, flags, streamId: onStream(f.streamId, "HEADERS"), body, pad };
    }
    case "PRIORITY":
      return { type: 2, flags: 0, streamId: onStream(f.streamId, "PRIORITY"), body: [prio(f)], pad: -1 };
    case "RST_STREAM":
      return {
        type: 3,
        flags: 0,
        streamId: onStream(f.streamId, "RST_STREAM"),
        body: [u32(uint(f.errorCode, 32, "errorCode"))],
        pad: -1,
      };
    case "SETTINGS": {
      if (!Array.isArray(f.settings)) invalid("settings must be an array of [id, value] pairs");
      if (f.ack && f.settings.length) invalid("a SETTINGS acknowledgement carries no settings");
      const body = f.settings.map(([id, value]) => {
        const b = Buffer.alloc(6);
        b.writeUInt16BE(uint(id, 16, "setting id"));
        b.writeUInt32BE(uint(value, 32, "setting value"), 2);
        return b;
      });
      return { type: 4, flags: f.ack ? FLAG.ACK : 0, streamId: onConnection(f.streamId, "SETTINGS"), body, pad: -1 };
    }
    case "PUSH_PROMISE": {
      const pad = padPlan(f.padding);
      const flags = (f.endHeaders ? FLAG.END_HEADERS : 0) | (pad >= 0 ? FLAG.PADDED : 0);
      const body = [u32(onStream(f.promisedStreamId, "promised")), bytesOf(f.block, "block")];
      return { type: 5, flags, streamId: onStream(f.streamId, "PUSH_PROMISE"), body, pad };
    }
    case "PING": {
      if (bytesOf(f.data, "data").length !== 8) invalid(`PING carries exactly 8 bytes, not ${f.data.length}`);
      return {
        type: 6,
        flags: f.ack ? FLAG.ACK : 0,
        streamId: onConnection(f.streamId, "PING"),
        body: [f.data],
        pad: -1,
      };
    }
    case "GOAWAY": {
      const body = [
        u32(uint(f.lastStreamId, 31, "lastStreamId")),
        u32(uint(f.errorCode, 32, "errorCode")),
        bytesOf(f.debug ?? Buffer.alloc(0), "debug"),
      ];
      return { type: 7, flags: 0, streamId: onConnection(f.streamId, "GOAWAY"), body, pad: -1 };
    }
    case "WINDOW_UPDATE": {
      const inc = uint(f.increment, 31, "increment");
      if (inc === 0) invalid("a WINDOW_UPDATE increment is 1 or more");
      return { type: 8, flags: 0, streamId: uint(f.streamId, 31, "streamId"), body: [u32(inc)], pad: -1 };
    }
    case "CONTINUATION":
      return {
        type: 9,
        flags: f.endHeaders ? FLAG.END_HEADERS : 0,
        streamId: onStream(f.streamId, "CONTINUATION"),
        body: [bytesOf(f.block, "block")],
        pad: -1,
      };
    case "UNKNOWN": {
      const t = uint(f.typeCode, 8, "typeCode");
      if (t < FRAME_TYPES.length) invalid(`type ${t} is ${FRAME_TYPES[t]}, not unknown`);
      return {
        type: t,
        flags: uint(f.flags, 8, "flags"),
        streamId: uint(f.streamId, 31, "streamId"),
        body: [bytesOf(f.payload, "payload")],
        pad: -1,
      };
    }
    default:
      return invalid(`not a frame type: ${String((f as { type: unknown }).type)}`);
  }
}

/** The largest payload the length field can say (SETTINGS_MAX_FRAME_SIZE can go up to it). */
export const MAX_PAYLOAD = 2 ** 24 - 1;

export const frame = codec<Frame, DecodedFrame>({
  plan(f) {
    const l = layout(f);
    const inner = l.body.reduce((n, b) => n + b.length, 0);
    const length = inner + (l.pad >= 0 ? 1 + l.pad : 0);
    if (length > MAX_PAYLOAD) invalid(`a payload of ${length} bytes is more than the 24-bit length can say`);
    return {
      length: 9 + length,
      write(buf, at) {
        buf.writeUIntBE(length, at, 3);
        buf[at + 3] = l.type;
        buf[at + 4] = l.flags;
        buf.writeUInt32BE(l.streamId, at + 5);
        let i = at + 9;
        if (l.pad >= 0) buf[i++] = l.pad;
        for (const b of l.body) i += b.copy(buf, i);
        buf.fill(0, i, i + Math.max(0, l.pad));
      },
    };
  },
  read(buf, at) {
    if (at + 9 > buf.length)
      fail("ERR_HTTP2_TRUNCATED", at, `a frame header needs 9 bytes, ${Math.max(0, buf.length - at)} left`);
    const length = buf.readUIntBE(at, 3);
    const t = buf[at + 3];
    const flags = buf[at + 4];
    const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff; // the reserved bit is ignored (§4.1)
    const p = at + 9;
    if (p + length > buf.length)
      fail("ERR_HTTP2_TRUNCATED", at, `a payload of ${length} bytes runs past the end (${buf.length - p} left)`);
    const value = readPayload(buf, at, p, p + length, t, flags, streamId);
    return { value: { ...value, length, flags } as DecodedFrame, bytes: 9 + length };
  },
});

function readPayload(
  buf: Buffer,
  at: number,
  p: number,
  end: number,
  t: number,
  flags: number,
  streamId: number,
): Frame {
  const length = end - p;
  const name = FRAME_TYPES[t] ?? "UNKNOWN";
  const needStream = () => streamId === 0 && fail("ERR_HTTP2_BAD_STREAM", at + 5, `${name} on stream 0`);
  const noStream = () => streamId !== 0 && fail("ERR_HTTP2_BAD_STREAM", at + 5, `${name} on stream ${streamId}, not 0`);
  const size = (n: number) => length !== n && fail("ERR_HTTP2_FRAME_SIZE", at, `${name} is ${n} bytes, not ${length}`);
  /** Strips padding; returns the content's start, end and the pad length (undefined: not padded). */
  const unpad = (padded: boolean) => {
    if (!padded) return { from: p, to: end, padding: undefined };
    if (length < 1) fail("ERR_HTTP2_FRAME_SIZE", at, `a PADDED ${name} needs its pad length byte`);
    const padding = buf[p];
    if (padding >= length) fail("ERR_HTTP2_BAD_PADDING", p, `${padding} bytes of padding in a ${length}-byte payload`);
    return { from: p + 1, to: end - padding, padding };
  };
  const prio = (i: number): Priority => {
    const w = buf.readUInt32BE(i);
    return { exclusive: w >= 0x80000000, dependsOn: w & 0x7fffffff, weight: buf[i + 4] + 1 };
  };
  const copy = (from: number, to: number) => Buffer.from(buf.subarray(from, to));
  const end_ = flags & FLAG.END_STREAM ? { endStream: true } : {};
  const eh = flags & FLAG.END_HEADERS ? { endHeaders: true } : {};
  switch (t) {
    case 0: {
      needStream();
      const u = unpad((flags & FLAG.PADDED) !== 0);
      return {
        type: "DATA",
        streamId,
        data: copy(u.from, u.to),
        ...end_,
        ...(u.padding === undefined ? {} : { padding: u.padding }),
      };
    }
    case 1: {
      needStream();
      const u = unpad((flags & FLAG.PADDED) !== 0);
      let from = u.from;
      let priority: Priority | undefined;
      if (flags & FLAG.PRIORITY) {
        if (u.to - from < 5) fail("ERR_HTTP2_FRAME_SIZE", at, "HEADERS with PRIORITY needs 5 bytes for it");
        priority = prio(from);
        from += 5;
      }
      return {
        type: "HEADERS",
        streamId,
        block: copy(from, u.to),
        ...end_,
        ...eh,
        ...(u.padding === undefined ? {} : { padding: u.padding }),
        ...(priority ? { priority } : {}),
      };
    }
    case 2:
      needStream();
      size(5);
      return { type: "PRIORITY", streamId, ...prio(p) };
    case 3:
      needStream();
      size(4);
      return { type: "RST_STREAM", streamId, errorCode: buf.readUInt32BE(p) };
    case 4: {
      noStream();
      const ack = (flags & FLAG.ACK) !== 0;
      if (ack && length) fail("ERR_HTTP2_FRAME_SIZE", at, `a SETTINGS acknowledgement of ${length} bytes, not 0`);
      if (length % 6) fail("ERR_HTTP2_FRAME_SIZE", at, `SETTINGS of ${length} bytes, not a multiple of 6`);
      const settings: [number, number][] = [];
      for (let i = p; i < end; i += 6) {
        const id = buf.readUInt16BE(i);
        const v = buf.readUInt32BE(i + 2);
        if (id === 2 && v > 1) fail("ERR_HTTP2_BAD_SETTING", i, `ENABLE_PUSH is 0 or 1, not ${v}`);
        if (id === 4 && v > MAX_WINDOW)
          fail("ERR_HTTP2_BAD_SETTING", i, `INITIAL_WINDOW_SIZE ${v} is above ${MAX_WINDOW}`, "FLOW_CONTROL_ERROR");
        if (id === 5 && (v < 16384 || v > MAX_PAYLOAD))
          fail("ERR_HTTP2_BAD_SETTING", i, `MAX_FRAME_SIZE ${v} is outside 16384 to ${MAX_PAYLOAD}`);
        settings.push([id, v]);
      }
      return { type: "SETTINGS", ...(ack ? { ack } : {}), settings };
    }
    case 5: {
      needStream();
      const u = unpad((flags & FLAG.PADDED) !== 0);
      if (u.to - u.from < 4) fail("ERR_HTTP2_FRAME_SIZE", at, "PUSH_PROMISE needs 4 bytes for the promised stream");
      const promisedStreamId = buf.readUInt32BE(u.from) & 0x7fffffff;
      if (promisedStreamId === 0) fail("ERR_HTTP2_BAD_STREAM", u.from, "a promised stream of 0");
      return {
        type: "PUSH_PROMISE",
        streamId,
        promisedStreamId,
        block: copy(u.from + 4, u.to),
        ...eh,
        ...(u.padding === undefined ? {} : { padding: u.padding }),
      };
    }
    case 6:
      noStream();
      size(8);
      return { type: "PING", ...(flags & FLAG.ACK ? { ack: true } : {}), data: copy(p, end) };
    case 7:
      noStream();
      if (length < 8) fail("ERR_HTTP2_FRAME_SIZE", at, `GOAWAY is at least 8 bytes, not ${length}`);
      return {
        type: "GOAWAY",
        lastStreamId: buf.readUInt32BE(p) & 0x7fffffff,
        errorCode: buf.readUInt32BE(p + 4),
        debug: copy(p + 8, end),
      };
    case 8: {
      size(4);
      const increment = buf.readUInt32BE(p) & 0x7fffffff;
      if (increment === 0) fail("ERR_HTTP2_ZERO_INCREMENT", p, "a WINDOW_UPDATE increment of 0");
      return { type: "WINDOW_UPDATE", streamId, increment };
    }
    case 9:
      needStream();
      return { type: "CONTINUATION", streamId, block: copy(p, end), ...eh };
    default:
      return { type: "UNKNOWN", typeCode: t, flags, streamId, payload: copy(p, end) };
  }
}

/** Splits a connection's bytes into frames, after the client preface if it starts with one; a
 *  trailing partial frame (more is still to come) is left out and its bytes counted in `rest`. */
export function frames(stream: Buffer): { preface: boolean; frames: DecodedFrame[]; rest: number } {
  const preface = stream.subarray(0, PREFACE.length).equals(PREFACE);
  let at = preface ? PREFACE.length : 0;
  const out: DecodedFrame[] = [];
  while (at + 9 <= stream.length && at + 9 + stream.readUIntBE(at, 3) <= stream.length) {
    const { value, bytes } = frame.read(stream, at);
    out.push(value);
    at += bytes;
  }
  return { preface, frames: out, rest: stream.length - at };
}

/** A frame in a few words, for tables: `HEADERS stream 1 END_HEADERS, 27 bytes of header block`. */
export function describe(f: DecodedFrame | Frame): string {
  const on = "streamId" in f && f.streamId ? ` stream ${f.streamId}` : "";
  const bits = (pairs: [boolean | undefined, string][]) =>
    pairs
      .filter(([b]) => b)
      .map(([, n]) => ` ${n}`)
      .join("");
  switch (f.type) {
    case "DATA":
      return `DATA${on}${bits([[f.endStream, "END_STREAM"]])}, ${f.data.length} bytes`;
    case "HEADERS":
      return `HEADERS${on}${bits([
        [f.endStream, "END_STREAM"],
        [f.endHeaders, "END_HEADERS"],
      ])}, ${f.block.length}-byte block`;
    case "SETTINGS":
      return f.ack
        ? "SETTINGS ACK"
        : `SETTINGS ${f.settings.map(([id, v]) => `${settingName(id)}=${v}`).join(" ") || "(none)"}`;
    case "WINDOW_UPDATE":
      return `WINDOW_UPDATE${on || " connection"} +${f.increment}`;
    case "RST_STREAM":
      return `RST_STREAM${on} ${errorName(f.errorCode)}`;
    case "GOAWAY":
      return `GOAWAY last stream ${f.lastStreamId} ${errorName(f.errorCode)}`;
    case "PING":
      return `PING${f.ack ? " ACK" : ""}`;
    case "PRIORITY":
      return `PRIORITY${on} on ${f.dependsOn} weight ${f.weight}`;
    case "PUSH_PROMISE":
      return `PUSH_PROMISE${on} promises ${f.promisedStreamId}`;
    case "CONTINUATION":
      return `CONTINUATION${on}${bits([[f.endHeaders, "END_HEADERS"]])}`;
    default:
      return `type 0x${f.typeCode.toString(16)}${on}, ${f.payload.length} bytes`;
  }
}
