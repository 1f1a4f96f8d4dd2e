// Small tables for notebook output: aligned text for text/plain, an HTML table for JupyterLab.
// Columns of measurements (measure/units) get a fixed minimum width, so the layout never depends
// on how long a measured number happened to be (the replay compares it). A table wider than a
// notebook's output (view/wrap) wraps the text of its widest text columns inside them.
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
    const width = cols.map((c, i) =>
      Math.max(c.length, ...cells.map((r) => Math.max(r[i].length, measuredWidth(r[i])))),
    );
    const numeric = cols.map((_, i) => cells.every((r) => /^-?[\d.,]+( \S+)?$/.test(r[i]) || r[i] === ""));
    fitColumns(width, numeric, [cols, ...cells]);
    const line = (vals: string[]) => {
      const parts = vals.map((v, i) => (numeric[i] ? [v] : wrapLine(v, width[i])));
      const height = Math.max(...parts.map((p) => p.length));
      return Array.from({ length: height }, (_, k) =>
        parts
          .map((p, i) => (numeric[i] ? (p[k] ?? "").padStart(width[i]) : (p[k] ?? "").padEnd(width[i])))
          .join("  ")
          .trimEnd(),
      ).join("\n");
    };
    const out = [line(cols), width.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
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

/** Narrows the widest text columns, one column at a time, until the table fits OUTPUT_WIDTH or
 *  every text column is at its narrowest (its longest word, between 10 and 20 columns). */
function fitColumns(width: number[], numeric: boolean[], rows: string[][]): void {
  const longestWord = width.map((_, i) => Math.max(0, ...rows.flatMap((r) => layoutWords(r[i]).map((w) => w.width))));
  const narrowest = width.map((w, i) => (numeric[i] ? w : Math.min(w, Math.max(10, Math.min(longestWord[i], 20)))));
  const total = () => width.reduce((a, b) => a + b, 0) + 2 * (width.length - 1);
  while (total() > OUTPUT_WIDTH) {
    const widest = width.reduce((best, w, i) => (w - narrowest[i] > 0 && w > (width[best] ?? -1) ? i : best), -1);
    if (widest < 0) return;
    width[widest] -= 1;
  }
}

/** A table as a cell's last expression shows as text and HTML. */
export const table = (rows: Row[], caption?: string) => new Table(rows, caption);
