// DHCP for real, between two hosts of the namespace lab (helpers/lab/index.ts, built by startDhcpLab):
// our server and our client, dnsmasq as the server for our client, busybox udhcpc as a client of
// our server, and tshark reading a capture of each exchange. Nothing leaves this machine: the
// broadcasts stay on the lab's veth pair, which only the two hosts see. Each side runs in its
// host's lab agent (host.run); what no helper offers is in test/support/dhcp-probe.ts.
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type * as capture from "../../helpers/os/capture";
import type * as client from "../../helpers/net/dhcp-client";
import { hasProgram } from "../../helpers/os/programs";
import { OWN_SERVER, startDhcpLab, SUBNET, tsharkDhcp } from "../../helpers/lab/dhcp";
import type * as server from "../../helpers/net/dhcp-server";
import { labAccess, type Lab, type LabHost } from "../../helpers/lab";
import { bpf } from "../../helpers/wire/bpf";
import type * as probe from "../support/dhcp-probe";

// Vitest loads modules its own way, so host.run gets each module's path rather than the module.
const helper = (name: string) => join(__dirname, "..", "..", "helpers", `${name}.ts`);
const PROBE = join(__dirname, "..", "support", "dhcp-probe.ts");

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const access = labAccess();
const whyNot = access.mode === "none" ? access.reason : undefined;
const whyNoDnsmasq = whyNot ?? (has("dnsmasq") ? undefined : "dnsmasq is not installed");
const whyNoTshark = hasProgram("tshark") ? undefined : "tshark is not installed";
const tsharkPart = whyNoTshark ? `(tshark part skipped: ${whyNoTshark})` : "tshark agrees";
const whyNoUdhcpc =
  has("busybox") && spawnSync("busybox", ["udhcpc", "--help"]).status !== 127
    ? undefined
    : "no DHCP client other than ours is installed (apt-get install busybox for udhcpc); dnsmasq is only a server";

const SERVER_IP = OWN_SERVER.serverIp; // 10.0.0.1
const NET = SUBNET.split("/")[0].split(".").slice(0, 3).join("."); // "10.0.0"
const FIRST = `${NET}.100`; // the first address of our server's pool
const re = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let lab: Lab;
let tmp = "";
const serverHost = (): LabHost => lab.host("server");
const clientHost = (): LabHost => lab.host("client");
/** Services and processes a test started: afterEach stops what a failed test left running. */
const open = new Set<{ close(): Promise<unknown> }>();
const processes = new Set<ChildProcess>();

async function ourServer(opts: Partial<server.DhcpServerOptions> = {}) {
  const s = await serverHost().run<typeof server, "startDhcpServer">(helper("net/dhcp-server"), "startDhcpServer", {
    ...OWN_SERVER,
    leaseTime: 6,
    ...opts,
  });
  open.add(s);
  return {
    leases: () => s.leases(),
    close: () => (open.delete(s), s.close()),
  };
}
const ourClient = (opts: Omit<client.DhcpClientOptions, "iface">) =>
  clientHost().run<typeof client, "dhcpClient">(helper("net/dhcp-client"), "dhcpClient", { iface: "eth0", ...opts });
const kinds = (t: client.DhcpTranscript) =>
  t.messages.filter((m) => !m.note?.includes("ignored")).map((m) => `${m.direction === "sent" ? ">" : "<"} ${m.type}`);

/** Our AF_PACKET capture on the client's eth0, from before the first message until stop(); then
 *  tshark reads the file. */
async function startCapture(name: string) {
  const cap = await clientHost().run<typeof capture, "startCapture">(helper("os/capture"), "startCapture", {
    iface: "eth0",
    pcap: join(tmp, `${name}.pcap`),
    filter: bpf.udpPort(67),
  });
  open.add(cap);
  return {
    async stop() {
      open.delete(cap);
      await cap.stop(200);
      const { frames, malformed } = await tsharkDhcp(join(tmp, `${name}.pcap`));
      return { frames: frames.map((f) => `${f.type} ${f.src} > ${f.dst}`), malformed };
    },
  };
}

/** A command in a host, run to completion (or killed after `timeoutMs`), with its exit status and both outputs. */
function runIn(host: LabHost, argv: string[], timeoutMs: number) {
  const child = spawnIn(host, argv);
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
  });
}
function spawnIn(host: LabHost, argv: string[]): ChildProcess {
  const child = host.spawn(argv);
  processes.add(child);
  child.once("exit", () => processes.delete(child));
  return child;
}
const exited = (child: ChildProcess) =>
  new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once("exit", r)));

describe.skipIf(!!whyNot)(`DHCP between two hosts of a namespace lab${whyNot ? ` (skipped: ${whyNot})` : ""}`, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), "wirebook-dhcp-"));
    lab = await startDhcpLab();
  }, 60_000);
  afterEach(async () => {
    // whatever a failed test left running, and whatever address the client applied
    await Promise.all([...open].map((s) => s.close().catch(() => {})));
    open.clear();
    for (const c of processes) c.kill("SIGKILL");
    await Promise.all([...processes].map(exited));
    if (lab)
      await clientHost()
        .exec(["ip", "addr", "flush", "dev", "eth0"])
        .catch(() => {});
  });
  afterAll(async () => {
    await lab?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(`our server, our client: DORA, address and route applied, a renewal at T1, RELEASE; ${tsharkPart}`, async () => {
    const server = await ourServer();
    const cap = whyNoTshark ? undefined : await startCapture("ours");
    const t = await ourClient({ apply: true, renew: true, release: true, hostName: "lab" });
    const cap2 = await cap?.stop();
    const { log, leases } = await server.close();

    expect(t.outcome).toBe("bound");
    expect(kinds(t)).toEqual(["> DISCOVER", "< OFFER", "> REQUEST", "< ACK", "> REQUEST", "< ACK", "> RELEASE"]);
    const [discover, offer, request, ack, renew, renewAck, release] = t.messages;
    expect(discover).toMatchObject({ peer: "255.255.255.255:67", broadcast: true });
    expect(offer).toMatchObject({
      peer: `${SERVER_IP}:67`,
      yiaddr: FIRST,
      options: { serverId: SERVER_IP, leaseTime: 6, renewalTime: 3 },
    });
    expect(request).toMatchObject({ xid: discover.xid, options: { requestedIp: FIRST, serverId: SERVER_IP } });
    expect(ack).toMatchObject({ xid: discover.xid, yiaddr: FIRST });
    // renewing: unicast from the leased address, ciaddr set, a new transaction, at T1 (3 s)
    expect(renew).toMatchObject({ peer: `${SERVER_IP}:67`, ciaddr: FIRST });
    expect(renew.xid).not.toBe(discover.xid);
    expect(renew.atMs - ack.atMs).toBeGreaterThanOrEqual(2900);
    expect(renewAck).toMatchObject({ ciaddr: FIRST, yiaddr: FIRST });
    expect(release).toMatchObject({ peer: `${SERVER_IP}:67`, ciaddr: FIRST });
    expect(t.lease).toMatchObject({ ip: FIRST, prefix: 24, routers: [SERVER_IP], leaseTime: 6 });
    expect(t.commands).toEqual([
      `ip addr add ${FIRST}/24 broadcast + dev eth0 valid_lft 6 preferred_lft 6`,
      `ip route add default via ${SERVER_IP} dev eth0`,
      `ip addr replace ${FIRST}/24 broadcast + dev eth0 valid_lft 6 preferred_lft 6`,
      `ip addr del ${FIRST}/24 dev eth0`,
    ]);
    expect((await clientHost().exec(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])).trim()).toBe(""); // released

    // the server's view: replies broadcast until the client has its address, then unicast
    const out = log.filter((r) => r.direction === "out").map((r) => `${r.message!.type} ${r.how}`);
    expect(out).toEqual(["OFFER broadcast", "ACK broadcast", "ACK unicast"]);
    expect(log.filter((r) => r.direction === "in").map((r) => r.note)).toEqual([
      `OFFER ${FIRST}`,
      `ACK ${FIRST} for 6 s`,
      `ACK ${FIRST} for 6 s`,
      `${FIRST} released`,
    ]);
    expect(leases).toEqual([]);

    if (cap2) {
      expect(cap2.frames).toEqual([
        "DISCOVER 0.0.0.0 > 255.255.255.255",
        `OFFER ${SERVER_IP} > 255.255.255.255`,
        "REQUEST 0.0.0.0 > 255.255.255.255",
        `ACK ${SERVER_IP} > 255.255.255.255`,
        `REQUEST ${FIRST} > ${SERVER_IP}`,
        `ACK ${SERVER_IP} > ${FIRST}`,
        `RELEASE ${FIRST} > ${SERVER_IP}`,
      ]);
      expect(cap2.malformed).toBe(0);
    }
  });

  it("the applied address works: the client reaches the server; the server holds a lease for its MAC", async () => {
    const server = await ourServer({ leaseTime: 300 });
    const t = await ourClient({ apply: true });
    const ip = (...args: string[]) => clientHost().exec(["ip", ...args]);
    expect(await ip("-4", "-o", "addr", "show", "dev", "eth0")).toContain(`inet ${FIRST}/24 brd ${NET}.255`);
    expect(await ip("route", "show", "default")).toContain(`default via ${SERVER_IP} dev eth0`);
    expect(await ip("route", "get", SERVER_IP)).toContain(`src ${FIRST}`);
    // a round trip: a TCP SYN to a closed port on the server comes back as a RST (ECONNREFUSED);
    // without a working address it would be EHOSTUNREACH or ENETUNREACH
    const connect = `require("net").connect(9, "${SERVER_IP}").on("error", (e) => console.log(e.code))`;
    expect((await clientHost().exec([process.execPath, "-e", connect])).trim()).toBe("ECONNREFUSED");
    const leases = await server.leases();
    expect(leases).toEqual([
      { ip: FIRST, client: `mac:${t.mac}`, chaddr: t.mac, state: "bound", expiresAt: expect.any(Number) },
    ]);
    await server.close();
  });

  it("NAK: back from another network, a client asks for its old address (INIT-REBOOT), is refused", async () => {
    const server = await ourServer();
    const t = await ourClient({ rebootIp: "192.168.50.7" });
    const { log } = await server.close();
    expect(kinds(t)).toEqual(["> REQUEST", "< NAK", "> DISCOVER", "< OFFER", "> REQUEST", "< ACK"]);
    expect(t.messages[1]).toMatchObject({ options: { message: `192.168.50.7 is not on this network (${SUBNET})` } });
    expect(t.lease?.ip).toBe(FIRST);
    expect(log.find((r) => r.direction === "out" && r.message!.type === "NAK")).toMatchObject({
      how: "broadcast",
      peer: "255.255.255.255:68",
    });
  });

  it("no server: the client retransmits with a doubling wait, then gives up with outcome timeout", async () => {
    const t = await ourClient({ timeoutMs: 200, attempts: 3 });
    expect(t.outcome).toBe("timeout");
    expect(t.messages.map((m) => m.type)).toEqual(["DISCOVER", "DISCOVER", "DISCOVER"]);
    expect(t.messages.map((m) => m.note)).toEqual([
      undefined,
      "retransmission 1, after 200 ms without a reply",
      "retransmission 2, after 400 ms without a reply",
    ]);
  });

  it("a malformed message is logged by the server and dropped, and the server goes on serving", async () => {
    const server = await ourServer();
    // a DISCOVER without its end option, from port 68 (the socket is closed before the client starts)
    const broken = {
      chaddr: "02:00:5e:10:00:99",
      options: { messageType: "DISCOVER" as const, unknown: [{ code: 224, data: "00" }] },
    };
    await clientHost().run<typeof probe, "sendDhcp">(PROBE, "sendDhcp", {
      iface: "eth0",
      message: broken,
      truncate: true,
    });
    const t = await ourClient({});
    const { log } = await server.close();
    expect(t.outcome).toBe("bound");
    expect(log[0]).toMatchObject({
      direction: "in",
      peer: "0.0.0.0:68",
      error: { code: "ERR_DHCP_MISSING_END", offset: 246 },
      note: "dropped",
    });
  });

  describe.skipIf(!!whyNoDnsmasq)(`dnsmasq${whyNoDnsmasq ? ` (skipped: ${whyNoDnsmasq})` : ""}`, () => {
    it(`dnsmasq gives our client a lease; renewal and release reach its lease file; ${tsharkPart}`, async () => {
      const leaseFile = join(tmp, "dnsmasq.leases");
      const dnsmasq = spawnIn(serverHost(), [
        "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--interface=eth0",
        "--bind-interfaces",
        "--port=0",
        `--dhcp-range=${NET}.50,${NET}.60,255.255.255.0,2m`,
        `--dhcp-leasefile=${leaseFile}`,
        "--pid-file=",
        "--user=root",
        "--log-dhcp",
      ]);
      let stderr = "";
      dnsmasq.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
      try {
        const ready = Date.now();
        while (!stderr.includes("DHCP, sockets bound") && Date.now() - ready < 10_000)
          await new Promise((r) => setTimeout(r, 50));
        const cap = whyNoTshark ? undefined : await startCapture("dnsmasq");
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
        expect(stderr).toMatch(new RegExp(`DHCPACK\\(eth0\\) ${re(ip)} ${t.mac} lab`));
        expect(stderr).toMatch(new RegExp(`DHCPRELEASE\\(eth0\\) ${re(ip)} ${t.mac}`));
        expect(readFileSync(leaseFile, "utf8")).not.toContain(t.mac); // released

        if (cap2) {
          const types = cap2.frames.map((f) => f.split(" ")[0]);
          expect([...new Set(types)]).toEqual(["DISCOVER", "OFFER", "REQUEST", "ACK", "RELEASE"]);
          expect(cap2.frames).toContain(`REQUEST ${ip} > ${SERVER_IP}`); // the renewal, unicast
          expect(cap2.frames).toContain(`ACK ${SERVER_IP} > ${ip}`);
          expect(cap2.malformed).toBe(0);
        }
      } finally {
        dnsmasq.kill("SIGTERM");
        await exited(dnsmasq);
      }
    });
  });

  it.skipIf(!!whyNoUdhcpc)(
    `busybox udhcpc, another client, gets a lease from our server${whyNoUdhcpc ? ` (skipped: ${whyNoUdhcpc})` : ""}`,
    async () => {
      const server = await ourServer();
      // udhcpc reads replies with a raw socket and does not set the broadcast flag (-B would): our
      // server broadcasts all the same, and says why in its log. -s /bin/true: configure nothing.
      const r = await runIn(
        clientHost(),
        ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "3", "-T", "1", "-s", "/bin/true"],
        20_000,
      );
      const { log, leases } = await server.close();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toMatch(new RegExp(`lease of ${re(FIRST)} obtained`));
      expect(leases.map((l) => [l.ip, l.state])).toEqual([[FIRST, "bound"]]);
      expect(log.filter((e) => e.direction === "out").map((e) => [e.message!.type, e.how, e.note])).toEqual([
        ["OFFER", "broadcast", "no broadcast flag: unicast to yiaddr needs a raw socket, so broadcast instead"],
        ["ACK", "broadcast", "no broadcast flag: unicast to yiaddr needs a raw socket, so broadcast instead"],
      ]);
    },
  );
});
