// Reading and writing notebooks (kernel/nbformat.ts).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NotebookError, readNotebook, serializeNotebook, writeNotebook, type Notebook } from "../../kernel/nbformat";

const dir = mkdtempSync(join(tmpdir(), "wb-nbformat-"));
let n = 0;
const tmpFile = (name = `nb${++n}.ipynb`) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { title: "sample", custom: { keep: true } },
    cells: [
      { id: "md-1", cell_type: "markdown", source: "# Title\n\nSome *text*.", metadata: {} },
      {
        id: "code-1",
        cell_type: "code",
        source: "console.log('a');\nconsole.log('b');\n1 + 1",
        metadata: { tags: ["nbval-ignore-output"] },
        execution_count: 3,
        outputs: [
          { output_type: "stream", name: "stdout", text: "a\nb\n" },
          { output_type: "stream", name: "stderr", text: "no newline at end" },
          { output_type: "execute_result", execution_count: 3, data: { "text/plain": "2" }, metadata: {} },
        ],
      },
      {
        id: "code-2",
        cell_type: "code",
        source: "show()",
        metadata: {},
        execution_count: 4,
        outputs: [
          {
            output_type: "display_data",
            data: {
              "text/plain": "line 1\nline 2\n",
              "text/html": "<table>\n<tr><td>1</td></tr>\n</table>",
              "application/json": { b: [1, 2, { c: "d" }], a: "x\ny" },
              "application/vnd.wirebook.table+json": { rows: [[1, 2]], columns: ["x", "y"] },
              "image/png":
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
            },
            metadata: { isolated: true },
          },
        ],
      },
      {
        id: "code-3",
        cell_type: "code",
        source: "throw new Error('boom')",
        metadata: { tags: ["raises-exception"] },
        execution_count: 5,
        outputs: [
          {
            output_type: "error",
            ename: "Error",
            evalue: "boom",
            traceback: ["Error: boom", "    at Cell [5], line 1"],
          },
        ],
      },
      { id: "code-4", cell_type: "code", source: "", metadata: {}, execution_count: null, outputs: [] },
      { id: "raw-1", cell_type: "raw", source: "raw\ntext\n", metadata: { format: "text/plain" } },
    ],
  };
}

describe("round trip", () => {
  it("keeps sources, outputs, ids, tags and metadata", () => {
    const file = tmpFile();
    const nb = sample();
    writeNotebook(file, nb);
    const back = readNotebook(file);
    expect(back.cells).toEqual(sample().cells);
    expect(back.metadata).toMatchObject(sample().metadata);
    expect(back.nbformat).toBe(4);
    expect(back.nbformat_minor).toBe(5);
  });

  it("is stable: writing what was read gives the same file", () => {
    const file = tmpFile();
    writeNotebook(file, sample());
    const first = readFileSync(file, "utf8");
    const again = tmpFile();
    writeNotebook(again, readNotebook(file));
    expect(readFileSync(again, "utf8")).toBe(first);
  });

  it("writes atomically: a write that fails keeps the old file whole and leaves no temporary file", () => {
    const sub = mkdtempSync(join(dir, "atomic-"));
    const file = join(sub, "kept.ipynb");
    writeNotebook(file, sample());
    const before = readFileSync(file, "utf8");
    const unwritable = { ...sample(), metadata: { bad: 1n } }; // JSON cannot hold a BigInt
    expect(() => writeNotebook(file, unwritable)).toThrow(TypeError);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(readdirSync(sub)).toEqual(["kept.ipynb"]);
  });

  it("keeps attachments of markdown cells", () => {
    const file = tmpFile();
    const nb = sample();
    nb.cells[0].attachments = { "a.png": { "image/png": "AAAA" } };
    writeNotebook(file, nb);
    expect(readNotebook(file).cells[0].attachments).toEqual({ "a.png": { "image/png": "AAAA" } });
  });

  it("keeps unicode and special characters", () => {
    const file = tmpFile();
    const nb = sample();
    nb.cells[1].source = 'const s = "héllo → 世界 \\u0000 \\"quoted\\"";\n\ttabbed\r\nwindows';
    writeNotebook(file, nb);
    expect(readNotebook(file).cells[1].source).toBe(nb.cells[1].source);
  });
});

describe("the written file", () => {
  const file = tmpFile("written.ipynb");
  writeNotebook(file, sample());
  const text = readFileSync(file, "utf8");
  const json = JSON.parse(text);

  it("is nbformat 4.5 with a wirebook kernelspec and TypeScript language_info", () => {
    expect(json.nbformat).toBe(4);
    expect(json.nbformat_minor).toBe(5);
    expect(json.metadata.kernelspec).toEqual({
      name: "wirebook",
      display_name: "TypeScript (wirebook)",
      language: "typescript",
    });
    expect(json.metadata.language_info).toMatchObject({ name: "typescript", file_extension: ".ts" });
    expect(json.metadata.custom).toEqual({ keep: true });
  });

  it("gives every cell an id, also when the notebook had none", () => {
    expect(json.cells.map((c: any) => c.id)).toEqual(["md-1", "code-1", "code-2", "code-3", "code-4", "raw-1"]);
    const noIds = tmpFile();
    writeFileSync(
      noIds,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 4,
        metadata: {},
        cells: [
          { cell_type: "code", source: "1", metadata: {}, outputs: [] },
          { cell_type: "markdown", source: "x", metadata: {} },
        ],
      }),
    );
    const out = tmpFile();
    writeNotebook(out, readNotebook(noIds));
    const ids = JSON.parse(readFileSync(out, "utf8")).cells.map((c: any) => c.id);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(new Set(ids).size).toBe(2);
  });

  it("stores source and text as lists of lines, each keeping its newline", () => {
    expect(json.cells[0].source).toEqual(["# Title\n", "\n", "Some *text*."]);
    expect(json.cells[1].source).toEqual(["console.log('a');\n", "console.log('b');\n", "1 + 1"]);
    expect(json.cells[4].source).toEqual([]);
    expect(json.cells[1].outputs[0]).toEqual({ output_type: "stream", name: "stdout", text: ["a\n", "b\n"] });
    expect(json.cells[1].outputs[1].text).toEqual(["no newline at end"]);
    const data = json.cells[2].outputs[0].data;
    expect(data["text/plain"]).toEqual(["line 1\n", "line 2\n"]);
    expect(data["text/html"]).toEqual(["<table>\n", "<tr><td>1</td></tr>\n", "</table>"]);
  });

  it("stores JSON mime data as objects, not text", () => {
    const data = json.cells[2].outputs[0].data;
    expect(data["application/json"]).toEqual({ a: "x\ny", b: [1, 2, { c: "d" }] });
    expect(data["application/vnd.wirebook.table+json"]).toEqual({ columns: ["x", "y"], rows: [[1, 2]] });
  });

  it("stores binary mime data (base64) as one string, as Jupyter does", () => {
    expect(typeof json.cells[2].outputs[0].data["image/png"]).toBe("string");
  });

  it("keeps execution counts, output metadata and error tracebacks", () => {
    expect(json.cells[1].execution_count).toBe(3);
    expect(json.cells[1].outputs[2]).toMatchObject({ output_type: "execute_result", execution_count: 3 });
    expect(json.cells[2].outputs[0].metadata).toEqual({ isolated: true });
    expect(json.cells[3].outputs[0]).toEqual({
      output_type: "error",
      ename: "Error",
      evalue: "boom",
      traceback: ["Error: boom", "    at Cell [5], line 1"],
    });
    expect(json.cells[4].execution_count).toBeNull();
    expect(json.cells[0]).not.toHaveProperty("outputs");
    expect(json.cells[0]).not.toHaveProperty("execution_count");
  });

  it("is formatted as Jupyter writes it: sorted keys, one-space indent, final newline", () => {
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",')).toBe(true);
    expect(Object.keys(json)).toEqual(["cells", "metadata", "nbformat", "nbformat_minor"]);
    expect(Object.keys(json.cells[1])).toEqual(["cell_type", "execution_count", "id", "metadata", "outputs", "source"]);
    expect(serializeNotebook(sample())).toBe(text);
  });
});

describe("reading", () => {
  it("joins sources and texts stored as lists of lines", () => {
    const file = tmpFile();
    writeFileSync(
      file,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          {
            id: "x",
            cell_type: "code",
            source: ["a\n", "b"],
            metadata: {},
            execution_count: 1,
            outputs: [
              { output_type: "stream", name: "stdout", text: ["1\n", "2\n"] },
              {
                output_type: "display_data",
                data: { "text/plain": ["p\n", "q"], "application/json": ["kept", "as list"] },
                metadata: {},
              },
            ],
          },
        ],
      }),
    );
    const cell = readNotebook(file).cells[0];
    expect(cell.source).toBe("a\nb");
    expect(cell.outputs![0]).toEqual({ output_type: "stream", name: "stdout", text: "1\n2\n" });
    expect(cell.outputs![1]).toMatchObject({ data: { "text/plain": "p\nq", "application/json": ["kept", "as list"] } });
  });
});

describe("malformed notebooks", () => {
  const cases: Array<[string, string]> = [
    ["not JSON", "this is { not json"],
    ["empty file", ""],
    ["nbformat 3", JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] })],
    ["no nbformat", JSON.stringify({ cells: [] })],
    ["JSON that is not an object", "[1, 2, 3]"],
    ["cells not a list", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: { a: 1 } })],
    [
      "cell without cell_type",
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ source: "x", metadata: {} }] }),
    ],
    ["cell that is not an object", JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [null] })],
    [
      "cell without source",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ cell_type: "code", metadata: {}, outputs: [] }],
      }),
    ],
    [
      "unknown output_type",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ cell_type: "code", source: "x", metadata: {}, outputs: [{ output_type: "bogus" }] }],
      }),
    ],
    [
      "outputs not a list",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ cell_type: "code", source: "x", metadata: {}, outputs: "nope" }],
      }),
    ],
    [
      "a source that is not text",
      JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code", source: 42 }] }),
    ],
    [
      "a source list holding a number",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ cell_type: "code", source: ["a", 1] }],
      }),
    ],
    [
      "a Python notebook",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: "python3", language: "python", display_name: "Python 3" } },
        cells: [],
      }),
    ],
    [
      "a stream output with a bad name",
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [{ cell_type: "code", source: "x", outputs: [{ output_type: "stream", name: "stdcheese", text: "" }] }],
      }),
    ],
  ];

  it.each(cases)("%s: one NotebookError whose message names the file", (_what, content) => {
    const file = tmpFile(`bad-${++n}.ipynb`);
    writeFileSync(file, content);
    let caught: unknown;
    try {
      readNotebook(file);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(NotebookError);
    const e = caught as NotebookError;
    expect(e.code).toBe("ERR_BAD_NOTEBOOK");
    expect(e.message).toContain(file);
    expect(e.message.split("\n")).toHaveLength(1);
  });

  it("a notebook of another language is refused by name", () => {
    const file = tmpFile();
    writeFileSync(file, JSON.stringify({ nbformat: 4, metadata: { language_info: { name: "python" } }, cells: [] }));
    expect(() => readNotebook(file)).toThrow(`${file}: a python notebook; this kernel runs TypeScript`);
  });

  it("a missing file is a NotebookError naming the file", () => {
    const file = join(dir, "does-not-exist.ipynb");
    expect(() => readNotebook(file)).toThrow(NotebookError);
    expect(() => readNotebook(file)).toThrow(file);
  });

  it("names the cell that is wrong", () => {
    const file = tmpFile();
    writeFileSync(
      file,
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: {},
        cells: [
          { cell_type: "markdown", source: "", metadata: {} },
          { cell_type: "cod", source: "" },
        ],
      }),
    );
    expect(() => readNotebook(file)).toThrow(/cell 2/);
  });
});
