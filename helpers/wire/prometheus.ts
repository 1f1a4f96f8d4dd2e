// Application metrics the way Prometheus client libraries keep them — counters (only go up),
// gauges (go up and down), histograms with fixed buckets (counts per upper bound, cumulative, plus
// a sum and a count) — and their text exposition format (version 0.0.4): a renderer and a parser
// that reads it back. Pure: the servers in net/services.ts count with it.

export type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
/** A sample value as the format writes it: +Inf, -Inf, NaN, or a decimal of at most 15
 *  significant digits (what a double holds exactly), so a sum of 0.0004 + 0.0007 + … prints as
 *  the decimal it stands for, not with binary rounding noise in the 17th digit. */
export const formatValue = (v: number) =>
  v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : Number.isNaN(v) ? "NaN" : String(Number(v.toPrecision(15)));
const labelText = (labels: Labels) => {
  const keys = Object.keys(labels).sort();
  return keys.length ? `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(",")}}` : "";
};

abstract class Metric {
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: string[] = [],
  ) {
    if (!NAME.test(name)) throw new RangeError(`not a metric name: ${JSON.stringify(name)}`);
    for (const l of labelNames)
      if (!LABEL.test(l) || l === "le") throw new RangeError(`not a label name for ${name}: ${JSON.stringify(l)}`);
  }
  abstract readonly type: "counter" | "gauge" | "histogram";
  protected slot(labels: Labels = {}) {
    const given = Object.keys(labels).sort();
    if (given.join(",") !== [...this.labelNames].sort().join(","))
      throw new RangeError(`${this.name} takes labels {${this.labelNames.join(", ")}}, got {${given.join(", ")}}`);
    const key = labelText(labels);
    let s = this.values.get(key);
    if (!s) this.values.set(key, (s = { labels: { ...labels }, value: 0 }));
    return s;
  }
  /** The value for these labels (0 if never touched). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  /** The sample lines, without HELP and TYPE. */
  lines(): string[] {
    return [...this.values.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

/** A count of events since the process started: it only goes up (a restart resets it to 0). */
export class Counter extends Metric {
  readonly type = "counter" as const;
  inc(by = 1, labels?: Labels): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter only goes up, got inc(${by})`);
    this.slot(labels).value += by;
  }
}

/** A value that goes up and down: connections open now, a queue's length. */
export class Gauge extends Metric {
  readonly type = "gauge" as const;
  set(v: number, labels?: Labels): void {
    this.slot(labels).value = v;
  }
  inc(by = 1, labels?: Labels): void {
    this.slot(labels).value += by;
  }
  dec(by = 1, labels?: Labels): void {
    this.slot(labels).value -= by;
  }
}

/** Observations counted into fixed buckets: for each upper bound `le`, how many were <= it, plus
 *  their sum and count. Memory stays the same however many observations come; the price is that
 *  a quantile can only be estimated to within a bucket. */
export class Histogram extends Metric {
  readonly type = "histogram" as const;
  readonly buckets: number[];
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(name: string, help: string, buckets: number[]) {
    super(name, help);
    if (!buckets.length || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1])))
      throw new RangeError(`${name}: buckets must be finite and strictly increasing, got ${buckets.join(", ")}`);
    this.buckets = [...buckets, Infinity];
    this.counts = this.buckets.map(() => 0);
  }
  observe(v: number): void {
    if (Number.isNaN(v)) throw new RangeError(`${this.name}: cannot observe NaN`);
    this.counts[this.buckets.findIndex((le) => v <= le)]++;
    this.sum += v;
    this.count++;
  }
  /** Cumulative counts per upper bound (the last is +Inf and equals `count`), sum and count. */
  snapshot(): { buckets: Array<{ le: number; count: number }>; sum: number; count: number } {
    let running = 0;
    return {
      buckets: this.buckets.map((le, i) => ({ le, count: (running += this.counts[i]) })),
      sum: this.sum,
      count: this.count,
    };
  }
  override get(): number {
    return this.count;
  }
  override lines(): string[] {
    const s = this.snapshot();
    return [
      ...s.buckets.map((b) => `${this.name}_bucket{le="${formatValue(b.le)}"} ${b.count}`),
      `${this.name}_sum ${formatValue(s.sum)}`,
      `${this.name}_count ${s.count}`,
    ];
  }
}

/** Estimates the q-quantile (0..1) from cumulative buckets as Prometheus's histogram_quantile
 *  does: find the bucket the rank falls in and interpolate linearly inside it (from 0 for the
 *  first bucket). A rank in the +Inf bucket gets the highest finite bound. */
export function bucketQuantile(q: number, buckets: Array<{ le: number; count: number }>): number {
  const total = buckets[buckets.length - 1].count;
  if (!total) return NaN;
  const rank = q * total;
  const i = buckets.findIndex((b) => b.count >= rank);
  if (buckets[i].le === Infinity) return buckets[buckets.length - 2]?.le ?? NaN;
  const lo = i === 0 ? 0 : buckets[i - 1].le;
  const below = i === 0 ? 0 : buckets[i - 1].count;
  const inBucket = buckets[i].count - below;
  return lo + (buckets[i].le - lo) * (inBucket ? (rank - below) / inBucket : 1);
}

/** The metrics of one process, rendered together. */
export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new RangeError(`metric ${m.name} is registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string, labelNames?: string[]): Counter {
    return this.add(new Counter(name, help, labelNames));
  }
  gauge(name: string, help: string, labelNames?: string[]): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }
  histogram(name: string, help: string, buckets: number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  /** The text exposition format: per metric a HELP line, a TYPE line, then its samples. */
  render(): string {
    return [...this.metrics.values()]
      .map(
        (m) => [`# HELP ${m.name} ${escapeHelp(m.help)}`, `# TYPE ${m.name} ${m.type}`, ...m.lines()].join("\n") + "\n",
      )
      .join("");
  }
}

// ---- reading the format back --------------------------------------------------------------------

export interface Sample {
  name: string;
  labels: Labels;
  value: number;
}
export interface Exposition {
  /** Per metric family: its TYPE and HELP. */
  families: Record<string, { type?: string; help?: string }>;
  samples: Sample[];
}

export class ExpositionError extends Error {
  readonly code = "ERR_EXPOSITION";
  constructor(line: number, text: string, reason: string) {
    super(`exposition line ${line + 1} ${JSON.stringify(text)}: ${reason}`);
    this.name = "ExpositionError";
  }
}

const parseValue = (s: string) =>
  s === "+Inf"
    ? Infinity
    : s === "-Inf"
      ? -Infinity
      : s === "NaN"
        ? NaN
        : /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)
          ? Number(s)
          : undefined;

/** Parses the text exposition format (HELP, TYPE, samples with optional labels; timestamps are
 *  not accepted, as the renderer writes none). A malformed line is one ExpositionError. */
export function parseExposition(text: string): Exposition {
  const out: Exposition = { families: {}, samples: [] };
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const fail = (reason: string): never => {
      throw new ExpositionError(i, line, reason);
    };
    let m: RegExpExecArray | null;
    if ((m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line))) {
      const fam = (out.families[m[2]] ??= {});
      if (m[1] === "HELP") fam.help = m[3].replace(/\\(n|\\)/g, (_, c) => (c === "n" ? "\n" : "\\"));
      else if (["counter", "gauge", "histogram", "summary", "untyped"].includes(m[3])) fam.type = m[3];
      else fail(`unknown type ${m[3]}`);
      return;
    }
    if (line.startsWith("#")) return; // a comment
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) fail("expected name{labels} value");
    const labels: Labels = {};
    const body = m![3] ?? "";
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
    for (let at = 0; at < body.length;) {
      re.lastIndex = at;
      const l = re.exec(body);
      if (!l) fail(`bad label at ${JSON.stringify(body.slice(at))}`);
      labels[l![1]] = l![2].replace(/\\(n|"|\\)/g, (_, c) => (c === "n" ? "\n" : c));
      at = re.lastIndex;
    }
    const value = parseValue(m![4]);
    if (value === undefined) fail(`not a number: ${m![4]}`);
    out.samples.push({ name: m![1], labels, value: value! });
  });
  return out;
}

/** The one sample named `name` whose labels include `labels`, or undefined. */
export const sampleOf = (e: Exposition, name: string, labels: Labels = {}) =>
  e.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
