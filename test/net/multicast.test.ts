// helpers/net/multicast: group → MAC mapping, the SO_BROADCAST
// guard, and joining a group inside a lab (the lab part is skipped where no lab can be built).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labAccess, startLab, type LabHost } from "../../helpers/lab";
import type * as multicastModule from "../../helpers/net/multicast";
import { multicastMac, receiver, send } from "../../helpers/net/multicast";
import type { Args } from "../../helpers/os/remote";
import type * as procnet from "../../helpers/os/procnet";

const MULTICAST = join(__dirname, "..", "..", "helpers", "net/multicast.ts");
const PROCNET = join(__dirname, "..", "..", "helpers", "os/procnet.ts");
type Multicast = typeof multicastModule;
const inHost = <K extends "receiver" | "send">(host: LabHost, fn: K, ...args: Args<Multicast, K>) =>
  host.run<Multicast, K>(MULTICAST, fn, ...args);

describe("multicast helpers", () => {
  it("maps a group to 01:00:5e and its low 23 bits, so 32 groups share a MAC", () => {
    expect(multicastMac("224.0.0.1")).toBe("01:00:5e:00:00:01");
    expect(multicastMac("239.55.0.1")).toBe("01:00:5e:37:00:01");
    expect(multicastMac("239.183.0.1")).toBe(multicastMac("239.55.0.1"));
    expect(() => multicastMac("10.0.0.1")).toThrow(RangeError);
  });

  it("refuses a broadcast destination without SO_BROADCAST (EACCES), before sending", async () => {
    // 127.255.255.255 is loopback's own broadcast address: the datagram never leaves the machine.
    expect(await send("127.255.255.255", 9, ["x"])).toEqual({ sent: 0, error: "EACCES" });
  });

  it("receives on loopback and counts by prefix; a second receiver on the port replaces the first", async () => {
    const first = await receiver(0);
    expect(await send("127.0.0.1", first.port, ["a 1", "a 2", "b 1"])).toEqual({ sent: 3 });
    await new Promise((r) => setTimeout(r, 100));
    expect([first.count("a"), first.count("b"), first.count()]).toEqual([2, 1, 3]);
    const second = await receiver(first.port);
    expect([second.port, second.count()]).toEqual([first.port, 0]);
    await second.close();
    await second.close(); // safe twice
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
      const b = await inHost(lab.host("b"), "receiver", 5000);
      const c = await inHost(lab.host("c"), "receiver", 5000);
      expect(await b.join("239.9.9.9", lab.address("b"))).toBe(true);
      expect(await b.join("239.9.9.9", lab.address("b"))).toBe(false);
      const groups = await lab.host("b").run<typeof procnet, "igmpGroups">(PROCNET, "igmpGroups");
      expect(groups.find((d) => d.device === "eth0")!.groups.map((g) => g.group)).toContain("239.9.9.9");
      expect(
        await inHost(lab.host("a"), "send", "239.9.9.9", 5000, ["m1", "m2"], { multicastInterface: lab.address("a") }),
      ).toEqual({ sent: 2 });
      expect(await inHost(lab.host("a"), "send", "10.9.55.255", 5000, ["bc"], { broadcast: true })).toEqual({
        sent: 1,
      });
      await new Promise((r) => setTimeout(r, 300));
      expect([await b.count("m"), await c.count("m")]).toEqual([2, 0]);
      expect([await b.count("bc"), await c.count("bc")]).toEqual([1, 1]);
    } finally {
      await lab.close();
    }
  }, 30_000);
});
