// Charts as vega-lite v5 specs, displayed as one bundle: the spec as a JSON object (JupyterLab,
// VS Code render it), an SVG rendered from the same spec in Node with vega (classic Notebook,
// GitHub, plain HTML), and a one-line text summary. No browser, no native canvas. A chart of
// measured data is shown as its SVG and summary only: its spec holds the measured rows, and a
// JSON object is compared whole by nbval (only strings are sanitized), while the SVG marks what
// was measured so that one narrow rule of fixtures/nbval-sanitize.cfg covers it.
import { createHash } from "node:crypto";
import { JUPYTER_DISPLAY, type MimeBundle } from "../../kernel/runtime";
import { OUTPUT_WIDTH, wrapText } from "./wrap";

// vega and vega-lite are loaded on first use: they are large and most cells never plot.
const vega = () => require("vega") as typeof import("vega");
const vegaLite = () => require("vega-lite") as typeof import("vega-lite");

export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

export type Spec = Record<string, any>;

export class Chart {
  constructor(
    readonly spec: Spec,
    readonly svg: string,
    readonly summary: string,
    /** Drawn from a measurement: its rows change from run to run. */
    readonly measured = false,
  ) {}

  [JUPYTER_DISPLAY](): MimeBundle {
    const svg = { "image/svg+xml": this.svg, "text/plain": this.summary };
    return this.measured ? svg : { [VEGA_LITE_MIME]: this.spec, ...svg };
  }
}

export class PlotError extends Error {
  code = "ERR_PLOT_SPEC";
}

/** Compiles a vega-lite spec and renders it to SVG; an invalid spec is one PlotError. */
export async function renderSvg(spec: Spec): Promise<string> {
  let compiled;
  try {
    compiled = vegaLite().compile(spec as any).spec;
  } catch (e) {
    throw new PlotError(
      `vega-lite cannot compile this chart (mark ${JSON.stringify(spec.mark ?? spec.layer?.map((l: Spec) => l.mark))}` +
        `): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const view = new (vega().View)(vega().parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A chart from any vega-lite spec, with the text summary given. */
export async function chart(spec: Spec, summary: string): Promise<Chart> {
  const measured = spec.datasets?.measured !== undefined;
  const full = { $schema: SCHEMA, width: 480, height: 240, ...(measured ? markMeasured(spec, false) : spec) };
  return new Chart(full, nameClipPaths(await renderSvg(full), full), wrapText(summary, OUTPUT_WIDTH, "  "), measured);
}

/** Vega numbers clip paths from a counter shared by every chart the process renders, so the same
 *  chart would get other ids in another cell order. Ids derived from the chart's spec (without
 *  its measured rows) are the same every run and still differ between charts on one page. */
function nameClipPaths(svg: string, spec: Spec): string {
  if (!svg.includes("<clipPath")) return svg;
  const { datasets: _rows, ...shape } = spec;
  const prefix = createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 8);
  const ids = new Map<string, string>();
  const rename = (id: string) => ids.get(id) ?? ids.set(id, `wirebook-${prefix}-clip${ids.size + 1}`).get(id)!;
  return svg.replace(/(id="|url\(#)(clip\d+)/g, (_, before: string, id: string) => before + rename(id));
}

/** Marks clipped to the plot area, and each mark drawn from the "measured" dataset described as
 *  "measured <type>" (its ARIA role description, which the SVG carries and the sanitizer's
 *  chart-measured-mark rule keys on). Vega sizes the SVG to hold everything drawn, so a measured
 *  point beyond a fixed domain (a sample at 5,010 ms on a 5,000 ms axis) would otherwise change
 *  the chart's width and height, not only its data marks. A layer inherits its parent's data. */
function markMeasured(spec: Spec, inherited: boolean): Spec {
  const measured = spec.data ? spec.data.name === "measured" : inherited;
  const withClip = (mark: unknown) => {
    const def = typeof mark === "string" ? { type: mark } : (mark as Spec);
    return { ...def, clip: true, ...(measured ? { ariaRoleDescription: `measured ${def.type}` } : {}) };
  };
  return {
    ...spec,
    ...(spec.mark ? { mark: withClip(spec.mark) } : {}),
    ...(spec.layer ? { layer: spec.layer.map((l: Spec) => markMeasured(l, measured)) } : {}),
  };
}

/** Measured charts keep their rows in a dataset named "measured" and need fixed axis domains:
 *  then a run with other numbers changes only the data marks, which the replay's sanitizer rule
 *  (fixtures/nbval-sanitize.cfg) covers, and everything else in the SVG is compared. */
function dataOf(values: object[], measured: boolean | undefined, axes: Axis[]): Spec {
  if (!measured) return { data: { values } };
  const loose = axes.find((a) => !a.domain);
  if (loose)
    throw new PlotError(
      `a measured chart needs a fixed domain on its "${loose.title}" axis, so that replay can compare it`,
    );
  return { datasets: { measured: values }, data: { name: "measured" } };
}

export interface Axis {
  title: string;
  /** Fixed scale domain: keeps axes identical from run to run when the data is measured. */
  domain?: [number, number];
  log?: boolean;
}

const scaleOf = (a: Axis) => ({
  ...(a.domain ? { domain: a.domain } : {}),
  ...(a.log ? { type: "log" } : { zero: false }),
});

export interface TraceOptions {
  title: string;
  x: Axis;
  y: Axis;
  /** One array of [x, y] points per series name. */
  series: Record<string, Array<[number, number]>>;
  /** Draw steps (a value holds until the next sample), e.g. a congestion window. */
  step?: boolean;
  /** Vertical rules at events (loss, phase change), labelled. */
  events?: Array<{ x: number; label: string }>;
  /** The data comes from a measurement and changes from run to run. */
  measured?: boolean;
}

/** Line or step traces over time, several series, with optional event markers. */
export async function traces(o: TraceOptions): Promise<Chart> {
  const values = Object.entries(o.series).flatMap(([series, pts]) => pts.map(([x, y]) => ({ series, x, y })));
  const layers: Spec[] = [
    {
      mark: { type: "line", interpolate: o.step ? "step-after" : "linear" },
      encoding: {
        x: { field: "x", type: "quantitative", title: o.x.title, scale: scaleOf(o.x) },
        y: { field: "y", type: "quantitative", title: o.y.title, scale: scaleOf(o.y) },
        // Every declared series is in the legend, also one that a measurement left without points.
        color: { field: "series", type: "nominal", title: null, scale: { domain: Object.keys(o.series).sort() } },
      },
    },
  ];
  if (o.events?.length) {
    layers.push(
      {
        data: { values: o.events },
        mark: { type: "rule", strokeDash: [4, 3], color: "gray" },
        encoding: { x: { field: "x", type: "quantitative" } },
      },
      {
        data: { values: o.events },
        mark: { type: "text", angle: 270, align: "right", baseline: "bottom", dy: -2, y: 4, color: "gray" },
        encoding: { x: { field: "x", type: "quantitative" }, text: { field: "label" } },
      },
    );
  }
  const names = Object.keys(o.series);
  // A measurement may yield a different number of samples each run; its summary does not count them.
  const points = o.measured ? "measured data" : `${values.length} points`;
  const summary =
    `${o.title}: ${names.length} series (${names.join(", ")}), ${points}` +
    (o.events?.length ? `, ${o.events.length} events` : "");
  return chart({ title: o.title, ...dataOf(values, o.measured, [o.x, o.y]), layer: layers }, summary);
}

export interface HistogramOptions {
  title: string;
  /** The x axis; its domain is the histogram's range, split into `bins` equal bins. */
  x: Axis & { domain: [number, number] };
  values: number[];
  bins?: number;
  measured?: boolean;
}

/** A histogram of samples (latencies, sizes) over a fixed range: every bin is drawn, even an
 *  empty one, so the chart has the same marks whatever the samples. Samples outside the range
 *  are counted in the first or last bin. */
export async function histogram(o: HistogramOptions): Promise<Chart> {
  const bins = o.bins ?? 30;
  const [lo, hi] = o.x.domain;
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of o.values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  // Each bin's share of the samples, on a fixed 0-100 % axis: the axes never depend on the data.
  const values = counts.map((count, i) => ({
    start: lo + i * width,
    end: lo + (i + 1) * width,
    share: (100 * count) / Math.max(1, o.values.length),
  }));
  const spec = {
    title: o.title,
    ...dataOf(values, o.measured, [o.x]),
    mark: "bar",
    encoding: {
      x: { field: "start", type: "quantitative", title: o.x.title, scale: { domain: o.x.domain } },
      x2: { field: "end" },
      y: { field: "share", type: "quantitative", title: "share of samples (%)", scale: { domain: [0, 100] } },
      y2: { datum: 0 }, // bars rise from zero (x is a range, so vega-lite needs the baseline spelled out)
    },
  };
  return chart(spec, `${o.title}: histogram of ${o.values.length} samples in ${bins} bins`);
}

export interface BarOptions {
  title: string;
  /** One row per bar segment: the bar's category, an optional stack segment, its value. */
  rows: Array<{ category: string; segment?: string; value: number }>;
  x: { title: string };
  y: Axis;
  measured?: boolean;
}

/** Bars per category, stacked by segment when segments are given (e.g. requests per backend). */
export async function bars(o: BarOptions): Promise<Chart> {
  const stacked = o.rows.some((r) => r.segment !== undefined);
  const spec = {
    title: o.title,
    ...dataOf(o.rows, o.measured, [o.y]),
    mark: "bar",
    encoding: {
      x: { field: "category", type: "nominal", title: o.x.title, sort: null },
      y: { field: "value", type: "quantitative", title: o.y.title, scale: scaleOf({ ...o.y, log: false }) },
      ...(stacked ? { color: { field: "segment", type: "nominal", title: null } } : {}),
    },
  };
  const categories = [...new Set(o.rows.map((r) => r.category))];
  return chart(spec, `${o.title}: ${categories.length} bars${stacked ? " (stacked)" : ""}`);
}

export interface TimelineOptions {
  title: string;
  x: Axis;
  /** One bar per row: its lane (y), start and end (x), and an optional colour group. */
  rows: Array<{ lane: string; start: number; end: number; group?: string }>;
  measured?: boolean;
}

/** Intervals on lanes (requests over time, stream deliveries): a Gantt-style chart. */
export async function timeline(o: TimelineOptions): Promise<Chart> {
  const grouped = o.rows.some((r) => r.group !== undefined);
  const spec = {
    title: o.title,
    ...dataOf(o.rows, o.measured, [o.x]),
    mark: "bar",
    encoding: {
      y: { field: "lane", type: "nominal", title: null, sort: null },
      x: { field: "start", type: "quantitative", title: o.x.title, scale: scaleOf(o.x) },
      x2: { field: "end" },
      ...(grouped ? { color: { field: "group", type: "nominal", title: null } } : {}),
    },
  };
  const lanes = new Set(o.rows.map((r) => r.lane)).size;
  return chart(spec, `${o.title}: ${o.rows.length} intervals on ${lanes} lanes`);
}
