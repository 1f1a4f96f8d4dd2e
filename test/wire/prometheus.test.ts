// helpers/wire/prometheus: counters, gauges, histograms, the exposition format both ways.
import { describe, expect, it } from "vitest";
import { bucketQuantile, parseExposition, Registry, sampleOf } from "../../helpers/wire/prometheus";

describe("metrics", () => {
  it("counts, gauges and buckets, and renders the text format", () => {
    const r = new Registry();
    const c = r.counter("requests_total", "Requests.", ["code"]);
    const g = r.gauge("in_flight", "Requests in flight.");
    const h = r.histogram("latency_seconds", "Latency.", [0.1, 0.5]);
    c.inc(1, { code: "200" });
    c.inc(2, { code: "200" });
    c.inc(1, { code: "404" });
    g.inc();
    g.inc();
    g.dec();
    for (const v of [0.05, 0.1, 0.3, 2]) h.observe(v);
    expect(r.render()).toBe(
      [
        "# HELP requests_total Requests.",
        "# TYPE requests_total counter",
        'requests_total{code="200"} 3',
        'requests_total{code="404"} 1',
        "# HELP in_flight Requests in flight.",
        "# TYPE in_flight gauge",
        "in_flight 1",
        "# HELP latency_seconds Latency.",
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{le="0.1"} 2',
        'latency_seconds_bucket{le="0.5"} 3',
        'latency_seconds_bucket{le="+Inf"} 4',
        "latency_seconds_sum 2.45",
        "latency_seconds_count 4",
        "",
      ].join("\n"),
    );
    expect(() => c.inc(-1, { code: "200" })).toThrow(/only goes up/);
    expect(() => c.inc(1)).toThrow(/takes labels \{code\}/);
    expect(() => r.gauge("in_flight", "again")).toThrow(/twice/);
    expect(() => r.histogram("h", "x", [1, 1])).toThrow(/strictly increasing/);
  });

  it("parses what it renders, escapes included, and rejects malformed lines", () => {
    const r = new Registry();
    r.counter("odd_total", "Help with \\ and\nnewline.", ["path"]).inc(5, { path: 'a "quoted"\\path\n' });
    r.histogram("h", "H.", [1]).observe(3);
    const e = parseExposition(r.render());
    expect(e.families.odd_total).toEqual({ type: "counter", help: "Help with \\ and\nnewline." });
    expect(sampleOf(e, "odd_total")).toEqual({ name: "odd_total", labels: { path: 'a "quoted"\\path\n' }, value: 5 });
    expect(sampleOf(e, "h_bucket", { le: "+Inf" })?.value).toBe(1);
    expect(sampleOf(e, "h_bucket", { le: "1" })?.value).toBe(0);
    expect(() => parseExposition("x{a=1} 2")).toThrow(/bad label/);
    expect(() => parseExposition("x two")).toThrow(/line 1 .*not a number/);
  });

  it("estimates quantiles from buckets as histogram_quantile does", () => {
    const b = [
      { le: 1, count: 50 },
      { le: 2, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(bucketQuantile(0.5, b)).toBe(1);
    expect(bucketQuantile(0.75, b)).toBe(1.5);
    expect(bucketQuantile(0.25, b)).toBe(0.5);
    expect(
      bucketQuantile(0.99, [
        { le: 1, count: 1 },
        { le: Infinity, count: 10 },
      ]),
    ).toBe(1);
  });
});
