// Wraps text to a width for notebook output (about 100 columns), and prints it so (`say`): at
// spaces, a measurement kept whole and counted at its unit's width (measure/units), so the breaks
// never depend on how long a measured number happened to be; a word longer than the width is cut,
// after a `_`, `-`, `/`, `.` or `:` where it has one.
import { layoutWords } from "../measure/units";

/** The width a notebook's text output keeps within. */
export const OUTPUT_WIDTH = 100;

/** One line wrapped into lines of at most `width` columns, later lines indented by `indent`.
 *  A line that fits is returned as it is, its spacing kept. */
export function wrapLine(line: string, width = OUTPUT_WIDTH, indent = ""): string[] {
  const words = layoutWords(line);
  const laidOut = line.length + words.reduce((sum, w) => sum + w.width - w.word.length, 0);
  if (laidOut <= width) return [line];
  if (indent.length > width / 2) indent = "";
  const lead = line.slice(0, line.length - line.trimStart().length);
  const lines: string[] = [];
  let text = lead;
  let used = lead.length;
  let empty = true;
  const newLine = () => {
    lines.push(text);
    text = indent;
    used = indent.length;
    empty = true;
  };
  for (const { word, width: w } of words) {
    if (!empty && used + 1 + w > width) newLine();
    let rest = word;
    while (empty && used + rest.length > width) {
      const at = cutAt(rest, width - used);
      text += rest.slice(0, at);
      rest = rest.slice(at);
      newLine();
    }
    if (!rest) continue;
    text += (empty ? "" : " ") + rest;
    used += (empty ? 0 : 1) + (rest === word ? w : rest.length);
    empty = false;
  }
  if (!empty) lines.push(text);
  return lines;
}

/** Where to cut a word too long for the `room` left on a line: after the last `_`, `-`, `/`, `.`
 *  or `:` in the second half of the room (UNABLE_TO_VERIFY_ | LEAF_SIGNATURE), else at the room. */
function cutAt(word: string, room: number): number {
  const head = word.slice(0, room);
  const after = Math.max(...["_", "-", "/", ".", ":"].map((c) => head.lastIndexOf(c))) + 1;
  return after > room / 2 ? after : room;
}

/** Every line of a text wrapped as wrapLine does. */
export const wrapText = (text: string, width = OUTPUT_WIDTH, indent = ""): string =>
  text
    .split("\n")
    .flatMap((l) => wrapLine(l, width, indent))
    .join("\n");

/** Prints a line of notebook output wrapped to OUTPUT_WIDTH, its later lines indented by two
 *  spaces: for messages and lists whose length depends on what they report. */
export const say = (text: string): void => console.log(wrapText(text, OUTPUT_WIDTH, "  "));
