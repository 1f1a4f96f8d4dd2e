// Jupyter's own client runs the notebooks: `jupyter nbconvert --execute` (nbclient) starts the
// installed "wirebook" kernelspec, and its outputs must match the stored ones exactly as the
// replay compares them. Skipped, with the reason, where Debian's jupyter-nbconvert is missing.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkCell } from "../../kernel/replay/compare";
import { installKernelSpec } from "../../kernel/kernelspec";
import { readNotebook } from "../../kernel/nbformat";
import { loadSanitizeConfig } from "../../kernel/replay/sanitize";

const NBCONVERT = "/usr/bin/jupyter-nbconvert";
const available = spawnSync(NBCONVERT, ["--version"]).status === 0;
const root = join(__dirname, "..", "..");
const rules = loadSanitizeConfig(join(root, "fixtures", "nbval-sanitize.cfg"));
const notebooks = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb"))
  .sort();
const dataDir = mkdtempSync(join(tmpdir(), "wirebook-jupyter-"));
const outDir = join(dataDir, "out");
if (available) installKernelSpec({ kind: "user" }, { ...process.env, JUPYTER_DATA_DIR: dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe.skipIf(!available)("jupyter nbconvert --execute with the wirebook kernelspec", () => {
  it.each(notebooks)(
    "%s",
    (file) => {
      execFileSync(
        NBCONVERT,
        [
          "--to",
          "notebook",
          "--execute",
          "--ExecutePreprocessor.kernel_name=wirebook",
          "--ExecutePreprocessor.timeout=180",
          "--output-dir",
          outDir,
          join(root, "notebooks", file),
        ],
        {
          env: { ...process.env, JUPYTER_DATA_DIR: dataDir, JUPYTER_PATH: dataDir },
          stdio: ["ignore", "ignore", "pipe"],
          timeout: 10 * 60_000,
        },
      );
      const stored = readNotebook(join(root, "notebooks", file));
      const executed = readNotebook(join(outDir, file));
      stored.cells.forEach((cell, i) => {
        if (cell.cell_type !== "code") return;
        const check = checkCell(cell, executed.cells[i].outputs ?? [], rules);
        if (check.mode !== "skip") expect(check.actual, `${file} cell ${i + 1}`).toEqual(check.expected);
      });
    },
    10 * 60_000,
  );
});
