// tshark, the independent dissector, reading a capture file the notebook wrote: its text output,
// or its `-T fields` output as data (one object per frame); where tshark is not installed, a
// documented skip naming the Debian package (os/programs).
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

/** The display filter of frames tshark finds malformed or warns about. */
export const TSHARK_PROBLEMS = "_ws.malformed || _ws.expert.severity >= warning";

/** How many frames of the file tshark finds malformed or warns about (`options` go before the filter). */
export function tsharkProblemCount(file: string, ...options: string[]): number {
  return tshark(file, ...options, "-Y", TSHARK_PROBLEMS)
    .split("\n")
    .filter(Boolean).length;
}

/** One row per frame that matches `filter`, each field's values joined by "," as tshark prints
 *  them ("" when the frame has no such field), plus `malformed`: frames tshark flags as malformed. */
export async function tsharkFields(
  pcap: string,
  filter: string,
  fields: string[],
): Promise<{ rows: Record<string, string>[]; malformed: number }> {
  const out = tshark(
    pcap,
    "-n",
    "-Y",
    filter,
    "-T",
    "fields",
    "-E",
    "separator=\t",
    ...fields.flatMap((f) => ["-e", f]),
  );
  const rows = out
    .split("\n")
    .filter((l) => l.length)
    .map((line) => Object.fromEntries(line.split("\t").map((v, i) => [fields[i], v])));
  const malformed = tshark(
    pcap,
    "-n",
    "-Y",
    "_ws.malformed || _ws.expert.severity == error",
    "-T",
    "fields",
    "-e",
    "frame.number",
  )
    .split("\n")
    .filter(Boolean).length;
  return { rows, malformed };
}
