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

// TUN devices: a user namespace may create them only if the user can open /dev/net/tun, which is
// 0666 on a stock system and 0600 in some containers. Where it is not open to this user, a cell
// that needs it may skip (its line names the device); every other cell must still match.
const tunForUser = spawnSync(asUser[0], [...asUser.slice(1), "sh", "-c", "exec 3<>/dev/net/tun"]).status === 0;
const TUN_SKIP = /\/dev\/net\/tun/;

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
  allowSkips: boolean | RegExp,
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
    const outputs = fresh.cells[i].outputs ?? [];
    const check = checkCell(cell, outputs, rules, { allowSkips: allowSkips !== false });
    // With a pattern, only the skips whose line matches it stand in for the stored output.
    const text = outputs.map((o) => (o.output_type === "stream" ? o.text : "")).join("");
    if (check.mode === "skip" && allowSkips instanceof RegExp && check.reason === "documented skip")
      expect(text, `${file} cell ${cell.id} skipped`).toMatch(allowSkips);
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
  (userHasUserns ? "in a user namespace" : "no user namespaces: lab cells skip") +
  (userHasUserns && !tunForUser ? "; /dev/net/tun closed to it: TUN cells skip" : "");
describe.skipIf(labAccess().mode !== "root" || !labNotebooks.length)(
  `lab notebooks as an ordinary user (${who})`,
  () => {
    it.each(labNotebooks)(
      "%s",
      async (file) => {
        const allowSkips = !userHasUserns || (tunForUser ? false : TUN_SKIP);
        const skips = await replayWith(file, out, asUser, { HOME: out, WIREBOOK_DEBUG: "" }, allowSkips);
        if (!userHasUserns) expect(skips).toBeGreaterThan(0);
      },
      320_000,
    );
  },
);
