// tshark (Wireshark's dissectors, Debian's tshark) reading a pcap file: the independent reading
// of the bytes a notebook put on the wire. `tsharkFields` returns one row per frame that matches
// a display filter, with the fields asked for (several values of one field joined by ","), and
// `tsharkCount` counts the frames a display filter matches, e.g. the malformed ones.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

export interface TsharkOptions {
  /** `-d` rules, e.g. ["udp.port==51820,wg"]: decode a port as a protocol. */
  decodeAs?: string[];
  /** `-o` preferences, e.g. ["wg.keylog_file:/tmp/keys"]. */
  preferences?: string[];
  /** `-2` and `-R`: a two-pass read (reassembly) with this read filter, instead of `-Y`. */
  twoPass?: boolean;
}

function baseArgs(pcap: string, o: TsharkOptions): string[] {
  return [
    "-n",
    "-r",
    pcap,
    ...(o.decodeAs ?? []).flatMap((d) => ["-d", d]),
    ...(o.preferences ?? []).flatMap((p) => ["-o", p]),
  ];
}

async function tshark(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)("tshark", args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** One row per matching frame: field name → value ("" when the frame has none). */
export async function tsharkFields(
  pcap: string,
  filter: string,
  fields: string[],
  options: TsharkOptions = {},
): Promise<Record<string, string>[]> {
  const out = await tshark([
    ...baseArgs(pcap, options),
    ...(options.twoPass ? ["-2", "-R", filter] : ["-Y", filter]),
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "aggregator=,",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  return out
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const values = line.split("\t");
      return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? ""]));
    });
}

/** How many frames match `filter` (e.g. "_ws.malformed || _ws.expert.severity == error"). */
export async function tsharkCount(pcap: string, filter: string, options: TsharkOptions = {}): Promise<number> {
  return (await tsharkFields(pcap, filter, ["frame.number"], options)).length;
}

/** The display filter for frames tshark could not dissect cleanly. */
export const MALFORMED = "_ws.malformed || _ws.expert.severity == error";
