// The real nbval runs every notebook: `pytest --nbval --nbval-sanitize-with fixtures/nbval-sanitize.cfg
// --nbval-kernel-name wirebook`, as the README says the notebooks pass. nbval starts the installed
// "wirebook" kernelspec through jupyter_client and compares what it receives with the stored
// outputs in its own way (strings sanitized, JSON objects compared whole, update_display_data
// ignored), so this checks what the replay's own comparer cannot: that the stored notebooks hold
// for Jupyter's tools too. nbval's source is in ../shared/vendor/nbval (or NBVAL_PATH); it runs
// on Debian's python3-pytest, python3-jupyter-client, python3-nbformat and python3-ipykernel
// (kernel/peers.ts). Skipped, with the reason, where any of them is missing.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installKernelSpec } from "../../kernel/kernelspec";
import { labAccess } from "../../helpers/lab";
import { schedule } from "../../kernel/schedule";
import { run } from "../support/process";

const PYTHON = "/usr/bin/python3";
const root = join(__dirname, "..", "..");
const nbvalPath = resolve(process.env.NBVAL_PATH ?? join(root, "..", "shared", "vendor", "nbval"));
const only = process.env.NOTEBOOKS?.split(",");
const notebooks = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb") && (!only || only.some((o) => f.startsWith(o))))
  .sort();

/** Why nbval cannot run here, or null. */
function missing(): string | null {
  if (!existsSync(join(nbvalPath, "nbval", "plugin.py"))) return `no nbval source in ${nbvalPath} (set NBVAL_PATH)`;
  const probe = spawnSync(PYTHON, ["-c", "import pytest, jupyter_client, nbformat, ipykernel"], {
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: nbvalPath },
  });
  if (probe.error) return `${PYTHON} is missing`;
  const lack = /No module named '([^']+)'/.exec(probe.stderr)?.[1];
  if (probe.status !== 0) return `${PYTHON} lacks ${lack ?? "a module nbval needs"}: npm run peers -- --install`;
  return null;
}
const reason = missing();
if (reason) console.log(`nbval: skipped: ${reason}`);

// Lab cells print a documented skip where no lab can be built; the stored outputs are a real run.
const noLab = labAccess().mode === "none";
const usesLab = (file: string) => readFileSync(join(root, "notebooks", file), "utf8").includes("wirebook/helpers/lab");

const dataDir = mkdtempSync(join(tmpdir(), "wirebook-nbval-"));
if (!reason) installKernelSpec({ kind: "user" }, { ...process.env, JUPYTER_DATA_DIR: dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** nbval over one notebook, in a pytest process of its own. */
function nbval(file: string) {
  const args = ["-m", "pytest", "-p", "nbval.plugin", "-p", "no:cacheprovider", "-q", "-rf", "--color=no"];
  args.push("--nbval", "--nbval-sanitize-with", join("fixtures", "nbval-sanitize.cfg"));
  args.push("--nbval-kernel-name", "wirebook", "--nbval-cell-timeout", "180", join("notebooks", file));
  return run(PYTHON, args, {
    cwd: root,
    timeoutMs: 10 * 60_000,
    env: {
      ...process.env,
      PYTHONPATH: nbvalPath,
      JUPYTER_DATA_DIR: dataDir,
      JUPYTER_PATH: dataDir,
      PYDEVD_DISABLE_FILE_VALIDATION: "1", // ipykernel's import otherwise warns about the debugger
    },
  });
}

// The notebooks run ahead of the tests that read them: those that measure alone, the others two
// at a time (kernel/schedule.ts). Started by the first test.
let runs: ReturnType<typeof nbval>[] | undefined;
const runOf = (k: number) => {
  runs ??= schedule(
    notebooks.map((f) => join(root, "notebooks", f)),
    availableParallelism(),
    async (path) =>
      noLab && usesLab(basename(path)) ? { code: 0, signal: null, stdout: "", stderr: "" } : nbval(basename(path)),
  );
  runs.forEach((r) => r.catch(() => {}));
  return runs[k];
};

describe.skipIf(reason !== null)("pytest --nbval with fixtures/nbval-sanitize.cfg and the wirebook kernel", () => {
  it.for(notebooks.map((file, k) => ({ file, k })))("$file", { timeout: 20 * 60_000 }, async ({ file, k }, context) => {
    if (noLab && usesLab(file)) return context.skip("no namespace lab can be built on this machine");
    const ran = await runOf(k);
    // pytest's report names each failing cell and shows nbval's diff of its outputs.
    const report = `${ran.stdout}\n${ran.stderr}`.trim().split("\n").slice(-80).join("\n");
    expect(ran.code, report).toBe(0);
    expect(ran.stdout).toMatch(/\d+ passed/);
  });
});
