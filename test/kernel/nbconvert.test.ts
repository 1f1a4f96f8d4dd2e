// Jupyter's own client runs notebooks: `jupyter nbconvert --execute` (nbclient) starts the
// installed "wirebook" kernelspec, and its outputs must match the stored ones exactly as the
// replay compares them. Skipped, with the reason, where Debian's jupyter-nbconvert is missing.
//
// test/kernel/nbval.test.ts already runs every notebook through jupyter_client with the real
// nbval, so this runs only what nbval cannot check:
//   - 81-network-simulation: a live display. nbval ignores update_display_data and compares a
//     display's first state; nbclient applies every update, as JupyterLab does, and stores the last.
//   - 56-network-namespaces: a lab notebook under nbclient's own shutdown (the lab's namespaces
//     and agents must be released when nbclient ends the kernel).
//   - a notebook with a widget: nbclient writes the widgets' state into the notebook's metadata
//     from the comm messages, which nbval never looks at (it skips widget views as well).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkCell } from "../../kernel/replay/compare";
import { installKernelSpec } from "../../kernel/kernelspec";
import { readNotebook, writeNotebook } from "../../kernel/nbformat";
import { loadSanitizeConfig } from "../../kernel/replay/sanitize";
import { labAccess } from "../../helpers/lab";

const NBCONVERT = "/usr/bin/jupyter-nbconvert";
const available = spawnSync(NBCONVERT, ["--version"]).status === 0;
const root = join(__dirname, "..", "..");
const rules = loadSanitizeConfig(join(root, "fixtures", "nbval-sanitize.cfg"));
const notebooks = ["56-network-namespaces.ipynb", "81-network-simulation.ipynb"];
const lab = new Set(["56-network-namespaces.ipynb"]);
const dataDir = mkdtempSync(join(tmpdir(), "wirebook-jupyter-"));
const outDir = join(dataDir, "out");
if (available) installKernelSpec({ kind: "user" }, { ...process.env, JUPYTER_DATA_DIR: dataDir });
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Executes the notebook with nbconvert; the executed copy lands in outDir under the same name. */
function nbconvert(path: string): void {
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
      path,
    ],
    {
      env: { ...process.env, JUPYTER_DATA_DIR: dataDir, JUPYTER_PATH: dataDir },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10 * 60_000,
    },
  );
}

describe.skipIf(!available)("jupyter nbconvert --execute with the wirebook kernelspec", () => {
  it.for(notebooks)("%s", { timeout: 10 * 60_000 }, (file, context) => {
    if (lab.has(file) && labAccess().mode === "none")
      return context.skip("no namespace lab can be built on this machine");
    nbconvert(join(root, "notebooks", file));
    const stored = readNotebook(join(root, "notebooks", file));
    const executed = readNotebook(join(outDir, file));
    stored.cells.forEach((cell, i) => {
      if (cell.cell_type !== "code") return;
      const check = checkCell(cell, executed.cells[i].outputs ?? [], rules);
      if (check.mode !== "skip") expect(check.actual, `${file} cell ${i + 1}`).toEqual(check.expected);
    });
  });

  it("keeps a widget's state in the notebook's metadata", () => {
    // The notebook's folder reaches the helpers as the notebooks/ folder does: node_modules/wirebook.
    const dir = join(dataDir, "widget");
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(root, join(dir, "node_modules", "wirebook"));
    const source =
      'import { intSlider } from "wirebook/helpers/view/widgets";\n' +
      'const loss = intSlider({ value: 3, max: 20, description: "loss %" });\nloss';
    writeNotebook(join(dir, "widget.ipynb"), {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {},
      cells: [{ id: "slider", cell_type: "code", source, metadata: {}, outputs: [], execution_count: null }],
    });
    try {
      nbconvert(join(dir, "widget.ipynb"));
    } finally {
      unlinkSync(join(dir, "node_modules", "wirebook")); // never left for a recursive remove
    }
    const executed = readNotebook(join(outDir, "widget.ipynb"));
    const doc = executed.metadata.widgets?.["application/vnd.jupyter.widget-state+json"];
    expect(doc).toMatchObject({ version_major: 2, version_minor: 0 });
    const states = Object.values(doc.state) as Array<Record<string, any>>;
    expect(states.find((s) => s.model_name === "IntSliderModel")?.state).toMatchObject({ value: 3, max: 20 });
    const view = executed.cells[0].outputs?.find((o) => o.output_type === "execute_result");
    expect(view && "data" in view && view.data["application/vnd.jupyter.widget-view+json"]).toBeTruthy();
  }, 120_000);
});
