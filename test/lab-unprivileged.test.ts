// The lab notebooks as an ordinary user: the project's runner executes them without root, where
// the lab lives in a private user namespace, and their outputs must match the stored ones (the
// same comparison as the replay; a skip does not count as a pass here).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkCell } from "../kernel/replay/compare";
import { readNotebook } from "../kernel/nbformat";
import { loadSanitizeConfig } from "../kernel/replay/sanitize";
import { labAccess } from "../helpers/lab";
import { root, run } from "./support/process";

const rules = loadSanitizeConfig(join(root, "fixtures", "nbval-sanitize.cfg"));
const only = process.env.NOTEBOOKS?.split(",");
const labNotebooks = readdirSync(join(root, "notebooks"))
  .filter((f) => f.endsWith(".ipynb") && (!only || only.some((o) => f.startsWith(o))))
  // Lab notebooks import the lab, or a lab of their own (helpers/<topic>-lab).
  .filter((f) => /wirebook\/helpers\/([\w-]+-)?lab\\"/.test(readFileSync(join(root, "notebooks", f), "utf8")))
  .sort();

// An ordinary user: `nobody` when it can read this checkout; otherwise (a checkout under /root,
// say) uid 0 with every capability dropped, which is just as unprivileged for namespaces.
const nobodyCanRead =
  spawnSync("setpriv", [
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "test",
    "-r",
    join(root, "package.json"),
  ]).status === 0;
const asUser = nobodyCanRead
  ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
  : ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"];

// Where this kernel does not let ordinary users create user namespaces, the same run must skip
// its lab cells cleanly instead (the "pass, or skip cleanly").
const userHasUserns =
  spawnSync(asUser[0], [...asUser.slice(1), "unshare", "--user", "--map-root-user", "--mount", "--net", "true"])
    .status === 0;

const out = mkdtempSync(join(tmpdir(), "wirebook-unprivileged-"));
chmodSync(out, 0o777);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** Runs one notebook with the project's runner (behind `prefix`, in `env`), compares every code
 *  cell with its stored outputs, and returns how many cells were documented skips. */
async function replayWith(
  file: string,
  dir: string,
  prefix: string[],
  env: NodeJS.ProcessEnv,
  allowSkips: boolean,
): Promise<number> {
  const [cmd, ...args] = [
    ...prefix,
    process.execPath,
    "--require",
    "tsx/cjs",
    "kernel/run.ts",
    join("notebooks", file),
    "--out",
    dir,
  ];
  const r = await run(cmd, args, { cwd: root, env: { ...process.env, ...env }, timeoutMs: 300_000 });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const stored = readNotebook(join(root, "notebooks", file));
  const fresh = readNotebook(join(dir, file));
  let skips = 0;
  stored.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const check = checkCell(cell, fresh.cells[i].outputs ?? [], rules, { allowSkips });
    if (check.mode === "skip") skips++;
    else expect(check.actual, `${file} cell ${cell.id}`).toEqual(check.expected);
  });
  return skips;
}

describe.skipIf(!labNotebooks.length)("lab notebooks where no lab can be built (WIREBOOK_LAB=none)", () => {
  it.each(labNotebooks)(
    "%s: every cell passes or is a documented skip",
    async (file) => {
      expect(await replayWith(file, join(out, "none"), [], { WIREBOOK_LAB: "none" }, true)).toBeGreaterThan(0);
    },
    320_000,
  );
});

const who =
  `${nobodyCanRead ? "nobody" : "root without capabilities"}, ` +
  (userHasUserns ? "in a user namespace" : "no user namespaces: lab cells skip");
describe.skipIf(labAccess().mode !== "root" || !labNotebooks.length)(
  `lab notebooks as an ordinary user (${who})`,
  () => {
    it.each(labNotebooks)(
      "%s",
      async (file) => {
        const skips = await replayWith(file, out, asUser, { HOME: out, WIREBOOK_DEBUG: "" }, !userHasUserns);
        if (!userHasUserns) expect(skips).toBeGreaterThan(0);
      },
      320_000,
    );
  },
);
