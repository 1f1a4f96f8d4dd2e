// The runner's command line (kernel/runner.ts runs each notebook), with a table of the results:
// npm run notebooks -- [FILES...] [--inplace | --out DIR] [--timeout SECONDS] [--jobs N] [--rerun]
// --rerun: every cell twice in a row, then the whole notebook once more in the same kernel.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { builtLine, refreshHelperTypes } from "./helper-types";
import { NotebookError, readNotebook, writeNotebook } from "./nbformat";
import { missingPeersLine } from "./peers";
import { runNotebook, stopAll, type RunResult } from "./runner";
import { schedule } from "./schedule";

const USAGE = "usage: npm run notebooks -- [FILES...] [--inplace | --out DIR] [--timeout SECONDS] [--jobs N] [--rerun]";
const root = resolve(__dirname, "..");

interface Args {
  files: string[];
  inplace: boolean;
  out: string;
  timeout: number;
  jobs: number;
  rerun: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    files: [],
    inplace: false,
    out: join(root, "out"),
    timeout: 120,
    jobs: availableParallelism(),
    rerun: false,
  };
  const number = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--inplace") args.inplace = true;
    else if (a === "--rerun") args.rerun = true;
    else if (a === "--out") args.out = resolve(argv[++i] ?? "");
    else if (a === "--timeout") args.timeout = number(a, argv[++i]);
    else if (a === "--jobs") args.jobs = Math.floor(number(a, argv[++i]));
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else args.files.push(resolve(a));
  }
  if (args.inplace && argv.includes("--out")) throw new Error("--inplace and --out exclude each other");
  if (!args.files.length) {
    const dir = join(root, "notebooks");
    args.files = readdirSync(dir)
      .filter((f) => f.endsWith(".ipynb"))
      .sort()
      .map((f) => join(dir, f));
  }
  return args;
}

const name = (path: string) => basename(path, ".ipynb");

function excerpt(source: string, lines = 8): string {
  const all = source.split("\n");
  const shown = all.slice(0, lines).map((l) => `    | ${l}`);
  if (all.length > lines) shown.push(`    | … (${all.length - lines} more lines)`);
  return shown.join("\n");
}

/** A notebook that could not be read: it fails alone, the others still run. */
interface Unreadable {
  path: string;
  error: string;
}
type Result = RunResult | Unreadable;
const isRun = (r: Result): r is RunResult => "notebook" in r;

function report(r: RunResult) {
  const f = r.failure!;
  const when = f.pass === 2 ? " when the notebook ran again in the same kernel" : "";
  console.error(`\n✗ ${basename(r.path)}: cell ${f.cellNumber} failed${when} — ${f.ename}: ${f.evalue}`);
  console.error(excerpt(f.source));
  if (f.traceback.length) console.error(f.traceback.map((l) => `    ${l}`).join("\n"));
}

const status = (r: Result) =>
  !isRun(r)
    ? "unreadable"
    : !r.failure
      ? "ok"
      : r.failure.timedOut
        ? "timeout"
        : r.failure.ename === "Stopped"
          ? "stopped"
          : "FAILED";

function table(results: Result[]) {
  const rows = results.map((r) =>
    isRun(r)
      ? [name(r.path), `${r.executed}/${r.codeCells}`, status(r), r.seconds.toFixed(1)]
      : [name(r.path), "-", status(r), "-"],
  );
  const head = ["notebook", "cells", "status", "seconds"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ");
  console.log("\n" + line(head));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

/** One runner at a time writes into a folder: a lock file holding its pid, taken up front (which
 *  also shows the folder is writable) and removed on exit. A lock whose runner is gone is taken over. */
function lockFolder(dir: string) {
  const lock = join(dir, ".wirebook-run.lock");
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(lock, String(process.pid), { flag: "wx" });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== "EEXIST") throw new Error(`cannot write into ${dir} (${err.code ?? err.message})`);
    const holder = Number(readFileSync(lock, "utf8"));
    if (holder && holder !== process.pid && alive(holder))
      throw new Error(`another runner (pid ${holder}) is writing into ${dir}; wait for it or stop it`);
    writeFileSync(lock, String(process.pid));
  }
  process.on("exit", () => rmSync(lock, { force: true }));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A notebook's code cells as one text (for finding the peers it runs); "" if it cannot be read. */
function codeOf(file: string): string {
  try {
    const nb = readNotebook(file);
    return nb.cells
      .filter((c) => c.cell_type === "code")
      .map((c) => c.source)
      .join("\n");
  } catch {
    return "";
  }
}

let stopped = false;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const folders = args.inplace ? new Set(args.files.map((f) => dirname(f))) : new Set([args.out]);
  for (const dir of folders) lockFolder(dir);
  const missing = missingPeersLine(new Map(args.files.map((f) => [name(f), codeOf(f)])));
  if (missing) console.log(missing);
  try {
    const rebuilt = refreshHelperTypes();
    if (rebuilt) console.log(builtLine(rebuilt));
  } catch (e) {
    console.log(`${e instanceof Error ? e.message : e}; cells check the helpers' sources instead`);
  }
  const results: Result[] = [];
  const runOne = async (file: string) => {
    if (stopped) return;
    console.log(`▶ ${name(file)}`);
    let r: RunResult;
    try {
      r = await runNotebook(file, {
        timeoutSeconds: args.timeout,
        rerun: args.rerun,
        onCell: (e) => {
          if (e.phase === "done") {
            const again = e.pass === 2 ? "  (again)" : "";
            console.log(`  ${name(file)}  cell ${e.index}/${e.total}  ${e.seconds!.toFixed(2)} s${again}`);
          }
        },
      });
    } catch (e) {
      if (!(e instanceof NotebookError)) throw e;
      console.error(`✗ ${e.message}`);
      results.push({ path: file, error: e.message });
      return;
    }
    // A stopped notebook is not written: with --inplace it would lose its stored outputs.
    if (r.failure?.ename !== "Stopped") writeNotebook(args.inplace ? file : join(args.out, basename(file)), r.notebook);
    if (r.failure) report(r);
    console.log(`${r.failure ? "✗" : "✓"} ${name(file)} (${r.seconds.toFixed(1)} s)`);
    results.push(r);
  };
  // Notebooks that measure run alone (kernel/schedule.ts); the others up to --jobs at once.
  await Promise.all(schedule(args.files, args.jobs, runOne));
  results.sort((a, b) => a.path.localeCompare(b.path));
  table(results);
  const failed = results.filter((r) => !isRun(r) || r.failure).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  if (!args.inplace) console.log(`executed notebooks written to ${args.out}`);
  process.exitCode = failed ? 1 : 0;
}

// SIGINT or SIGTERM: the running cells are interrupted and their kernels shut down, closing what
// the cells opened (servers, labs, daemons); then the runner exits 130 or 143. A second signal
// does not wait. (On SIGKILL, kernels notice their runner is gone and exit: kernel/client.ts.)
for (const [sig, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(sig, () => {
    if (stopped) process.exit(code);
    stopped = true;
    console.error(`\nnotebooks: ${sig}: stopping the running notebooks (again to exit at once)`);
    void stopAll().finally(() => process.exit(code));
  });
}
main().catch((e) => {
  console.error(`notebooks: ${e.message}`);
  process.exit(2);
});
