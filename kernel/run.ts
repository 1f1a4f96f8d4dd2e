// The runner's command line (kernel/runner.ts runs each notebook), with a table of the results:
// npm run notebooks -- [FILES...] [--inplace | --out DIR] [--timeout SECONDS] [--jobs N] [--rerun]
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { writeNotebook } from "./nbformat";
import { runNotebook, type RunResult } from "./runner";

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
  const args: Args = { files: [], inplace: false, out: join(root, "out"), timeout: 120, jobs: 1, rerun: false };
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
  for (const f of args.files) if (!existsSync(f)) throw new Error(`no such notebook: ${f}`);
  return args;
}

const name = (path: string) => basename(path, ".ipynb");

function excerpt(source: string, lines = 8): string {
  const all = source.split("\n");
  const shown = all.slice(0, lines).map((l) => `    | ${l}`);
  if (all.length > lines) shown.push(`    | … (${all.length - lines} more lines)`);
  return shown.join("\n");
}

function report(r: RunResult) {
  const f = r.failure!;
  console.error(`\n✗ ${basename(r.path)}: cell ${f.cellNumber} failed — ${f.ename}: ${f.evalue}`);
  console.error(excerpt(f.source));
  if (f.traceback.length) console.error(f.traceback.map((l) => `    ${l}`).join("\n"));
}

function table(results: RunResult[]) {
  const rows = results.map((r) => [
    name(r.path),
    `${r.executed}/${r.codeCells}`,
    r.failure ? (r.failure.timedOut ? "timeout" : "FAILED") : "ok",
    r.seconds.toFixed(1),
  ]);
  const head = ["notebook", "cells", "status", "seconds"];
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cols: string[]) => cols.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join("  ");
  console.log("\n" + line(head));
  console.log(width.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.inplace) mkdirSync(args.out, { recursive: true });
  const queue = [...args.files];
  const results: RunResult[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const file = next;
      console.log(`▶ ${name(file)}`);
      const r = await runNotebook(file, {
        timeoutSeconds: args.timeout,
        rerun: args.rerun,
        onCell: (e) => {
          if (e.phase === "done")
            console.log(`  ${name(file)}  cell ${e.index}/${e.total}  ${e.seconds!.toFixed(2)} s`);
        },
      });
      writeNotebook(args.inplace ? file : join(args.out, basename(file)), r.notebook);
      if (r.failure) report(r);
      console.log(`${r.failure ? "✗" : "✓"} ${name(file)} (${r.seconds.toFixed(1)} s)`);
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(args.jobs, args.files.length) }, worker));
  results.sort((a, b) => a.path.localeCompare(b.path));
  table(results);
  const failed = results.filter((r) => r.failure).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  if (!args.inplace) console.log(`executed notebooks written to ${args.out}`);
  process.exitCode = failed ? 1 : 0;
}

// Kernels die with us (kernel/client.ts kills them on exit).
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
main().catch((e) => {
  console.error(`notebooks: ${e.message}`);
  process.exit(2);
});
