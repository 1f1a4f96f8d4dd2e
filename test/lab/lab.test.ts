// The namespace lab (helpers/lab): topology, shaping, agents (Buffers crossing), teardown, crash leftovers, the
// user-namespace path for ordinary users, and the documented skip where no lab can be built.
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KernelClient } from "../../kernel/client";
import { labAccess, LabError, startLab, staleNamespaces, type Lab, type LabHost } from "../../helpers/lab";
import type * as probe from "../support/lab-probe";
import * as probeHere from "../support/lab-probe";
import { root, run } from "../support/process";
import type * as services from "../../helpers/net/services";
import type { Args } from "../../helpers/os/remote";

// Vitest loads modules its own way, so pass the probe's path rather than the module object.
const PROBE = join(__dirname, "..", "support", "lab-probe.ts");
type Probe = typeof probe;
const inHost = <K extends keyof Probe & string>(host: LabHost, fn: K, ...args: Args<Probe, K>) =>
  host.run<Probe, K>(PROBE, fn, ...args);

const asRoot = labAccess().mode === "root";
const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8" });
const namespaces = () =>
  ip("netns", "list")
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);

describe.skipIf(!asRoot)("a lab as root", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({
      hosts: { a: {}, r: { router: true }, b: {}, c: {} },
      links: [
        { between: ["a", "r"], subnet: "10.0.1.0/24", rate: "20mbit", loss: 0.5 },
        { between: ["r", "b", "c"], subnet: "10.0.2.0/24", mtu: 1400 },
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await lab?.close();
  });

  it("names every namespace with the lab's prefix", () => {
    expect(lab.prefix).toMatch(new RegExp(`^wirebook-${process.pid}-\\d+-$`));
    const mine = namespaces()
      .filter((n) => n.startsWith(lab.prefix))
      .sort();
    expect(mine).toEqual(["a", "b", "c", "r", "switch1"].map((n) => lab.prefix + n));
  });

  it("gives each host its interfaces, addresses, MTU and a stable MAC", async () => {
    expect(lab.describe().map((r) => [r.host, r.interface, r.address, r.mtu])).toEqual([
      ["a", "eth0", "10.0.1.1/24", 1500],
      ["r", "eth0", "10.0.1.2/24", 1500],
      ["r", "eth1", "10.0.2.1/24", 1400],
      ["b", "eth0", "10.0.2.2/24", 1400],
      ["c", "eth0", "10.0.2.3/24", 1400],
    ]);
    expect(await inHost(lab.host("b"), "addresses")).toEqual({ lo: ["127.0.0.1"], eth0: ["10.0.2.2"] });
    expect(ip("-n", `${lab.prefix}c`, "-o", "link", "show", "eth0")).toMatch(
      /mtu 1400 .*link\/ether 02:00:00:00:02:04/,
    );
  });

  it("tells a host's MAC address, on its first link or a given one, as the interface has it", () => {
    expect(lab.mac("c")).toBe("02:00:00:00:02:04");
    expect(lab.mac("r")).toBe("02:00:00:00:01:02");
    expect(lab.mac("r", 1)).toBe(lab.describe().find((r) => r.host === "r" && r.interface === "eth1")?.mac);
    expect(ip("-n", `${lab.prefix}r`, "-o", "link", "show", "eth1")).toContain(`link/ether ${lab.mac("r", 1)}`);
    expect(() => lab.mac("a", 1)).toThrow(expect.objectContaining({ code: "ERR_LAB_INTERFACE" }));
    expect(() => lab.mac("nobody")).toThrow(/host "nobody" has no interface/);
  });

  it("routes through the router by default, and bridges a segment of three", async () => {
    expect(await lab.host("b").exec(["ip", "route", "show", "default"])).toMatch(/default via 10\.0\.2\.1 dev eth0/);
    const echo = await inHost(lab.host("c"), "udpEcho", "0.0.0.0");
    expect(await inHost(lab.host("b"), "udpRoundTrips", lab.address("c"), echo.port, 50, 300)).toBe(50);
    expect(await echo.echoed()).toBe(50);
    expect(await echo.close()).toBe(50);
  });

  it("shapes a link with tbf and drops at random with nftables", async () => {
    expect(await lab.host("a").exec(["tc", "qdisc", "show", "dev", "eth0"])).toMatch(/qdisc tbf .* rate 20Mbit/);
    expect(await lab.host("a").exec(["nft", "list", "ruleset"])).toMatch(/numgen random mod 1000000 < 500000 counter/);
    // Across the lossy link both ways, about a quarter of 400 echoes come back; none lost elsewhere.
    const echo = await inHost(lab.host("b"), "udpEcho", "0.0.0.0");
    const back = await inHost(lab.host("a"), "udpRoundTrips", lab.address("b"), echo.port, 400, 500);
    expect(back).toBeGreaterThan(40);
    expect(back).toBeLessThan(200);
    await echo.close();
  });

  it("lets guarded helpers run inside hosts, and only there", async () => {
    expect(await inHost(lab.host("a"), "insideLab")).toBe(true);
    expect(() => probeHere.insideLab()).toThrow(/runs only inside a lab host/);
  });

  it("carries Buffers and Uint8Arrays both ways unchanged, and a service method's Buffer back", async () => {
    const pooled = Buffer.from("pooled: a view into a larger ArrayBuffer"); // byteOffset is not 0
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const parts = [Buffer.alloc(0), Buffer.from([0x45, 0x00]), Buffer.alloc(70_000, 0xab)];
    const back = await inHost(lab.host("a"), "bytesBack", pooled, bytes, { parts });
    expect(back.arrived).toEqual({ buffer: true, bytes: true, parts: true });
    expect(Buffer.isBuffer(back.buffer) && back.buffer.equals(pooled)).toBe(true);
    expect(Buffer.isBuffer(back.bytes)).toBe(false);
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect([...back.bytes]).toEqual([0, 1, 254, 255]);
    expect(back.nested.parts.map((p) => Buffer.isBuffer(p) && p.length)).toEqual([0, 2, 70_000]);
    expect(Buffer.concat(back.nested.parts).equals(Buffer.concat(parts))).toBe(true);

    const store = await inHost(lab.host("a"), "byteStore");
    expect(await store.put(Buffer.from("ab"))).toBe(1);
    expect(await store.put(Buffer.from([0, 0xff]))).toBe(2);
    const joined = await store.joined();
    expect(Buffer.isBuffer(joined)).toBe(true);
    expect(joined).toEqual(Buffer.from([0x61, 0x62, 0, 0xff]));
    await store.close();
  });

  it("passes a helper's error back with its name and code", async () => {
    await expect(inHost(lab.host("a"), "fail", "on purpose")).rejects.toMatchObject({
      code: "ERR_PROBE",
      message: "on purpose",
    });
  });

  it("rejects a bad spec with one clear error", async () => {
    await expect(
      startLab({ hosts: { a: {} }, links: [{ between: ["a", "x"], subnet: "10.0.0.0/24" }] }),
    ).rejects.toThrow(/unknown host "x"/);
    await expect(
      startLab({ hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet: "10.0.0/24" }] }),
    ).rejects.toThrow(LabError);
    await expect(
      startLab({ hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet: "10.0.0.0/24", rate: "fast" }] }),
    ).rejects.toThrow(/not like "20mbit"/);
    await expect(startLab({ hosts: { "Bad Name": {} }, links: [] })).rejects.toThrow(/host name/);
  });

  it("removes every namespace and agent on close, and refuses use afterwards", async () => {
    const other = await startLab({ hosts: { x: {}, y: {} }, links: [{ between: ["x", "y"], subnet: "10.9.0.0/30" }] });
    const echo = await inHost(other.host("x"), "udpEcho", "0.0.0.0");
    expect(await other.close()).toEqual({ namespacesRemoved: 2 });
    expect(namespaces().filter((n) => n.startsWith(other.prefix))).toEqual([]);
    expect(spawnSync("pgrep", ["-f", `${other.prefix}x`]).status).toBe(1);
    expect(() => other.host("x")).toThrow(/has been closed/);
    await expect(echo.echoed()).rejects.toMatchObject({ code: "ERR_AGENT_EXITED" }); // a service of the closed lab
    expect(await other.close()).toEqual({ namespacesRemoved: 2 }); // twice is fine
  });

  it("can be opened again with the same hosts after it was closed, and works as the first did", async () => {
    const spec = { hosts: { x: {}, y: {} }, links: [{ between: ["x", "y"], subnet: "10.9.1.0/30" }] };
    for (const round of [1, 2]) {
      const again = await startLab(spec);
      const echo = await inHost(again.host("y"), "udpEcho", "0.0.0.0");
      const back = await inHost(again.host("x"), "udpRoundTrips", again.address("y"), echo.port, 3);
      expect(back, `round ${round}`).toBe(3);
      expect(await again.close()).toEqual({ namespacesRemoved: 2 });
      expect(namespaces().filter((n) => n.startsWith(again.prefix))).toEqual([]);
    }
  });

  it("removes what a crashed lab left behind when the next one starts", async () => {
    const dead = spawnSync("true").pid; // a process that has exited: its pid is free
    const leftover = `wirebook-${dead}-1-ghost`;
    ip("netns", "add", leftover);
    expect(await staleNamespaces()).toContain(leftover);
    const next = await startLab({ hosts: { z: {} }, links: [] });
    expect(namespaces()).not.toContain(leftover);
    await next.close();
  });
});

describe.skipIf(!asRoot)("a lab in a notebook", () => {
  const startCell =
    `import { startLab } from "wirebook/helpers/lab";\n` +
    `const lab = await startLab({ hosts: { a: {}, b: {} },\n` +
    `  links: [{ between: ["a", "b"], subnet: "10.0.0.0/24" }] });\n` +
    `import * as services from "wirebook/helpers/net/services";\n` +
    `await lab.host("b").run(services, "tcpServer", 0);\n` +
    `lab.prefix`;
  const prefixOf = (ex: { outputs: any[] }) =>
    JSON.parse(String(ex.outputs[0].data["text/plain"]).replace(/^'|'$/g, '"'));

  it("is removed when the kernel shuts down", async () => {
    const kernel = await KernelClient.start();
    try {
      const prefix = prefixOf(await kernel.execute(startCell));
      expect(namespaces().filter((n) => n.startsWith(prefix))).toHaveLength(2);
      await kernel.shutdown();
      expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
      expect(spawnSync("pgrep", ["-f", prefix]).status).toBe(1);
    } finally {
      await kernel.shutdown().catch(() => {});
    }
  }, 60_000);

  it("runs again from the top after its last cell closed it, as a learner re-running the notebook", async () => {
    const kernel = await KernelClient.start();
    try {
      const prefixes: string[] = [];
      for (const round of [1, 2]) {
        const started = await kernel.execute(startCell);
        expect(started.reply.status, JSON.stringify(started.outputs)).toBe("ok");
        prefixes.push(prefixOf(started));
        const used = await kernel.execute(`(await lab.host("a").run(services, "tcpServer", 0)).port > 0`);
        expect(used.outputs[0], `round ${round}`).toMatchObject({ data: { "text/plain": "true" } });
        const closed = await kernel.execute("(await lab.close()).namespacesRemoved");
        expect(closed.outputs[0], `round ${round}`).toMatchObject({ data: { "text/plain": "2" } });
      }
      expect(new Set(prefixes).size).toBe(2);
      for (const prefix of prefixes) expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
    } finally {
      await kernel.shutdown().catch(() => {});
    }
  }, 60_000);

  it("is removed, part built, when the cell building it is interrupted; the kernel stays usable", async () => {
    const kernel = await KernelClient.start();
    try {
      const pid = kernel.process.pid;
      const hosts = Array.from({ length: 12 }, (_, i) => `h${i}`);
      const spec = {
        hosts: Object.fromEntries(hosts.map((h) => [h, {}])),
        links: hosts.slice(1).map((h) => ({ between: ["h0", h], subnet: `10.9.${hosts.indexOf(h)}.0/24` })),
      };
      const ours = () => namespaces().filter((n) => n.startsWith(`wirebook-${pid}-`));
      const building = kernel.execute(
        `import { startLab } from "wirebook/helpers/lab";\nconst lab = await startLab(${JSON.stringify(spec)});`,
      );
      const deadline = Date.now() + 20_000;
      while (ours().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(ours().length).toBeGreaterThan(0); // the build had begun
      await kernel.interrupt();
      expect((await building).outputs.at(-1)).toMatchObject({ output_type: "error", ename: "Interrupted" });
      while (ours().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(ours()).toEqual([]);
      expect((await kernel.execute("1 + 1")).outputs[0]).toMatchObject({ data: { "text/plain": "2" } });
    } finally {
      await kernel.shutdown().catch(() => {});
    }
  }, 60_000);

  it("leaves no agent running when the kernel is killed, and the next lab removes its namespaces", async () => {
    const kernel = await KernelClient.start();
    const prefix = prefixOf(await kernel.execute(startCell));
    const exited = new Promise((r) => kernel.process.once("exit", r));
    kernel.process.kill("SIGKILL");
    await exited;
    // Each agent reads its stdin from the kernel: the pipe closes and the agent exits.
    const deadline = Date.now() + 10_000;
    while (spawnSync("pgrep", ["-f", prefix]).status === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(spawnSync("pgrep", ["-f", prefix]).status).toBe(1);
    // Left behind and recognised as stale (another lab starting meanwhile may already have removed them).
    const leftover = namespaces().filter((n) => n.startsWith(prefix));
    const stale = await staleNamespaces();
    expect(leftover.filter((n) => !stale.includes(n))).toEqual([]);
    const next = await startLab({ hosts: { z: {} }, links: [] });
    await next.close();
    expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
  }, 60_000);
});

describe.skipIf(!asRoot)("a lab as an ordinary user", () => {
  it("runs in a private user namespace, with the same results and nothing left on the host", async () => {
    const r = await run(
      "setpriv",
      [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--",
        process.execPath,
        "--require",
        "tsx/cjs",
        "test/support/lab-demo.ts",
      ],
      {
        cwd: root,
        env: { ...process.env, HOME: "/tmp" },
      },
    );
    expect(r.stderr).toBe("");
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      mode: "userns",
      back: 20,
      mtu: 1400,
      uidInside: 0,
      guardLetsAgentsSend: true,
      seenByB: { eth0: ["10.0.2.2"] },
    });
    // The lab's namespaces lived in the user's private mount namespace, never in the host's /run/netns.
    expect(namespaces().filter((n) => n.startsWith(result.prefix))).toEqual([]);
    expect(spawnSync("pgrep", ["-f", result.prefix]).status).toBe(1);
  }, 60_000);
});

describe.skipIf(labAccess().mode === "none")("a lab with IPv6 on its links", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({
      ipv6: true,
      hosts: { a: {}, r: { router: true }, b: {} },
      links: [
        { between: ["a", "r"], subnet: "10.0.6.0/24", subnet6: "2001:db8:6:1::/64" },
        { between: ["r", "b"], subnet6: "2001:db8:6:2::/64", addresses6: { b: "2001:db8:6:2::b" } },
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await lab?.close();
  });

  it("numbers IPv6 hosts like IPv4 ones, takes given addresses, and shows them in describe()", () => {
    expect(lab.address6("a")).toBe("2001:db8:6:1::1");
    expect(lab.address6("r", 1)).toBe("2001:db8:6:2::1");
    expect(lab.address6("b")).toBe("2001:db8:6:2::b");
    expect(() => lab.address("b")).toThrow(/no address/);
    expect(lab.describe().map((r) => [r.host, r.address, r.address6])).toEqual([
      ["a", "10.0.6.1/24", "2001:db8:6:1::1/64"],
      ["r", "10.0.6.2/24", "2001:db8:6:1::2/64"],
      ["r", "(none)", "2001:db8:6:2::1/64"],
      ["b", "(none)", "2001:db8:6:2::b/64"],
    ]);
  });

  it("routes IPv6 through the router, with addresses usable at once (no DAD wait)", async () => {
    const SERVICES = join(__dirname, "..", "..", "helpers", "net", "services.ts");
    type S = typeof services;
    const server = await lab
      .host("a")
      .run<S, "tcpServer">(SERVICES, "tcpServer", 7000, { address: "::", greet: "hello" });
    // Neighbour discovery may wait for the link-local addresses' DAD: the first connection can take
    // a second or more on a busy machine, so the fetch may wait up to 10 s.
    const answer = await lab.host("b").run<S, "tcpFetch">(SERVICES, "tcpFetch", lab.address6("a"), 7000, 10_000);
    expect(answer).toEqual({ reply: "hello" });
    expect(await server.peers()).toEqual([expect.stringMatching(/^2001:db8:6:2::b:\d+$/)]);
    expect(await lab.host("b").exec(["ip", "-6", "route", "show", "default"])).toMatch(/via 2001:db8:6:2::1/);
  });

  it("rejects IPv6 subnets without ipv6: true, and malformed ones", async () => {
    await expect(
      startLab({
        hosts: { a: {}, b: {} },
        links: [{ between: ["a", "b"], subnet: "10.0.0.0/24", subnet6: "fd00::/64" }],
      }),
    ).rejects.toThrow(/ipv6: true/);
    await expect(
      startLab({ ipv6: true, hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet6: "fd00::x/64" }] }),
    ).rejects.toThrow(/not like "2001:db8:1::\/64"/);
  });
});

describe("where no lab can be built", () => {
  it("a lab cell prints one skip line and the notebook goes on", async () => {
    const kernel = await KernelClient.start({ env: { ...process.env, WIREBOOK_LAB: "none" } });
    try {
      const start = await kernel.execute(
        `import { startLab } from "wirebook/helpers/lab";\n` +
          `const lab = await startLab({ hosts: { a: {}, b: {} },\n` +
          `  links: [{ between: ["a", "b"], subnet: "10.0.0.0/24" }] });\n` +
          `lab.describe()`,
      );
      expect(start.reply.status).toBe("ok");
      expect(start.outputs).toEqual([
        {
          output_type: "stream",
          name: "stdout",
          text: "skipped: this cell needs a network-namespace lab, and WIREBOOK_LAB=none turns the lab off\n",
        },
      ]);
      // A cell that uses what a skipped cell declared is skipped too, for the same reason.
      const dependent = await kernel.execute("const rows = lab.describe();\nconsole.log('never printed');");
      const uses = await kernel.execute("rows.length");
      const shows = await kernel.execute("rows");
      for (const ex of [dependent, uses, shows]) {
        expect(ex.reply.status).toBe("ok");
        expect(ex.outputs).toEqual(start.outputs);
      }
      const after = await kernel.execute("1 + 1");
      expect(after.outputs[0]).toMatchObject({ output_type: "execute_result", data: { "text/plain": "2" } });
    } finally {
      await kernel.shutdown();
    }
  }, 60_000);
});
