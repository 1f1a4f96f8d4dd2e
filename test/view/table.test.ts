// The text table is compared by replay after sanitizing: a column of measurements must keep its
// layout whatever the numbers, and everything else must line up as a reader expects.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JUPYTER_DISPLAY } from "../../kernel/runtime";
import { loadSanitizeConfig, sanitize } from "../../kernel/replay/sanitize";
import { gbps, kpps, mbps, mib, ms } from "../../helpers/measure/units";
import { table } from "../../helpers/view/table";

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
});
