// The headless runner: runNotebook (kernel/runner.ts) and its CLI (kernel/run.ts).
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readNotebook, writeNotebook, type Cell, type Notebook, type Output } from "../../kernel/nbformat";
import { runNotebook, type RunResult } from "../../kernel/runner";
import { isRunning, root, runTs, waitFor, type Finished } from "../support/process";

const base = realpathSync(mkdtempSync(join(tmpdir(), "wb-runner-")));
const started: number[] = []; // kernel pids seen, killed in afterAll if a test left one behind

type CellSpec = string | { source: string; tags?: string[]; outputs?: Output[]; markdown?: boolean };

/** Writes a notebook into its own folder (the folder is the kernel's cwd) and returns its path. */
function notebook(name: string, cells: CellSpec[]): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((spec, i): Cell => {
      const c = typeof spec === "string" ? { source: spec } : spec;
      if ("markdown" in c && c.markdown)
        return { id: `md-${i}`, cell_type: "markdown", source: c.source, metadata: {} };
      const stored = "outputs" in c && c.outputs;
      return {
        id: `cell-${i}`,
        cell_type: "code",
        source: c.source,
        metadata: "tags" in c && c.tags ? { tags: c.tags } : {},
        execution_count: stored ? 99 : null,
        outputs: stored || [],
      };
    }),
  };
  const path = join(dir, `${name}.ipynb`);
  writeNotebook(path, nb);
  return path;
}

const textOf = (cell: Cell) =>
  (cell.outputs ?? [])
    .filter((o): o is Extract<Output, { output_type: "stream" }> => o.output_type === "stream" && o.name === "stdout")
    .map((o) => o.text)
    .join("");
const cellById = (nb: Notebook, id: string) => nb.cells.find((c) => c.id === id)!;
/** The pid a cell printed with console.log(process.pid). */
function pidFrom(nb: Notebook, id: string): number {
  const pid = Number(textOf(cellById(nb, id)).trim());
  expect(pid, "kernel pid printed by the notebook").toBeGreaterThan(0);
  started.push(pid);
  return pid;
}

// ---- the notebooks --------------------------------------------------------------------------

const RUNS =
  '(globalThis as any).runs = ((globalThis as any).runs ?? 0) + 1;\nconsole.log("runs:", (globalThis as any).runs);';
// Each run records how many times the cell above had run: "2,2" if each cell runs twice in a row.
const SEEN = [
  "const seen: number[] = ((globalThis as any).seen ??= []);",
  "seen.push((globalThis as any).runs);",
  'console.log("seen:", seen.join(","));',
].join("\n");

const basic = notebook("basic", [
  { markdown: true, source: "# A notebook\n\nwith *markdown*" },
  "console.log(process.cwd());", // cell-1
  "const xs = [1, 2, 3];\nxs.map((x) => x * 2)", // cell-2
  { source: 'throw new Error("expected failure");', tags: ["raises-exception"] }, // cell-3
  {
    source: 'console.log("a skipped cell ran");\nthrow new Error("a skipped cell must not run");',
    tags: ["nbval-skip"],
    outputs: [{ output_type: "stream", name: "stdout", text: "stored output\n" }],
  }, // cell-4
  RUNS, // cell-5
  SEEN, // cell-6
  "console.log(process.pid);", // cell-7
  'console.log("done", xs.length);', // cell-8
]);

const failing = notebook("failing", [
  "console.log(process.pid);",
  "function explode(n: number): never {\n  throw new TypeError(`bad packet ${n}`);\n}\nexplode(7);",
  'console.log("unreachable");',
]);

const spinning = notebook("spinning", [
  "console.log(process.pid);",
  'console.log("spinning");\nwhile (true) {}',
  'console.log("unreachable");',
]);

// Runs each cell twice in a row without complaint, but not the whole notebook twice: the last
// cell closes what the first made, and the first does not make it again.
const closesForGood = notebook("closes-for-good", [
  "const door = ((globalThis as any).door ??= { open: true });",
  'if (!door.open) throw new Error("the door was closed");\nconsole.log("through the door");',
  "door.open = false;",
]);

const second = notebook("second", ['console.log("second notebook");', "console.log(process.pid);"]);

// ---- runNotebook ----------------------------------------------------------------------------

describe("runNotebook", () => {
  let result: RunResult;
  beforeAll(async () => {
    result = await runNotebook(basic, { timeoutSeconds: 60 });
  }, 60_000);

  it("runs every code cell and stores its outputs", () => {
    expect(result.failure).toBeNull();
    expect(result.codeCells).toBe(8);
    expect(result.executed).toBe(7);
    expect(result.skipped).toBe(1);
    const nb = result.notebook;
    expect(cellById(nb, "cell-2").outputs).toEqual([
      {
        output_type: "execute_result",
        execution_count: expect.any(Number),
        data: { "text/plain": "[ 2, 4, 6 ]" },
        metadata: {},
      },
    ]);
    expect(textOf(cellById(nb, "cell-8"))).toBe("done 3\n");
    expect(nb.cells[0]).toMatchObject({ cell_type: "markdown", source: "# A notebook\n\nwith *markdown*" });
  });

  it("sets execution counts in order", () => {
    const counts = ["cell-1", "cell-2", "cell-3", "cell-5", "cell-6", "cell-7", "cell-8"].map(
      (id) => cellById(result.notebook, id).execution_count,
    );
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("runs the kernel in the notebook's folder", () => {
    expect(textOf(cellById(result.notebook, "cell-1"))).toBe(join(base, "basic") + "\n");
  });

  it("lets a cell tagged raises-exception fail, and goes on", () => {
    const outs = cellById(result.notebook, "cell-3").outputs!;
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({ output_type: "error", ename: "Error", evalue: "expected failure" });
    expect(result.executedIds.has("cell-8")).toBe(true);
  });

  it("does not execute nbval-skip cells; they keep their stored outputs", () => {
    const skipped = cellById(result.notebook, "cell-4");
    expect(result.executedIds.has("cell-4")).toBe(false);
    expect(skipped.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "stored output\n" }]);
    expect(skipped.execution_count).toBe(99);
  });

  it("executes each cell once without rerun", () => {
    expect(textOf(cellById(result.notebook, "cell-5"))).toBe("runs: 1\n");
    expect(textOf(cellById(result.notebook, "cell-6"))).toBe("seen: 1\n");
  });

  it("shuts its kernel down", async () => {
    const pid = pidFrom(result.notebook, "cell-7");
    expect(await waitFor(() => !isRunning(pid), 5000)).toBe(true);
  });

  it("reports a failing cell with its number, source and traceback, and stops there", async () => {
    const r = await runNotebook(failing);
    expect(r.failure).toMatchObject({
      cellNumber: 2,
      cellIndex: 1,
      ename: "TypeError",
      evalue: "bad packet 7",
      timedOut: false,
    });
    expect(r.failure!.source).toContain("function explode");
    expect(r.failure!.traceback.join("\n")).toMatch(/Cell \[2\], line 2/);
    expect(r.executed).toBe(2);
    expect(r.executedIds.has(r.notebook.cells[2].id)).toBe(false);
    expect(isRunning(pidFrom(r.notebook, r.notebook.cells[0].id))).toBe(false);
  });

  it("interrupts a cell over the timeout and reports a timeout", async () => {
    const r = await runNotebook(spinning, { timeoutSeconds: 2 });
    expect(r.failure).toMatchObject({ cellNumber: 2, timedOut: true });
    expect(r.failure!.ename).toBe("Timeout");
    expect(textOf(r.notebook.cells[1])).toBe("spinning\n");
    expect(r.executedIds.has(r.notebook.cells[2].id)).toBe(false);
    expect(isRunning(pidFrom(r.notebook, r.notebook.cells[0].id))).toBe(false);
  });

  it("with rerun, runs each cell twice in a row, then the whole notebook again; keeps the last outputs", async () => {
    const passes: number[] = [];
    const r = await runNotebook(basic, { rerun: true, onCell: (e) => e.phase === "done" && passes.push(e.pass) });
    expect(r.failure).toBeNull();
    expect(textOf(cellById(r.notebook, "cell-5"))).toBe("runs: 3\n");
    // "2,2": the cell above ran twice before this one ran (twice); "3": then all once more, in order.
    expect(textOf(cellById(r.notebook, "cell-6"))).toBe("seen: 2,2,3\n");
    // The second pass runs each cell once: cell-5 follows cell-3 (cell-4 is skipped) by one count.
    expect(cellById(r.notebook, "cell-5").execution_count).toBe(cellById(r.notebook, "cell-3").execution_count! + 1);
    expect(cellById(r.notebook, "cell-3").execution_count).toBe(2 * 7 + 3); // 7 cells twice, then cell-1..3
    expect(passes).toEqual([...Array(7).fill(1), ...Array(7).fill(2)]);
    expect(r.executed).toBe(7);
    expect(r.executedIds.has("cell-4")).toBe(false);
  });

  it("with rerun, a cell that fails only when the whole notebook runs again is reported, pass 2", async () => {
    expect((await runNotebook(closesForGood)).failure).toBeNull();
    const r = await runNotebook(closesForGood, { rerun: true });
    expect(r.failure).toMatchObject({ cellNumber: 2, cellIndex: 1, pass: 2, evalue: "the door was closed" });
    expect(r.executed).toBe(3);
  });

  it("keeps the widgets' state in the notebook's metadata, and none where no widget was made", async () => {
    // The notebook's folder reaches the helpers as the notebooks/ folder does: node_modules/wirebook.
    mkdirSync(join(base, "widget", "node_modules"), { recursive: true });
    symlinkSync(root, join(base, "widget", "node_modules", "wirebook"));
    const withWidget = await runNotebook(
      notebook("widget", [
        'import { intSlider } from "wirebook/helpers/view/widgets";\n' +
          'const loss = intSlider({ value: 3, max: 20, description: "loss %" });\nloss',
      ]),
    );
    unlinkSync(join(base, "widget", "node_modules", "wirebook")); // never left for a recursive remove
    expect(withWidget.failure).toBeNull();
    const doc = withWidget.notebook.metadata.widgets["application/vnd.jupyter.widget-state+json"];
    expect(doc).toMatchObject({ version_major: 2, version_minor: 0 });
    const states = Object.values(doc.state) as Array<Record<string, any>>;
    expect(states.find((s) => s.model_name === "IntSliderModel")?.state).toMatchObject({ value: 3, max: 20 });
    expect(result.notebook.metadata.widgets).toBeUndefined(); // the basic notebook has none
  });

  it("fails a cell tagged raises-exception that raises nothing", async () => {
    const r = await runNotebook(notebook("quiet", [{ source: "1 + 1", tags: ["raises-exception"] }]));
    expect(r.failure).toMatchObject({ cellNumber: 1, ename: "MissingException" });
  });
});

// ---- the CLI --------------------------------------------------------------------------------

const cli = (args: string[], timeoutMs = 55_000) => runTs("kernel/run.ts", args, { cwd: root, timeoutMs });
const outDir = (name: string) => join(base, "out", name);
/** The rows of the final table, as {notebook, cells, status, seconds}. */
function table(stdout: string) {
  const lines = stdout.split("\n");
  const head = lines.findIndex((l) => /^notebook\s+cells\s+status\s+seconds$/.test(l.trim()));
  expect(head, `no table in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  expect(lines[head + 1]).toMatch(/^-+(\s+-+){3}$/);
  const rows = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.trim()) break;
    const [notebook, cells, status, seconds] = line.trim().split(/\s+/);
    rows.push({ notebook, cells, status, seconds });
  }
  return rows;
}
const explain = (r: Finished) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe("npm run notebooks (kernel/run.ts)", () => {
  it("runs a notebook and writes it with outputs into --out", async () => {
    const out = outDir("ok");
    const r = await cli([basic, "--out", out]);
    expect(r.code, explain(r)).toBe(0);
    const nb = readNotebook(join(out, "basic.ipynb"));
    expect(textOf(cellById(nb, "cell-1"))).toBe(join(base, "basic") + "\n");
    expect(cellById(nb, "cell-2").outputs![0]).toMatchObject({
      output_type: "execute_result",
      data: { "text/plain": "[ 2, 4, 6 ]" },
    });
    expect(cellById(nb, "cell-2").execution_count).toBe(2);
    expect(cellById(nb, "cell-4").outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "stored output\n" },
    ]);
    expect(JSON.parse(readFileSync(join(out, "basic.ipynb"), "utf8")).metadata.kernelspec.name).toBe("wirebook");
    // The source notebook is untouched.
    expect(readNotebook(basic).cells[2].outputs).toEqual([]);
    const rows = table(r.stdout);
    expect(rows).toEqual([
      { notebook: "basic", cells: "7/8", status: "ok", seconds: expect.stringMatching(/^\d+\.\d$/) },
    ]);
    expect(r.stdout).toContain("1 passed, 0 failed");
    expect(isRunning(pidFrom(nb, "cell-7"))).toBe(false);
  });

  it("--rerun executes each cell twice, then the whole notebook again", async () => {
    const out = outDir("rerun");
    const r = await cli([basic, "--rerun", "--out", out]);
    expect(r.code, explain(r)).toBe(0);
    const nb = readNotebook(join(out, "basic.ipynb"));
    expect(textOf(cellById(nb, "cell-5"))).toBe("runs: 3\n");
    expect(textOf(cellById(nb, "cell-6"))).toBe("seen: 2,2,3\n");
    expect(r.stdout).toMatch(/basic {2}cell 8\/8 {2}\d+\.\d\d s {2}\(again\)/);
    expect(isRunning(pidFrom(nb, "cell-7"))).toBe(false);
  });

  it("--rerun names a failure of the second pass as such", async () => {
    const r = await cli([closesForGood, "--rerun", "--out", outDir("closes-for-good")]);
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toContain(
      "closes-for-good.ipynb: cell 2 failed when the notebook ran again in the same kernel — " +
        "Error: the door was closed",
    );
  });

  it("a failing cell: non-zero exit, notebook name, cell number, source excerpt and traceback", async () => {
    const out = outDir("failing");
    const r = await cli([failing, "--out", out]);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.stderr).toContain("failing.ipynb");
    expect(r.stderr).toMatch(/cell 2 failed/);
    expect(r.stderr).toContain("TypeError: bad packet 7");
    expect(r.stderr).toMatch(/\|\s*function explode\(n: number\): never \{/);
    expect(r.stderr).toMatch(/\|\s*explode\(7\);/);
    expect(r.stderr).toMatch(/Cell \[2\], line 2/);
    expect(table(r.stdout)).toEqual([
      { notebook: "failing", cells: "2/3", status: "FAILED", seconds: expect.stringMatching(/^\d+\.\d$/) },
    ]);
    expect(r.stdout).toContain("0 passed, 1 failed");
    // The executed notebook is still written, with the error in place.
    const nb = readNotebook(join(out, "failing.ipynb"));
    expect(nb.cells[1].outputs![0]).toMatchObject({ output_type: "error", ename: "TypeError" });
    expect(isRunning(pidFrom(nb, nb.cells[0].id))).toBe(false);
  });

  it("a cell over --timeout is interrupted and reported as timeout", async () => {
    const out = outDir("spinning");
    const r = await cli([spinning, "--timeout", "2", "--out", out]);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.stderr).toMatch(/spinning\.ipynb: cell 2 failed/);
    expect(r.stderr).toMatch(/Timeout/);
    expect(table(r.stdout)).toEqual([
      { notebook: "spinning", cells: "2/3", status: "timeout", seconds: expect.stringMatching(/^\d+\.\d$/) },
    ]);
    const nb = readNotebook(join(out, "spinning.ipynb"));
    expect(isRunning(pidFrom(nb, nb.cells[0].id))).toBe(false);
  });

  it("--jobs 2 runs two notebooks at once", async () => {
    const out = outDir("jobs");
    const r = await cli([second, basic, "--jobs", "2", "--out", out]);
    expect(r.code, explain(r)).toBe(0);
    const lines = r.stdout.split("\n");
    const firstDone = lines.findIndex((l) => /^[✓✗] /.test(l));
    expect(
      lines
        .slice(0, firstDone)
        .filter((l) => l.startsWith("▶ "))
        .sort(),
    ).toEqual(["▶ basic", "▶ second"]);
    expect(table(r.stdout).map((row) => [row.notebook, row.cells, row.status])).toEqual([
      ["basic", "7/8", "ok"],
      ["second", "2/2", "ok"],
    ]);
    const a = readNotebook(join(out, "basic.ipynb"));
    const b = readNotebook(join(out, "second.ipynb"));
    expect(textOf(b.cells[0])).toBe("second notebook\n");
    const pids = [pidFrom(a, "cell-7"), pidFrom(b, b.cells[1].id)];
    expect(pids[0]).not.toBe(pids[1]);
    for (const pid of pids) expect(isRunning(pid)).toBe(false);
  });

  it("a malformed notebook gives one readable error line and a non-zero exit", async () => {
    const dir = join(base, "malformed");
    mkdirSync(dir, { recursive: true });
    const bad = join(dir, "broken.ipynb");
    writeFileSync(bad, '{"nbformat": 4, "cells": [');
    const r = await cli([bad, "--out", outDir("malformed")]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(bad);
    expect(r.stderr).not.toMatch(/^\s+at /m);

    const v3 = join(dir, "old.ipynb");
    writeFileSync(v3, JSON.stringify({ nbformat: 3, nbformat_minor: 0, metadata: {}, worksheets: [] }));
    const r3 = await cli([v3, "--out", outDir("malformed")]);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr.split("\n").filter((l) => l.trim())).toEqual([expect.stringContaining(v3)]);
  });

  it("a missing file gives one readable error line and a non-zero exit", async () => {
    const missing = join(base, "nowhere", "missing.ipynb");
    const r = await cli([missing, "--out", outDir("missing")]);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(missing);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it("a bad option gives one readable error line and a non-zero exit", async () => {
    for (const args of [["--frobnicate"], [basic, "--timeout", "soon"], [basic, "--jobs", "0"]]) {
      const r = await cli(args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(
        r.stderr.split("\n").filter((l) => l.trim()),
        args.join(" "),
      ).toHaveLength(1);
    }
  });
});

describe("npm run notebooks: bad input and stops", () => {
  it("each unreadable notebook fails alone, in one line: the good one beside them still runs", async () => {
    const dir = join(base, "mixed");
    mkdirSync(dir, { recursive: true });
    const bad = {
      "not-json": ["{ nbformat: 4", "not a readable JSON notebook"],
      "nbformat-3": [JSON.stringify({ nbformat: 3, worksheets: [] }), "nbformat 3 is not supported (need 4)"],
      "source-42": [JSON.stringify({ nbformat: 4, cells: [{ cell_type: "code", source: 42 }] }), 'cell 1: "source"'],
      python: [
        JSON.stringify({ nbformat: 4, metadata: { kernelspec: { language: "python" } }, cells: [] }),
        "a python notebook; this kernel runs TypeScript",
      ],
    };
    const files = Object.entries(bad).map(([name, [content]]) => {
      writeFileSync(join(dir, `${name}.ipynb`), content);
      return join(dir, `${name}.ipynb`);
    });
    const missing = join(dir, "missing.ipynb");
    const r = await cli([...files, missing, second, "--out", outDir("mixed")]);
    expect(r.code, explain(r)).toBe(1);
    const unreadable = { cells: "-", status: "unreadable", seconds: "-" };
    expect(table(r.stdout)).toEqual([
      { notebook: "missing", ...unreadable },
      { notebook: "nbformat-3", ...unreadable },
      { notebook: "not-json", ...unreadable },
      { notebook: "python", ...unreadable },
      { notebook: "source-42", ...unreadable },
      { notebook: "second", cells: "2/2", status: "ok", seconds: expect.stringMatching(/^\d+\.\d$/) }, // by path
    ]);
    const lines = r.stderr.split("\n").filter((l) => l.trim());
    expect(lines).toHaveLength(5);
    for (const [i, [, why]] of Object.values(bad).entries()) expect(lines[i]).toContain(`✗ ${files[i]}: ${why}`);
    expect(lines[4]).toBe(`✗ ${missing}: no such notebook`);
    expect(existsSync(join(outDir("mixed"), "second.ipynb"))).toBe(true);
  });

  it("a cell that prints 100 MB: the notebook keeps the first 8 MiB and the cell fails with OutputLimit", async () => {
    const path = notebook("loud", [
      'const loudLine = "x".repeat(1023) + "\\n";\n' +
        "for (let i = 0; i < 100 * 1024; i++) process.stdout.write(loudLine);",
      'console.log("not reached");',
    ]);
    const r = await cli([path, "--out", outDir("loud")], 120_000);
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toContain("OutputLimit: the cell printed 104857600 bytes; the kernel keeps the first 8388608");
    const nb = readNotebook(join(outDir("loud"), "loud.ipynb"));
    expect(textOf(nb.cells[0]).length).toBe(8 * 1024 * 1024);
    expect(nb.cells[1].outputs).toEqual([]);
  }, 130_000);

  it("an --out that cannot be written is one error line before anything runs (exit 2)", async () => {
    const r = await cli([second, "--out", join(second, "inside-a-file")]);
    expect(r.code, explain(r)).toBe(2);
    expect(r.stdout).not.toContain("▶");
    expect(r.stderr.trim()).toBe(`notebooks: cannot write into ${join(second, "inside-a-file")} (ENOTDIR)`);
  });

  it("a second runner writing into the same folder is refused; a lock left by a dead runner is taken", async () => {
    const out = outDir("locked");
    mkdirSync(out, { recursive: true });
    const lock = join(out, ".wirebook-run.lock");
    writeFileSync(lock, String(process.pid)); // this test process stands for a live runner
    const refused = await cli([second, "--out", out]);
    expect(refused.code, explain(refused)).toBe(2);
    expect(refused.stderr.trim()).toBe(
      `notebooks: another runner (pid ${process.pid}) is writing into ${out}; wait for it or stop it`,
    );
    const dead = spawn("true");
    await new Promise((r) => dead.once("exit", r));
    writeFileSync(lock, String(dead.pid));
    const taken = await cli([second, "--out", out]);
    expect(taken.code, explain(taken)).toBe(0);
    expect(existsSync(lock)).toBe(false); // removed on exit
  });

  const stops: Array<[NodeJS.Signals, number]> = [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ];
  it.each(stops)(
    "%s: the cell stops, its kernel and children end, the notebook is not rewritten (exit %i)",
    async (signal, code) => {
      const name = `stopped-${signal}`;
      const path = notebook(name, [
        'import { spawn } from "node:child_process";\nimport { writeFileSync } from "node:fs";',
        'const child = spawn("sleep", ["120"]);\nwriteFileSync("pids", `${process.pid} ${child.pid}`);',
        "await new Promise((r) => setTimeout(r, 120_000));",
      ]);
      const before = readFileSync(path, "utf8");
      const pidFile = join(base, name, "pids");
      const runner = spawn(process.execPath, ["--require", "tsx/cjs", "kernel/run.ts", path, "--inplace"], {
        cwd: root,
        stdio: "ignore",
      });
      const exited = new Promise<number | null>((r) => runner.once("exit", (code) => r(code)));
      expect(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8").includes(" "), 45_000)).toBe(
        true,
      );
      const pids = readFileSync(pidFile, "utf8").split(" ").map(Number);
      started.push(...pids);
      runner.kill(signal);
      expect(await exited).toBe(code);
      for (const pid of pids) expect(await waitFor(() => !isRunning(pid), 5000), `pid ${pid} still runs`).toBe(true);
      expect(readFileSync(path, "utf8")).toBe(before);
    },
  );

  it("a kernel that runs out of memory is reported as OutOfMemory, not as a bare crash", async () => {
    const path = notebook("hog", ["const hog: number[][] = [];\nwhile (true) hog.push(new Array(1e6).fill(1));"]);
    // A small heap (the runner's too) so that it runs out in seconds.
    const env = { ...process.env, NODE_OPTIONS: "--max-old-space-size=128" };
    const r = await runTs("kernel/run.ts", [path, "--out", outDir("hog")], { cwd: root, env, timeoutMs: 120_000 });
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toContain("OutOfMemory: the kernel ran out of memory");
  }, 130_000);
});

// ---- orphaned kernels -----------------------------------------------------------------------

describe("when the runner is killed with SIGKILL mid-notebook", () => {
  /** Starts the CLI on a notebook whose first cell writes the kernel's pid and then keeps running. */
  async function killRunnerDuring(name: string, cell: string) {
    const path = notebook(name, [
      `import { writeFileSync } from "fs";\nwriteFileSync("kernel.pid", String(process.pid));\n${cell}`,
    ]);
    const pidFile = join(base, name, "kernel.pid");
    const runner = spawn(
      process.execPath,
      ["--require", "tsx/cjs", "kernel/run.ts", path, "--timeout", "300", "--out", outDir(name)],
      {
        cwd: root,
        stdio: "ignore",
      },
    );
    const exited = new Promise((r) => runner.once("exit", r));
    try {
      const sawPid = await waitFor(() => existsSync(pidFile) && /^\d+$/.test(readFileSync(pidFile, "utf8")), 45_000);
      expect(sawPid, "the cell wrote the kernel pid").toBe(true);
    } finally {
      runner.kill("SIGKILL");
      await exited;
    }
    const kernelPid = Number(readFileSync(pidFile, "utf8"));
    started.push(kernelPid);
    expect(kernelPid).not.toBe(runner.pid);
    return kernelPid;
  }

  it("its kernel exits by itself within a few seconds (cell awaiting)", async () => {
    const pid = await killRunnerDuring("orphan-await", "await new Promise((r) => setTimeout(r, 120_000));");
    expect(await waitFor(() => !isRunning(pid), 10_000)).toBe(true);
  });

  it("its kernel exits by itself within a few seconds (cell busy in a loop)", async () => {
    const pid = await killRunnerDuring("orphan-busy", "while (true) {}");
    expect(await waitFor(() => !isRunning(pid), 10_000)).toBe(true);
  });
});

afterAll(() => {
  // Never leave a kernel behind, even when a test failed.
  for (const pid of started) if (isRunning(pid)) process.kill(pid, "SIGKILL");
  rmSync(base, { recursive: true, force: true });
});
