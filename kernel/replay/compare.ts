// The replay's comparison: fresh outputs against stored ones, the way nbval compares them: streams
// merged per name, rich outputs per mime type, errors by ename/evalue; metadata and execution
// counts are ignored and sanitizer rules are applied to every text on both sides. The runner does
// not import the replay; the replay tests use it on the runner's results.
import type { Cell, Output } from "../nbformat";
import { sanitize, type SanitizeRule } from "./sanitize";
import { isJsonMime, isSkipOutput } from "../runtime";
import { IGNORE_OUTPUT_TAG, RAISES_TAG, SKIP_TAG, tagsOf } from "../tags";

export type Comparable =
  | { stream: string; text: string }
  | { output: "display_data" | "execute_result"; data: Record<string, string> }
  | { error: string; evalue: string };

/** Streams of one name become one output at the place of the first, as nbval merges them. */
function mergeStreams(outputs: Output[]): Output[] {
  const merged: Output[] = [];
  const byName = new Map<string, { text: string }>();
  for (const o of outputs) {
    if (o.output_type !== "stream") {
      merged.push(o);
      continue;
    }
    const seen = byName.get(o.name);
    if (seen) seen.text += o.text;
    else {
      const copy = { ...o };
      byName.set(o.name, copy);
      merged.push(copy);
    }
  }
  return merged;
}

/** Stable text for JSON data: keys sorted, so key order never counts as a difference. */
function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sort)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sort((x as any)[k])]),
          )
        : x;
  return JSON.stringify(sort(v), null, 1);
}

/** A widget's view names its model by a fresh random id at every run (nbval skips this mime for
 *  that reason); the rest of the view, its protocol version, is compared. */
const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
const withoutModelId = (v: unknown) => (v && typeof v === "object" ? { ...v, model_id: "(a widget model)" } : v);

export function comparable(outputs: Output[], rules: SanitizeRule[]): Comparable[] {
  const clean = (s: string) => sanitize(s, rules);
  return mergeStreams(outputs).map((o): Comparable => {
    switch (o.output_type) {
      case "stream":
        return { stream: o.name, text: clean(o.text) };
      case "error":
        return { error: o.ename, evalue: clean(o.evalue) };
      default: {
        const data: Record<string, string> = {};
        for (const mime of Object.keys(o.data).sort()) {
          const v = mime === WIDGET_VIEW_MIME ? withoutModelId(o.data[mime]) : o.data[mime];
          data[mime] = clean(isJsonMime(mime) || typeof v !== "string" ? canonicalJson(v) : v);
        }
        return { output: o.output_type, data };
      }
    }
  });
}

/** The shape of outputs: their types, stream names and mime keys, without content. */
export function shape(outputs: Output[]): string[] {
  return mergeStreams(outputs).map((o) =>
    o.output_type === "stream"
      ? `stream:${o.name}`
      : o.output_type === "error"
        ? "error"
        : `${o.output_type}:${Object.keys(o.data).sort().join(",")}`,
  );
}

export type CellCheck =
  { mode: "skip"; reason: string } | { mode: "shape" | "compare"; expected: unknown; actual: unknown };

/** What replay checks for one code cell, given the tags stored on it. `allowSkips` accepts a
 *  documented skip (kernel/runtime.ts) in place of the stored output: only where the machine really
 *  lacks what the cell needs. */
export function checkCell(
  cell: Cell,
  fresh: Output[] | undefined,
  rules: SanitizeRule[],
  options: { allowSkips?: boolean } = {},
): CellCheck {
  const tags = tagsOf(cell);
  if (tags.includes(SKIP_TAG)) return { mode: "skip", reason: SKIP_TAG };
  if (fresh === undefined)
    return { mode: "compare", expected: "the cell to run", actual: "not executed (an earlier cell failed)" };
  if (options.allowSkips && isSkipOutput(fresh)) return { mode: "skip", reason: "documented skip" };
  const stored = cell.outputs ?? [];
  if (tags.includes(IGNORE_OUTPUT_TAG)) {
    const unexpectedError = !tags.includes(RAISES_TAG) && fresh.some((o) => o.output_type === "error");
    return {
      mode: "shape",
      expected: { shape: shape(stored), unexpectedError: false },
      actual: { shape: shape(fresh), unexpectedError },
    };
  }
  return { mode: "compare", expected: comparable(stored, rules), actual: comparable(fresh, rules) };
}
