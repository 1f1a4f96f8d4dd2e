// kernel/helper-types.ts: cells are checked against the helpers' declarations while those are
// fresh, with the same verdicts as against the sources, also from a learner's folder that links to
// the helpers; a changed helper makes them stale.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createExecutor } from "../../kernel/executor";
import { checkCellsAgainstHelperTypes, helperTypesFresh, refreshHelperTypes } from "../../kernel/helper-types";

const root = join(__dirname, "..", "..");
// tsx's loader for Node's own require, which the helpers' TypeScript needs (as in the kernel).
const tsx: { register(): () => void } = require("tsx/cjs/api");
const declarations = join(root, "node_modules", ".cache", "wirebook", "helper-types");

describe("the helpers' declarations", () => {
  it("are built from the sources as they are, with their doc comments, and go stale when one changes", () => {
    refreshHelperTypes();
    expect(helperTypesFresh()).toBe(true);
    const lab = readFileSync(join(declarations, "helpers", "lab", "topology.d.ts"), "utf8");
    expect(lab).toMatch(/\/\*\*[^]*\*\/\s*export declare function startLab/);
    const source = join(root, "helpers", "index.ts");
    const { atime, mtimeMs } = statSync(source);
    utimesSync(source, atime, new Date(mtimeMs + 1000));
    try {
      expect(helperTypesFresh()).toBe(false);
    } finally {
      utimesSync(source, atime, new Date(mtimeMs));
      refreshHelperTypes(); // the restored time may differ below a millisecond: rebuild
    }
    expect(helperTypesFresh()).toBe(true);
  });

  it("are what cells are checked against, with the sources' verdicts", async () => {
    refreshHelperTypes();
    const unregister = tsx.register();
    const executor = createExecutor(join(root, "notebooks"));
    try {
      expect(checkCellsAgainstHelperTypes()).toBe(true);
      const ok = await executor.execute('import { startLab } from "wirebook/helpers/lab";\ntypeof startLab', 1);
      expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true, value: "function" });
      const bad = await executor.execute("const lab = startLab({ hosts: 3 });", 2);
      expect(bad).toMatchObject({ ok: false, ename: "TSError" });
      expect(bad.ok || bad.evalue).toMatch(/Type 'number' is not assignable to type 'Record<string, HostSpec>'/);
      // A remote call's result, narrowed: the declarations must mean to the converter's program (not
      // strict) what the sources do. Built strict, `reply: null` let a function type in.
      const remote = [
        'import type * as raw from "wirebook/helpers/net/raw";',
        'import type { Result } from "wirebook/helpers/os/remote";',
        'declare const first: Result<typeof raw, "icmpEcho">;',
        "const data = (r: typeof first.reply) => (r === null ? 0 : r.data.length);",
        "const wrong: number = first.reply;",
      ].join("\n");
      const narrowed = await executor.execute(remote, 3);
      expect(narrowed.ok || narrowed.traceback).toEqual([
        "TSError: 1 type error in cell [3]",
        "  line 5, column 7: TS2322: Type '{ data: Buffer; from?: string; }' is not assignable to type 'number'.",
      ]);
      // A learner's own folder reaches the helpers through a link of its own.
      const own = mkdtempSync(join(tmpdir(), "wirebook-own-"));
      mkdirSync(join(own, "node_modules"));
      symlinkSync(root, join(own, "node_modules", "wirebook"));
      const there = createExecutor(own);
      try {
        const widget = await there.execute(
          'import { intSlider } from "wirebook/helpers/view/widgets";\ntypeof intSlider',
          1,
        );
        expect(widget, JSON.stringify(widget)).toMatchObject({ ok: true, value: "function" });
      } finally {
        there.close();
        rmSync(own, { recursive: true, force: true });
      }
    } finally {
      executor.close();
      unregister();
    }
    expect(existsSync(join(declarations, "kernel", "runtime.d.ts"))).toBe(true);
  });
});
