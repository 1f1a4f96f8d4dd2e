// The kernelspec (kernel/kernelspec.ts) and its installer (npm run kernel:install).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KernelClient } from "../../kernel/client";
import {
  installKernelSpec,
  jupyterDataDir,
  kernelArgv,
  kernelSpec,
  kernelsDir,
  removeKernelSpec,
} from "../../kernel/kernelspec";
import { ownLines, root, run, runTs } from "../support/process";

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), "wb-kernelspec-"));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const readSpec = (dir: string) => JSON.parse(readFileSync(join(dir, "kernel.json"), "utf8"));

/** What every kernel.json written here must say. */
function expectValidSpec(spec: any) {
  expect(spec.display_name).toBe("TypeScript (wirebook)");
  expect(spec.language).toBe("typescript");
  expect(spec.interrupt_mode).toBe("message");
  expect(Array.isArray(spec.argv)).toBe(true);
  expect(spec.argv).toContain("{connection_file}");
  expect(spec.argv[spec.argv.indexOf("{connection_file}") - 1]).toBe("-f");
  expect(isAbsolute(spec.argv[0])).toBe(true);
  // Every path argument is absolute and exists, so the kernel starts from any directory.
  const paths = spec.argv.slice(1).filter((a: string) => !a.startsWith("-") && a !== "{connection_file}");
  expect(paths.length).toBeGreaterThanOrEqual(1);
  for (const p of [spec.argv[0], ...paths]) {
    expect(isAbsolute(p), p).toBe(true);
    expect(existsSync(p), p).toBe(true);
  }
  expect(paths).toContain(join(root, "kernel", "boot.js"));
}

describe("kernelSpec", () => {
  it("has absolute argv paths with {connection_file}, display name, language and message interrupts", () => {
    expectValidSpec(kernelSpec());
    expect(kernelSpec().argv).toEqual(kernelArgv());
  });
});

describe("installKernelSpec", () => {
  it("installs for the user into $JUPYTER_DATA_DIR/kernels/wirebook", () => {
    const data = tmp();
    const dir = installKernelSpec({ kind: "user" }, { JUPYTER_DATA_DIR: data });
    expect(dir).toBe(join(data, "kernels", "wirebook"));
    expectValidSpec(readSpec(dir));
  });

  it("resolves a relative JUPYTER_DATA_DIR", () => {
    expect(jupyterDataDir({ JUPYTER_DATA_DIR: "rel/data" }, "linux")).toBe(join(process.cwd(), "rel", "data"));
  });

  it("without JUPYTER_DATA_DIR uses the platform's Jupyter data dir", () => {
    expect(jupyterDataDir({ XDG_DATA_HOME: "/x/share" }, "linux")).toBe("/x/share/jupyter");
    expect(jupyterDataDir({}, "linux")).toMatch(/\/\.local\/share\/jupyter$/);
    expect(jupyterDataDir({}, "darwin")).toMatch(/\/Library\/Jupyter$/);
  });

  it("--prefix DIR installs into DIR/share/jupyter/kernels/wirebook", () => {
    const prefix = tmp();
    const dir = installKernelSpec({ kind: "prefix", dir: prefix }, {});
    expect(dir).toBe(join(prefix, "share", "jupyter", "kernels", "wirebook"));
    expectValidSpec(readSpec(dir));
  });

  it("--sys-prefix uses VIRTUAL_ENV, else CONDA_PREFIX", () => {
    const venv = tmp();
    const conda = tmp();
    expect(installKernelSpec({ kind: "sys-prefix" }, { VIRTUAL_ENV: venv, CONDA_PREFIX: conda })).toBe(
      join(venv, "share", "jupyter", "kernels", "wirebook"),
    );
    expect(installKernelSpec({ kind: "sys-prefix" }, { CONDA_PREFIX: conda })).toBe(
      join(conda, "share", "jupyter", "kernels", "wirebook"),
    );
    expectValidSpec(readSpec(join(conda, "share", "jupyter", "kernels", "wirebook")));
  });

  it("--sys-prefix without a virtualenv or conda environment errors clearly and writes nothing", () => {
    expect(() => installKernelSpec({ kind: "sys-prefix" }, {})).toThrow(/--sys-prefix.*(VIRTUAL_ENV|CONDA_PREFIX)/);
    expect(() => kernelsDir({ kind: "sys-prefix" }, { JUPYTER_DATA_DIR: tmp() })).toThrow(/VIRTUAL_ENV/);
  });

  it("overwrites an earlier install and can be removed", () => {
    const prefix = tmp();
    installKernelSpec({ kind: "prefix", dir: prefix }, {});
    const dir = installKernelSpec({ kind: "prefix", dir: prefix }, {});
    expectValidSpec(readSpec(dir));
    expect(removeKernelSpec({ kind: "prefix", dir: prefix }, {})).toBe(dir);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("npm run kernel:install", () => {
  it("-- --prefix TMP writes TMP/share/jupyter/kernels/wirebook/kernel.json", async () => {
    const prefix = tmp();
    const r = await run("npm", ["run", "kernel:install", "--", "--prefix", prefix]);
    expect(r.code, r.stderr).toBe(0);
    const dir = join(prefix, "share", "jupyter", "kernels", "wirebook");
    expect(r.stdout).toContain(dir);
    expectValidSpec(readSpec(dir));
  });

  it("honours JUPYTER_DATA_DIR for a user install, from another working directory", async () => {
    const data = tmp();
    const r = await runTs(join(root, "kernel", "install.ts"), [], {
      cwd: tmp(),
      env: { ...process.env, JUPYTER_DATA_DIR: data },
    });
    expect(r.code, r.stderr).toBe(0);
    expectValidSpec(readSpec(join(data, "kernels", "wirebook")));
  });

  it("--sys-prefix without an environment exits 2 with a one-line message", async () => {
    const env = { ...process.env };
    delete env.VIRTUAL_ENV;
    delete env.CONDA_PREFIX;
    const r = await runTs("kernel/install.ts", ["--sys-prefix"], { env });
    expect(r.code).toBe(2);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/VIRTUAL_ENV|CONDA_PREFIX/);
  });

  it("a bad argument exits 2 with a one-line message", async () => {
    const direct = await runTs("kernel/install.ts", ["--bogus"]);
    expect(direct.code).toBe(2);
    const lines = ownLines(direct.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("--bogus");
    expect(direct.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const viaNpm = await run("npm", ["run", "--silent", "kernel:install", "--", "--bogus"]);
    expect(viaNpm.code).toBe(2);
    expect(ownLines(viaNpm.stderr).filter((l) => !l.startsWith("npm "))).toEqual(lines);
  });
});

describe("the installed kernelspec", () => {
  it("starts a working kernel from another directory", async () => {
    const prefix = tmp();
    const spec = readSpec(installKernelSpec({ kind: "prefix", dir: prefix }, {}));
    const cwd = tmp();
    const kernel = await KernelClient.start({ argv: spec.argv, cwd });
    try {
      const ex = await kernel.execute("process.cwd()");
      expect(ex.reply.status).toBe("ok");
      expect(ex.outputs[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": `'${cwd}'` } });
    } finally {
      await kernel.shutdown();
    }
  });
});
