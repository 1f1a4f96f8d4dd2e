// ICMP for IPv4 (RFC 792): echo request and reply, destination unreachable (with RFC 1191's
// next-hop MTU for "fragmentation needed") and time exceeded, whose body quotes the datagram that
// caused the error; any other type keeps its bytes. The checksum (RFC 1071) covers the whole
// message and is always computed by encode.
import { checksum } from "./checksum";
import { bytesOf, codec, invalid, objectOf, uint } from "./codec";
import { readIpv4, type Ipv4 } from "./ipv4";
import { fail, need, PacketError } from "./packet-error";

export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
/** Destination unreachable codes (RFC 792, RFC 1122). */
export const UNREACH = { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4, ADMIN_PROHIBITED: 13 } as const;

/** What an error quotes of `original`: RFC 792 asks for "the Internet Header + 64 bits of
 *  Data"; with `quoteAll`, all of `original` is quoted, as Linux does (RFC 1812 §4.3.2.3 lets a
 *  router quote as much as fits in 576 bytes: cut `original` to that yourself). A decoded
 *  error says `quoteAll` when more than header + 8 bytes were quoted, so it encodes back to
 *  the same bytes. */
interface Quoting {
  original: Buffer;
  quoteAll?: boolean;
}

export type IcmpInput =
  | { kind: "echo-request" | "echo-reply"; id: number; seq: number; data?: Buffer; code?: number }
  /** `nextHopMtu` only with code 4, fragmentation needed (RFC 1191). */
  | ({ kind: "destination-unreachable"; code: number; nextHopMtu?: number } & Quoting)
  | ({ kind: "time-exceeded"; code: number } & Quoting)
  /** Any other type: the 4 bytes after the checksum and the body as they are. */
  | { kind: "other"; type: number; code: number; rest?: Buffer; body?: Buffer };

/** The quoted original of an error: its IPv4 header (payload cut short) and first 8 bytes. */
export interface IcmpQuote {
  ip: Ipv4;
  first8: Buffer;
}

/** A decoded message; `type`, `checksum`, `checksumOk` and `quote` are ignored by encode. */
export type Icmp = (
  | { kind: "echo-request" | "echo-reply"; id: number; seq: number; data: Buffer }
  | { kind: "destination-unreachable"; nextHopMtu?: number; original: Buffer; quoteAll: boolean; quote: IcmpQuote }
  | { kind: "time-exceeded"; original: Buffer; quoteAll: boolean; quote: IcmpQuote }
  | { kind: "other"; rest: Buffer; body: Buffer }
) & { type: number; code: number; checksum: number; checksumOk: boolean };

/** An ICMP error: destination unreachable or time exceeded, the kinds that quote a datagram. */
export type IcmpError = Extract<Icmp, { quote: IcmpQuote }>;

/** Whether `m` is an ICMP error, so that its quote can be read: `isIcmpError(m) ? m.quote.ip.ttl : "-"`. */
export function isIcmpError(m: Icmp | null | undefined): m is IcmpError {
  return m?.kind === "destination-unreachable" || m?.kind === "time-exceeded";
}

const KIND_TYPE = { "echo-reply": 0, "destination-unreachable": 3, "echo-request": 8, "time-exceeded": 11 } as const;
const MODELLED = new Set<number>(Object.values(KIND_TYPE));

/** The bytes an error quotes, checked to be an IPv4 header and at least 8 bytes after it. */
function quoteOf(q: Quoting): Buffer {
  const original = bytesOf(q.original, "original");
  let headerLength = 20;
  try {
    headerLength = readIpv4(original, 0, true).value.headerLength;
  } catch (e) {
    if (!(e instanceof PacketError)) throw e;
    invalid(`original must start with an IPv4 header: ${e.reason}`);
  }
  if (original.length < headerLength + 8)
    invalid(`original holds ${original.length - headerLength} bytes after its header; an error quotes 8`);
  return q.quoteAll ? original : original.subarray(0, headerLength + 8);
}

export const icmp = codec<IcmpInput, Icmp>({
  plan(v) {
    objectOf(v, "an ICMP message");
    const rest = Buffer.alloc(4);
    let body: Buffer;
    let type: number;
    let code: number;
    switch (v.kind) {
      case "echo-request":
      case "echo-reply":
        type = KIND_TYPE[v.kind];
        code = uint(v.code ?? 0, 8, "code");
        rest.writeUInt16BE(uint(v.id, 16, "id"), 0);
        rest.writeUInt16BE(uint(v.seq, 16, "seq"), 2);
        body = v.data === undefined ? Buffer.alloc(0) : bytesOf(v.data, "data");
        break;
      case "destination-unreachable":
      case "time-exceeded":
        type = KIND_TYPE[v.kind];
        code = uint(v.code, 8, "code");
        if (v.kind === "destination-unreachable" && v.nextHopMtu !== undefined) {
          if (v.code !== UNREACH.FRAG_NEEDED)
            invalid(`nextHopMtu belongs to code 4 (fragmentation needed), not code ${v.code}`);
          rest.writeUInt16BE(uint(v.nextHopMtu, 16, "nextHopMtu"), 2);
        }
        body = quoteOf(v);
        break;
      case "other":
        type = uint(v.type, 8, "type");
        if (MODELLED.has(type)) invalid(`type ${type} has its own kind; "other" is for the rest`);
        code = uint(v.code, 8, "code");
        if (v.rest !== undefined) {
          if (bytesOf(v.rest, "rest").length !== 4) invalid(`rest must be 4 bytes, got ${v.rest.length}`);
          v.rest.copy(rest);
        }
        body = v.body === undefined ? Buffer.alloc(0) : bytesOf(v.body, "body");
        break;
      default:
        return invalid(`unknown ICMP kind ${JSON.stringify((v as { kind?: unknown }).kind)}`);
    }
    uint(8 + body.length, 16, "the ICMP message length");
    return {
      length: 8 + body.length,
      write(buf, at) {
        buf[at] = type;
        buf[at + 1] = code;
        buf.writeUInt16BE(0, at + 2);
        rest.copy(buf, at + 4);
        body.copy(buf, at + 8);
        buf.writeUInt16BE(checksum(buf.subarray(at, at + 8 + body.length)), at + 2); // over the whole message
      },
    };
  },

  read(buf, at) {
    need(buf, at, 8, "an ICMP header");
    const type = buf[at];
    const code = buf[at + 1];
    const common = {
      type,
      code,
      checksum: buf.readUInt16BE(at + 2),
      checksumOk: checksum(buf.subarray(at)) === 0,
    };
    const body = buf.subarray(at + 8);
    const quoted = () => {
      // The quote's total length is the original's, longer than what is quoted: partial.
      const ip = readIpv4(buf, at + 8, true).value;
      const first8 = ip.payload.subarray(0, 8);
      if (first8.length < 8)
        fail(
          "ERR_PACKET_TRUNCATED",
          at + 8 + ip.headerLength,
          `an ICMP error quotes 8 bytes after the original header, ${first8.length} here`,
        );
      return { original: body, quoteAll: body.length > ip.headerLength + 8, quote: { ip, first8 } };
    };
    let value: Icmp;
    switch (type) {
      case ICMP_TYPE.ECHO_REQUEST:
      case ICMP_TYPE.ECHO_REPLY:
        value = {
          kind: type === ICMP_TYPE.ECHO_REQUEST ? "echo-request" : "echo-reply",
          id: buf.readUInt16BE(at + 4),
          seq: buf.readUInt16BE(at + 6),
          data: body,
          ...common,
        };
        break;
      case ICMP_TYPE.DEST_UNREACHABLE:
        value = {
          kind: "destination-unreachable",
          ...(code === UNREACH.FRAG_NEEDED ? { nextHopMtu: buf.readUInt16BE(at + 6) } : {}),
          ...quoted(),
          ...common,
        };
        break;
      case ICMP_TYPE.TIME_EXCEEDED:
        value = { kind: "time-exceeded", ...quoted(), ...common };
        break;
      default:
        value = { kind: "other", rest: buf.subarray(at + 4, at + 8), body, ...common };
    }
    return { value, bytes: buf.length - at };
  },
});
