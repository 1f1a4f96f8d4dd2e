// gRPC's framing of messages inside an HTTP/2 stream (grpc/grpc, doc/PROTOCOL-HTTP2.md,
// "Length-Prefixed-Message"): one byte, the compressed flag (0: the message as is, 1: compressed
// with the grpc-encoding the headers named), a 4-byte big-endian length, then the message (a
// serialized protobuf). The DATA frames of a stream carry these back to back, and one message may
// span several frames or share one with others: `grpcMessages` splits the concatenated DATA
// payload of a stream back into messages. A codec (helpers/wire/codec.ts).
import { bytesOf, codec, CodecError, invalid, objectOf } from "./codec";

export type GrpcFrameErrorCode =
  | "ERR_GRPC_TRUNCATED" // fewer than 5 header bytes, or a message running past the end
  | "ERR_GRPC_BAD_FLAG"; // a compressed flag other than 0 or 1

export class GrpcFrameError extends CodecError<GrpcFrameErrorCode> {
  constructor(code: GrpcFrameErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed gRPC message at offset ${offset}: ${reason} (${code})`);
    this.name = "GrpcFrameError";
  }
}
const fail = (code: GrpcFrameErrorCode, offset: number, reason: string): never => {
  throw new GrpcFrameError(code, offset, reason);
};

export interface GrpcMessage {
  compressed: boolean;
  /** The message's bytes (compressed, when the flag says so). */
  message: Buffer;
}

export const grpcMessage = codec<GrpcMessage, GrpcMessage>({
  plan(m) {
    objectOf(m, "a gRPC message");
    if (typeof m.compressed !== "boolean") invalid(`compressed must be a boolean, got ${String(m.compressed)}`);
    const body = bytesOf(m.message, "message");
    if (body.length > 0xffffffff) invalid(`a message is at most 2^32 - 1 bytes, not ${body.length}`);
    return {
      length: 5 + body.length,
      write(buf, at) {
        buf[at] = m.compressed ? 1 : 0;
        buf.writeUInt32BE(body.length, at + 1);
        body.copy(buf, at + 5);
      },
    };
  },
  read(buf, at) {
    if (at + 5 > buf.length)
      fail("ERR_GRPC_TRUNCATED", at, `the message header needs 5 bytes, ${Math.max(0, buf.length - at)} left`);
    const flag = buf[at];
    if (flag > 1) fail("ERR_GRPC_BAD_FLAG", at, `compressed flag ${flag} is neither 0 nor 1`);
    const length = buf.readUInt32BE(at + 1);
    if (at + 5 + length > buf.length)
      fail(
        "ERR_GRPC_TRUNCATED",
        at + 1,
        `a message of ${length} bytes runs past the end (${buf.length - at - 5} left)`,
      );
    return { value: { compressed: flag === 1, message: buf.subarray(at + 5, at + 5 + length) }, bytes: 5 + length };
  },
});

/** The messages of a stream's DATA payload, in order; the whole buffer must be messages. */
export function grpcMessages(payload: Buffer): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  for (let at = 0; at < payload.length;) {
    const { value, bytes } = grpcMessage.read(payload, at);
    out.push(value);
    at += bytes;
  }
  return out;
}
