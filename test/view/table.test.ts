// The text table is compared by replay after sanitizing: a column of measurements must keep its
// layout whatever the numbers, and everything else must line up as a reader expects.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JUPYTER_DISPLAY } from "../../kernel/runtime";
import { loadSanitizeConfig, sanitize } from "../../kernel/replay/sanitize";
import { gbps, kpps, mbps, mib, ms } from "../../helpers/measure/units";
import { table } from "../../helpers/view/table";
import { wrapLine } from "../../helpers/view/wrap";

const rules = loadSanitizeConfig(join(__dirname, "..", "..", "fixtures", "nbval-sanitize.cfg"));

describe("table", () => {
  it("right-aligns numbers, left-aligns text, and draws a rule under the header", () => {
    expect(
      table([
        { name: "a", n: 5 },
        { name: "bb", n: 123 },
      ]).toString(),
    ).toBe(["name    n", "----  ---", "a       5", "bb    123"].join("\n"));
  });

  // Each formatter's smallest and largest everyday value, under a header shorter than both.
  const formats: Array<[string, (x: number) => string, number, number]> = [
    ["ms", ms, 0.01, 9999.99],
    ["mib", mib, 0.1 * 1048576, 9999.9 * 1048576],
    ["gbps", gbps, 0.01e9, 999.99e9],
    ["mbps", mbps, 0.1e6, 99999.9e6],
    ["kpps", kpps, 100, 9999.9e3],
  ];
  it.each(formats)("keeps the layout of a column of %s() values whatever their size", (_, format, small, large) => {
    const text = (x: number) =>
      sanitize(
        table([
          { run: "one", v: format(x) },
          { run: "two", v: format(small) },
        ]).toString(),
        rules,
      );
    expect(text(small)).toBe(text(large));
    expect(text(small)).not.toMatch(/\d/); // every measured value was sanitized
  });

  it("escapes HTML and shows the caption in both forms", () => {
    const bundle = table([{ "<b>": "a & b" }], "caption <1>")[JUPYTER_DISPLAY]();
    expect(bundle["text/html"]).toContain("<th>&lt;b&gt;</th>");
    expect(bundle["text/html"]).toContain("<td>a &amp; b</td>");
    expect(bundle["text/html"]).toContain("<caption>caption &lt;1&gt;</caption>");
    expect(bundle["text/plain"]).toMatch(/^caption <1>\n/);
  });

  it("wraps its widest text columns to fit 100 columns, and keeps numbers whole", () => {
    const long = "the server refused the client certificate because it was issued by another authority";
    const text = table([
      { case: "a", says: long, more: long, exit: 12345 },
      { case: "b", says: "ok", more: "ok", exit: 0 },
    ]).toString();
    const lines = text.split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines.filter((l) => l.includes("12345"))).toHaveLength(1);
    expect(text.replace(/\s+/g, " ")).toContain("the server refused the");
    expect(lines.at(-1)).toMatch(/^b\s+ok\s+ok\s+0$/);
  });

  it("wraps long headers of numeric columns, so a table of numbers fits without splitting one", () => {
    const row = (n: number) =>
      Object.fromEntries(["first", "second", "third", "fourth", "fifth", "sixth"].map((h) => [`${h} column (ms)`, n]));
    const lines = table([row(1), row(1234567)])
      .toString()
      .split("\n");
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(lines[0]).toMatch(/^ +first column +second column/);
    expect(lines[1]).toMatch(/^ +\(ms\) +\(ms\)/);
    expect(lines.at(-1)?.match(/1234567/g)).toHaveLength(6);
  });

  it("wraps headers before it cuts a word of a cell", () => {
    const code = "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
    const text = table([
      {
        client: "alice",
        "what the client presented": "leaf and intermediate",
        "client result": "ok, TLSv1.3",
        "server: tlsClientError": "ECONNRESET",
        "server: authorizationError": code,
        "server: verdict": "refused",
      },
    ]).toString();
    expect(Math.max(...text.split("\n").map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(text).toContain(code);
  });

  it("breaks a line at the same places whatever a measurement's size", () => {
    const at = (v: number) =>
      sanitize(wrapLine(`the round trip took ${ms(v)} on average over many runs`, 30).join("\n"), rules);
    expect(at(0.01)).toBe(at(9999.99));
    expect(wrapLine("short")).toEqual(["short"]);
    expect(wrapLine("x".repeat(25), 10)).toEqual(["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    expect(wrapLine("UNABLE_TO_VERIFY_LEAF_SIGNATURE", 20)).toEqual(["UNABLE_TO_VERIFY_", "LEAF_SIGNATURE"]);
  });
});
