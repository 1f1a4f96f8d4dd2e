import { describe, expect, it } from "vitest";
import { expandShorthandProperties } from "../../kernel/shorthand";

describe("shorthand properties, written out for tslab", () => {
  it("expands object literals, nested ones and assignment patterns, and nothing else", () => {
    expect(expandShorthandProperties("const o = { data, x: 1 };")).toBe("const o = { data: data, x: 1 };");
    expect(expandShorthandProperties("f({ a, b: { c } })")).toBe("f({ a: a, b: { c: c } })");
    expect(expandShorthandProperties("({ a = 1 } = obj);")).toBe("({ a: a = 1 } = obj);");
    expect(expandShorthandProperties("const { a, b } = obj;")).toBe("const { a, b } = obj;");
    expect(expandShorthandProperties("const s = `{ a }`; // { b }")).toBe("const s = `{ a }`; // { b }");
  });

  it("keeps every line where it was", () => {
    const src = "const a = 1;\nconst o = {\n  a,\n};\nthrow new Error(String(o));";
    expect(expandShorthandProperties(src).split("\n").length).toBe(src.split("\n").length);
  });
});
