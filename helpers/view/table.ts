// Small tables for notebook output: aligned text for text/plain, an HTML table for JupyterLab.
// Columns of measurements (measure/units) get a fixed minimum width, so the layout never depends
// on how long a measured number happened to be (the replay compares it). A table wider than a
// notebook's output (view/wrap) wraps its long headers, then the text of its widest text columns.
import { JUPYTER_DISPLAY, type MimeBundle } from "../../kernel/runtime";
import { layoutWords, measuredWidth } from "../measure/units";
import { OUTPUT_WIDTH, wrapLine, wrapText } from "./wrap";

type Row = Record<string, string | number | boolean>;

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export class Table {
  constructor(
    readonly rows: Row[],
    readonly caption?: string,
  ) {}

  get columns(): string[] {
    return [...new Set(this.rows.flatMap((r) => Object.keys(r)))];
  }

  toString(): string {
    const cols = this.columns;
    const cells = this.rows.map((r) => cols.map((c) => String(r[c] ?? "")));
    const cellWidth = cells.map((r) => r.map((v) => Math.max(v.length, measuredWidth(v))));
    const width = cols.map((c, i) => Math.max(c.length, ...cellWidth.map((r) => r[i])));
    const numeric = cols.map((_, i) => cells.every((r) => /^-?[\d.,]+( \S+)?$/.test(r[i]) || r[i] === ""));
    fitColumns(width, numeric, cols, cells, cellWidth);
    // A header wraps in any column; a numeric cell never does, so a number is never split.
    const line = (vals: string[], header = false) => {
      const parts = vals.map((v, i) => (numeric[i] && !header ? [v] : wrapLine(v, width[i])));
      const height = Math.max(...parts.map((p) => p.length));
      return Array.from({ length: height }, (_, k) =>
        parts
          .map((p, i) => (numeric[i] ? (p[k] ?? "").padStart(width[i]) : (p[k] ?? "").padEnd(width[i])))
          .join("  ")
          .trimEnd(),
      ).join("\n");
    };
    const out = [line(cols, true), width.map((w) => "-".repeat(w)).join("  "), ...cells.map((r) => line(r))];
    return (this.caption ? wrapText(this.caption) + "\n" : "") + out.join("\n");
  }

  [JUPYTER_DISPLAY](): MimeBundle {
    const cols = this.columns;
    const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
    const body = this.rows
      .map((r) => `<tr>${cols.map((c) => `<td>${escapeHtml(String(r[c] ?? ""))}</td>`).join("")}</tr>`)
      .join("\n");
    const caption = this.caption ? `<caption>${escapeHtml(this.caption)}</caption>` : "";
    return {
      "text/plain": this.toString(),
      "text/html": `<table>${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`,
    };
  }
}

/** Narrows columns, the widest first, one column at a time, until the table fits OUTPUT_WIDTH:
 *  first down to the longest word of each column's header and cells (a text column at least 10),
 *  so that headers and text wrap between words; then, if that is not enough, text columns down
 *  to 12 (or their header's longest word) and numeric columns down to their widest value (at
 *  least 6), cutting the longer words. A number is never cut. */
function fitColumns(
  width: number[],
  numeric: boolean[],
  header: string[],
  cells: string[][],
  cellWidth: number[][],
): void {
  const longestWord = (text: string) => Math.max(0, ...layoutWords(text).map((w) => w.width));
  const widest = width.map((_, i) =>
    Math.max(0, ...cells.map((r, k) => (numeric[i] ? cellWidth[k][i] : longestWord(r[i])))),
  );
  const whole = width.map((w, i) =>
    Math.min(w, Math.max(longestWord(header[i]), numeric[i] ? widest[i] : Math.max(10, widest[i]))),
  );
  const cut = whole.map((w, i) =>
    Math.min(w, numeric[i] ? Math.max(6, widest[i]) : Math.max(12, longestWord(header[i]))),
  );
  const total = () => width.reduce((a, b) => a + b, 0) + 2 * (width.length - 1);
  for (const narrowest of [whole, cut]) {
    while (total() > OUTPUT_WIDTH) {
      const next = width.reduce((best, w, i) => (w > narrowest[i] && w > (width[best] ?? -1) ? i : best), -1);
      if (next < 0) break;
      width[next] -= 1;
    }
  }
}

/** A table as a cell's last expression shows as text and HTML. */
export const table = (rows: Row[], caption?: string) => new Table(rows, caption);
