// helpers/portscan: classification, the ownership guard, the concurrency limit, and the three
// states (the filtered one needs a lab with a firewall).
import * as net from "node:net";
import type { NetworkInterfaceInfo } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labAccess, startLab, type LabHost } from "../../helpers/lab";
import type * as portscanModule from "../../helpers/net/portscan";
import { byState, classify, isOwned, listen, PortScanError, scan } from "../../helpers/net/portscan";
import type { Args } from "../../helpers/os/remote";

const PORTSCAN = join(__dirname, "..", "..", "helpers", "net/portscan.ts");
type Portscan = typeof portscanModule;
const inHost = <K extends "scan" | "listen">(host: LabHost, fn: K, ...args: Args<Portscan, K>) =>
  host.run<Portscan, K>(PORTSCAN, fn, ...args);

const iface = (address: string, netmask: string, mac: string): NetworkInterfaceInfo =>
  ({ address, netmask, mac, family: "IPv4", internal: false, cidr: null }) as NetworkInterfaceInfo;

describe("portscan", () => {
  it("classifies accepted, refused, silent and unreachable probes", () => {
    expect(classify("connected", 500)).toEqual({ state: "open", reason: "connection accepted" });
    expect(classify("ECONNREFUSED", 500)).toEqual({ state: "closed", reason: "ECONNREFUSED (RST)" });
    expect(classify("timeout", 500)).toEqual({ state: "filtered", reason: "no answer within 500 ms" });
    expect(classify("EHOSTUNREACH", 500)).toEqual({ state: "filtered", reason: "EHOSTUNREACH" });
  });

  it("owns loopback and a lab interface's subnet, nothing else", () => {
    const inLab = { eth0: [iface("10.52.0.1", "255.255.255.0", "02:00:00:00:01:01")] };
    const realNic = { eth0: [iface("10.52.0.1", "255.255.255.0", "52:54:00:12:34:56")] };
    expect(isOwned("127.0.0.1", {})).toBe(true);
    expect(isOwned("127.5.6.7", {})).toBe(true);
    expect(isOwned("10.52.0.9", inLab)).toBe(true);
    expect(isOwned("10.52.1.9", inLab)).toBe(false);
    expect(isOwned("10.52.0.9", realNic)).toBe(false);
    expect(isOwned("::1", {})).toBe(false);
    expect(isOwned("not an address", {})).toBe(false);
  });

  it("refuses a target it does not own, and bad arguments, before sending anything", async () => {
    await expect(scan("192.0.2.1", [80])).rejects.toMatchObject({ code: "ERR_SCAN_TARGET" });
    await expect(scan("127.0.0.1", [0])).rejects.toBeInstanceOf(PortScanError);
    await expect(scan("127.0.0.1", [80], { concurrency: 0 })).rejects.toMatchObject({ code: "ERR_SCAN_OPTIONS" });
  });

  it("finds open and closed ports on loopback, in the order given, a few at a time", async () => {
    const servers = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<net.Server>((r) => {
            const s = net.createServer((c) => c.end());
            s.listen(0, "127.0.0.1", () => r(s));
          }),
      ),
    );
    const open = servers.map((s) => (s.address() as net.AddressInfo).port);
    const closedServer = servers.pop()!;
    await new Promise((r) => closedServer.close(r));
    const report = await scan("127.0.0.1", [open[2], open[0], open[1]], { concurrency: 2 });
    expect(report.results.map((r) => [r.port, r.state])).toEqual([
      [open[2], "closed"],
      [open[0], "open"],
      [open[1], "open"],
    ]);
    expect(report.maxInFlight).toBe(2);
    expect(byState(report.results)).toEqual({
      open: [open[0], open[1]].sort((a, b) => a - b),
      closed: [open[2]],
      filtered: [],
    });
    for (const s of servers) s.close();
  });

  it("listens on given ports, and makes way when started again on them", async () => {
    const first = await listen([0], "127.0.0.1");
    const again = await listen(first.ports, "127.0.0.1");
    expect(again.ports).toEqual(first.ports);
    expect(await again.close()).toBe(1);
  });
});

const noLab = labAccess().mode === "none" ? (labAccess() as { reason: string }).reason : "";
describe.skipIf(!!noLab)(`portscan inside a lab${noLab ? ` (skipped: ${noLab})` : ""}`, () => {
  it("tells open, closed (kernel or firewall RST) and filtered (dropped) apart", async () => {
    const lab = await startLab({ hosts: { s: {}, t: {} }, links: [{ between: ["s", "t"], subnet: "10.9.52.0/24" }] });
    try {
      await inHost(lab.host("t"), "listen", [22]);
      await lab
        .host("t")
        .exec(
          ["nft", "-f", "-"],
          "table inet t {\n chain input {\n  type filter hook input priority 0;\n" +
            "  tcp dport 23 drop\n  tcp dport 25 reject with tcp reset\n }\n}\n",
        );
      const report = await inHost(lab.host("s"), "scan", lab.address("t"), [22, 23, 25, 26], { timeoutMs: 300 });
      expect(report.results.map((r) => r.state)).toEqual(["open", "filtered", "closed", "closed"]);
      expect(report.results[1].reason).toBe("no answer within 300 ms");
    } finally {
      await lab.close();
    }
  }, 30_000);
});
