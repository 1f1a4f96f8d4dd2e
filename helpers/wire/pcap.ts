// Classic libpcap files (the format tcpdump and Wireshark have read since the 1990s, described in
// draft-ietf-opsawg-pcap): a 24-byte file header, then per packet a 16-byte record header and the
// captured bytes. The header, a record and a whole file are codecs (helpers/wire/codec.ts). We
// write microsecond files in little-endian order, what libpcap writes on this machine; the decoder
// takes both byte orders and nanosecond files too, and says which it read, so a file decodes and
// encodes back to the same bytes. Writing a file as packets arrive is I/O: helpers/os/pcap-file.ts.
import { bytesOf, codec, CodecError, invalid, invalidType, objectOf, uint, type WireCodec } from "./codec";

/** Link-layer header types (tcpdump.org/linktypes.html). */
export const LINKTYPE = { ETHERNET: 1, RAW: 101 } as const;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
/** libpcap's default snaplen. */
export const DEFAULT_SNAPLEN = 262144;

export type PcapErrorCode =
  | "ERR_PCAP_TRUNCATED" // a file or record header cut short
  | "ERR_PCAP_BAD_MAGIC" // not a classic pcap file (pcapng, or not a capture at all)
  | "ERR_PCAP_BAD_LENGTH"; // a record's incl_len runs past the end of the file

export class PcapError extends CodecError<PcapErrorCode> {
  constructor(code: PcapErrorCode, offset: number, reason: string) {
    super(code, offset, reason, `malformed pcap file at offset ${offset}: ${reason} (${code})`);
    this.name = "PcapError";
  }
}
const fail = (code: PcapErrorCode, offset: number, reason: string): never => {
  throw new PcapError(code, offset, reason);
};

export interface PcapHeaderInput {
  /** 1 (Ethernet: AF_PACKET frames) or 101 (raw IPv4/IPv6: what a raw IP socket returns). */
  linktype: number;
  /** Packets longer than this are cut to it in the file (orig_len keeps their real length). */
  snaplen?: number;
  /** "major.minor"; 2.4 unless told otherwise. */
  version?: string;
  /** Timestamps in nanoseconds (magic a1b23c4d) rather than microseconds. */
  nanosecond?: boolean;
  /** Fields in big-endian order (as written on a big-endian machine) rather than little-endian. */
  bigEndian?: boolean;
}
export type PcapHeader = Required<PcapHeaderInput>;

export interface PcapRecordInput {
  /** Milliseconds since the epoch (Date.now() scale), to the microsecond: what a microsecond
   *  file keeps, exactly. */
  time: number;
  /** The nanoseconds within the second, which `time` is too coarse to hold: a nanosecond file's
   *  records decode with it. When given, it replaces `time`'s fraction of a second. */
  nanos?: number;
  data: Buffer;
  /** The length on the wire; more than data.length when the capture cut it at the snaplen.
   *  Default: data.length. */
  origLength?: number;
}
export interface PcapRecord extends PcapRecordInput {
  origLength: number;
}

export interface PcapFileInput extends PcapHeaderInput {
  records: PcapRecordInput[];
}
export interface PcapFile extends PcapHeader {
  records: PcapRecord[];
}

// ---- the file header ----------------------------------------------------------------------------

/** magic, version, thiszone 0, sigfigs 0, snaplen, linktype: 24 bytes. */
export const pcapHeader: WireCodec<PcapHeaderInput, PcapHeader> = codec<PcapHeaderInput, PcapHeader>({
  plan(h) {
    const v = headerOf(h);
    const [major, minor] = v.version.split(".").map(Number);
    return {
      length: 24,
      write(buf, at) {
        const u16 = (n: number, o: number) => (v.bigEndian ? buf.writeUInt16BE(n, o) : buf.writeUInt16LE(n, o));
        const u32 = (n: number, o: number) => (v.bigEndian ? buf.writeUInt32BE(n, o) : buf.writeUInt32LE(n, o));
        u32(v.nanosecond ? MAGIC_NS : MAGIC_US, at);
        u16(major, at + 4);
        u16(minor, at + 6);
        u32(0, at + 8);
        u32(0, at + 12);
        u32(v.snaplen, at + 16);
        u32(v.linktype, at + 20);
      },
    };
  },
  read(buf, at) {
    if (buf.length - at < 24)
      fail("ERR_PCAP_TRUNCATED", at, `a pcap header needs 24 bytes, ${Math.max(0, buf.length - at)} here`);
    const magicLE = buf.readUInt32LE(at);
    const magicBE = buf.readUInt32BE(at);
    const bigEndian = magicBE === MAGIC_US || magicBE === MAGIC_NS;
    if (!bigEndian && magicLE !== MAGIC_US && magicLE !== MAGIC_NS)
      fail("ERR_PCAP_BAD_MAGIC", at, `magic 0x${magicBE.toString(16)} is not a classic pcap file's`);
    const u16 = (o: number) => (bigEndian ? buf.readUInt16BE(at + o) : buf.readUInt16LE(at + o));
    const u32 = (o: number) => (bigEndian ? buf.readUInt32BE(at + o) : buf.readUInt32LE(at + o));
    const value = {
      linktype: u32(20),
      snaplen: u32(16),
      version: `${u16(4)}.${u16(6)}`,
      nanosecond: (bigEndian ? magicBE : magicLE) === MAGIC_NS,
      bigEndian,
    };
    return { value, bytes: 24 };
  },
});

function headerOf(h: PcapHeaderInput): PcapHeader {
  objectOf(h, "a pcap header");
  const version = h.version ?? "2.4";
  const m = typeof version === "string" ? /^(\d{1,5})\.(\d{1,5})$/.exec(version) : null;
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 0xffff) invalid(`version: "major.minor", not ${String(version)}`);
  return {
    linktype: uint(h.linktype, 32, "linktype"),
    snaplen: uint(h.snaplen ?? DEFAULT_SNAPLEN, 32, "snaplen"),
    version,
    nanosecond: h.nanosecond === true,
    bigEndian: h.bigEndian === true,
  };
}

// ---- records ------------------------------------------------------------------------------------

/** The records of a file with this header: its byte order, timestamp unit and snaplen. */
export function pcapRecord(
  header: PcapHeaderInput = { linktype: LINKTYPE.ETHERNET },
): WireCodec<PcapRecordInput, PcapRecord> {
  const h = headerOf(header);
  const unit = h.nanosecond ? 1e9 : 1e6; // fractions of a second
  return codec<PcapRecordInput, PcapRecord>({
    plan(r) {
      objectOf(r, "a pcap record");
      const data = bytesOf(r.data, "data");
      if (typeof r.time !== "number" || !Number.isFinite(r.time) || r.time < 0)
        invalid(`time: milliseconds since the epoch, not ${String(r.time)}`);
      let seconds = Math.floor(r.time / 1000);
      let fraction: number;
      if (r.nanos !== undefined) {
        const ns = uint(r.nanos, 30, "nanos");
        if (ns >= 1e9) invalid(`nanos: 0..999999999, not ${ns}`);
        fraction = h.nanosecond ? ns : Math.floor(ns / 1000);
      } else {
        // What is left of the second is exact (a multiple of time's own precision, under 1000),
        // so rounding it to the file's unit gives back what was decoded.
        fraction = Math.round(((r.time - seconds * 1000) * unit) / 1000);
        if (fraction >= unit) [seconds, fraction] = [seconds + 1, fraction - unit];
      }
      uint(seconds, 32, "time / 1000 (seconds since the epoch)");
      const included = data.subarray(0, h.snaplen);
      const origLength = uint(r.origLength ?? data.length, 32, "origLength");
      if (origLength < included.length)
        invalid(`origLength ${origLength} is less than the ${included.length} bytes kept`);
      return {
        length: 16 + included.length,
        write(buf, at) {
          const u32 = (n: number, o: number) => (h.bigEndian ? buf.writeUInt32BE(n, o) : buf.writeUInt32LE(n, o));
          u32(seconds, at);
          u32(fraction, at + 4);
          u32(included.length, at + 8);
          u32(origLength, at + 12);
          included.copy(buf, at + 16);
        },
      };
    },
    read(buf, at) {
      if (at + 16 > buf.length)
        fail("ERR_PCAP_TRUNCATED", at, `a record header needs 16 bytes, ${Math.max(0, buf.length - at)} left`);
      const u32 = (o: number) => (h.bigEndian ? buf.readUInt32BE(at + o) : buf.readUInt32LE(at + o));
      const included = u32(8);
      if (at + 16 + included > buf.length)
        fail(
          "ERR_PCAP_BAD_LENGTH",
          at + 8,
          `incl_len ${included} runs past the end (${buf.length - at - 16} bytes left)`,
        );
      const fraction = u32(4);
      const micros = h.nanosecond ? Math.floor(fraction / 1000) : fraction;
      const value: PcapRecord = {
        time: u32(0) * 1000 + micros / 1000,
        ...(h.nanosecond ? { nanos: fraction } : {}),
        data: buf.subarray(at + 16, at + 16 + included),
        origLength: u32(12),
      };
      return { value, bytes: 16 + included };
    },
  });
}

// ---- whole files --------------------------------------------------------------------------------

/** A whole file: the header, then every record to the end of the buffer. */
export const pcap: WireCodec<PcapFileInput, PcapFile> = codec<PcapFileInput, PcapFile>({
  plan(f) {
    objectOf(f, "a pcap file");
    const head = pcapHeader.plan(f);
    if (!Array.isArray(f.records)) invalidType("records must be an array");
    const record = pcapRecord(f);
    const plans = f.records.map((r) => record.plan(r));
    return {
      length: head.length + plans.reduce((n, p) => n + p.length, 0),
      write(buf, at) {
        head.write(buf, at);
        let o = at + head.length;
        for (const p of plans) {
          p.write(buf, o);
          o += p.length;
        }
      },
    };
  },
  read(buf, at) {
    const { value: header } = pcapHeader.read(buf, at);
    const record = pcapRecord(header);
    const records: PcapRecord[] = [];
    let o = at + 24;
    while (o < buf.length) {
      const { value, bytes } = record.read(buf, o);
      records.push(value);
      o += bytes;
    }
    return { value: { ...header, records }, bytes: o - at };
  },
});

/** Reads a classic pcap file: `pcap.decode`. */
export const readPcap = (buf: Buffer): PcapFile => pcap.decode(buf);
