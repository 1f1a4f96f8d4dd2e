// The TCP header (RFC 9293 §3.1): ports, sequence and acknowledgment numbers, data offset, the
// flag bits, window, checksum, urgent pointer and options, then the payload to the end of the
// segment. The checksum covers the IPv4 pseudo-header (§3.1, "Checksum"), whose addresses travel
// in the value as `src` and `dst`: with them encode computes the checksum and decode verifies it;
// without them encode writes `checksum` as given (a decoded segment keeps its own) and decode
// cannot tell. dissect.ts fills them in from the IPv4 header around the segment.
import { fold, pseudoHeaderSum, sum16, transportChecksum, type PseudoHeader } from "./checksum";
import { bytesOf, codec, invalid, invalidType, objectOf, uint } from "./codec";
import { fail, need } from "./packet-error";
import { addressesOf } from "./udp";

const TCP = 6;

/** The flag bits of byte 13, in tcpdump's letters: F S R P . (ACK) U E W. */
export const TCP_FLAGS = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/** Option kinds (IANA "TCP Option Kind Numbers"): 0 ends the list and 1 pads, each one byte. */
export const TCP_OPTION = {
  EOL: 0,
  NOP: 1,
  MSS: 2,
  WINDOW_SCALE: 3,
  SACK_PERMITTED: 4,
  SACK: 5,
  TIMESTAMPS: 8,
} as const;

export interface TcpOption {
  kind: number;
  /** The option's bytes after kind and length (empty for NOP). */
  data: Buffer;
}

export interface TcpInput {
  srcPort: number;
  dstPort: number;
  /** Default 0. */
  seq?: number;
  /** Default 0; meaningful with the ACK flag. */
  ack?: number;
  /** Byte 13: TCP_FLAGS or-ed together. Default 0. */
  flags?: number;
  /** Default 0. */
  window?: number;
  /** Default 0; meaningful with the URG flag. */
  urgent?: number;
  /** In order. The end of the list (kind 0) is not one: encode pads the options with it to a
   *  multiple of 4 bytes, at most 40 in all. */
  options?: TcpOption[];
  payload?: Buffer;
  /** The IPv4 addresses around the segment, for the checksum; both or neither. */
  src?: string;
  dst?: string;
  /** Written as is only when the addresses are not given. */
  checksum?: number;
}

export interface Tcp extends Required<Omit<TcpInput, "src" | "dst">> {
  src?: string;
  dst?: string;
  /** Data offset × 4. */
  headerLength: number;
  /** undefined when no addresses were there to check it against. */
  checksumOk: boolean | undefined;
}

function planOptions(options: unknown): Buffer {
  if (options === undefined) return Buffer.alloc(0);
  if (!Array.isArray(options)) invalidType("options must be an array of { kind, data }");
  const parts = options.map((o, i) => {
    const { kind, data } = objectOf<TcpOption>(o, `options[${i}]`);
    uint(kind, 8, `options[${i}].kind`);
    const d = bytesOf(data, `options[${i}].data`);
    if (kind === TCP_OPTION.EOL) invalid(`options[${i}]: the end of the list (kind 0) is written by encode`);
    if (kind === TCP_OPTION.NOP) {
      if (d.length) invalid(`options[${i}]: NOP (kind 1) has no data`);
      return Buffer.from([1]);
    }
    if (d.length > 38) invalid(`options[${i}]: ${d.length} bytes of data do not fit in a 40-byte option space`);
    return Buffer.concat([Buffer.from([kind, 2 + d.length]), d]);
  });
  const raw = Buffer.concat(parts);
  if (raw.length > 40) invalid(`TCP options take ${raw.length} bytes, at most 40 fit`);
  return Buffer.concat([raw, Buffer.alloc((4 - (raw.length % 4)) % 4)]);
}

export const tcp = codec<TcpInput, Tcp>({
  plan(v) {
    objectOf(v, "a TCP segment");
    const srcPort = uint(v.srcPort, 16, "srcPort");
    const dstPort = uint(v.dstPort, 16, "dstPort");
    const seq = uint(v.seq ?? 0, 32, "seq");
    const ack = uint(v.ack ?? 0, 32, "ack");
    const flags = uint(v.flags ?? 0, 8, "flags");
    const window = uint(v.window ?? 0, 16, "window");
    const urgent = uint(v.urgent ?? 0, 16, "urgent");
    const options = planOptions(v.options);
    const payload = v.payload === undefined ? Buffer.alloc(0) : bytesOf(v.payload, "payload");
    const headerLength = 20 + options.length;
    const length = headerLength + payload.length;
    const ph = addressesOf(v, "TCP");
    const pseudo = ph ? pseudoHeaderSum(ph, TCP, length) : undefined; // checks the addresses, here
    const given = uint(v.checksum ?? 0, 16, "checksum");
    return {
      length,
      write(buf, at) {
        buf.writeUInt16BE(srcPort, at);
        buf.writeUInt16BE(dstPort, at + 2);
        buf.writeUInt32BE(seq, at + 4);
        buf.writeUInt32BE(ack, at + 8);
        buf[at + 12] = (headerLength / 4) << 4;
        buf[at + 13] = flags;
        buf.writeUInt16BE(window, at + 14);
        buf.writeUInt16BE(0, at + 16);
        buf.writeUInt16BE(urgent, at + 18);
        options.copy(buf, at + 20);
        payload.copy(buf, at + headerLength);
        buf.writeUInt16BE(pseudo === undefined ? given : fold(sum16(buf, at, at + length, pseudo)), at + 16);
      },
    };
  },
  read: (buf, at) => readTcp(buf, at, undefined),
});

/** Reads the segment in buf[at, end of buf): the header, its options, the payload. With `ph`
 *  (the addresses of the IPv4 header around it) the checksum is verified. Used by dissect.ts. */
export function readTcp(buf: Buffer, at: number, ph: PseudoHeader | undefined): { value: Tcp; bytes: number } {
  need(buf, at, 20, "a TCP header");
  const headerLength = (buf[at + 12] >> 4) * 4;
  if (headerLength < 20)
    fail("ERR_PACKET_BAD_LENGTH", at + 12, `data offset ${headerLength / 4} is below the minimum 5 (20 bytes)`);
  if (at + headerLength > buf.length)
    fail("ERR_PACKET_BAD_LENGTH", at + 12, `data offset says ${headerLength} header bytes, ${buf.length - at} left`);
  const options: TcpOption[] = [];
  const end = at + headerLength;
  for (let o = at + 20; o < end;) {
    const kind = buf[o];
    if (kind === TCP_OPTION.EOL) break; // the rest is padding
    if (kind === TCP_OPTION.NOP) {
      options.push({ kind, data: Buffer.alloc(0) });
      o++;
      continue;
    }
    if (o + 2 > end || buf[o + 1] < 2 || o + buf[o + 1] > end)
      fail("ERR_PACKET_BAD_LENGTH", o + 1, `TCP option ${kind} runs past the header`);
    options.push({ kind, data: buf.subarray(o + 2, o + buf[o + 1]) });
    o += buf[o + 1];
  }
  const sum = buf.readUInt16BE(at + 16);
  const value: Tcp = {
    srcPort: buf.readUInt16BE(at),
    dstPort: buf.readUInt16BE(at + 2),
    seq: buf.readUInt32BE(at + 4),
    ack: buf.readUInt32BE(at + 8),
    headerLength,
    flags: buf[at + 13],
    window: buf.readUInt16BE(at + 14),
    checksum: sum,
    checksumOk: ph ? transportChecksum(buf, at, buf.length, ph, TCP) === 0 : undefined,
    urgent: buf.readUInt16BE(at + 18),
    options,
    payload: buf.subarray(end),
    ...(ph ? { src: ph.src, dst: ph.dst } : {}),
  };
  return { value, bytes: buf.length - at };
}
