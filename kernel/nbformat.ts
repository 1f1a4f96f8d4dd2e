// Notebooks on disk: nbformat 4.5 read with clear errors, written the way Jupyter writes them.
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { DISPLAY_NAME, KERNEL_NAME } from "./kernel-info";
import { isJsonMime } from "./runtime";

export type Output =
  | { output_type: "stream"; name: "stdout" | "stderr"; text: string }
  | { output_type: "display_data"; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | {
      output_type: "execute_result";
      execution_count: number | null;
      data: Record<string, unknown>;
      metadata: Record<string, unknown>;
    }
  | { output_type: "error"; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  id: string;
  cell_type: "code" | "markdown" | "raw";
  source: string;
  metadata: { tags?: string[]; [k: string]: unknown };
  execution_count?: number | null;
  outputs?: Output[];
  attachments?: unknown;
}

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, any>;
  cells: Cell[];
}

export class NotebookError extends Error {
  code = "ERR_BAD_NOTEBOOK";
}

const isText = (v: unknown) => typeof v === "string" || (Array.isArray(v) && v.every((l) => typeof l === "string"));
const joinText = (v: unknown) => (Array.isArray(v) ? v.join("") : typeof v === "string" ? v : "");
const newId = () => randomBytes(4).toString("hex");

/** Reads a notebook; multi-line strings are joined so the rest of the code sees plain strings. */
export function readNotebook(path: string): Notebook {
  let raw: any;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotebookError(`${path}: no such notebook`);
    throw new NotebookError(`${path}: not a readable JSON notebook (${(e as Error).message})`);
  }
  if (raw?.nbformat !== 4) throw new NotebookError(`${path}: nbformat ${raw?.nbformat} is not supported (need 4)`);
  if (!Array.isArray(raw.cells)) throw new NotebookError(`${path}: "cells" must be a list`);
  // A notebook written for another language would fail cell by cell in confusing ways: say so once.
  const language = raw.metadata?.kernelspec?.language ?? raw.metadata?.language_info?.name;
  if (language !== undefined && String(language).toLowerCase() !== "typescript")
    throw new NotebookError(`${path}: a ${language} notebook; this kernel runs TypeScript`);
  const cells = raw.cells.map((c: any, i: number): Cell => {
    if (!["code", "markdown", "raw"].includes(c?.cell_type))
      throw new NotebookError(`${path}: cell ${i + 1} has no valid cell_type`);
    if (c.source === undefined) throw new NotebookError(`${path}: cell ${i + 1} has no source`);
    if (!isText(c.source))
      throw new NotebookError(`${path}: cell ${i + 1}: "source" must be a string or a list of strings`);
    const cell: Cell = {
      id: typeof c.id === "string" ? c.id : newId(),
      cell_type: c.cell_type,
      source: joinText(c.source),
      metadata: c.metadata ?? {},
    };
    if (c.cell_type === "code") {
      cell.execution_count = c.execution_count ?? null;
      if (c.outputs !== undefined && !Array.isArray(c.outputs))
        throw new NotebookError(`${path}: cell ${i + 1}: "outputs" must be a list`);
      cell.outputs = (c.outputs ?? []).map((o: any) => readOutput(o, `${path}: cell ${i + 1}`));
    }
    if (c.attachments) cell.attachments = c.attachments;
    return cell;
  });
  return { nbformat: 4, nbformat_minor: raw.nbformat_minor ?? 5, metadata: raw.metadata ?? {}, cells };
}

function readOutput(o: any, where: string): Output {
  switch (o?.output_type) {
    case "stream":
      if (o.name !== "stdout" && o.name !== "stderr")
        throw new NotebookError(`${where}: a stream output is named stdout or stderr, not ${JSON.stringify(o.name)}`);
      if (!isText(o.text)) throw new NotebookError(`${where}: a stream output's "text" must be text`);
      return { output_type: "stream", name: o.name, text: joinText(o.text) };
    case "display_data":
    case "execute_result": {
      // JSON mime types hold objects; every other mime's text may be stored as a list of lines.
      const data = Object.fromEntries(
        Object.entries(o.data ?? {}).map(([k, v]) => [k, !isJsonMime(k) && Array.isArray(v) ? v.join("") : v]),
      );
      return o.output_type === "display_data"
        ? { output_type: "display_data", data, metadata: o.metadata ?? {} }
        : {
            output_type: "execute_result",
            execution_count: o.execution_count ?? null,
            data,
            metadata: o.metadata ?? {},
          };
    }
    case "error":
      return { output_type: "error", ename: o.ename, evalue: o.evalue, traceback: o.traceback ?? [] };
    default:
      throw new NotebookError(`${where}: unknown output_type ${JSON.stringify(o?.output_type)}`);
  }
}

/** Jupyter stores text as a list of lines, each keeping its newline. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Like nbformat's _split_mimebundle: text mimes are split into lines, base64 data (image/png) is not. */
const splitsLines = (mime: string) =>
  mime.startsWith("text/") || mime === "application/javascript" || mime === "image/svg+xml";

function writeOutput(o: Output): object {
  if (o.output_type === "stream") return { name: o.name, output_type: o.output_type, text: splitLines(o.text) };
  if (o.output_type === "error") return o;
  const data = Object.fromEntries(
    Object.entries(o.data).map(([k, v]) => [k, typeof v === "string" && splitsLines(k) ? splitLines(v) : v]),
  );
  return { ...o, data };
}

/** nbformat 4.5 as Jupyter writes it: sorted keys, one-space indent, cell ids, kernelspec wirebook. */
export function serializeNotebook(nb: Notebook): string {
  const doc = {
    cells: nb.cells.map((c) => {
      const base: Record<string, unknown> = {
        cell_type: c.cell_type,
        id: c.id,
        metadata: c.metadata,
        source: splitLines(c.source),
      };
      if (c.cell_type === "code") {
        base.execution_count = c.execution_count ?? null;
        base.outputs = (c.outputs ?? []).map(writeOutput);
      }
      if (c.attachments) base.attachments = c.attachments;
      return base;
    }),
    metadata: {
      ...nb.metadata,
      kernelspec: { display_name: DISPLAY_NAME, language: "typescript", name: KERNEL_NAME },
      language_info: {
        codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
        file_extension: ".ts",
        mimetype: "text/typescript",
        name: "typescript",
        version: require("@tslab/typescript-for-tslab/package.json").version,
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return JSON.stringify(sortKeys(doc), null, 1) + "\n";
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as any)[k])]),
    );
  return v;
}

/** Writes a temporary file beside `path` and renames it over: an interrupted write never leaves
 *  half a notebook, and a reader sees the old file or the new one. */
export function writeNotebook(path: string, nb: Notebook): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, serializeNotebook(nb));
    renameSync(temporary, path);
  } finally {
    rmSync(temporary, { force: true });
  }
}
