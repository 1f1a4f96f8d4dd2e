// A small network built from Linux network namespaces: hosts and routers joined by links (a veth
// pair for two hosts, a bridge for more), with addresses, MTUs, a rate limit (tbf) and random loss
// (an nftables `numgen random` drop rule). The lab adds no delay (that would take netem, which not
// every kernel is built with; notebook 48 shows how to ask): the only queueing delay is what a
// rate limit builds up.
//
// Teardown always happens: `close()`, kernel shutdown (onShutdown), a failed start, and after a
// crash — every lab's namespaces carry the prefix `wirebook-<pid>-`, and the next lab removes those
// whose process is gone. Run as an ordinary user, the lab lives in a private user namespace that
// dies with it (see lab-access.ts).
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { readlinkSync } from "node:fs";
import { cellSignal, onShutdown, stopProcess } from "../../kernel/runtime";
import { OUTSIDE_NETNS } from "../os/netns";
import { startAgent, type Agent, type Args, type Result } from "../os/remote";
import { labAccess, labUnavailable, type LabAccess } from "./access";
import { killProcessesIn, LabError, removeStaleLabs, run } from "./cleanup";
import { intToIpv4, ipv4ToInt, ipv6Bytes, ipv6Text, macText } from "../wire/addr";

export interface HostSpec {
  /** Forwards IPv4 between its links; other hosts on its links route through it by default. */
  router?: boolean;
}

export interface LinkSpec {
  /** Two hosts: a veth pair. More: each joins a bridge (a switch in a namespace of its own). */
  between: string[];
  /** IPv4 subnet, e.g. "10.0.1.0/24". Hosts get .1, .2, … in the order of `between`. May be left
   *  out on a link that has `subnet6` (an IPv6-only link). */
  subnet?: string;
  /** Addresses other than the default; `null` leaves the host's interface without one (DHCP). */
  addresses?: Record<string, string | null>;
  /** IPv6 subnet, e.g. "2001:db8:1::/64" (needs `ipv6: true`). Hosts get ::1, ::2, … in the order of
   *  `between`, added without duplicate address detection so they can be used at once. */
  subnet6?: string;
  /** IPv6 addresses other than the default; `null` leaves the interface without one (SLAAC). */
  addresses6?: Record<string, string | null>;
  mtu?: number;
  /** A token-bucket rate limit (tc tbf) on every interface of the link, e.g. "20mbit". */
  rate?: string;
  /** How long the tbf queue may hold a packet before it drops: the bottleneck buffer. */
  queue?: string;
  /** Fraction of packets each interface of the link drops at random on the way out (0..1). */
  loss?: number;
}

export interface LabSpec {
  hosts: Record<string, HostSpec>;
  links: LinkSpec[];
  /** IPv6 on the lab's interfaces (default off: its router solicitations and multicast reports
   *  would appear at random moments in every capture). */
  ipv6?: boolean;
}

export interface Interface {
  host: string;
  name: string;
  link: number;
  /** With prefix length, e.g. "10.0.1.1/24"; null when the link leaves it unaddressed. */
  address: string | null;
  /** The IPv6 address the lab gave it, e.g. "2001:db8:1::1/64"; null on a link without `subnet6`
   *  (the kernel's own link-local address is not listed). */
  address6: string | null;
  mac: string;
  mtu: number;
}

const PREFIX = "wirebook-";
let labsStarted = 0;

/** Builds the lab. Where no lab can be built, every method of the result skips its cell. */
export async function startLab(spec: LabSpec): Promise<Lab> {
  validate(spec);
  const access = labAccess();
  const lab = new Lab(spec, access, `${PREFIX}${process.pid}-${++labsStarted}-`);
  if (access.mode === "none") return lab;
  try {
    // Interrupting the cell stops the build at its next command, and the catch removes the part built.
    await lab.build(cellSignal());
  } catch (e) {
    await lab.close();
    throw e;
  }
  return lab;
}

export class Lab {
  readonly interfaces: Interface[] = [];
  private readonly hosts = new Map<string, LabHost>();
  private readonly switches = new Map<number, LabHost>();
  private holder?: ChildProcess;
  private readonly children = new Set<ChildProcess>();
  private readonly namespaces: string[] = [];
  private readonly whenClosed: Array<() => unknown> = [];
  /** Runs the teardown now and forgets the shutdown hook. */
  private readonly closeNow: () => Promise<void>;
  private tornDown?: Promise<{ namespacesRemoved: number }>;
  private closed = false;

  constructor(
    readonly spec: LabSpec,
    private readonly access: LabAccess,
    /** Every namespace of this lab starts with it: `wirebook-<pid>-<n>-`. */
    readonly prefix: string,
  ) {
    this.closeNow = access.mode === "none" ? async () => {} : onShutdown(() => this.teardown());
  }

  /** The host's handle: run commands and helper functions inside it. */
  host(name: string): LabHost {
    this.usable();
    const host = this.hosts.get(name);
    if (!host)
      throw new LabError("ERR_LAB_HOST", `no host "${name}" in this lab (hosts: ${[...this.hosts.keys()].join(", ")})`);
    return host;
  }

  /** The switch of link `link` (one with three or more hosts): its bridge is `br0`, e.g.
   *  `lab.switch(0).exec(["bridge", "fdb", "show", "br", "br0"])`. */
  switch(link: number): LabHost {
    this.usable();
    const sw = this.switches.get(link);
    if (!sw) throw new LabError("ERR_LAB_SWITCH", `link ${link} has no switch (only links of three or more hosts do)`);
    return sw;
  }

  /** A host's address (without prefix length) on its first addressed link, or on link `link`. */
  address(host: string, link?: number): string {
    this.usable();
    const found = this.interfaces.find((i) => i.host === host && i.address && (link === undefined || i.link === link));
    if (!found)
      throw new LabError(
        "ERR_LAB_ADDRESS",
        `host "${host}" has no address${link === undefined ? "" : ` on link ${link}`}`,
      );
    return found.address!.split("/")[0];
  }

  /** A host's IPv6 address (without prefix length) on its first link with `subnet6`, or on link `link`. */
  address6(host: string, link?: number): string {
    this.usable();
    const found = this.interfaces.find((i) => i.host === host && i.address6 && (link === undefined || i.link === link));
    if (!found)
      throw new LabError(
        "ERR_LAB_ADDRESS",
        `host "${host}" has no IPv6 address${link === undefined ? "" : ` on link ${link}`}`,
      );
    return found.address6!.split("/")[0];
  }

  /** A host's MAC address ("02:00:00:00:01:02") on its first link, or on link `link`. */
  mac(host: string, link?: number): string {
    this.usable();
    const found = this.interfaces.find((i) => i.host === host && (link === undefined || i.link === link));
    if (!found)
      throw new LabError(
        "ERR_LAB_INTERFACE",
        `host "${host}" has no interface${link === undefined ? "" : ` on link ${link}`}`,
      );
    return found.mac;
  }

  /** One row per interface, as a table. */
  describe(): Record<string, string | number>[] {
    this.usable();
    return this.interfaces.map((i) => {
      const link = this.spec.links[i.link];
      const shaping = [link.rate && `tbf ${link.rate}`, link.loss && `loss ${(link.loss * 100).toFixed(1)}%`]
        .filter(Boolean)
        .join(", ");
      // The IPv6 column only in labs that have IPv6 addresses, so other labs' tables stay as they were.
      const v6: Record<string, string> = this.spec.links.some((l) => l.subnet6)
        ? { address6: i.address6 ?? "(none)" }
        : {};
      return {
        host: i.host,
        interface: i.name,
        address: i.address ?? "(none)",
        ...v6,
        mac: i.mac,
        mtu: i.mtu,
        link: i.link,
        shaping: shaping || "-",
      };
    });
  }

  /** Runs a command in the lab's context (the private user namespace when not root). */
  async command(argv: string[]): Promise<string> {
    this.usable();
    return run(this.wrap(argv));
  }

  /** Runs `fn` when the lab is torn down (temp files of an experiment, say). */
  onClose(fn: () => unknown): void {
    this.whenClosed.push(fn);
  }

  /** Stops agents and processes, deletes the namespaces; safe to call twice. */
  async close(): Promise<{ namespacesRemoved: number }> {
    if (this.access.mode === "none") throw labUnavailable(this.access.reason);
    this.closed = true;
    await this.closeNow();
    return this.teardown();
  }

  // ---- inside the lab ------------------------------------------------------------------------

  /** argv, prefixed so that it runs where the lab's namespaces live. */
  wrap(argv: string[]): string[] {
    if (this.access.mode !== "userns") return argv;
    return [
      "nsenter",
      `--target=${this.holder!.pid}`,
      "--user",
      "--mount",
      "--net",
      "--preserve-credentials",
      "--",
      ...argv,
    ];
  }

  /** Starts a tracked process; it is stopped by close(). */
  spawnTracked(
    argv: string[],
    stdio: StdioOptions = ["ignore", "pipe", "pipe"],
    env?: NodeJS.ProcessEnv,
  ): ChildProcess {
    const [cmd, ...args] = this.wrap(argv);
    // "advanced": an agent's IPC channel carries structured clones (Buffers as Buffers).
    const child = spawn(cmd, args, { stdio, env: env ?? process.env, serialization: "advanced" });
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    child.on("error", () => {}); // reported through exit codes and the caller's own checks
    return child;
  }

  private usable(): void {
    if (this.access.mode === "none") throw labUnavailable(this.access.reason);
    if (this.closed) throw new LabError("ERR_LAB_CLOSED", "this lab has been closed; start a new one");
  }

  async build(signal?: AbortSignal): Promise<void> {
    if (this.access.mode === "root") await removeStaleLabs();
    else await this.startHolder();
    const ip = (...args: string[]) => {
      signal?.throwIfAborted();
      return run(this.wrap(["ip", ...args]));
    };
    for (const name of Object.keys(this.spec.hosts)) {
      const ns = this.prefix + name;
      await ip("netns", "add", ns);
      this.namespaces.push(ns);
      if (!this.spec.ipv6) await this.disableIpv6(ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      this.hosts.set(name, new LabHost(this, name, ns));
    }
    const nextIndex = new Map<string, number>();
    for (const [k, link] of this.spec.links.entries()) {
      const ends = link.between.map((host, i) => {
        const n = nextIndex.get(host) ?? 0;
        nextIndex.set(host, n + 1);
        const given = link.addresses?.[host];
        const address =
          given === null || !link.subnet ? null : withPrefix(given ?? nthAddress(link.subnet, i + 1), link.subnet);
        const given6 = link.addresses6?.[host];
        const address6 =
          given6 === null || !link.subnet6
            ? null
            : withPrefix(given6 ?? nthAddress6(link.subnet6, i + 1), link.subnet6);
        return {
          host,
          ns: this.prefix + host,
          name: `eth${n}`,
          address,
          address6,
          mac: macFor(k, Object.keys(this.spec.hosts).indexOf(host)),
        };
      });
      if (ends.length === 2) {
        await ip(
          "link",
          "add",
          ends[0].name,
          "netns",
          ends[0].ns,
          "type",
          "veth",
          "peer",
          "name",
          ends[1].name,
          "netns",
          ends[1].ns,
        );
      } else {
        const sw = `${this.prefix}switch${k}`;
        await ip("netns", "add", sw);
        this.namespaces.push(sw);
        if (!this.spec.ipv6) await this.disableIpv6(sw);
        this.switches.set(k, new LabHost(this, `switch${k}`, sw));
        await ip("-n", sw, "link", "add", "br0", "type", "bridge");
        await ip("-n", sw, "link", "set", "br0", "up");
        for (const [i, end] of ends.entries()) {
          await ip("link", "add", end.name, "netns", end.ns, "type", "veth", "peer", "name", `port${i}`, "netns", sw);
          await ip("-n", sw, "link", "set", `port${i}`, "master", "br0", "up");
        }
      }
      for (const end of ends) {
        const mtu = link.mtu ?? 1500;
        await ip("-n", end.ns, "link", "set", end.name, "address", end.mac, "mtu", String(mtu), "up");
        if (end.address) await ip("-n", end.ns, "addr", "add", end.address, "dev", end.name);
        if (end.address6) await ip("-n", end.ns, "-6", "addr", "add", end.address6, "dev", end.name, "nodad");
        if (link.rate) await ip("-n", end.ns, "link", "set", end.name, "txqueuelen", "1000");
        if (link.rate) await run(this.wrap(tbfCommand(end.ns, end.name, link.rate, link.queue ?? "50ms")));
        if (link.loss) await this.dropAtRandom(end.ns, end.name, link.loss);
        this.interfaces.push({
          host: end.host,
          name: end.name,
          link: k,
          address: end.address,
          address6: end.address6,
          mac: end.mac,
          mtu,
        });
      }
    }
    await this.route();
    signal?.throwIfAborted();
  }

  /** Routers forward; every other host sends off-link traffic to the first router it shares a link with. */
  private async route(): Promise<void> {
    for (const [name, spec] of Object.entries(this.spec.hosts)) {
      const ns = this.prefix + name;
      if (spec.router) {
        await run(this.wrap(["ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]));
        if (this.spec.ipv6)
          await run(
            this.wrap(["ip", "netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"]),
          );
        continue;
      }
      const mine = this.interfaces.filter((i) => i.host === name && i.address);
      const gateway = this.interfaces.find(
        (i) => i.address && this.spec.hosts[i.host].router && mine.some((m) => m.link === i.link),
      );
      if (gateway)
        await run(this.wrap(["ip", "-n", ns, "route", "add", "default", "via", gateway.address!.split("/")[0]]));
      const mine6 = this.interfaces.filter((i) => i.host === name && i.address6);
      const gateway6 = this.interfaces.find(
        (i) => i.address6 && this.spec.hosts[i.host].router && mine6.some((m) => m.link === i.link),
      );
      if (gateway6)
        await run(
          this.wrap(["ip", "-n", ns, "-6", "route", "add", "default", "via", gateway6.address6!.split("/")[0]]),
        );
    }
  }

  /** Before any interface exists, so that new ones inherit it ("default"). */
  private async disableIpv6(ns: string): Promise<void> {
    const script = "for k in all default; do echo 1 > /proc/sys/net/ipv6/conf/$k/disable_ipv6; done";
    await run(this.wrap(["ip", "netns", "exec", ns, "sh", "-c", script]));
  }

  private async dropAtRandom(ns: string, dev: string, loss: number): Promise<void> {
    const perMillion = Math.round(loss * 1_000_000);
    const rules = [
      "table inet wirebook {",
      "  chain egress {",
      "    type filter hook postrouting priority 0; policy accept;",
      `    oifname "${dev}" numgen random mod 1000000 < ${perMillion} counter drop`,
      "  }",
      "}",
    ].join("\n");
    // Several links on one host each add their rule to the same table.
    const existing = await run(this.wrap(["ip", "netns", "exec", ns, "nft", "list", "tables"]));
    const script = existing.includes("inet wirebook")
      ? `add rule inet wirebook egress oifname "${dev}" numgen random mod 1000000 < ${perMillion} counter drop\n`
      : `${rules}\n`;
    await run(this.wrap(["ip", "netns", "exec", ns, "nft", "-f", "-"]), script);
  }

  private async startHolder(): Promise<void> {
    // The holder creates the user + mount namespace and keeps it alive; it exits when our end of
    // its stdin closes, so the lab cannot outlive this process. A tmpfs on /run gives `ip netns`
    // a private /run/netns; the holder's own network namespace is one the user namespace owns,
    // which `ip` needs to be allowed to switch back to after making each host's namespace.
    const holder = spawn(
      "unshare",
      [
        "--user",
        "--map-root-user",
        "--mount",
        "--net",
        "sh",
        "-c",
        "mount -t tmpfs wirebook /run && echo ready && exec cat >/dev/null",
      ],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    this.holder = holder;
    let stderr = "";
    holder.stderr!.on("data", (d) => (stderr += d));
    await new Promise<void>((resolve, reject) => {
      holder.once("error", reject);
      holder.once("exit", (code) =>
        reject(new LabError("ERR_LAB_USERNS", `could not create a user namespace (exit ${code}): ${stderr.trim()}`)),
      );
      holder.stdout!.once("data", () => resolve());
    });
  }

  private teardown(): Promise<{ namespacesRemoved: number }> {
    this.closed = true;
    return (this.tornDown ??= this.removeEverything());
  }

  private async removeEverything(): Promise<{ namespacesRemoved: number }> {
    await Promise.all([...this.hosts.values(), ...this.switches.values()].map((h) => h.stopAgent()));
    await Promise.all([...this.children].map((c) => stopProcess(c)));
    let removed = 0;
    for (const ns of this.namespaces.reverse()) {
      if (this.access.mode === "root") await killProcessesIn(ns);
      try {
        await run(this.wrap(["ip", "netns", "del", ns]));
        removed++;
      } catch {
        // already gone
      }
    }
    if (this.holder) {
      this.holder.stdin!.end();
      await stopProcess(this.holder);
    }
    for (const fn of this.whenClosed.splice(0))
      await Promise.resolve()
        .then(fn)
        .catch(() => {});
    return { namespacesRemoved: removed };
  }
}

/** One host of the lab. */
export class LabHost {
  private agent?: Promise<Agent>;

  constructor(
    private readonly lab: Lab,
    readonly name: string,
    /** The namespace's name (`ip netns exec <netns> …` reaches it while the lab runs, as root). */
    readonly netns: string,
  ) {}

  /** Runs a command inside the host and returns its stdout; a failure throws with its stderr. */
  exec(argv: string[], input?: string): Promise<string> {
    return run(this.lab.wrap(["ip", "netns", "exec", this.netns, ...argv]), input);
  }

  /** Starts a long-running command inside the host (a daemon, a capture); stopped by lab.close(). */
  spawn(argv: string[]): ChildProcess {
    return this.lab.spawnTracked(["ip", "netns", "exec", this.netns, ...argv]);
  }

  /**
   * Calls `fn` of a helper module inside the host, e.g. `host.run(services, "udpServer", 5353)`,
   * in the host's agent (os/remote.ts): Buffers cross as Buffers, and a result with a close()
   * method stays alive in the host as a service.
   */
  async run<M extends object, K extends keyof M & string>(
    mod: M | string,
    fn: K,
    ...args: Args<M, K>
  ): Promise<Result<M, K>> {
    const agent = await (this.agent ??= this.startAgent());
    return agent.run(mod, fn, ...args);
  }

  private startAgent(): Promise<Agent> {
    // The namespace the agent must not be in (os/netns.ts): inside a user namespace it cannot
    // read ours from /proc, so it is told.
    const env = { ...process.env, [OUTSIDE_NETNS]: readlinkSync("/proc/self/ns/net") };
    return startAgent({
      name: `the agent in host "${this.name}"`,
      env,
      stopAtShutdown: false, // the lab's teardown stops it
      launch: (argv, stdio, e) => this.lab.spawnTracked(["ip", "netns", "exec", this.netns, ...argv], stdio, e),
    });
  }

  async stopAgent(): Promise<void> {
    const agent = await this.agent?.catch(() => undefined);
    await agent?.stop();
  }
}

// ---- plumbing ------------------------------------------------------------------------------------

function tbfCommand(ns: string, dev: string, rate: string, queue: string): string[] {
  // burst: at least one 10 ms tick of traffic at this rate, and never less than 64 KiB so that
  // GSO super-packets pass without being split.
  const bps = parseRate(rate);
  const burst = Math.max(64 * 1024, Math.round(bps / 8 / 100));
  return [
    "ip",
    "netns",
    "exec",
    ns,
    "tc",
    "qdisc",
    "replace",
    "dev",
    dev,
    "root",
    "tbf",
    "rate",
    rate,
    "burst",
    String(burst),
    "latency",
    queue,
  ];
}

function parseRate(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m|g)?bit$/i.exec(rate);
  if (!m) throw new LabError("ERR_LAB_SPEC", `rate "${rate}" is not like "20mbit"`);
  return (
    Number(m[1]) * ({ k: 1e3, m: 1e6, g: 1e9 } as Record<string, number>)[(m[2] ?? "").toLowerCase()] || Number(m[1])
  );
}

function withPrefix(address: string, subnet: string): string {
  return address.includes("/") ? address : `${address}/${subnet.split("/")[1]}`;
}

function nthAddress(subnet: string, n: number): string {
  const [base, len] = subnet.split("/");
  const value = ipv4ToInt(base) + n;
  if (n >= 2 ** (32 - Number(len)) - 1)
    throw new LabError("ERR_LAB_SPEC", `subnet ${subnet} has no room for host number ${n}`);
  return intToIpv4(value);
}

/** Locally administered and stable from run to run, so outputs that show MACs can be compared. */
function macFor(link: number, host: number): string {
  return macText(Buffer.from([0x02, 0, 0, 0, link + 1, host + 1]));
}

/** The `n`th address of an IPv6 subnet: the prefix with `n` added to its last 32 bits. */
function nthAddress6(subnet: string, n: number): string {
  const [base, len] = subnet.split("/");
  const bytes = ipv6Bytes(base, `subnet6 ${subnet}`);
  if (Number(len) > 120) throw new LabError("ERR_LAB_SPEC", `subnet6 ${subnet} has no room for host number ${n}`);
  bytes.writeUInt32BE((bytes.readUInt32BE(12) + n) >>> 0, 12);
  return ipv6Text(bytes);
}

function validate(spec: LabSpec): void {
  const names = Object.keys(spec.hosts ?? {});
  const bad = (reason: string) => new LabError("ERR_LAB_SPEC", reason);
  if (!names.length) throw bad("a lab needs at least one host");
  for (const n of names)
    if (!/^[a-z][a-z0-9]{0,15}$/.test(n)) throw bad(`host name "${n}": use up to 16 lower-case letters and digits`);
  for (const [k, link] of (spec.links ?? []).entries()) {
    if (!Array.isArray(link.between) || link.between.length < 2)
      throw bad(`link ${k}: "between" needs two or more hosts`);
    for (const h of link.between) if (!names.includes(h)) throw bad(`link ${k}: unknown host "${h}"`);
    if (!(link.subnet === undefined && link.subnet6) && !/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(link.subnet ?? ""))
      throw bad(`link ${k}: subnet "${link.subnet}" is not like "10.0.1.0/24"`);
    if (link.subnet6 !== undefined) {
      if (!spec.ipv6) throw bad(`link ${k}: subnet6 needs the lab's ipv6: true`);
      const [base, len] = link.subnet6.split("/");
      if (!(Number(len) >= 1 && Number(len) <= 120) || !attempt6(base))
        throw bad(`link ${k}: subnet6 "${link.subnet6}" is not like "2001:db8:1::/64"`);
    }
    if (link.loss !== undefined && !(link.loss >= 0 && link.loss < 1))
      throw bad(`link ${k}: loss must be a fraction in [0, 1)`);
    if (link.mtu !== undefined && !(Number.isInteger(link.mtu) && link.mtu >= 68 && link.mtu <= 65535))
      throw bad(`link ${k}: mtu must be 68..65535`);
    if (link.rate !== undefined) parseRate(link.rate);
  }
}

function attempt6(text: string): boolean {
  try {
    ipv6Bytes(text);
    return true;
  } catch {
    return false;
  }
}
