// tshark (Wireshark's dissectors, Debian's tshark) reading a pcap file the notebook wrote: the
// independent reading of the bytes a notebook put on the wire. `tshark` returns its text output,
// `tsharkFields` one row per frame that matches a display filter, with the fields asked for
// (several values of one field joined by ","), and `tsharkCount` counts the frames a filter
// matches, e.g. the malformed ones. Where tshark is not installed, each is a documented skip
// naming the Debian package (os/programs).
import { execFileSync } from "node:child_process";
import { needProgram } from "./programs";

/** `tshark -r file ...args`: what it prints, without the trailing newline. Its stderr (a note
 *  about running as root, the capture's statistics) is not part of the answer. */
export function tshark(file: string, ...args: string[]): string {
  needProgram("tshark", "tshark");
  return execFileSync("tshark", ["-r", file, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 64 * 1024 * 1024,
  }).trimEnd();
}

/** The display filter of frames tshark could not dissect cleanly. */
export const MALFORMED = "_ws.malformed || _ws.expert.severity == error";
/** The display filter of frames tshark finds malformed or warns about. */
export const TSHARK_PROBLEMS = "_ws.malformed || _ws.expert.severity >= warning";

/** How many frames of the file tshark finds malformed or warns about (`options` go before the filter). */
export function tsharkProblemCount(file: string, ...options: string[]): number {
  return tshark(file, ...options, "-Y", TSHARK_PROBLEMS)
    .split("\n")
    .filter(Boolean).length;
}

export interface TsharkOptions {
  /** `-d` rules, e.g. ["udp.port==51820,wg"]: decode a port as a protocol. */
  decodeAs?: string[];
  /** `-o` preferences, e.g. ["wg.keylog_file:/tmp/keys"]. */
  preferences?: string[];
  /** `-2` and `-R`: a two-pass read (reassembly) with this read filter, instead of `-Y`. */
  twoPass?: boolean;
}

/** One row per matching frame: field name → value ("" when the frame has none). */
export async function tsharkFields(
  pcap: string,
  filter: string,
  fields: string[],
  options: TsharkOptions = {},
): Promise<Record<string, string>[]> {
  const out = tshark(
    pcap,
    "-n",
    ...(options.decodeAs ?? []).flatMap((d) => ["-d", d]),
    ...(options.preferences ?? []).flatMap((p) => ["-o", p]),
    ...(options.twoPass ? ["-2", "-R", filter] : ["-Y", filter]),
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "aggregator=,",
    ...fields.flatMap((f) => ["-e", f]),
  );
  return out
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const values = line.split("\t");
      return Object.fromEntries(fields.map((f, i) => [f, values[i] ?? ""]));
    });
}

/** How many frames match `filter` (e.g. MALFORMED). */
export async function tsharkCount(pcap: string, filter: string, options: TsharkOptions = {}): Promise<number> {
  return (await tsharkFields(pcap, filter, ["frame.number"], options)).length;
}
