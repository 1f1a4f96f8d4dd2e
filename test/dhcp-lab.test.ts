// DHCP for real, between two network namespaces joined by a veth pair: our server and our client,
// dnsmasq as the server for our client, and tshark reading a capture of each exchange. Nothing
// leaves this machine: the broadcasts stay on the veth pair, which only the two namespaces see.
// Each side runs in a child process started with `ip netns exec` (test/support/dhcp-agent.ts).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DhcpTranscript } from "../helpers/dhcp-client";
import type { ExchangeRecord, Lease } from "../helpers/dhcp-server";
import { root } from "./support/process";

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const whyNot =
  process.platform !== "linux" ? "needs Linux network namespaces"
  : process.getuid?.() !== 0 ? "needs root (network namespaces, SO_BINDTODEVICE, ports 67 and 68)"
  : !has("ip") ? "needs iproute2's ip"
  : undefined;
const whyNoDnsmasq = whyNot ?? (has("dnsmasq") ? undefined : "dnsmasq is not installed");
const whyNoTshark = has("tshark") && has("dumpcap") ? undefined : "tshark and dumpcap are not installed";
const whyNoUdhcpc = has("busybox") && spawnSync("busybox", ["udhcpc", "--help"]).status !== 127 ? undefined : "no DHCP client other than ours is installed (apt-get install busybox for udhcpc); dnsmasq is only a server";

const SERVER_NS = `wbtest-${process.pid}-dhcps`;
const CLIENT_NS = `wbtest-${process.pid}-dhcpc`;
const SERVER_IP = "10.77.0.1";
const agentScript = join(root, "test", "support", "dhcp-agent.ts");
const children = new Set<ChildProcess>();
let tmp = "";

function sh(args: string[], allowFail = false): string {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8" });
  if (r.status !== 0 && !allowFail) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}
const inNs = (ns: string, args: string[]) => ["ip", "netns", "exec", ns, ...args];

/** A child process in a namespace that speaks JSON lines on stdout. */
function start(ns: string, args: string[]) {
  const child = spawn("ip", ["netns", "exec", ns, ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const lines: unknown[] = [];
  const waiting: ((v: unknown) => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return; // not ours
    }
    const w = waiting.shift();
    if (w) w(v);
    else lines.push(v);
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => (children.delete(child), r(code))));
  return {
    child,
    stderr: () => stderr,
    exited,
    /** the next JSON line, or an error with stderr if the process ends or 30 s pass first */
    next: <T>(): Promise<T> =>
      lines.length
        ? Promise.resolve(lines.shift() as T)
        : new Promise<T>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no answer from ${args.join(" ")} in 30 s\n${stderr}`)), 30_000);
            void exited.then((code) => setTimeout(() => reject(new Error(`${args.join(" ")} exited with ${code}\n${stderr}`)), 200));
            waiting.push((v) => (clearTimeout(timer), resolve(v as T)));
          }),
  };
}
const agent = (ns: string, role: string, opts: object) => start(ns, [process.execPath, "--require", require.resolve("tsx/cjs"), agentScript, JSON.stringify({ role, opts })]);

async function ourServer(opts: object = {}) {
  const a = agent(SERVER_NS, "server", { iface: "eth0", serverIp: SERVER_IP, poolStart: "10.77.0.100", poolEnd: "10.77.0.120", router: SERVER_IP, leaseTime: 6, ...opts });
  await a.next();
  return {
    leases: async () => (a.child.stdin!.write("leases\n"), (await a.next<{ leases: Lease[] }>()).leases),
    close: async () => (a.child.stdin!.write("close\n"), (await a.next<{ closed: { log: ExchangeRecord[]; leases: Lease[] } }>()).closed),
  };
}
async function ourClient(opts: object): Promise<DhcpTranscript> {
  return (await agent(CLIENT_NS, "client", { iface: "eth0", ...opts }).next<{ transcript: DhcpTranscript }>()).transcript;
}
const kinds = (t: DhcpTranscript) => t.messages.filter((m) => !m.note?.includes("ignored")).map((m) => `${m.direction === "sent" ? ">" : "<"} ${m.type}`);

/** dumpcap on the client's eth0, from before the first message until stop(). */
async function capture(name: string) {
  const file = join(tmp, `${name}.pcapng`);
  const p = start(CLIENT_NS, ["dumpcap", "-q", "-i", "eth0", "-w", file]);
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => p.stderr().includes("File:") && (clearInterval(t), resolve()), 50);
    setTimeout(() => (clearInterval(t), reject(new Error(`dumpcap did not start: ${p.stderr()}`))), 10_000);
  });
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 300)); // let the last frame reach the file
      p.child.kill("SIGTERM");
      await p.exited;
      const fields = sh(["tshark", "-r", file, "-Y", "dhcp", "-T", "fields", "-E", "separator=,", "-e", "dhcp.option.dhcp", "-e", "ip.src", "-e", "ip.dst", "-e", "dhcp.flags.bc"]);
      const malformed = sh(["tshark", "-r", file, "-Y", "_ws.malformed || _ws.expert.severity == error", "-T", "fields", "-e", "frame.number"]).trim();
      const names = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"];
      const frames = fields.trim().split("\n").filter(Boolean).map((l) => {
        const [type, src, dst] = l.split(",");
        return `${names[Number(type)]} ${src} > ${dst}`;
      });
      return { frames, malformed };
    },
  };
}

describe.skipIf(!!whyNot)(`DHCP between two namespaces${whyNot ? ` (skipped: ${whyNot})` : ""}`, () => {
  beforeAll(() => {
    // namespaces left by an earlier run that was killed before its afterAll
    for (const m of sh(["ip", "netns", "list"]).matchAll(/^wbtest-(\d+)-dhcp[sc]\b\S*/gm)) {
      if (!existsSync(`/proc/${m[1]}`)) sh(["ip", "netns", "del", m[0]], true);
    }
    tmp = mkdtempSync(join(tmpdir(), "wirebook-dhcp-"));
    sh(["ip", "netns", "add", SERVER_NS]);
    sh(["ip", "netns", "add", CLIENT_NS]);
    sh(["ip", "link", "add", "eth0", "netns", SERVER_NS, "type", "veth", "peer", "name", "eth0", "netns", CLIENT_NS]);
    sh(["ip", "-n", SERVER_NS, "addr", "add", `${SERVER_IP}/24`, "dev", "eth0"]);
    for (const ns of [SERVER_NS, CLIENT_NS]) sh(["ip", "-n", ns, "link", "set", "eth0", "up"]);
  });
  afterEach(async () => {
    // whatever a failed test left running, and whatever address the client applied
    for (const c of children) c.kill("SIGKILL");
    children.clear();
    sh(["ip", "-n", CLIENT_NS, "addr", "flush", "dev", "eth0"], true);
  });
  afterAll(() => {
    for (const ns of [SERVER_NS, CLIENT_NS]) sh(["ip", "netns", "del", ns], true);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(`our server, our client: DORA, the address and route applied, a renewal at T1, RELEASE; ${whyNoTshark ? `(tshark part skipped: ${whyNoTshark})` : "tshark agrees"}`, async () => {
    const server = await ourServer();
    const cap = whyNoTshark ? undefined : await capture("ours");
    const t = await ourClient({ apply: true, renew: true, release: true, hostName: "lab" });
    const cap2 = await cap?.stop();
    const { log, leases } = await server.close();

    expect(t.outcome).toBe("bound");
    expect(kinds(t)).toEqual(["> DISCOVER", "< OFFER", "> REQUEST", "< ACK", "> REQUEST", "< ACK", "> RELEASE"]);
    const [discover, offer, request, ack, renew, renewAck, release] = t.messages;
    expect(discover).toMatchObject({ peer: "255.255.255.255:67", broadcast: true });
    expect(offer).toMatchObject({ peer: `${SERVER_IP}:67`, yiaddr: "10.77.0.100", options: { serverId: SERVER_IP, leaseTime: 6, renewalTime: 3 } });
    expect(request).toMatchObject({ xid: discover.xid, options: { requestedIp: "10.77.0.100", serverId: SERVER_IP } });
    expect(ack).toMatchObject({ xid: discover.xid, yiaddr: "10.77.0.100" });
    // renewing: unicast from the leased address, ciaddr set, a new transaction, at T1 (3 s)
    expect(renew).toMatchObject({ peer: `${SERVER_IP}:67`, ciaddr: "10.77.0.100" });
    expect(renew.xid).not.toBe(discover.xid);
    expect(renew.atMs - ack.atMs).toBeGreaterThanOrEqual(2900);
    expect(renewAck).toMatchObject({ ciaddr: "10.77.0.100", yiaddr: "10.77.0.100" });
    expect(release).toMatchObject({ peer: `${SERVER_IP}:67`, ciaddr: "10.77.0.100" });
    expect(t.lease).toMatchObject({ ip: "10.77.0.100", prefix: 24, routers: [SERVER_IP], leaseTime: 6 });
    expect(t.commands).toEqual([
      "ip addr add 10.77.0.100/24 broadcast + dev eth0 valid_lft 6 preferred_lft 6",
      `ip route add default via ${SERVER_IP} dev eth0`,
      "ip addr replace 10.77.0.100/24 broadcast + dev eth0 valid_lft 6 preferred_lft 6",
      "ip addr del 10.77.0.100/24 dev eth0",
    ]);
    expect(sh(["ip", "-n", CLIENT_NS, "-4", "-o", "addr", "show", "dev", "eth0"]).trim()).toBe(""); // released

    // the server's view: replies broadcast until the client has its address, then unicast
    const out = log.filter((r) => r.direction === "out").map((r) => `${r.message!.type} ${r.how}`);
    expect(out).toEqual(["OFFER broadcast", "ACK broadcast", "ACK unicast"]);
    expect(log.filter((r) => r.direction === "in").map((r) => r.note)).toEqual(["OFFER 10.77.0.100", "ACK 10.77.0.100 for 6 s", "ACK 10.77.0.100 for 6 s", "10.77.0.100 released"]);
    expect(leases).toEqual([]);

    if (cap2) {
      expect(cap2.frames).toEqual([
        "DISCOVER 0.0.0.0 > 255.255.255.255",
        `OFFER ${SERVER_IP} > 255.255.255.255`,
        "REQUEST 0.0.0.0 > 255.255.255.255",
        `ACK ${SERVER_IP} > 255.255.255.255`,
        `REQUEST 10.77.0.100 > ${SERVER_IP}`,
        `ACK ${SERVER_IP} > 10.77.0.100`,
        `RELEASE 10.77.0.100 > ${SERVER_IP}`,
      ]);
      expect(cap2.malformed).toBe("");
    }
  });

  it("the applied address works: the client reaches the server from it; the server holds a bound lease for the client's MAC", async () => {
    const server = await ourServer({ leaseTime: 300 });
    const t = await ourClient({ apply: true });
    expect(sh(["ip", "-n", CLIENT_NS, "-4", "-o", "addr", "show", "dev", "eth0"])).toContain("inet 10.77.0.100/24 brd 10.77.0.255");
    expect(sh(["ip", "-n", CLIENT_NS, "route", "show", "default"])).toContain(`default via ${SERVER_IP} dev eth0`);
    expect(sh(["ip", "-n", CLIENT_NS, "route", "get", SERVER_IP])).toContain("src 10.77.0.100");
    // a round trip: a TCP SYN to a closed port on the server comes back as a RST (ECONNREFUSED);
    // without a working address it would be EHOSTUNREACH or ENETUNREACH
    const probe = `require("net").connect(9, "${SERVER_IP}").on("error", (e) => console.log(e.code))`;
    expect(sh(inNs(CLIENT_NS, [process.execPath, "-e", probe])).trim()).toBe("ECONNREFUSED");
    const leases = await server.leases();
    expect(leases).toEqual([{ ip: "10.77.0.100", client: `mac:${t.mac}`, chaddr: t.mac, state: "bound", expiresAt: expect.any(Number) }]);
    await server.close();
  });

  it("NAK: a client back from another network asks for its old address (INIT-REBOOT), is refused, and starts over", async () => {
    const server = await ourServer();
    const t = await ourClient({ rebootIp: "192.168.50.7" });
    const { log } = await server.close();
    expect(kinds(t)).toEqual(["> REQUEST", "< NAK", "> DISCOVER", "< OFFER", "> REQUEST", "< ACK"]);
    expect(t.messages[1]).toMatchObject({ options: { message: "192.168.50.7 is not on this network (10.77.0.0/24)" } });
    expect(t.lease?.ip).toBe("10.77.0.100");
    expect(log.find((r) => r.direction === "out" && r.message!.type === "NAK")).toMatchObject({ how: "broadcast", peer: "255.255.255.255:68" });
  });

  it("no server: the client retransmits with a doubling wait, then gives up with outcome timeout", async () => {
    const t = await ourClient({ timeoutMs: 200, attempts: 3 });
    expect(t.outcome).toBe("timeout");
    expect(t.messages.map((m) => m.type)).toEqual(["DISCOVER", "DISCOVER", "DISCOVER"]);
    expect(t.messages.map((m) => m.note)).toEqual([undefined, "retransmission 1, after 200 ms without a reply", "retransmission 2, after 400 ms without a reply"]);
  });

  it("a malformed message is logged by the server and dropped, and the server goes on serving", async () => {
    const server = await ourServer();
    // a DISCOVER without its end option
    const broken = { chaddr: "02:00:5e:10:00:99", options: { messageType: "DISCOVER", unknown: [{ code: 224, data: "00" }] } };
    const sent = agent(CLIENT_NS, "send", { iface: "eth0", message: broken, truncate: true });
    await sent.next();
    await sent.exited; // it held port 68
    const t = await ourClient({});
    const { log } = await server.close();
    expect(t.outcome).toBe("bound");
    expect(log[0]).toMatchObject({ direction: "in", peer: "0.0.0.0:68", error: { reason: "missing-end", offset: 246 }, note: "dropped" });
  });

  describe.skipIf(!!whyNoDnsmasq)(`dnsmasq${whyNoDnsmasq ? ` (skipped: ${whyNoDnsmasq})` : ""}`, () => {
    it(`dnsmasq gives our client a lease; renewal and release reach its lease file; ${whyNoTshark ? `(tshark part skipped: ${whyNoTshark})` : "tshark agrees"}`, async () => {
      const leaseFile = join(tmp, "dnsmasq.leases");
      const dnsmasq = start(SERVER_NS, ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--interface=eth0", "--bind-interfaces", "--port=0", "--dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m", `--dhcp-leasefile=${leaseFile}`, "--pid-file=", "--user=root", "--log-dhcp"]);
      try {
        const ready = Date.now();
        while (!dnsmasq.stderr().includes("DHCP, sockets bound") && Date.now() - ready < 10_000) await new Promise((r) => setTimeout(r, 50));
        const cap = whyNoTshark ? undefined : await capture("dnsmasq");
        const t = await ourClient({ apply: true, renew: 500, release: true, hostName: "lab", timeoutMs: 2000 });
        const cap2 = await cap?.stop();

        expect(t.outcome).toBe("bound");
        // dnsmasq checks a new address with a ping before offering it, so an OFFER may come late,
        // after a retransmitted DISCOVER: count the first of each
        const seen = [...new Set(kinds(t))];
        expect(seen).toEqual(["> DISCOVER", "< OFFER", "> REQUEST", "< ACK", "> RELEASE"]);
        expect(t.renewed).toBe(true);
        expect(t.lease).toMatchObject({ serverId: SERVER_IP, prefix: 24, leaseTime: 120, routers: [SERVER_IP] });
        const ip = t.lease!.ip;
        expect(Number(ip.split(".")[3])).toBeGreaterThanOrEqual(50);
        expect(Number(ip.split(".")[3])).toBeLessThanOrEqual(60);
        const log = dnsmasq.stderr();
        expect(log).toMatch(new RegExp(`DHCPACK\\(eth0\\) ${ip.replace(/\./g, "\\.")} ${t.mac} lab`));
        expect(log).toMatch(new RegExp(`DHCPRELEASE\\(eth0\\) ${ip.replace(/\./g, "\\.")} ${t.mac}`));
        expect(readFileSync(leaseFile, "utf8")).not.toContain(t.mac); // released

        if (cap2) {
          const types = cap2.frames.map((f) => f.split(" ")[0]);
          expect([...new Set(types)]).toEqual(["DISCOVER", "OFFER", "REQUEST", "ACK", "RELEASE"]);
          expect(cap2.frames).toContain(`REQUEST ${ip} > ${SERVER_IP}`); // the renewal, unicast
          expect(cap2.frames).toContain(`ACK ${SERVER_IP} > ${ip}`);
          expect(cap2.malformed).toBe("");
        }
      } finally {
        dnsmasq.child.kill("SIGTERM");
        await dnsmasq.exited;
      }
    });
  });

  it.skipIf(!!whyNoUdhcpc)(`busybox udhcpc, another client, gets a lease from our server${whyNoUdhcpc ? ` (skipped: ${whyNoUdhcpc})` : ""}`, async () => {
    const server = await ourServer();
    // udhcpc reads replies with a raw socket and does not set the broadcast flag (-B would): our
    // server broadcasts all the same, and says why in its log. -s /bin/true: configure nothing.
    const r = spawnSync("ip", inNs(CLIENT_NS, ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "3", "-T", "1", "-s", "/bin/true"]).slice(1), { encoding: "utf8", timeout: 20_000 });
    const { log, leases } = await server.close();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/lease of 10\.77\.0\.100 obtained/);
    expect(leases.map((l) => [l.ip, l.state])).toEqual([["10.77.0.100", "bound"]]);
    expect(log.filter((e) => e.direction === "out").map((e) => [e.message!.type, e.how, e.note])).toEqual([
      ["OFFER", "broadcast", "no broadcast flag: unicast to yiaddr needs a raw socket, so broadcast instead"],
      ["ACK", "broadcast", "no broadcast flag: unicast to yiaddr needs a raw socket, so broadcast instead"],
    ]);
  });
});
