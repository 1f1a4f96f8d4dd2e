// Can this process build a network-namespace lab, and how?
//  - root (CAP_NET_ADMIN and CAP_SYS_ADMIN): `ip netns` directly; the namespaces are visible on
//    the host under the `wirebook-` prefix while the lab runs.
//  - an ordinary user where unprivileged user namespaces are allowed: the whole lab lives inside a
//    private user + mount namespace in which the user is root; the host is never touched.
//  - neither: lab cells are skipped with one line saying what is missing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { CellSkipped } from "../../kernel/runtime";

export type LabAccess = { mode: "root" } | { mode: "userns" } | { mode: "none"; reason: string };

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

let cached: LabAccess | undefined;

export function labAccess(): LabAccess {
  return (cached ??= probe());
}

function probe(): LabAccess {
  if (process.env.WIREBOOK_LAB === "none") return { mode: "none", reason: "WIREBOOK_LAB=none turns the lab off" };
  if (process.platform !== "linux") return { mode: "none", reason: "network namespaces need Linux" };
  if (spawnSync("ip", ["-V"]).status !== 0)
    return { mode: "none", reason: "needs iproute2 (the `ip` command): apt-get install iproute2" };
  if (hasCapabilities([CAP_NET_ADMIN, CAP_SYS_ADMIN])) return { mode: "root" };
  // Can we become root inside a user namespace of our own (and mount there, for `ip netns`)?
  if (spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"]).status === 0) return { mode: "userns" };
  return {
    mode: "none",
    reason:
      "needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN) or unprivileged user namespaces; run as root, " +
      "or allow user namespaces (sysctl user.max_user_namespaces=10000, kernel.unprivileged_userns_clone=1)",
  };
}

function hasCapabilities(bits: number[]): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  const eff = line ? BigInt(`0x${line[1]}`) : 0n;
  return bits.every((b) => (eff >> BigInt(b)) & 1n);
}

/** The error a lab cell throws where no lab can be built: the kernel prints it as one skip line. */
export function labUnavailable(reason: string): CellSkipped {
  return new CellSkipped(`this cell needs a network-namespace lab, and ${reason}`);
}
