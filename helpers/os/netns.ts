// A guard for helpers that broadcast, craft packets or send to arbitrary addresses: they run only
// inside a lab host, a network namespace of its own, so nothing they send reaches this machine's
// real network. Code on the machine's own network shares its namespace with its parent and with
// pid 1. A lab agent's namespace differs from the one the lab was built from, which the lab tells
// it in an environment variable (from inside a user namespace, /proc cannot show it).
import { readlinkSync } from "node:fs";

export class NotInLabError extends Error {
  readonly code = "ERR_NOT_IN_LAB";
  constructor(what: string) {
    super(
      `${what} runs only inside a lab host (lab.host(name).run(...)): here it would send on this machine's own network`,
    );
    this.name = "NotInLabError";
  }
}

const netnsOf = (pid: string) => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined; // another user's process: its namespace cannot be read
  }
};

/** Set by helpers/lab/index.ts for its agents: the namespace the lab was built from. */
export const OUTSIDE_NETNS = "WIREBOOK_OUTSIDE_NETNS";

let inLab: boolean | undefined;

export function assertInLabHost(what: string): void {
  if (inLab === undefined) {
    const own = netnsOf("self");
    const others = [process.env[OUTSIDE_NETNS], netnsOf(String(process.ppid)), netnsOf("1")].filter(
      (ns) => ns !== undefined,
    );
    inLab = !!own && others.length > 0 && !others.includes(own);
  }
  if (!inLab) throw new NotInLabError(what);
}
