// The kernelspec: how Jupyter starts this kernel. Written with plain file I/O, no Python.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { DISPLAY_NAME, KERNEL_NAME } from "./kernel-info";

const root = resolve(__dirname, "..");

/** The kernel command with absolute paths, so it works from any directory. */
export function kernelArgv(): string[] {
  return [process.execPath, join(root, "kernel", "boot.js"), "-f", "{connection_file}"];
}

export function kernelSpec() {
  return {
    argv: kernelArgv(),
    display_name: DISPLAY_NAME,
    language: "typescript",
    // interrupt_request on the control channel; the kernel also honours SIGINT.
    interrupt_mode: "message",
    env: {},
    metadata: { debugger: false },
  };
}

/** Jupyter's user data dir, as jupyter_core.paths.jupyter_data_dir() computes it. */
export function jupyterDataDir(env = process.env, platform = process.platform): string {
  if (env.JUPYTER_DATA_DIR) return resolve(env.JUPYTER_DATA_DIR);
  if (platform === "darwin") return join(homedir(), "Library", "Jupyter");
  if (platform === "win32") return join(env.APPDATA ?? join(homedir(), "AppData", "Roaming"), "jupyter");
  return join(env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "jupyter");
}

export type InstallTarget = { kind: "user" } | { kind: "prefix"; dir: string } | { kind: "sys-prefix" };

export function kernelsDir(target: InstallTarget, env = process.env): string {
  switch (target.kind) {
    case "user":
      return join(jupyterDataDir(env), "kernels");
    case "prefix":
      return join(resolve(target.dir), "share", "jupyter", "kernels");
    case "sys-prefix": {
      // Python's sys.prefix of the active environment, as a virtualenv or conda sets it.
      const prefix = env.VIRTUAL_ENV ?? env.CONDA_PREFIX;
      if (!prefix)
        throw new Error("--sys-prefix needs an active virtualenv or conda environment (VIRTUAL_ENV or CONDA_PREFIX)");
      return join(prefix, "share", "jupyter", "kernels");
    }
  }
}

export function installKernelSpec(target: InstallTarget, env = process.env): string {
  const dir = join(kernelsDir(target, env), KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelSpec(), null, 2) + "\n");
  return dir;
}

export function removeKernelSpec(target: InstallTarget, env = process.env): string {
  const dir = join(kernelsDir(target, env), KERNEL_NAME);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}
