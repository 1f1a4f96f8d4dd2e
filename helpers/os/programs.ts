// The programs a notebook runs as independent peers (nghttp, tshark, bird, mosquitto, ...): is one
// installed, and if not, a documented skip that names the Debian package to install. A missing
// peer is not a failed experiment: the cell prints one `skipped:` line and the notebook goes on.
import { spawnSync } from "node:child_process";
import { CellSkipped } from "../../kernel/runtime";

const found = new Map<string, boolean>();

/** Whether `program` is on the PATH (looked up once per process). */
export function hasProgram(program: string): boolean {
  if (!/^[\w.+-]+$/.test(program)) throw new RangeError(`not a program name: ${JSON.stringify(program)}`);
  let yes = found.get(program);
  if (yes === undefined) {
    yes = spawnSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" }).status === 0;
    found.set(program, yes);
  }
  return yes;
}

/** Skips the cell, with one line naming the package, unless `program` is installed. */
export function needProgram(program: string, debianPackage: string): void {
  if (!hasProgram(program)) {
    throw new CellSkipped(`this cell needs ${program}, which is not installed: apt-get install ${debianPackage}`);
  }
}
