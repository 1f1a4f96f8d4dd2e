// nbval-style replay: every notebook is executed by the kernel and each code cell's fresh outputs
// are compared with the stored ones after sanitizing (fixtures/nbval-sanitize.cfg).
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkCell } from "../kernel/replay/compare";
import { readNotebook } from "../kernel/nbformat";
import { runNotebook, type RunResult } from "../kernel/runner";
import { schedule } from "../kernel/schedule";
import { loadSanitizeConfig } from "../kernel/replay/sanitize";
import { labAccess, staleNamespaces } from "../helpers/lab";

const root = join(__dirname, "..");
const rules = loadSanitizeConfig(join(root, "fixtures", "nbval-sanitize.cfg"));
const only = process.env.NOTEBOOKS?.split(",");
const files = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb") && (!only || only.some((o) => f.startsWith(o))))
  .sort();
const tally = { withOutput: 0, compared: 0, shapeOnly: 0, skipped: 0, documentedSkips: 0 };
// Lab cells may skip only where no lab can be built (not root, no user namespaces); the test run
// as root must execute them, and test/lab-unprivileged.test.ts runs them as an ordinary user.
const allowSkips = labAccess().mode === "none";
// Notebooks run ahead of the tests that read them: those that measure alone, the others two at a
// time (kernel/schedule.ts). Each describe below waits for its own notebook.
const runs = schedule(
  files.map((f) => join(root, "notebooks", f)),
  availableParallelism(),
  (path) => runNotebook(path, { timeoutSeconds: 180 }),
);
runs.forEach((r) => r.catch(() => {})); // a failed run is reported by its own notebook's tests

describe.each(files.map((file, k) => ({ file, k })))("$file", ({ file, k }) => {
  const path = join(root, "notebooks", file);
  const stored = readNotebook(path);
  const codeCells = stored.cells.map((cell, i) => ({ cell, i, n: 0 })).filter(({ cell }) => cell.cell_type === "code");
  codeCells.forEach((c, k) => (c.n = k + 1));
  let run: RunResult;

  beforeAll(async () => {
    run = await runs[k];
  });

  it.each(codeCells)("cell $n", ({ cell, i }) => {
    const fresh = run.executedIds.has(cell.id) ? run.notebook.cells[i].outputs : undefined;
    const check = checkCell(cell, fresh, rules, { allowSkips });
    if ((cell.outputs ?? []).length) tally.withOutput++;
    if (check.mode === "skip") {
      tally[check.reason === "documented skip" ? "documentedSkips" : "skipped"]++;
      return;
    }
    if ((cell.outputs ?? []).length) tally[check.mode === "compare" ? "compared" : "shapeOnly"]++;
    expect(check.actual, `${file} cell ${cell.id}`).toEqual(check.expected);
  });
});

afterAll(async () => {
  // Every notebook's kernel has exited: no lab namespace or agent may have outlived it. (Labs of
  // other live processes are not ours to judge: an orphan agent is one whose parent has gone.)
  if (labAccess().mode === "root") {
    expect(await staleNamespaces()).toEqual([]);
    const agents = spawnSync("pgrep", ["-f", "helpers/lab/agent.ts"]).stdout.toString().split("\n").filter(Boolean);
    const orphans = agents.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[1] === "1";
      } catch {
        return false; // exited meanwhile
      }
    });
    expect(orphans).toEqual([]);
  }
  if (!tally.withOutput) return;
  const share = tally.compared / (tally.withOutput - tally.documentedSkips);
  console.log(
    `replay: compared the outputs of ${tally.compared} of ${tally.withOutput} code cells with output ` +
      `(${(share * 100).toFixed(0)}%); ` +
      `${tally.shapeOnly} checked for shape only, ${tally.skipped} skipped` +
      (allowSkips ? `, ${tally.documentedSkips} documented skips (no lab on this machine)` : ""),
  );
  // The collection is the test suite: most outputs must really be compared.
  if (!only) expect(share).toBeGreaterThanOrEqual(0.8);
});
