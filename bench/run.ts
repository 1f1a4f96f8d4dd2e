// npm run bench: measures the kernel beside raw tslab, alternating runs so both see the same
// machine state, and writes bench/results.json (one row per benchmark).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { KernelClient } from "../kernel/client";
import { echoProcess, roundTrips } from "../helpers/measure/latency";
import { nowMs } from "../helpers/os/time";
import { percentile } from "../helpers/measure/stats";
import { DEFAULT_CHUNK_BYTES, freePort, iperf3Report, loopbackThroughput } from "../helpers/measure/throughput";

interface Row {
  name: string;
  value: number;
  unit: string;
  reference: string;
  reference_value: number;
  /** value / reference_value; for times, below 1 means faster than the reference. */
  ratio: number;
  better: "lower" | "higher";
  /** How the reference was run, where that matters for the comparison. */
  note?: string;
  samples: number;
}

const root = join(__dirname, "..");
const cwd = join(root, "notebooks");
const tslabArgv = [
  process.execPath,
  require.resolve("tslab/bin/tslab"),
  "kernel",
  "--config-path",
  "{connection_file}",
];
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
  const clients = {
    wirebook: await KernelClient.start({ cwd }),
    tslab: await KernelClient.start({ cwd, argv: tslabArgv }),
  };
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
  return {
    name,
    value: round(value),
    unit,
    reference,
    reference_value: round(ref),
    ratio: round(value / ref),
    better: "lower",
    samples: ours.length,
  };
}

/** iperf3 and sockperf are the references; install them from Debian when missing (root only). */
function ensureTools() {
  const missing = ["iperf3", "sockperf"].filter((t) => spawnSync(t, ["--version"]).error);
  if (!missing.length) return;
  if (process.getuid?.() !== 0)
    throw new Error(`bench needs ${missing.join(" and ")}: apt-get install ${missing.join(" ")}`);
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** Alternating runs of our loopback throughput and iperf3's with the same write size (`-l`), in
 *  bits per second. */
async function throughputs(rounds: number, seconds: number) {
  const ours: number[] = [];
  const iperf: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ours.push((await loopbackThroughput({ seconds })).bitsPerSecond);
    iperf.push((await iperf3Report(seconds, { writeBytes: DEFAULT_CHUNK_BYTES })).bitsPerSecond);
  }
  return { ours, iperf };
}

/** sockperf ping-pong on 127.0.0.1: median round trip in microseconds (it reports half of it). */
async function sockperfRoundTrip(seconds: number): Promise<number> {
  const port = await freePort();
  const server = spawn("sockperf", ["server", "--tcp", "-i", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 100));
      const r = spawnSync(
        "sockperf",
        ["ping-pong", "--tcp", "-i", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-m", "14"],
        { encoding: "utf8" },
      );
      const p50 = /percentile 50\.000 =\s+([\d.]+)/.exec(r.stdout + r.stderr);
      if (p50) return 2 * Number(p50[1]);
    }
    throw new Error("sockperf ping-pong gave no result");
  } finally {
    server.kill();
  }
}

/** Alternating runs: our 1-byte round trips (median, µs) and sockperf's. */
async function roundTripMedians(rounds: number) {
  const ours: number[] = [];
  const sockperf: number[] = [];
  const echo = await echoProcess();
  try {
    for (let i = 0; i < rounds; i++) {
      ours.push(percentile(await roundTrips(echo.port, { count: 5000, size: 1 }), 50) * 1000);
      sockperf.push(await sockperfRoundTrip(2));
    }
  } finally {
    await echo.close();
  }
  return { ours, sockperf };
}

/** Wall time of `npm start` over every notebook, with the scheduler's default jobs (notebooks that
 *  measure alone, the others side by side) and with `--jobs 1`, alternating. */
function suiteTimes(rounds: number) {
  const times = { parallel: [] as number[], serial: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    for (const [kind, extra] of [
      ["parallel", []],
      ["serial", ["--jobs", "1"]],
    ] as const) {
      const out = join(root, "out", `bench-${kind}`);
      const t0 = nowMs();
      const r = spawnSync(process.execPath, ["--require", "tsx/cjs", "kernel/run.ts", "--out", out, ...extra], {
        cwd: root,
        stdio: "ignore",
      });
      if (r.status !== 0) throw new Error(`npm start (${kind}) failed with exit code ${r.status}`);
      times[kind].push((nowMs() - t0) / 1000);
    }
  }
  return times;
}

async function main() {
  ensureTools();
  const rows: Row[] = [];
  if (process.argv.includes("--suite")) {
    const suite = suiteTimes(1);
    rows.push({
      ...row("npm start, all notebooks", "s", suite.parallel, "the same run with --jobs 1", suite.serial),
      note: "notebooks that measure run alone (kernel/schedule.ts), the others side by side",
    });
  }
  const startup = await startupTimes(5);
  rows.push(
    row(
      "kernel start-up to first typed cell (median)",
      "ms",
      startup.wirebook,
      "raw tslab 1.0.22 kernel",
      startup.tslab,
    ),
  );
  const cells = await cellLatencies(40);
  rows.push(row("typed cell round trip (median)", "ms", cells.wirebook, "raw tslab 1.0.22 kernel", cells.tslab));
  rows.push(
    row("typed cell round trip (p95)", "ms", cells.wirebook, "raw tslab 1.0.22 kernel", cells.tslab, (xs) =>
      percentile(xs, 95),
    ),
  );
  const tp = await throughputs(3, 3);
  rows.push({
    ...row(
      "loopback TCP throughput, one stream (median)",
      "Gbit/s",
      tp.ours.map((b) => b / 1e9),
      "iperf3 -c 127.0.0.1 -l 1M (the same write size)",
      tp.iperf.map((b) => b / 1e9),
    ),
    better: "higher",
    note:
      "both write 1 MiB at a time; ours has its receiver in a peer process reading into a 64 KiB buffer " +
      "(iperf3 reads with its -l size, 1 MiB)",
  });
  const rt = await roundTripMedians(3);
  rows.push({
    ...row(
      "TCP request/response round trip, 1 byte (median of run medians)",
      "µs",
      rt.ours,
      "sockperf ping-pong --tcp (14-byte messages, its minimum)",
      rt.sockperf,
    ),
    note: "sockperf reports half the round trip; the reference value is twice its median",
  });
  const out = join(root, "bench", "results.json");
  writeFileSync(out, JSON.stringify(rows, null, 2) + "\n");
  console.table(
    rows.map(({ name, value, unit, reference_value, ratio, better }) => ({
      name,
      value,
      unit,
      reference: reference_value,
      ratio,
      better,
    })),
  );
  console.log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
