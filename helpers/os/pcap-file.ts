// A pcap file written as packets arrive: the file header once, then one record per packet, each
// written synchronously so a crash loses nothing already written. The format itself (libpcap's,
// described in draft-ietf-opsawg-pcap) is the codec in helpers/wire/pcap.ts; this is the I/O.
import { closeSync, openSync, writeSync } from "node:fs";
import { pcapHeader, pcapRecord, type PcapHeaderInput } from "../wire/pcap";

export { LINKTYPE } from "../wire/pcap";

export type PcapOptions = Pick<PcapHeaderInput, "linktype" | "snaplen">;

/** Appends records to a file as they come. */
export class PcapWriter {
  private fd: number | undefined;
  private readonly record: ReturnType<typeof pcapRecord>;
  readonly snaplen: number;
  count = 0;

  constructor(
    readonly path: string,
    options: PcapOptions,
  ) {
    const header = pcapHeader.encode(options);
    this.record = pcapRecord(options);
    this.snaplen = pcapHeader.decode(header).snaplen;
    this.fd = openSync(path, "w");
    writeSync(this.fd, header);
  }

  /** One packet, captured at `time` (ms since the epoch); cut to the snaplen in the file. */
  write(data: Buffer, time = Date.now()): void {
    if (this.fd === undefined)
      throw Object.assign(new Error(`pcap file ${this.path} is closed`), { code: "ERR_PCAP_CLOSED" });
    writeSync(this.fd, this.record.encode({ time, data }));
    this.count++;
  }

  /** Idempotent. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
