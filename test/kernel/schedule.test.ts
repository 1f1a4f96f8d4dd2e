// kernel/schedule.ts: notebooks that measure run alone; the others share the machine, `jobs` at once.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { measures, schedule } from "../../kernel/schedule";

const dir = mkdtempSync(join(tmpdir(), "wirebook-schedule-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function notebook(name: string, wirebook?: unknown): string {
  const path = join(dir, `${name}.ipynb`);
  writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: { wirebook }, cells: [] }));
  return path;
}

/** Runs the schedule with tasks that take `ms` each; records who ran beside whom. */
async function trace(files: string[], jobs: number, ms = 20) {
  const live = new Set<string>();
  const overlaps: string[][] = [];
  const order: string[] = [];
  const results = await Promise.all(
    schedule(files, jobs, async (f) => {
      live.add(f);
      order.push(f);
      overlaps.push([...live]);
      await new Promise((r) => setTimeout(r, ms));
      live.delete(f);
      return `done ${f}`;
    }),
  );
  return { results, overlaps, order };
}

describe("schedule", () => {
  it("reads what a notebook measures from its metadata, and nothing from anything else", () => {
    expect(measures(notebook("m", { measures: "round trips" }))).toBe("round trips");
    expect(measures(notebook("plain"))).toBeUndefined();
    expect(measures(notebook("odd", { measures: 42 }))).toBeUndefined();
    expect(measures(join(dir, "missing.ipynb"))).toBeUndefined();
    writeFileSync(join(dir, "bad.ipynb"), "not json");
    expect(measures(join(dir, "bad.ipynb"))).toBeUndefined();
  });

  it("runs plain notebooks `jobs` at a time and a measuring one alone, each result in list order", async () => {
    const plain = ["a", "b", "c", "d"].map((n) => notebook(n));
    const solo = notebook("solo", { measures: "throughput" });
    const files = [plain[0], plain[1], solo, plain[2], plain[3]];
    const { results, overlaps, order } = await trace(files, 2);
    expect(results).toEqual(files.map((f) => `done ${f}`));
    expect(order).toEqual(files);
    expect(Math.max(...overlaps.map((o) => o.length))).toBe(2);
    // When the measuring notebook started, nothing else was running; and nothing started beside it.
    for (const o of overlaps) if (o.includes(solo)) expect(o).toEqual([solo]);
  });

  it("with one job, runs everything one at a time", async () => {
    const files = ["e", "f", "g"].map((n) => notebook(n));
    const { overlaps } = await trace(files, 1);
    expect(overlaps.every((o) => o.length === 1)).toBe(true);
  });

  it("a failed task rejects its own promise only; the rest still run", async () => {
    const files = ["h", "i", "j"].map((n) => notebook(n));
    const promises = schedule(files, 2, async (f) => {
      if (f === files[0]) throw new Error("boom");
      return f;
    });
    await expect(promises[0]).rejects.toThrow("boom");
    expect(await Promise.all(promises.slice(1))).toEqual(files.slice(1));
  });
});
