// Classic libpcap files (the format tcpdump and Wireshark have read since the 1990s): a 24-byte
// global header, then per packet a 16-byte record header and the captured bytes. We write
// microsecond files in the machine's byte order, as libpcap does; the reader accepts both byte
// orders and nanosecond files too, so it can also read what dumpcap -F pcap writes.
import { closeSync, openSync, writeSync } from "node:fs";
import { PacketError } from "./packet";

/** Link-layer header types (tcpdump.org/linktypes.html). */
export const LINKTYPE = { ETHERNET: 1, RAW: 101 } as const;

const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;

export interface PcapOptions {
  /** 1 (Ethernet: AF_PACKET frames) or 101 (raw IPv4/IPv6: what a raw IP socket returns). */
  linktype: number;
  /** Packets longer than this are cut to it in the file (orig_len keeps their real length). */
  snaplen?: number;
}

export interface PcapRecord {
  /** Milliseconds since the epoch, microsecond resolution kept (Date.now() scale). */
  time: number;
  data: Buffer;
  /** The length on the wire; more than data.length when the capture cut it at the snaplen. */
  origLength: number;
}

/** The global header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, linktype. */
export function pcapHeader({ linktype, snaplen = 262144 }: PcapOptions): Buffer {
  const buf = Buffer.alloc(24);
  buf.writeUInt32LE(MAGIC_US, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(snaplen, 16);
  buf.writeUInt32LE(linktype, 20);
  return buf;
}

/** One record: ts_sec, ts_usec, incl_len, orig_len, then at most `snaplen` bytes of `data`. */
export function pcapRecord(data: Buffer, time = Date.now(), snaplen = 262144): Buffer {
  const included = data.subarray(0, snaplen);
  const micros = Math.round(time * 1000);
  const buf = Buffer.alloc(16 + included.length);
  buf.writeUInt32LE(Math.floor(micros / 1e6), 0);
  buf.writeUInt32LE(micros % 1e6, 4);
  buf.writeUInt32LE(included.length, 8);
  buf.writeUInt32LE(data.length, 12);
  included.copy(buf, 16);
  return buf;
}

/** A whole file in memory. */
export function encodePcap(records: { data: Buffer; time?: number }[], options: PcapOptions): Buffer {
  return Buffer.concat([pcapHeader(options), ...records.map((r) => pcapRecord(r.data, r.time, options.snaplen))]);
}

/** Appends records to a file as they come (synchronously: a crash loses nothing written). */
export class PcapWriter {
  private fd: number | undefined;
  readonly snaplen: number;
  count = 0;

  constructor(
    readonly path: string,
    options: PcapOptions,
  ) {
    this.snaplen = options.snaplen ?? 262144;
    this.fd = openSync(path, "w");
    writeSync(this.fd, pcapHeader(options));
  }

  write(data: Buffer, time = Date.now()): void {
    if (this.fd === undefined)
      throw Object.assign(new Error(`pcap file ${this.path} is closed`), { code: "ERR_PCAP_CLOSED" });
    writeSync(this.fd, pcapRecord(data, time, this.snaplen));
    this.count++;
  }

  /** Idempotent. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface PcapFile {
  linktype: number;
  snaplen: number;
  version: string;
  nanosecond: boolean;
  records: PcapRecord[];
}

/** Reads a classic pcap file; malformed input raises PacketError with the offset. */
export function readPcap(buf: Buffer): PcapFile {
  if (buf.length < 24)
    throw new PacketError("ERR_PACKET_TRUNCATED", 0, `a pcap header needs 24 bytes, ${buf.length} here`);
  const magicLE = buf.readUInt32LE(0);
  const magicBE = buf.readUInt32BE(0);
  const le = magicLE === MAGIC_US || magicLE === MAGIC_NS;
  if (!le && magicBE !== MAGIC_US && magicBE !== MAGIC_NS)
    throw new PacketError("ERR_PCAP_BAD_MAGIC", 0, `magic 0x${magicBE.toString(16)} is not a classic pcap file's`);
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const nanosecond = (le ? magicLE : magicBE) === MAGIC_NS;
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < buf.length) {
    if (at + 16 > buf.length)
      throw new PacketError("ERR_PACKET_TRUNCATED", at, `a record header needs 16 bytes, ${buf.length - at} left`);
    const included = u32(at + 8);
    if (at + 16 + included > buf.length)
      throw new PacketError(
        "ERR_PACKET_BAD_LENGTH",
        at + 8,
        `incl_len ${included} runs past the end (${buf.length - at - 16} bytes left)`,
      );
    const fraction = u32(at + 4);
    records.push({
      time: u32(at) * 1000 + (nanosecond ? fraction / 1e6 : fraction / 1e3),
      data: buf.subarray(at + 16, at + 16 + included),
      origLength: u32(at + 12),
    });
    at += 16 + included;
  }
  return { version: `${u16(4)}.${u16(6)}`, snaplen: u32(16), linktype: u32(20), nanosecond, records };
}
