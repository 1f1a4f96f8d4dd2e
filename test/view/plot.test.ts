// helpers/view/plot.ts: every spec compiles with vega-lite, the SVG is well-formed and carries the
// expected marks and axis titles, and a deterministic spec renders to the same bytes every time.
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { bars, chart, Chart, histogram, timeline, traces, VEGA_LITE_MIME } from "../../helpers/view/plot";
import { JUPYTER_DISPLAY } from "../../kernel/runtime";

const wellFormed = (svg: string) => expect(XMLValidator.validate(svg)).toBe(true);
const count = (svg: string, needle: string) => svg.split(needle).length - 1;

describe("traces", () => {
  const options = {
    title: "cwnd over time",
    x: { title: "time (RTTs)" },
    y: { title: "cwnd (segments)" },
    series: {
      reno: [
        [0, 1],
        [1, 2],
        [2, 4],
        [3, 8],
      ] as Array<[number, number]>,
      cubic: [
        [0, 1],
        [1, 3],
        [2, 6],
      ] as Array<[number, number]>,
    },
    step: true,
    events: [{ x: 2, label: "loss" }],
  };

  it("draws one line per series, event rules and both axis titles", async () => {
    const c = await traces(options);
    wellFormed(c.svg);
    expect(count(c.svg, 'class="mark-line role-mark')).toBe(2); // one line mark group per series
    expect(count(c.svg, 'class="mark-rule role-mark')).toBe(1);
    expect(c.svg).toContain("time (RTTs)");
    expect(c.svg).toContain("cwnd (segments)");
    expect(c.svg).toContain(">loss<");
    expect(c.spec.layer[0].mark.interpolate).toBe("step-after");
    expect(c.summary).toBe("cwnd over time: 2 series (reno, cubic), 7 points, 1 events");
  });

  it("renders the same bytes every time for the same data", async () => {
    expect((await traces(options)).svg).toBe((await traces(options)).svg);
  });

  it("a fixed domain keeps the axes identical when the data changes", async () => {
    const axisOf = (svg: string) =>
      svg.slice(svg.indexOf('class="mark-group role-axis'), svg.indexOf('class="mark-line'));
    const a = await traces({
      ...options,
      y: { title: "ms", domain: [0, 50] },
      series: {
        x: [
          [0, 1],
          [1, 7],
        ],
      },
    });
    const b = await traces({
      ...options,
      y: { title: "ms", domain: [0, 50] },
      series: {
        x: [
          [0, 3],
          [1, 9],
        ],
      },
    });
    expect(axisOf(a.svg)).toBe(axisOf(b.svg));
    expect(a.svg).not.toBe(b.svg);
  });
});

describe("histogram and bars", () => {
  it("a histogram has a bar per bin and a fixed share axis", async () => {
    const c = await histogram({
      title: "RTT",
      x: { title: "RTT (ms)", domain: [0, 10] },
      values: [1, 1, 2, 3, 3, 3, 10],
      bins: 10,
    });
    wellFormed(c.svg);
    expect(count(c.svg, 'aria-roledescription="bar"')).toBe(10); // every bin, empty ones too
    expect(c.svg).toContain("RTT (ms)");
    expect(c.svg).toContain(">share of samples (%)<");
  });

  it("stacked bars have one rect per segment and a legend", async () => {
    const rows = [
      { category: "backend-1", segment: "ok", value: 5 },
      { category: "backend-1", segment: "error", value: 1 },
      { category: "backend-2", segment: "ok", value: 4 },
    ];
    const c = await bars({ title: "requests per backend", rows, x: { title: "backend" }, y: { title: "requests" } });
    wellFormed(c.svg);
    expect(count(c.svg, 'aria-roledescription="bar"')).toBe(3);
    expect(c.svg).toContain("role-legend");
    expect(c.summary).toBe("requests per backend: 2 bars (stacked)");
  });
});

describe("timeline", () => {
  it("draws one bar per interval, lanes in the given order, and the axis title", async () => {
    const rows = [
      { lane: "request 0", start: 0, end: 330 },
      { lane: "request 1", start: 0, end: 120 },
      { lane: "request 2", start: 120, end: 180 },
    ];
    const c = await timeline({ title: "requests", x: { title: "ms", domain: [0, 400] }, rows });
    wellFormed(c.svg);
    expect(count(c.svg, 'aria-roledescription="bar"')).toBe(3);
    expect(c.svg.indexOf(">request 0<")).toBeLessThan(c.svg.indexOf(">request 2<"));
    expect(c.svg).toContain(">ms<");
    expect(c.summary).toBe("requests: 3 intervals on 3 lanes");
  });
});

describe("measured charts", () => {
  const measured = (ys: number[]) =>
    traces({
      title: "latency",
      measured: true,
      x: { title: "request", domain: [0, 3] },
      y: { title: "ms", domain: [0, 50] },
      series: { a: ys.map((y, i) => [i, y] as [number, number]) },
    });

  it("keep their rows in the 'measured' dataset and need fixed domains", async () => {
    const c = await measured([1, 2, 3]);
    expect(c.spec.datasets.measured).toHaveLength(3);
    expect(c.spec.data).toEqual({ name: "measured" });
    await expect(
      traces({ title: "t", measured: true, x: { title: "x" }, y: { title: "y", domain: [0, 1] }, series: {} }),
    ).rejects.toThrow(/fixed domain on its "x" axis/);
  });

  it("differ between runs only where fixtures/nbval-sanitize.cfg sanitizes", async () => {
    const { loadSanitizeConfig, sanitize } = await import("../../kernel/replay/sanitize");
    const { comparable } = await import("../../kernel/replay/compare");
    const rules = loadSanitizeConfig(
      require("node:path").join(__dirname, "..", "..", "fixtures", "nbval-sanitize.cfg"),
    );
    const out = async (ys: number[]) => ({
      output_type: "display_data" as const,
      data: (await measured(ys))[JUPYTER_DISPLAY](),
      metadata: {},
    });
    const [a, b] = await Promise.all([out([1, 2, 3]), out([7, 30, 12])]);
    expect(a.data["image/svg+xml"]).not.toBe(b.data["image/svg+xml"]);
    expect(comparable([a], rules)).toEqual(comparable([b], rules));
    // A point beyond the fixed domain (a sample that came late) is clipped: it changes the data
    // marks only, not the size of the SVG.
    expect(comparable([a], rules)).toEqual(comparable([await out([1, 2, 3, 80, 5])], rules));
    // A change of structure (one more line) is still a difference.
    const twoLines = await traces({
      title: "latency",
      measured: true,
      x: { title: "request", domain: [0, 3] },
      y: { title: "ms", domain: [0, 50] },
      series: { a: [[0, 1]], b: [[0, 2]] },
    });
    expect(comparable([a], rules)).not.toEqual(comparable([{ ...a, data: twoLines[JUPYTER_DISPLAY]() }], rules));
    expect(sanitize("no chart here", rules)).toBe("no chart here");
  });

  it("are shown as SVG and summary: nbval compares a JSON object whole, and the spec holds the rows", async () => {
    const bundle = (await measured([1, 2, 3]))[JUPYTER_DISPLAY]();
    expect(Object.keys(bundle).sort()).toEqual(["image/svg+xml", "text/plain"]);
  });

  it("mark only what was drawn from measured rows; computed layers and model charts stay compared", async () => {
    const { loadSanitizeConfig, sanitize } = await import("../../kernel/replay/sanitize");
    const rules = loadSanitizeConfig(
      require("node:path").join(__dirname, "..", "..", "fixtures", "nbval-sanitize.cfg"),
    );
    const withCap = async (cap: number) =>
      (
        await chart(
          {
            datasets: {
              measured: [
                { t: 0, v: 1 },
                { t: 1, v: 2 },
              ],
            },
            layer: [
              { data: { name: "measured" }, mark: "line", encoding: { x: { field: "t", type: "quantitative" } } },
              {
                data: { values: [{ v: cap }] },
                mark: { type: "rule" },
                encoding: { y: { field: "v", type: "quantitative" } },
              },
              {
                data: { values: [{ t: cap, v: cap }] },
                mark: "line",
                encoding: { x: { field: "t", type: "quantitative" } },
              },
            ],
          },
          "c",
        )
      ).svg;
    const svg = await withCap(1);
    expect(count(svg, 'aria-roledescription="measured line"')).toBe(1);
    expect(count(svg, 'aria-roledescription="line mark"')).toBe(1);
    // A different computed layer is a difference the sanitizer does not hide.
    expect(sanitize(svg, rules)).not.toBe(sanitize(await withCap(2), rules));
    const model = (ys: number[]) =>
      traces({ title: "model", x: { title: "x" }, y: { title: "y" }, series: { a: ys.map((y, i) => [i, y]) } });
    const [m1, m2] = [(await model([1, 2, 3])).svg, (await model([1, 5, 3])).svg];
    expect(m1).not.toContain("measured");
    expect(sanitize(m1, rules)).not.toBe(sanitize(m2, rules));
  });

  it("name their clip paths after the chart, not after how many charts came before", async () => {
    const first = (await measured([1, 2, 3])).svg;
    await measured([4, 5, 6]);
    const again = (await measured([1, 2, 3])).svg;
    expect(again).toBe(first);
    expect(first).toMatch(/<clipPath id="wirebook-[0-9a-f]{8}-clip1">/);
    expect(first).toContain('clip-path="url(#wirebook-');
  });
});

describe("display bundle", () => {
  it("holds the vega-lite spec as an object, the SVG and a text summary", async () => {
    const c = await chart(
      {
        mark: "point",
        data: { values: [{ a: 1, b: 2 }] },
        encoding: { x: { field: "a", type: "quantitative" }, y: { field: "b", type: "quantitative" } },
      },
      "one point",
    );
    const bundle = c[JUPYTER_DISPLAY]();
    expect(typeof bundle[VEGA_LITE_MIME]).toBe("object");
    expect((bundle[VEGA_LITE_MIME] as any).$schema).toMatch(/vega-lite\/v5/);
    expect(String(bundle["image/svg+xml"]).startsWith("<svg")).toBe(true);
    expect(bundle["text/plain"]).toBe("one point");
    expect(c).toBeInstanceOf(Chart);
  });

  it("an invalid spec is one clear error", async () => {
    await expect(chart({ mark: "no-such-mark" }, "x")).rejects.toThrow(
      /vega-lite cannot compile this chart \(mark "no-such-mark"\)/,
    );
  });
});
