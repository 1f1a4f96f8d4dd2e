// Wireshark's reading of a capture, as data: tshark's `-T fields` output for a display filter and a
// list of fields, one object per frame. tshark is the independent dissector the notebooks hold
// their own bytes to (a missing tshark is a documented skip: needProgram("tshark", "tshark")).
import { execFile } from "node:child_process";
import { promisify } from "node:util";

/** One row per frame that matches `filter`, each field's values joined by "," as tshark prints
 *  them ("" when the frame has no such field), plus `malformed`: frames tshark flags as malformed. */
export async function tsharkFields(
  pcap: string,
  filter: string,
  fields: string[],
): Promise<{ rows: Record<string, string>[]; malformed: number }> {
  const tshark = async (...args: string[]) =>
    (await promisify(execFile)("tshark", ["-n", "-r", pcap, ...args], { maxBuffer: 64 << 20 })).stdout;
  const out = await tshark("-Y", filter, "-T", "fields", "-E", "separator=\t", ...fields.flatMap((f) => ["-e", f]));
  const rows = out
    .split("\n")
    .filter((l) => l.length)
    .map((line) => Object.fromEntries(line.split("\t").map((v, i) => [fields[i], v])));
  const malformed = (
    await tshark("-Y", "_ws.malformed || _ws.expert.severity == error", "-T", "fields", "-e", "frame.number")
  )
    .split("\n")
    .filter(Boolean).length;
  return { rows, malformed };
}
