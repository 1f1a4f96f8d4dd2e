// helpers/net/multicast: group → MAC mapping; and, with net/services' udpServer and udpSend, the
// SO_BROADCAST guard and joining a group inside a lab (the lab part is skipped where no lab can be
// built), with os/procnet's igmpGroups as the kernel's word on memberships.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labAccess, startLab, type LabHost } from "../../helpers/lab";
import { multicastMac } from "../../helpers/net/multicast";
import type * as servicesModule from "../../helpers/net/services";
import { udpSend } from "../../helpers/net/services";
import type { Args } from "../../helpers/os/remote";
import type * as procnet from "../../helpers/os/procnet";

const SERVICES = join(__dirname, "..", "..", "helpers", "net/services.ts");
const PROCNET = join(__dirname, "..", "..", "helpers", "os/procnet.ts");
type Services = typeof servicesModule;
const inHost = <K extends "udpServer" | "udpSend">(host: LabHost, fn: K, ...args: Args<Services, K>) =>
  host.run<Services, K>(SERVICES, fn, ...args);

describe("multicast helpers", () => {
  it("maps a group to 01:00:5e and its low 23 bits, so 32 groups share a MAC", () => {
    expect(multicastMac("224.0.0.1")).toBe("01:00:5e:00:00:01");
    expect(multicastMac("239.55.0.1")).toBe("01:00:5e:37:00:01");
    expect(multicastMac("239.183.0.1")).toBe(multicastMac("239.55.0.1"));
    expect(() => multicastMac("10.0.0.1")).toThrow(RangeError);
  });

  it("refuses a broadcast destination without SO_BROADCAST (EACCES), before sending", async () => {
    // 127.255.255.255 is loopback's own broadcast address: the datagram never leaves the machine.
    expect(await udpSend("127.255.255.255", 9, ["x"])).toEqual([{ size: 1, result: "EACCES", icmp: [] }]);
  });
});

const noLab = labAccess().mode === "none" ? (labAccess() as { reason: string }).reason : "";
describe.skipIf(!!noLab)(`multicast inside a lab${noLab ? ` (skipped: ${noLab})` : ""}`, () => {
  it("delivers a group's datagrams to members only, and the kernel lists the membership", async () => {
    const lab = await startLab({
      hosts: { a: {}, b: {}, c: {} },
      links: [{ between: ["a", "b", "c"], subnet: "10.9.55.0/24" }],
    });
    try {
      const b = await inHost(lab.host("b"), "udpServer", 5000);
      const c = await inHost(lab.host("c"), "udpServer", 5000);
      expect(await b.join("239.9.9.9", lab.address("b"))).toBe(true);
      expect(await b.join("239.9.9.9", lab.address("b"))).toBe(false);
      const groups = await lab.host("b").run<typeof procnet, "igmpGroups">(PROCNET, "igmpGroups");
      expect(groups.find((d) => d.device === "eth0")!.groups.map((g) => g.group)).toContain("239.9.9.9");
      const results = (sent: { result: string }[]) => sent.map((s) => s.result);
      const toGroup = await inHost(lab.host("a"), "udpSend", "239.9.9.9", 5000, ["m1", "m2"], {
        multicastInterface: lab.address("a"),
      });
      expect(results(toGroup)).toEqual(["sent", "sent"]);
      const broadcast = await inHost(lab.host("a"), "udpSend", "10.9.55.255", 5000, ["bc"], { broadcast: true });
      expect(results(broadcast)).toEqual(["sent"]);
      await new Promise((r) => setTimeout(r, 300));
      expect([await b.count("m"), await c.count("m")]).toEqual([2, 0]);
      expect([await b.count("bc"), await c.count("bc")]).toEqual([1, 1]);
    } finally {
      await lab.close();
    }
  }, 30_000);
});
