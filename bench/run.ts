// npm run bench: measures the kernel beside raw tslab, alternating runs so both see the same
// machine state, and writes bench/results.json (one row per benchmark).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { KernelClient } from "../kernel/client";
import { nowMs, percentile } from "../helpers/measure";

interface Row {
  name: string;
  value: number;
  unit: string;
  reference: string;
  reference_value: number;
  /** value / reference_value; for times, below 1 means faster than the reference. */
  ratio: number;
  better: "lower" | "higher";
  samples: number;
}

const root = join(__dirname, "..");
const cwd = join(root, "notebooks");
const tslabArgv = [process.execPath, require.resolve("tslab/bin/tslab"), "kernel", "--config-path", "{connection_file}"];
const kernels = { wirebook: undefined as string[] | undefined, tslab: tslabArgv };
type Name = keyof typeof kernels;

const median = (xs: number[]) => percentile(xs, 50);
const round = (x: number) => Math.round(x * 1000) / 1000;

async function startupTimes(rounds: number): Promise<Record<Name, number[]>> {
  const times: Record<Name, number[]> = { wirebook: [], tslab: [] };
  for (let i = 0; i < rounds; i++) {
    for (const name of Object.keys(kernels) as Name[]) {
      const t0 = nowMs();
      const k = await KernelClient.start({ cwd, argv: kernels[name] });
      // Start-up ends when the first typed cell has run: both kernels build their compiler lazily.
      await k.execute("const ready: number = 1;");
      times[name].push(nowMs() - t0);
      await k.shutdown();
    }
  }
  return times;
}

async function cellLatencies(rounds: number): Promise<Record<Name, number[]>> {
  const clients = { wirebook: await KernelClient.start({ cwd }), tslab: await KernelClient.start({ cwd, argv: tslabArgv }) };
  const times: Record<Name, number[]> = { wirebook: [], tslab: [] };
  try {
    for (const k of Object.values(clients)) await k.execute("const warm: number = 0;");
    for (let i = 0; i < rounds; i++) {
      for (const name of Object.keys(clients) as Name[]) {
        const code = `const v${i}: number = ${i} * 2;\nv${i} + 1`;
        const t0 = nowMs();
        const ex = await clients[name].execute(code);
        times[name].push(nowMs() - t0);
        if (ex.reply.status !== "ok") throw new Error(`${name} failed the typed cell: ${JSON.stringify(ex.reply)}`);
      }
    }
  } finally {
    await Promise.all(Object.values(clients).map((k) => k.shutdown()));
  }
  return times;
}

function row(name: string, unit: string, ours: number[], reference: string, theirs: number[], stat = median): Row {
  const value = stat(ours);
  const ref = stat(theirs);
  return { name, value: round(value), unit, reference, reference_value: round(ref), ratio: round(value / ref), better: "lower", samples: ours.length };
}

async function main() {
  const rows: Row[] = [];
  const startup = await startupTimes(5);
  rows.push(row("kernel start-up to first typed cell (median)", "ms", startup.wirebook, "raw tslab 1.0.22 kernel", startup.tslab));
  const cells = await cellLatencies(40);
  rows.push(row("typed cell round trip (median)", "ms", cells.wirebook, "raw tslab 1.0.22 kernel", cells.tslab));
  rows.push(row("typed cell round trip (p95)", "ms", cells.wirebook, "raw tslab 1.0.22 kernel", cells.tslab, (xs) => percentile(xs, 95)));
  const out = join(root, "bench", "results.json");
  writeFileSync(out, JSON.stringify(rows, null, 2) + "\n");
  console.table(rows.map(({ name, value, unit, reference_value, ratio }) => ({ name, value, unit, tslab: reference_value, ratio })));
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
