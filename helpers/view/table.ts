// Small tables for notebook output: aligned text for text/plain, an HTML table for JupyterLab.
// Columns of measurements (measure/units) get a fixed minimum width, so the layout never depends
// on how long a measured number happened to be (the replay compares it).
import { JUPYTER_DISPLAY, type MimeBundle } from "../../kernel/runtime";
import { measuredWidth } from "../measure/units";

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
