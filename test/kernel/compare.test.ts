// nbval-style comparison of stored and fresh outputs (kernel/replay/compare.ts).
import { describe, expect, it } from "vitest";
import { checkCell, comparable, shape } from "../../kernel/replay/compare";
import type { Cell, Output } from "../../kernel/nbformat";
import { parseSanitizeConfig } from "../../kernel/replay/sanitize";
import { IGNORE_OUTPUT_TAG, RAISES_TAG, SKIP_TAG } from "../../kernel/tags";

const stdout = (text: string): Output => ({ output_type: "stream", name: "stdout", text });
const stderr = (text: string): Output => ({ output_type: "stream", name: "stderr", text });
const display = (data: Record<string, unknown>, metadata: Record<string, unknown> = {}): Output => ({
  output_type: "display_data",
  data,
  metadata,
});
const result = (
  data: Record<string, unknown>,
  execution_count: number | null = 1,
  metadata: Record<string, unknown> = {},
): Output => ({
  output_type: "execute_result",
  execution_count,
  data,
  metadata,
});
const error = (ename: string, evalue: string, traceback: string[] = []): Output => ({
  output_type: "error",
  ename,
  evalue,
  traceback,
});

function cell(outputs: Output[], tags?: string[], extra: Partial<Cell> = {}): Cell {
  return {
    id: "c1",
    cell_type: "code",
    source: "x",
    metadata: tags ? { tags } : {},
    execution_count: 1,
    outputs,
    ...extra,
  };
}

/** True when replay would accept `fresh` for a cell that stored `stored`. */
function matches(stored: Output[], fresh: Output[], tags?: string[], rules = noRules): boolean {
  const check = checkCell(cell(stored, tags), fresh, rules);
  if (check.mode === "skip") return true;
  try {
    expect(check.actual).toEqual(check.expected);
    return true;
  } catch {
    return false;
  }
}
const noRules = parseSanitizeConfig("");

describe("streams", () => {
  it("merges outputs of one stream name: stdout split over several outputs equals one", () => {
    expect(matches([stdout("a\nb\nc\n")], [stdout("a\n"), stdout("b\n"), stdout("c\n")])).toBe(true);
    expect(matches([stdout("a"), stdout("b")], [stdout("ab")])).toBe(true);
  });

  it("merges per name, at the place of the first output of that name", () => {
    const fresh = [stdout("1\n"), stderr("warn\n"), stdout("2\n"), display({ "text/plain": "x" }), stderr("again\n")];
    expect(comparable(fresh, noRules)).toEqual([
      { stream: "stdout", text: "1\n2\n" },
      { stream: "stderr", text: "warn\nagain\n" },
      { output: "display_data", data: { "text/plain": "x" } },
    ]);
    expect(matches([stdout("1\n2\n"), stderr("warn\nagain\n"), display({ "text/plain": "x" })], fresh)).toBe(true);
  });

  it("does not confuse stdout with stderr", () => {
    expect(matches([stdout("a\n")], [stderr("a\n")])).toBe(false);
  });

  it("does not modify the outputs it merges", () => {
    const outs = [stdout("a"), stdout("b")];
    comparable(outs, noRules);
    expect(outs).toEqual([stdout("a"), stdout("b")]);
  });
});

describe("rich outputs", () => {
  it("compares display data per mime type", () => {
    const stored = [display({ "text/plain": "t", "text/html": "<b>t</b>" })];
    expect(matches(stored, [display({ "text/html": "<b>t</b>", "text/plain": "t" })])).toBe(true);
    expect(matches(stored, [display({ "text/plain": "t", "text/html": "<i>t</i>" })])).toBe(false);
    expect(matches(stored, [display({ "text/plain": "t" })])).toBe(false);
  });

  it("compares a widget's view but for its model id, which is new at every run", () => {
    const view = (model_id: string, version_major = 2) => ({
      "application/vnd.jupyter.widget-view+json": { model_id, version_major, version_minor: 0 },
      "text/plain": "VBox()",
    });
    const stored = [display(view("0f".repeat(16)))];
    expect(matches(stored, [display(view("a1".repeat(16)))])).toBe(true);
    expect(matches(stored, [display(view("a1".repeat(16), 1))])).toBe(false);
    expect(matches(stored, [display({ "text/plain": "VBox()" })])).toBe(false);
  });

  it("compares JSON mime types as objects, regardless of key order", () => {
    const stored = [
      display({
        "application/json": { a: 1, b: { c: [1, 2], d: "x" } },
        "application/vnd.wirebook.table+json": { rows: [], cols: ["x"] },
      }),
    ];
    const fresh = [
      display({
        "application/vnd.wirebook.table+json": { cols: ["x"], rows: [] },
        "application/json": { b: { d: "x", c: [1, 2] }, a: 1 },
      }),
    ];
    expect(matches(stored, fresh)).toBe(true);
    // Array order is meaningful.
    const reordered = [
      display({
        "application/vnd.wirebook.table+json": { cols: ["x"], rows: [] },
        "application/json": { a: 1, b: { c: [2, 1], d: "x" } },
      }),
    ];
    expect(matches(stored, reordered)).toBe(false);
    expect(matches([display({ "application/json": { a: 1 } })], [display({ "application/json": { a: 2 } })])).toBe(
      false,
    );
  });

  it("ignores execution_count and metadata", () => {
    expect(matches([result({ "text/plain": "2" }, 3, { a: 1 })], [result({ "text/plain": "2" }, 17, { b: 2 })])).toBe(
      true,
    );
    expect(matches([result({ "text/plain": "2" }, null)], [result({ "text/plain": "2" }, 1)])).toBe(true);
    expect(matches([display({ "text/plain": "x" }, { isolated: true })], [display({ "text/plain": "x" })])).toBe(true);
  });

  it("tells display_data from execute_result", () => {
    expect(matches([result({ "text/plain": "2" })], [display({ "text/plain": "2" })])).toBe(false);
  });

  it("compares the number and order of outputs", () => {
    expect(
      matches([display({ "text/plain": "a" })], [display({ "text/plain": "a" }), display({ "text/plain": "a" })]),
    ).toBe(false);
    expect(
      matches(
        [display({ "text/plain": "a" }), display({ "text/plain": "b" })],
        [display({ "text/plain": "b" }), display({ "text/plain": "a" })],
      ),
    ).toBe(false);
    expect(matches([], [stdout("surprise\n")])).toBe(false);
  });
});

describe("errors", () => {
  it("compares ename and evalue, not the traceback", () => {
    const stored = [
      error("TypeError", "x is not a function", ["TypeError: x is not a function", "    at Cell [3], line 1"]),
    ];
    expect(
      matches(stored, [
        error("TypeError", "x is not a function", [
          "TypeError: x is not a function",
          "    at Cell [9], line 4",
          "    at more",
        ]),
      ]),
    ).toBe(true);
    expect(matches(stored, [error("RangeError", "x is not a function")])).toBe(false);
    expect(matches(stored, [error("TypeError", "y is not a function")])).toBe(false);
  });
});

describe("sanitizer rules", () => {
  const rules = parseSanitizeConfig("[ms]\nregex: \\b\\d+\\.\\d\\d ms\\b\nreplace: <ms>\n");

  it("are applied to both sides: streams, text mimes, JSON mimes and evalues", () => {
    expect(matches([stdout("took 1.25 ms\n")], [stdout("took 3.50 ms\n")], undefined, rules)).toBe(true);
    expect(
      matches([display({ "text/plain": "1.25 ms" })], [display({ "text/plain": "9.99 ms" })], undefined, rules),
    ).toBe(true);
    expect(
      matches(
        [display({ "application/json": { t: "1.25 ms" } })],
        [display({ "application/json": { t: "2.00 ms" } })],
        undefined,
        rules,
      ),
    ).toBe(true);
    expect(matches([error("Error", "late by 1.25 ms")], [error("Error", "late by 7.77 ms")], undefined, rules)).toBe(
      true,
    );
  });

  it("apply to merged streams, so a value split over two outputs is still sanitized", () => {
    expect(matches([stdout("took 1.25 ms\n")], [stdout("took 3."), stdout("50 ms\n")], undefined, rules)).toBe(true);
  });

  it("leave other differences alone", () => {
    expect(
      matches([stdout("took 1.25 ms, 3 packets\n")], [stdout("took 3.50 ms, 4 packets\n")], undefined, rules),
    ).toBe(false);
  });
});

describe("tags", () => {
  it(`${IGNORE_OUTPUT_TAG} compares the shape only: output types, stream names and mime keys`, () => {
    const stored = [stdout("12 packets\n"), display({ "text/plain": "a", "text/html": "<p>a</p>" })];
    const tags = [IGNORE_OUTPUT_TAG];
    const check = checkCell(cell(stored, tags), [stdout("99 packets\n")], noRules);
    expect(check.mode).toBe("shape");
    expect(
      matches(
        stored,
        [stdout("99 packets\n"), stdout("more\n"), display({ "text/html": "<p>z</p>", "text/plain": "z" })],
        tags,
      ),
    ).toBe(true);
    expect(matches(stored, [stdout("99 packets\n")], tags)).toBe(false);
    expect(
      matches(stored, [stderr("99 packets\n"), display({ "text/plain": "a", "text/html": "<p>a</p>" })], tags),
    ).toBe(false);
    expect(matches(stored, [stdout("x\n"), display({ "text/plain": "a" })], tags)).toBe(false);
    expect(matches(stored, [stdout("x\n"), result({ "text/plain": "a", "text/html": "<p>a</p>" })], tags)).toBe(false);
  });

  it(`${IGNORE_OUTPUT_TAG} flags an unexpected error`, () => {
    const tags = [IGNORE_OUTPUT_TAG];
    // Even when the stored outputs hold the same error: the shape matches, but an error was not expected.
    expect(matches([error("Error", "boom")], [error("Error", "other")], tags)).toBe(false);
    const check = checkCell(cell([stdout("a\n")], tags), [stdout("a\n"), error("Error", "boom")], noRules);
    expect(check).toMatchObject({
      mode: "shape",
      actual: { unexpectedError: true },
      expected: { unexpectedError: false },
    });
    // ...unless the cell is tagged raises-exception.
    expect(matches([error("Error", "boom")], [error("Error", "other")], [IGNORE_OUTPUT_TAG, RAISES_TAG])).toBe(true);
  });

  it(`${SKIP_TAG} cells are skipped`, () => {
    const check = checkCell(cell([stdout("a\n")], [SKIP_TAG]), [stdout("completely different\n")], noRules);
    expect(check.mode).toBe("skip");
    expect(checkCell(cell([], [SKIP_TAG, IGNORE_OUTPUT_TAG]), undefined, noRules).mode).toBe("skip");
  });

  it("a cell that did not run (an earlier cell failed) does not match", () => {
    const check = checkCell(cell([stdout("a\n")]), undefined, noRules);
    expect(check.mode).toBe("compare");
    if (check.mode !== "skip") expect(check.actual).not.toEqual(check.expected);
    // Even a cell that stored no outputs at all.
    const empty = checkCell(cell([]), undefined, noRules);
    if (empty.mode !== "skip") expect(empty.actual).not.toEqual(empty.expected);
  });

  it("an untagged cell is compared in full", () => {
    expect(checkCell(cell([stdout("a\n")]), [stdout("a\n")], noRules).mode).toBe("compare");
  });
});

describe("a real mismatch", () => {
  it("is detected", () => {
    const stored = [stdout("connected to 127.0.0.1\n"), result({ "text/plain": "'hello'" })];
    const fresh = [stdout("connected to 127.0.0.1\n"), result({ "text/plain": "'goodbye'" })];
    const check = checkCell(cell(stored), fresh, noRules);
    if (check.mode !== "compare") throw new Error(`expected a full comparison, got ${check.mode}`);
    expect(check.actual).not.toEqual(check.expected);
    expect(matches(stored, fresh)).toBe(false);
  });

  it("shape(): types, stream names and mime keys, merged", () => {
    expect(
      shape([
        stdout("a"),
        stderr("b"),
        stdout("c"),
        display({ "text/plain": "", "image/png": "" }),
        result({ "text/plain": "" }),
        error("E", ""),
      ]),
    ).toEqual([
      "stream:stdout",
      "stream:stderr",
      "display_data:image/png,text/plain",
      "execute_result:text/plain",
      "error",
    ]);
  });
});

describe("documented skips (kernel/runtime.ts)", () => {
  const cell = {
    id: "c1",
    cell_type: "code",
    metadata: {},
    source: "",
    execution_count: 1,
    outputs: [{ output_type: "stream", name: "stdout", text: "42\n" }],
  } as any;
  const skip = "skipped: this cell needs a network-namespace lab, and WIREBOOK_LAB=none turns the lab off\n";
  const out = (text: string) => [{ output_type: "stream", name: "stdout", text }] as any;

  it("counts a cell that ends in one skip line as skipped, only where skips are allowed", () => {
    expect(checkCell(cell, out(skip), [], { allowSkips: true })).toEqual({ mode: "skip", reason: "documented skip" });
    expect(checkCell(cell, out(`before the lab step\n${skip}`), [], { allowSkips: true }).mode).toBe("skip");
    expect(checkCell(cell, out(skip), []).mode).toBe("compare");
  });

  it("does not take a skip line in the middle, or two of them, or stderr, for a skip", () => {
    expect(checkCell(cell, out(`${skip}more output\n`), [], { allowSkips: true }).mode).toBe("compare");
    expect(checkCell(cell, out(`${skip}${skip}`), [], { allowSkips: true }).mode).toBe("compare");
    expect(
      checkCell(cell, [{ output_type: "stream", name: "stderr", text: skip }] as any, [], { allowSkips: true }).mode,
    ).toBe("compare");
  });
});
