// An independent check of the protocol: Jupyter's own client (jupyter_client) drives the kernel
// through jupyter_kernel_test, which validates every message against the v5 message schemas.
// Needs /usr/bin/python3 with jupyter_kernel_test (Debian: python3-jupyter-kernel-test).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { installKernelSpec } from "../../kernel/kernelspec";

const root = join(__dirname, "..", "..");
const python = "/usr/bin/python3";
const skipped = ` (skipped: ${python} cannot import jupyter_kernel_test)`;
const available =
  existsSync(python) &&
  spawnSync(python, ["-c", "import jupyter_kernel_test, jupyter_client"], { stdio: "ignore" }).status === 0;

describe("jupyter_kernel_test", () => {
  const dirs: string[] = [];
  let runner: ChildProcess | undefined;
  afterAll(() => {
    // If the test timed out, unittest's tearDown never ran: SIGINT lets it shut its kernel down.
    if (runner && runner.exitCode === null && runner.signalCode === null) runner.kill("SIGINT");
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.skipIf(!available)(
    `passes test/kernel/jupyter_kernel_test_wirebook.py${available ? "" : skipped}`,
    async () => {
      const data = mkdtempSync(join(tmpdir(), "wirebook-jupyter-"));
      dirs.push(data);
      const env = {
        ...process.env,
        JUPYTER_DATA_DIR: data,
        JUPYTER_PATH: data,
        JUPYTER_RUNTIME_DIR: join(data, "runtime"),
      };
      const specDir = installKernelSpec({ kind: "user" }, env);
      expect(specDir).toBe(join(data, "kernels", "wirebook"));
      expect(JSON.parse(readFileSync(join(specDir, "kernel.json"), "utf8")).language).toBe("typescript");

      const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
        const p = (runner = spawn(python, ["-m", "unittest", "-v", "jupyter_kernel_test_wirebook"], {
          cwd: root,
          env: { ...env, PYTHONPATH: join(root, "test", "kernel"), PYTHONDONTWRITEBYTECODE: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        }));
        let output = "";
        p.stdout.on("data", (d) => (output += d));
        p.stderr.on("data", (d) => (output += d));
        p.once("error", reject);
        p.once("close", (code) => resolve({ code, output }));
      });
      expect(code, output).toBe(0);
      // The suite really ran its checks (a kernelspec it cannot find would error, not skip, but be sure).
      const ran = /^Ran (\d+) tests?/m.exec(output);
      expect(Number(ran?.[1]), output).toBeGreaterThanOrEqual(10);
      expect(output).toMatch(/^OK\b/m);
      expect(output).toContain("test_execute_result");
      expect(output).not.toMatch(/test_execute_result .*skipped/);
    },
    120_000,
  );
});
