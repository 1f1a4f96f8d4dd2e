// Propagation delay for a lab path, and the state of its queues. `addDelay(lab, "wire", { rttMs })`
// turns a host with two unaddressed links into a long wire between its two neighbours: a
// transparent bridge that holds every frame rttMs / 2 in each direction. Where the kernel has netem
// it is the bridge's qdisc; where it has not (detected by trying it, and reported with tc's own
// words), the frames cross os/delay-line, a userspace delay line on packet sockets. Either way the
// two neighbours are on one subnet, and a plain host behind the wire gets its default route through
// the router on the other side. `qdiscStats` reads a qdisc's counters (`tc -s qdisc`), so a notebook
// can check that a bottleneck's queue is empty before it measures.
import { join } from "node:path";
import type * as delayLine from "../os/delay-line";
import type { DelayLineStats } from "../os/delay-line";
import type { Remote } from "../os/remote";
import type { Lab, LabHost } from "./topology";
import { LabError } from "./cleanup";

export interface Delay {
  host: string;
  /** What holds the frames: the kernel's netem qdisc, or the userspace delay line. */
  method: "netem" | "userspace delay line (AF_PACKET)";
  /** What `tc qdisc add … netem` answered when tried ("ok" where it worked). */
  netemTest: string;
  rttMs: number;
  /** The userspace line's scheduling priority (nice value); null with netem. */
  nice: string | null;
  /** Frames on the wire now (the line's held frames, or netem's backlog on both sides). */
  held(): Promise<number>;
  /** Frames held now and the timers' lateness (the userspace line only; netem: null). */
  stats(): Promise<DelayLineStats | null>;
  /** Forgets the lateness seen so far (the userspace line only). */
  resetStats(): Promise<void>;
}

/** Makes host `name` (exactly two links, no addresses of its own) a wire of `rttMs` round trip. */
export async function addDelay(lab: Lab, name: string, opts: { rttMs: number }): Promise<Delay> {
  const host = lab.host(name);
  const mine = lab.interfaces.filter((i) => i.host === name);
  if (mine.length !== 2 || mine.some((i) => i.address))
    throw new LabError("ERR_LAB_SPEC", `host "${name}" needs exactly two links and no address to be a wire`);
  if (!(opts.rttMs > 0 && opts.rttMs <= 10_000)) throw new RangeError(`rttMs must be in (0, 10000], got ${opts.rttMs}`);
  const oneWay = `${opts.rttMs / 2}ms`;
  const netem = (dev: string, verb: string) => ["tc", "qdisc", verb, "dev", dev, "root", "netem", "delay", oneWay];
  let netemTest = "ok";
  try {
    // The test is the setup: on the side without a rate limit, netem goes straight on.
    const free = mine.find((i) => !lab.spec.links[i.link].rate) ?? mine[1];
    await host.exec([...netem(free.name, "add"), "limit", "100000"]);
  } catch (e) {
    const said = String((e as Error).message).match(/Error: .*/)?.[0] ?? String(e);
    if (!/unknown|not found|No such file/i.test(said)) throw e;
    netemTest = said.trim();
  }
  let line: Remote<ReturnType<typeof delayLine.startDelayLine>> | undefined;
  if (netemTest === "ok") {
    for (const i of mine) await host.exec([...netem(i.name, "replace"), "limit", "100000"]);
    await host.exec(["ip", "link", "add", "br0", "type", "bridge"]);
    for (const i of mine) await host.exec(["ip", "link", "set", i.name, "master", "br0"]);
    await host.exec(["ip", "link", "set", "br0", "up"]);
  } else {
    // By path, so that it also resolves where modules are not loaded by require (vitest).
    line = await host.run<typeof delayLine, "startDelayLine">(
      join(__dirname, "..", "os", "delay-line.ts"),
      "startDelayLine",
      {
        ifaces: [mine[0].name, mine[1].name],
        delayMs: opts.rttMs / 2,
      },
    );
  }
  await routeAcross(lab, name);
  return {
    host: name,
    method: line ? "userspace delay line (AF_PACKET)" : "netem",
    netemTest,
    rttMs: opts.rttMs,
    nice: line ? line.nice : null,
    held: async () => {
      if (line) return (await line.stats()).held;
      const sides = await Promise.all(mine.map((i) => qdiscStats(host, i.name)));
      return sides.reduce((n, q) => n + q.backlogPackets, 0);
    },
    stats: async () => (line ? line.stats() : null),
    resetStats: async () => void (await line?.resetLateness()),
  };
}

/** A plain host on one side of the wire routes through a router on the other side. */
async function routeAcross(lab: Lab, wire: string): Promise<void> {
  const sides = lab.interfaces
    .filter((i) => i.host === wire)
    .map((w) => lab.interfaces.filter((i) => i.link === w.link && i.host !== wire && i.address));
  for (const [k, side] of sides.entries()) {
    const router = sides[1 - k].find((i) => lab.spec.hosts[i.host].router);
    if (!router) continue;
    for (const end of side.filter((i) => !lab.spec.hosts[i.host].router))
      await lab.host(end.host).exec(["ip", "route", "replace", "default", "via", router.address!.split("/")[0]]);
  }
}

export interface QdiscStats {
  kind: string;
  sentBytes: number;
  sentPackets: number;
  dropped: number;
  overlimits: number;
  /** What is queued now. */
  backlogBytes: number;
  backlogPackets: number;
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, K: 1024, Kb: 1024, M: 1024 ** 2, Mb: 1024 ** 2 };

/** The root qdisc's counters from `tc -s qdisc show dev X` (the first qdisc printed). */
export function parseQdiscStats(text: string): QdiscStats {
  const kind = /^qdisc (\S+)/m.exec(text)?.[1];
  const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(text);
  const backlog = /backlog (\d+)(b|Kb|Mb|K|M)? (\d+)p/.exec(text);
  if (!kind || !sent || !backlog)
    throw new LabError("ERR_LAB_TC", `not the output of tc -s qdisc: ${JSON.stringify(text.slice(0, 120))}`);
  return {
    kind,
    sentBytes: Number(sent[1]),
    sentPackets: Number(sent[2]),
    dropped: Number(sent[3]),
    overlimits: Number(sent[4]),
    backlogBytes: Number(backlog[1]) * SIZE_UNITS[backlog[2] ?? ""],
    backlogPackets: Number(backlog[3]),
  };
}

/** The counters of the root qdisc on `dev` of `host`. */
export async function qdiscStats(host: LabHost, dev: string): Promise<QdiscStats> {
  return parseQdiscStats(await host.exec(["tc", "-s", "qdisc", "show", "dev", dev]));
}
