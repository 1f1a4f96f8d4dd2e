// BIRD 2 (the routing daemon, Debian's bird2) inside a lab host: `startBird(lab, "r1", config)`
// writes the configuration to a temporary directory, runs `bird -f` there (the lab stops it with
// the other processes it tracks, and removes the directory when it closes), and answers `birdc`
// questions; `show protocols` and `show route` come back parsed, without their timestamps, so a
// notebook can print and compare them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { stopProcess } from "../../kernel/runtime";
import { sleep } from "../os/time";
import type { Lab } from "./topology";

// A bird started again in the same host of the same lab (a cell run twice) replaces the old one.
const running = new WeakMap<Lab, Map<string, ChildProcess>>();

export interface BirdProtocol {
  name: string;
  proto: string;
  state: string;
  /** The last column: "Established", "Passive", an error … */
  info: string;
}
export interface BirdRoute {
  prefix: string;
  /** The protocol (BGP session) it came from. */
  from: string;
  /** BIRD's choice for the prefix: marked "*" in `show route`. */
  best: boolean;
  preference: number;
  /** What follows in brackets: for BGP, the AS path and the origin ("AS65001 65010i"). */
  info: string;
  /** The next hop and interface (`via 10.0.0.2 on eth0`). */
  via: string;
}

export class BirdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BirdError";
  }
}

/** Starts bird in `host` with `config` (a complete bird.conf). Resolves once birdc answers. */
export async function startBird(lab: Lab, host: string, config: string) {
  const dir = mkdtempSync(join(tmpdir(), "wirebook-bird-"));
  lab.onClose(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, "bird.conf");
  const socket = join(dir, "bird.ctl");
  writeFileSync(conf, config);
  const h = lab.host(host);
  const mine = running.get(lab) ?? new Map<string, ChildProcess>();
  running.set(lab, mine);
  const old = mine.get(host);
  if (old) await stopProcess(old);
  const child = h.spawn(["bird", "-f", "-c", conf, "-s", socket, "-P", join(dir, "bird.pid")]);
  let stderr = "";
  child.stdout?.resume();
  child.stderr?.on("data", (d) => (stderr += d));
  let exited = false;
  child.once("exit", () => (exited = true));
  mine.set(host, child);

  const birdc = async (...args: string[]): Promise<string> => {
    const out = await h.exec(["birdc", "-s", socket, ...args]);
    return out.replace(/^BIRD [^\n]* ready\.\n/, "");
  };
  for (let i = 0; ; i++) {
    if (exited) throw new BirdError(`bird exited at start: ${stderr.trim() || "no message"}`);
    try {
      await birdc("show", "status");
      break;
    } catch (e) {
      if (i >= 50) throw new BirdError(`birdc got no answer: ${e instanceof Error ? e.message : String(e)}`);
      await sleep(100);
    }
  }

  return {
    /** Any birdc command, its output without the greeting line. */
    birdc,
    async protocols(): Promise<BirdProtocol[]> {
      return parseProtocols(await birdc("show", "protocols"));
    },
    /** `show route` (all routes, not only the best), optionally `for` one prefix. */
    async routes(prefix?: string): Promise<BirdRoute[]> {
      return parseRoutes(await birdc("show", "route", ...(prefix ? ["for", prefix, "all"] : ["all"])));
    },
    /** Waits until every protocol in `names` shows `info` (default "Established"), up to `timeoutMs`. */
    async waitState(names: string[], info = "Established", timeoutMs = 10_000): Promise<BirdProtocol[]> {
      for (const t0 = Date.now(); ;) {
        const ps = parseProtocols(await birdc("show", "protocols"));
        const there = names.every((n) => ps.find((p) => p.name === n)?.info.startsWith(info));
        if (there || Date.now() - t0 > timeoutMs) return ps;
        await sleep(100);
      }
    },
    /** Waits until `show route` lists exactly `routes` routes (0: none) for each of `prefixes`. */
    async waitRoutes(prefixes: string[], routes = 1, timeoutMs = 10_000): Promise<BirdRoute[]> {
      for (const t0 = Date.now(); ;) {
        const rs = parseRoutes(await birdc("show", "route", "all"));
        const there = prefixes.every((p) => rs.filter((r) => r.prefix === p).length === routes);
        if (there || Date.now() - t0 > timeoutMs) return rs;
        await sleep(100);
      }
    },
  };
}

/** `birdc show protocols`: one row per protocol, the "Since" column left out. */
export function parseProtocols(text: string): BirdProtocol[] {
  const rows: BirdProtocol[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+\s*(.*)$/.exec(line.trimEnd());
    if (!m || m[1] === "Name") continue;
    rows.push({ name: m[1], proto: m[2], state: m[4], info: m[5].trim().replace(/\s+/g, " ") });
  }
  return rows;
}

/** `birdc show route [all]`: one row per route; the best route of each prefix has best: true. */
export function parseRoutes(text: string): BirdRoute[] {
  const rows: BirdRoute[] = [];
  let prefix = "";
  for (const line of text.split("\n")) {
    const m = /^(\S+)?\s+\S+ \[(\S+) [^\]]*\]( \*)? \((\d+)\)(?: \[([^\]]*)\])?/.exec(line);
    if (m && !line.startsWith("\t")) {
      if (m[1]) prefix = m[1];
      rows.push({ prefix, from: m[2], best: Boolean(m[3]), preference: Number(m[4]), info: m[5] ?? "", via: "" });
      continue;
    }
    const via = /^\s+(via \S+ on \S+|dev \S+)/.exec(line);
    if (via && rows.length && !rows[rows.length - 1].via) rows[rows.length - 1].via = via[1];
  }
  return rows;
}
