// The cell pre-pass (kernel/prepass.ts): shorthand properties written out for tslab, and /*@L<n>*/
// line markers that let a stack line of the executed JS name its cell line.
import * as ts from "@tslab/typescript-for-tslab";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { cellLineOf, markerLength, prepareCell } from "../../kernel/prepass";

const marked = (lines: string[]) => prepareCell(lines.join("\n")).split("\n");
/** The pre-pass without its markers: what the shorthand expansion alone did. */
const expanded = (src: string) => prepareCell(src).replace(/\/\*@L\d+\*\//g, "");
const isMarked = (line: string, n: number) => line.startsWith(`/*@L${n}*/`);
/** The value of the last expression of a script, with the script's own globals. */
const evaluate = (code: string) => vm.runInNewContext(code, {});

describe("line markers", () => {
  it("marks each non-blank line with its own 1-based number", () => {
    const out = marked(["const a = 1;", "", "   ", "const b = a + 1;", "  b"]);
    expect(out).toEqual(["/*@L1*/const a = 1;", "", "   ", "/*@L4*/const b = a + 1;", "/*@L5*/  b"]);
  });

  it("leaves lines that start inside a template literal unmarked", () => {
    const src = ["const name = 'x';", "const t = `first", "second", "", "  third ${name}", "fourth`;", "t"];
    const out = marked(src);
    expect(isMarked(out[1], 2)).toBe(true);
    expect(out.slice(2, 6)).toEqual(src.slice(2, 6));
    expect(isMarked(out[6], 7)).toBe(true);
    expect(evaluate(out.join("\n"))).toBe(evaluate(src.join("\n")));
    expect(evaluate(out.join("\n"))).toBe("first\nsecond\n\n  third x\nfourth");
  });

  it("may mark code lines inside a ${...} substitution, but never template text", () => {
    const src = [
      "const a = 1;",
      "const t = `head ${a +",
      "  1",
      "} middle ${",
      "  `nested",
      "text`",
      "} tail",
      "end`;",
      "t",
    ];
    const out = marked(src);
    // Lines 5 "  `nested" and 7 "} tail" start in code (so may be marked); 6 and 8 start in template text.
    expect(out[5]).toBe("text`");
    expect(out[7]).toBe("end`;");
    expect(evaluate(out.join("\n"))).toBe(evaluate(src.join("\n")));
    expect(evaluate(out.join("\n"))).toBe("head 2 middle nested\ntext tail\nend");
  });

  it("leaves tagged templates' raw text alone", () => {
    const src = ["const raw = String.raw`a\\n", "  b /* not a comment */", "c`;", "raw"];
    const out = marked(src);
    expect(out.slice(1, 3)).toEqual(src.slice(1, 3));
    expect(evaluate(out.join("\n"))).toBe(evaluate(src.join("\n")));
  });

  it("leaves lines inside multi-line strings (backslash continuations) unmarked", () => {
    const src = ["const s = 'one\\", "two\\", "three';", 'const d = "four\\', 'five";', "s + d"];
    const out = marked(src);
    expect(out[1]).toBe(src[1]);
    expect(out[2]).toBe(src[2]);
    expect(out[4]).toBe(src[4]);
    expect(evaluate(out.join("\n"))).toBe("onetwothreefourfive");
  });

  it("leaves lines inside block comments unmarked", () => {
    const src = [
      "/* a block",
      "   comment with `backtick and 'quote",
      " */",
      "const x = 1; /* another",
      "one */ const y = 2;",
      "/**",
      " * doc",
      " */",
      "x + y",
    ];
    const out = marked(src);
    expect(isMarked(out[0], 1)).toBe(true);
    expect(out.slice(1, 3)).toEqual(src.slice(1, 3));
    expect(out[4]).toBe(src[4]);
    expect(out.slice(6, 8)).toEqual(src.slice(6, 8));
    expect(evaluate(out.join("\n"))).toBe(3);
  });

  it("is not fooled by comment or template look-alikes in strings, regexes and line comments", () => {
    const src = [
      "const a = '/* not a comment';",
      "const b = /\\/*x`/.source;",
      "// a line comment with ` and /*",
      "const c = `${'*/'}`;",
      "const d = 1;",
      "[a, b, c, d]",
    ];
    const out = marked(src);
    out.forEach((line, i) => expect(isMarked(line, i + 1), line).toBe(true));
    expect(evaluate(out.join("\n"))).toEqual(evaluate(src.join("\n")));
  });

  it("keeps the meaning of code that relies on line breaks (ASI, return)", () => {
    const src = ["function f() {", "  return", "    42", "}", "let x = 1", "let y = x", "++x;", "[f(), x, y]"];
    const out = marked(src);
    expect(evaluate(out.join("\n"))).toEqual(evaluate(src.join("\n")));
    expect(evaluate(out.join("\n"))).toEqual([undefined, 2, 1]);
  });

  it("keeps TypeScript that tslab type-checks valid", () => {
    const src = [
      "interface P {",
      "  x: number;",
      "  y: string;",
      "}",
      "const p: P = {",
      "  x: 1,",
      "  y: `a",
      "b`,",
      "};",
      "p",
    ];
    const out = prepareCell(src.join("\n"));
    const js = ts.transpileModule(out, {
      compilerOptions: { target: ts.ScriptTarget.ES2020 },
      reportDiagnostics: true,
    });
    expect(js.diagnostics ?? []).toEqual([]);
    expect(evaluate(js.outputText)).toEqual({ x: 1, y: "a\nb" });
  });

  it("marks an import or export declaration on its first line only", () => {
    const src = ["import {", "  a,", "  b,", '} from "m";', "export {", "  a as c,", "};", "a"];
    expect(marked(src)).toEqual([
      "/*@L1*/import {",
      "  a,",
      "  b,",
      '} from "m";',
      "/*@L5*/export {",
      "  a as c,",
      "};",
      "/*@L8*/a",
    ]);
  });

  it("changes nothing for an empty cell", () => {
    expect(prepareCell("")).toBe("");
    expect(prepareCell("\n\n")).toBe("\n\n");
  });
});

describe("shorthand properties, written out for tslab", () => {
  it("expands object literals, nested ones and assignment patterns, and nothing else", () => {
    expect(expanded("const o = { data, x: 1 };")).toBe("const o = { data: data, x: 1 };");
    expect(expanded("f({ a, b: { c } })")).toBe("f({ a: a, b: { c: c } })");
    expect(expanded("({ a = 1 } = obj);")).toBe("({ a: a = 1 } = obj);");
    expect(expanded("const { a, b } = obj;")).toBe("const { a, b } = obj;");
    expect(expanded("const s = `{ a }`; // { b }")).toBe("const s = `{ a }`; // { b }");
  });

  it("keeps every line where it was", () => {
    const src = "const a = 1;\nconst o = {\n  a,\n};\nthrow new Error(String(o));";
    expect(prepareCell(src).split("\n").length).toBe(src.split("\n").length);
  });

  it("puts a line's marker before an expansion at the start of the same line", () => {
    expect(prepareCell("const o = {\na,\n};")).toBe("/*@L1*/const o = {\n/*@L2*/a: a,\n/*@L3*/};");
    expect(evaluate(prepareCell("const a = 1;\nconst o = {\na,\n};\no.a"))).toBe(1);
  });
});

describe("cellLineOf", () => {
  it("maps a line of the executed JS to the nearest marker at or above it", () => {
    const js = [
      "(function () {",
      "/*@L1*/const a = 1;",
      "/*@L2*/function f() {",
      "    return 1;",
      "/*@L4*/}",
      "})()",
    ].join("\n");
    expect(cellLineOf(js, 1)).toBeUndefined();
    expect(cellLineOf(js, 2)).toBe(1);
    expect(cellLineOf(js, 3)).toBe(2);
    expect(cellLineOf(js, 4)).toBe(2);
    expect(cellLineOf(js, 5)).toBe(4);
    expect(cellLineOf(js, 6)).toBe(4);
    expect(cellLineOf(js, 99)).toBe(4);
  });

  it("takes the first marker when the compiler joined lines", () => {
    expect(cellLineOf("/*@L3*/ foo(/*@L4*/ bar)", 1)).toBe(3);
  });

  it("finds cell lines through a real TypeScript compile", () => {
    const cell = [
      "const a: number = 1;",
      "",
      "type T = { n: number };",
      "function boom(t: T): never {",
      "  throw new Error(`bad ${t.n}`);",
      "}",
      "boom({ n: a });",
    ];
    const js = ts.transpileModule(prepareCell(cell.join("\n")), {
      compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS },
    }).outputText;
    const lines = js.split("\n");
    const lineOf = (needle: string) => cellLineOf(js, lines.findIndex((l) => l.includes(needle)) + 1);
    expect(lineOf("throw new Error")).toBe(5);
    expect(lineOf("boom({ n: a })")).toBe(7);
    expect(lineOf("function boom")).toBe(4);
    // And from a real stack trace.
    let stack = "";
    try {
      vm.runInNewContext(js, { exports: {} }, { filename: "cell.js" });
    } catch (e) {
      stack = (e as Error).stack ?? "";
    }
    const frames = [...stack.matchAll(/cell\.js:(\d+):\d+/g)].map((m) => cellLineOf(js, Number(m[1])));
    expect(frames.slice(0, 2)).toEqual([5, 7]);
  });
});

describe("markerLength", () => {
  it("is the length of the marker that starts a line, or 0", () => {
    const src = prepareCell("a;\n\nb;");
    expect(markerLength(src, 0)).toBe("/*@L1*/".length);
    expect(markerLength(src, 1)).toBe(0);
    expect(markerLength(src, 2)).toBe("/*@L3*/".length);
    expect(markerLength(src, 10)).toBe(0);
  });
});
