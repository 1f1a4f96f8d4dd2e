// Small tables for notebook output: aligned text for text/plain, an HTML table for JupyterLab.
import { JUPYTER_DISPLAY, type MimeBundle } from "../kernel/runtime";

type Row = Record<string, string | number | boolean>;

/** Measurements as helpers/measure prints them. Their columns get a fixed minimum width, so a
 *  run with a longer number does not change the table's layout (the replay compares it). */
const MEASUREMENT = /^\d+\.\d+ (ms|MiB|Gbit\/s|Mbit\/s|kpps)$/;
// "9999.99 ms", "9999.9 MiB", "999.99 Gbit/s", "99999.9 Mbit/s", "9999.9 kpps"
const MEASURED_WIDTH: Record<string, number> = { ms: 10, MiB: 10, "Gbit/s": 13, "Mbit/s": 14, kpps: 11 };
const measuredWidth = (cell: string) => MEASURED_WIDTH[MEASUREMENT.exec(cell)?.[1] ?? ""] ?? 0;

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
    const line = (vals: string[]) =>
      vals
        .map((v, i) => (numeric[i] ? v.padStart(width[i]) : v.padEnd(width[i])))
        .join("  ")
        .trimEnd();
    const out = [line(cols), width.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
    return (this.caption ? this.caption + "\n" : "") + out.join("\n");
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

/** A table as a cell's last expression shows as text and HTML. */
export const table = (rows: Row[], caption?: string) => new Table(rows, caption);
