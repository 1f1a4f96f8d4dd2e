// Packet codecs written by hand: the Internet checksum (RFC 1071), IPv4 (RFC 791), ICMP echo and
// errors (RFC 792, RFC 1191's next-hop MTU), UDP with its pseudo-header (RFC 768), the TCP header
// (decode only) and the Ethernet II header. Shaped like dns-packet: each layer is a pair of pure
// functions, `encode(value)` → Buffer and `decode(buf, offset, end)` → value, so a notebook can
// build a packet field by field and read back what the kernel sent. Every read is bounds checked first: bad input raises one
// error type, PacketError, with a stable `code`, the `offset` of the field at fault and a `reason`.

/** Stable codes for malformed input. */
export type PacketErrorCode =
  | "ERR_PACKET_TRUNCATED" // fewer bytes than a fixed header needs
  | "ERR_PACKET_BAD_VERSION" // an IPv4 header whose version nibble is not 4
  | "ERR_PACKET_BAD_IHL" // IHL below 5 (a header is at least 20 bytes)
  | "ERR_PACKET_BAD_LENGTH" // a length field that disagrees with the header or runs past the buffer
  | "ERR_PCAP_BAD_MAGIC"; // not a classic pcap file

export class PacketError extends Error {
  constructor(
    readonly code: PacketErrorCode,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`malformed packet at offset ${offset}: ${reason} (${code})`);
    this.name = "PacketError";
  }
}

const fail = (code: PacketErrorCode, offset: number, reason: string): never => {
  throw new PacketError(code, offset, reason);
};
/** Throws unless `n` bytes starting at `offset` lie before `end`. */
const need = (end: number, offset: number, n: number, what: string) => {
  if (offset + n > end)
    fail("ERR_PACKET_TRUNCATED", offset, `${what} needs ${n} bytes, ${Math.max(0, end - offset)} left`);
};
/** Arguments to encode are checked once, at the edge, like Node's own lib/. */
const invalid = (message: string): never => {
  throw Object.assign(new RangeError(message), { code: "ERR_INVALID_ARG_VALUE" });
};
const uint = (value: number, bits: number, what: string) => {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits)
    invalid(`${what} must be an integer from 0 to ${2 ** bits - 1}, got ${value}`);
  return value;
};
/** Decoders take (buf, offset, end): the end defaults to the buffer's and may not lie past it. */
const endOf = (buf: Buffer, offset: number, end: number | undefined) => {
  if (!Number.isInteger(offset) || offset < 0) invalid(`offset must be a non-negative integer, got ${offset}`);
  const e = end ?? buf.length;
  if (!Number.isInteger(e) || e > buf.length)
    invalid(`end must not lie past the buffer's length ${buf.length}, got ${e}`);
  // An offset past the end is what a bad length field upstream produces: malformed input.
  if (offset > e) fail("ERR_PACKET_TRUNCATED", offset, `offset ${offset} lies past the end (${e})`);
  return e;
};

// ---- RFC 1071 checksum --------------------------------------------------------------------------

/** The 32-bit sum of 16-bit big-endian words, an odd last byte padded with zero (RFC 1071 §4.1). */
function sum16(buf: Buffer, start = 0, end = buf.length, acc = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (i < end) acc += buf[i] << 8;
  return acc;
}
/** Folds the carries back in (end-around carry) and complements: the value to put in the field. */
function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** The Internet checksum of `buf`. Over data that includes a correct checksum field it is 0. */
export function checksum(buf: Buffer): number {
  return fold(sum16(buf));
}

// ---- addresses ----------------------------------------------------------------------------------

/** "10.0.0.1" → its 4 bytes. */
export function ipv4Bytes(address: string): Buffer {
  const parts = address.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255))
    invalid(`not a dotted-quad IPv4 address: ${JSON.stringify(address)}`);
  return Buffer.from(parts.map(Number));
}
export const ipv4Text = (buf: Buffer, offset = 0) =>
  `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;

export function macBytes(mac: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac))
    invalid(`not a MAC address like aa:bb:cc:dd:ee:ff: ${JSON.stringify(mac)}`);
  return Buffer.from(mac.split(":").map((h) => parseInt(h, 16)));
}
export const macText = (buf: Buffer, offset = 0) =>
  [...buf.subarray(offset, offset + 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");

// ---- IPv4 (RFC 791) -----------------------------------------------------------------------------

export const PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

/** What encode needs; everything else has a default, and the checksum is always computed. */
export interface Ipv4Input {
  dscp?: number; // 6 bits
  ecn?: number; // 2 bits
  id?: number;
  df?: boolean; // don't fragment
  mf?: boolean; // more fragments
  /** In bytes, as the reassembler thinks of it; a multiple of 8 (the wire carries it /8). */
  fragmentOffset?: number;
  ttl?: number; // default 64
  protocol: number;
  src: string;
  dst: string;
  /** Raw option bytes, kept as they are; a multiple of 4, at most 40. */
  options?: Buffer;
  payload: Buffer;
}

export interface Ipv4 extends Required<Ipv4Input> {
  version: 4;
  /** IHL × 4. */
  headerLength: number;
  totalLength: number;
  checksum: number;
  checksumOk: boolean;
  /** True when decoded with `partial` and fewer payload bytes were there than totalLength says
   *  (the quote in an ICMP error, a capture cut at its snaplen). */
  truncated: boolean;
}

export const ipv4 = {
  encodingLength: (v: Ipv4Input) => 20 + (v.options?.length ?? 0) + v.payload.length,

  encode(v: Ipv4Input): Buffer {
    const options = v.options ?? Buffer.alloc(0);
    if (options.length % 4 !== 0 || options.length > 40)
      invalid(`IPv4 options must be a multiple of 4 bytes and at most 40, got ${options.length}`);
    const fragOffset = v.fragmentOffset ?? 0;
    if (fragOffset % 8 !== 0) invalid(`fragmentOffset is in bytes and must be a multiple of 8, got ${fragOffset}`);
    uint(fragOffset / 8, 13, "fragmentOffset / 8");
    const headerLength = 20 + options.length;
    const total = uint(headerLength + v.payload.length, 16, "the total length");
    const buf = Buffer.alloc(total);
    buf[0] = 0x40 | (headerLength / 4);
    buf[1] = (uint(v.dscp ?? 0, 6, "dscp") << 2) | uint(v.ecn ?? 0, 2, "ecn");
    buf.writeUInt16BE(total, 2);
    buf.writeUInt16BE(uint(v.id ?? 0, 16, "id"), 4);
    buf.writeUInt16BE((v.df ? 0x4000 : 0) | (v.mf ? 0x2000 : 0) | (fragOffset / 8), 6);
    buf[8] = uint(v.ttl ?? 64, 8, "ttl");
    buf[9] = uint(v.protocol, 8, "protocol");
    ipv4Bytes(v.src).copy(buf, 12);
    ipv4Bytes(v.dst).copy(buf, 16);
    options.copy(buf, 20);
    buf.writeUInt16BE(checksum(buf.subarray(0, headerLength)), 10); // over the header only
    v.payload.copy(buf, headerLength);
    return buf;
  },

  /** `partial`: accept a payload shorter than totalLength (it is then `truncated`). Bytes after
   *  totalLength (Ethernet padding) are not part of the payload. */
  decode(buf: Buffer, offset = 0, end?: number, opts: { partial?: boolean } = {}): Ipv4 {
    const e = endOf(buf, offset, end);
    need(e, offset, 20, "an IPv4 header");
    const version = buf[offset] >> 4;
    if (version !== 4) fail("ERR_PACKET_BAD_VERSION", offset, `IP version ${version}, expected 4`);
    const ihl = buf[offset] & 0x0f;
    if (ihl < 5) fail("ERR_PACKET_BAD_IHL", offset, `IHL ${ihl} is below the minimum 5 (20 bytes)`);
    const headerLength = ihl * 4;
    if (offset + headerLength > e)
      fail("ERR_PACKET_BAD_IHL", offset, `IHL ${ihl} says ${headerLength} header bytes, ${e - offset} left`);
    const totalLength = buf.readUInt16BE(offset + 2);
    if (totalLength < headerLength)
      fail(
        "ERR_PACKET_BAD_LENGTH",
        offset + 2,
        `total length ${totalLength} is shorter than the ${headerLength}-byte header`,
      );
    const truncated = offset + totalLength > e;
    if (truncated && !opts.partial)
      fail(
        "ERR_PACKET_BAD_LENGTH",
        offset + 2,
        `total length ${totalLength} runs past the end (${e - offset} bytes left)`,
      );
    const flags = buf.readUInt16BE(offset + 6);
    return {
      version: 4,
      headerLength,
      dscp: buf[offset + 1] >> 2,
      ecn: buf[offset + 1] & 3,
      totalLength,
      id: buf.readUInt16BE(offset + 4),
      df: (flags & 0x4000) !== 0,
      mf: (flags & 0x2000) !== 0,
      fragmentOffset: (flags & 0x1fff) * 8,
      ttl: buf[offset + 8],
      protocol: buf[offset + 9],
      checksum: buf.readUInt16BE(offset + 10),
      checksumOk: checksum(buf.subarray(offset, offset + headerLength)) === 0,
      src: ipv4Text(buf, offset + 12),
      dst: ipv4Text(buf, offset + 16),
      options: buf.subarray(offset + 20, offset + headerLength),
      payload: buf.subarray(offset + headerLength, Math.min(e, offset + totalLength)),
      truncated,
    };
  },
};

// ---- ICMP (RFC 792) -----------------------------------------------------------------------------

export const ICMP_TYPE = { ECHO_REPLY: 0, DEST_UNREACHABLE: 3, ECHO_REQUEST: 8, TIME_EXCEEDED: 11 } as const;
/** Destination unreachable codes (RFC 792, RFC 1122). */
export const UNREACH = { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4, ADMIN_PROHIBITED: 13 } as const;

export type IcmpInput =
  | { kind: "echo-request" | "echo-reply"; id: number; seq: number; data?: Buffer }
  /** `original`: the datagram that caused the error; its header and first 8 payload bytes are
   *  quoted. `nextHopMtu` only with code 4, fragmentation needed (RFC 1191). */
  | { kind: "destination-unreachable"; code: number; nextHopMtu?: number; original: Buffer }
  | { kind: "time-exceeded"; code: number; original: Buffer }
  /** Any other type: the 4 bytes after the checksum and the body as they are. */
  | { kind: "other"; type: number; code: number; rest?: Buffer; body?: Buffer };

/** The quoted original of an error: its IPv4 header (payload cut short) and first 8 bytes. */
export interface IcmpQuote {
  ip: Ipv4;
  first8: Buffer;
}

export type Icmp = (
  | { kind: "echo-request" | "echo-reply"; id: number; seq: number; data: Buffer }
  | { kind: "destination-unreachable"; nextHopMtu?: number; original: Buffer; quote: IcmpQuote }
  | { kind: "time-exceeded"; original: Buffer; quote: IcmpQuote }
  | { kind: "other"; rest: Buffer; body: Buffer }
) & { type: number; code: number; checksum: number; checksumOk: boolean };

const KIND_TYPE = { "echo-reply": 0, "destination-unreachable": 3, "echo-request": 8, "time-exceeded": 11 } as const;

/** Header + 8 bytes of an original datagram (RFC 792: "Internet Header + 64 bits of Data"). */
function quoteOf(original: Buffer): Buffer {
  if (original.length < 20) invalid(`the original datagram is ${original.length} bytes, shorter than an IPv4 header`);
  return original.subarray(0, Math.min(original.length, (original[0] & 0x0f) * 4 + 8));
}

export const icmp = {
  encode(v: IcmpInput): Buffer {
    let rest: Buffer = Buffer.alloc(4);
    let body: Buffer;
    let type: number;
    let code = 0;
    switch (v.kind) {
      case "echo-request":
      case "echo-reply":
        type = KIND_TYPE[v.kind];
        rest.writeUInt16BE(uint(v.id, 16, "id"), 0);
        rest.writeUInt16BE(uint(v.seq, 16, "seq"), 2);
        body = v.data ?? Buffer.alloc(0);
        break;
      case "destination-unreachable":
      case "time-exceeded":
        type = KIND_TYPE[v.kind];
        code = v.code;
        if (v.kind === "destination-unreachable" && v.nextHopMtu !== undefined) {
          if (v.code !== UNREACH.FRAG_NEEDED)
            invalid(`nextHopMtu belongs to code 4 (fragmentation needed), not code ${v.code}`);
          rest.writeUInt16BE(uint(v.nextHopMtu, 16, "nextHopMtu"), 2);
        }
        body = quoteOf(v.original);
        break;
      case "other":
        type = v.type;
        code = v.code;
        rest = v.rest ?? rest;
        if (rest.length !== 4) invalid(`rest must be 4 bytes, got ${rest.length}`);
        body = v.body ?? Buffer.alloc(0);
        break;
    }
    const buf = Buffer.alloc(8 + body.length);
    buf[0] = uint(type, 8, "type");
    buf[1] = uint(code, 8, "code");
    rest.copy(buf, 4);
    body.copy(buf, 8);
    buf.writeUInt16BE(checksum(buf), 2); // over the whole message
    return buf;
  },

  /** Decodes the ICMP message in buf[offset, end); an error's quote is decoded as IPv4. */
  decode(buf: Buffer, offset = 0, end?: number): Icmp {
    const e = endOf(buf, offset, end);
    need(e, offset, 8, "an ICMP header");
    const type = buf[offset];
    const code = buf[offset + 1];
    const common = {
      type,
      code,
      checksum: buf.readUInt16BE(offset + 2),
      checksumOk: checksum(buf.subarray(offset, e)) === 0,
    };
    const body = buf.subarray(offset + 8, e);
    const quoted = () => {
      // The quote's total length is the original's, longer than what is quoted: partial.
      const ip = ipv4.decode(buf, offset + 8, e, { partial: true });
      const first8 = ip.payload.subarray(0, 8);
      if (first8.length < 8)
        fail(
          "ERR_PACKET_TRUNCATED",
          offset + 8 + ip.headerLength,
          `an ICMP error quotes 8 bytes after the original header, ${first8.length} here`,
        );
      return { original: body, quote: { ip, first8 } };
    };
    switch (type) {
      case ICMP_TYPE.ECHO_REQUEST:
      case ICMP_TYPE.ECHO_REPLY:
        return {
          kind: type === 8 ? "echo-request" : "echo-reply",
          id: buf.readUInt16BE(offset + 4),
          seq: buf.readUInt16BE(offset + 6),
          data: body,
          ...common,
        };
      case ICMP_TYPE.DEST_UNREACHABLE:
        return {
          kind: "destination-unreachable",
          ...(code === UNREACH.FRAG_NEEDED ? { nextHopMtu: buf.readUInt16BE(offset + 6) } : {}),
          ...quoted(),
          ...common,
        };
      case ICMP_TYPE.TIME_EXCEEDED:
        return { kind: "time-exceeded", ...quoted(), ...common };
      default:
        return { kind: "other", rest: buf.subarray(offset + 4, offset + 8), body, ...common };
    }
  },
};

// ---- UDP (RFC 768) ------------------------------------------------------------------------------

export interface UdpInput {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}
export interface Udp extends UdpInput {
  length: number;
  checksum: number;
  /** undefined when the sender sent no checksum (0) or no addresses were given to check it. */
  checksumOk: boolean | undefined;
}
/** The addresses of the IPv4 header around the datagram, for the pseudo-header. */
export interface PseudoHeader {
  src: string;
  dst: string;
}

/** The sum over the pseudo-header (src, dst, zero, protocol 17, UDP length) and the datagram. */
const udpSum = (datagram: Buffer, ph: PseudoHeader) => {
  const pseudo = Buffer.alloc(12);
  ipv4Bytes(ph.src).copy(pseudo, 0);
  ipv4Bytes(ph.dst).copy(pseudo, 4);
  pseudo[9] = PROTO.UDP;
  pseudo.writeUInt16BE(datagram.length, 10);
  return fold(sum16(datagram, 0, datagram.length, sum16(pseudo)));
};

export const udp = {
  encodingLength: (v: UdpInput) => 8 + v.payload.length,

  encode(v: UdpInput, ph: PseudoHeader): Buffer {
    const buf = Buffer.alloc(uint(8 + v.payload.length, 16, "the UDP length"));
    buf.writeUInt16BE(uint(v.srcPort, 16, "srcPort"), 0);
    buf.writeUInt16BE(uint(v.dstPort, 16, "dstPort"), 2);
    buf.writeUInt16BE(buf.length, 4);
    v.payload.copy(buf, 8);
    // 0 on the wire means "no checksum", so a computed 0 is sent as its other form, 0xffff.
    buf.writeUInt16BE(udpSum(buf, ph) || 0xffff, 6);
    return buf;
  },

  /** With `ph` (the IPv4 addresses) the checksum is verified. */
  decode(buf: Buffer, offset = 0, end?: number, ph?: PseudoHeader): Udp {
    const e = endOf(buf, offset, end);
    need(e, offset, 8, "a UDP header");
    const length = buf.readUInt16BE(offset + 4);
    if (length < 8) fail("ERR_PACKET_BAD_LENGTH", offset + 4, `UDP length ${length} is shorter than the 8-byte header`);
    if (offset + length > e)
      fail("ERR_PACKET_BAD_LENGTH", offset + 4, `UDP length ${length} runs past the end (${e - offset} bytes left)`);
    const sum = buf.readUInt16BE(offset + 6);
    return {
      srcPort: buf.readUInt16BE(offset),
      dstPort: buf.readUInt16BE(offset + 2),
      length,
      checksum: sum,
      checksumOk: sum === 0 || !ph ? undefined : udpSum(buf.subarray(offset, offset + length), ph) === 0,
      payload: buf.subarray(offset + 8, offset + length),
    };
  },
};

// ---- TCP (RFC 9293), decode only ----------------------------------------------------------------

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

export interface TcpOption {
  kind: number;
  /** The option's bytes after kind and length (empty for NOP and end of list). */
  data: Buffer;
}
export interface Tcp {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Data offset × 4. */
  headerLength: number;
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  options: TcpOption[];
  payload: Buffer;
}

export const tcp = {
  /** Decodes the segment in buf[offset, end): the header, its options, the payload. */
  decode(buf: Buffer, offset = 0, end?: number): Tcp {
    const e = endOf(buf, offset, end);
    need(e, offset, 20, "a TCP header");
    const headerLength = (buf[offset + 12] >> 4) * 4;
    if (headerLength < 20)
      fail("ERR_PACKET_BAD_LENGTH", offset + 12, `data offset ${headerLength / 4} is below the minimum 5 (20 bytes)`);
    if (offset + headerLength > e)
      fail("ERR_PACKET_BAD_LENGTH", offset + 12, `data offset says ${headerLength} header bytes, ${e - offset} left`);
    const options: TcpOption[] = [];
    for (let at = offset + 20; at < offset + headerLength;) {
      const kind = buf[at];
      if (kind === 0) break; // end of option list
      if (kind === 1) {
        options.push({ kind, data: Buffer.alloc(0) });
        at++;
        continue;
      }
      if (at + 2 > offset + headerLength || buf[at + 1] < 2 || at + buf[at + 1] > offset + headerLength)
        fail("ERR_PACKET_BAD_LENGTH", at + 1, `TCP option ${kind} runs past the header`);
      options.push({ kind, data: buf.subarray(at + 2, at + buf[at + 1]) });
      at += buf[at + 1];
    }
    return {
      srcPort: buf.readUInt16BE(offset),
      dstPort: buf.readUInt16BE(offset + 2),
      seq: buf.readUInt32BE(offset + 4),
      ack: buf.readUInt32BE(offset + 8),
      headerLength,
      flags: buf[offset + 13],
      window: buf.readUInt16BE(offset + 14),
      checksum: buf.readUInt16BE(offset + 16),
      urgent: buf.readUInt16BE(offset + 18),
      options,
      payload: buf.subarray(offset + headerLength, e),
    };
  },
};

// ---- Ethernet II --------------------------------------------------------------------------------

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd } as const;

export interface EthernetInput {
  dst: string;
  src: string;
  ethertype: number;
  payload: Buffer;
}
export type Ethernet = EthernetInput;

export const ethernet = {
  encodingLength: (v: EthernetInput) => 14 + v.payload.length,

  encode(v: EthernetInput): Buffer {
    const buf = Buffer.alloc(14 + v.payload.length);
    macBytes(v.dst).copy(buf, 0);
    macBytes(v.src).copy(buf, 6);
    buf.writeUInt16BE(uint(v.ethertype, 16, "ethertype"), 12);
    v.payload.copy(buf, 14);
    return buf;
  },

  decode(buf: Buffer, offset = 0, end?: number): Ethernet {
    const e = endOf(buf, offset, end);
    need(e, offset, 14, "an Ethernet header");
    return {
      dst: macText(buf, offset),
      src: macText(buf, offset + 6),
      ethertype: buf.readUInt16BE(offset + 12),
      payload: buf.subarray(offset + 14, e),
    };
  },
};

// ---- all layers at once -------------------------------------------------------------------------

export interface Layers {
  ethernet?: Ethernet;
  ip?: Ipv4;
  icmp?: Icmp;
  udp?: Udp;
  tcp?: Tcp;
}

/** Decodes what a capture holds, layer by layer, as far as this module knows the layers:
 *  `link` "ethernet" for AF_PACKET frames (pcap linktype 1), "ip" for raw IP (linktype 101).
 *  Offsets in errors count from the start of `buf`. */
export function dissect(buf: Buffer, link: "ethernet" | "ip" = "ip"): Layers {
  const layers: Layers = {};
  let at = 0;
  if (link === "ethernet") {
    layers.ethernet = ethernet.decode(buf);
    if (layers.ethernet.ethertype !== ETHERTYPE.IPV4) return layers;
    at = 14;
  }
  const ip = (layers.ip = ipv4.decode(buf, at));
  const start = at + ip.headerLength;
  const end = start + ip.payload.length;
  // A fragment holds only part of the transport message: its length and checksum cover the whole.
  if (ip.fragmentOffset !== 0 || ip.mf) return layers;
  if (ip.protocol === PROTO.ICMP) layers.icmp = icmp.decode(buf, start, end);
  if (ip.protocol === PROTO.UDP) layers.udp = udp.decode(buf, start, end, ip);
  if (ip.protocol === PROTO.TCP) layers.tcp = tcp.decode(buf, start, end);
  return layers;
}
