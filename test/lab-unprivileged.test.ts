// The lab notebooks as an ordinary user: the project's runner executes them without root, where
// the lab lives in a private user namespace, and their outputs must match the stored ones (the
// same comparison as the replay; a skip does not count as a pass here).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkCell } from "../kernel/replay/compare";
import { readNotebook } from "../kernel/nbformat";
import { loadSanitizeConfig } from "../kernel/replay/sanitize";
import { labAccess } from "../helpers/lab";
import { schedule } from "../kernel/schedule";
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

/** Runs one notebook with the project's runner (behind `prefix`, in `env`), writing it to a folder
 *  of its own under `dir` (each runner locks the folder it writes to). */
function runWith(file: string, dir: string, prefix: string[], env: NodeJS.ProcessEnv) {
  dir = join(dir, file);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  const [cmd, ...args] = [
    ...prefix,
    process.execPath,
    "--require",
    "tsx/cjs",
    "kernel/run.ts",
    join("notebooks", file),
  ];
  return run(cmd, [...args, "--out", dir], { cwd: root, env: { ...process.env, ...env }, timeoutMs: 300_000 });
}

/** Several notebooks' runs, ahead of the tests that read them: those that measure alone, the
 *  others two at a time (kernel/schedule.ts). Started when first asked for. */
function runsOf(dir: string, prefix: string[], env: NodeJS.ProcessEnv) {
  let runs: ReturnType<typeof runWith>[] | undefined;
  return (k: number) => {
    runs ??= schedule(
      labNotebooks.map((f) => join(root, "notebooks", f)),
      availableParallelism(),
      (path) => runWith(basename(path), dir, prefix, env),
    );
    runs.forEach((r) => r.catch(() => {}));
    return runs[k];
  };
}

/** Compares every code cell of the run with its stored outputs; returns how many cells were
 *  documented skips. */
async function compare(
  file: string,
  dir: string,
  ran: Awaited<ReturnType<typeof runWith>>,
  allowSkips: boolean | RegExp,
): Promise<number> {
  expect(ran.code, ran.stdout + ran.stderr).toBe(0);
  const stored = readNotebook(join(root, "notebooks", file));
  const fresh = readNotebook(join(dir, file, file));
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

const cases = labNotebooks.map((file, k) => ({ file, k }));
const noLab = runsOf(join(out, "none"), [], { WIREBOOK_LAB: "none" });
describe.skipIf(!labNotebooks.length)("lab notebooks where no lab can be built (WIREBOOK_LAB=none)", () => {
  it.each(cases)(
    "$file: every cell passes or is a documented skip",
    async ({ file, k }) => {
      expect(await compare(file, join(out, "none"), await noLab(k), true)).toBeGreaterThan(0);
    },
    20 * 60_000,
  );
});

const who =
  `${nobodyCanRead ? "nobody" : "root without capabilities"}, ` +
  (userHasUserns ? "in a user namespace" : "no user namespaces: lab cells skip") +
  (userHasUserns && !tunForUser ? "; /dev/net/tun closed to it: TUN cells skip" : "");
describe.skipIf(labAccess().mode !== "root" || !labNotebooks.length)(
  `lab notebooks as an ordinary user (${who})`,
  () => {
    const asNobody = runsOf(out, asUser, { HOME: out, WIREBOOK_DEBUG: "" });
    it.each(cases)(
      "$file",
      async ({ file, k }) => {
        const allowSkips = !userHasUserns || (tunForUser ? false : TUN_SKIP);
        const skips = await compare(file, out, await asNobody(k), allowSkips);
        if (!userHasUserns) expect(skips).toBeGreaterThan(0);
      },
      20 * 60_000,
    );
  },
);
