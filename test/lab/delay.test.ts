// helpers/lab/delay: the tc counters parser on tc's own text, and (as root) a wire of 100 ms round
// trip between two hosts, made by netem where the kernel has it and by os/delay-line where not.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab } from "../../helpers/lab";
import { addDelay, parseQdiscStats, qdiscStats } from "../../helpers/lab/delay";
import type * as services from "../../helpers/net/services";
import { root } from "../support/process";

const TBF = `qdisc tbf 8001: root refcnt 3 rate 20Mbit burst 3028b lat 100ms
 Sent 13704922 bytes 9057 pkt (dropped 28, overlimits 12946 requeues 0)
 backlog 93868b 31p requeues 0
`;

describe("parseQdiscStats", () => {
  it("reads the counters and the backlog", () => {
    expect(parseQdiscStats(TBF)).toEqual({
      kind: "tbf",
      sentBytes: 13704922,
      sentPackets: 9057,
      dropped: 28,
      overlimits: 12946,
      backlogBytes: 93868,
      backlogPackets: 31,
    });
  });
  it("reads a backlog in Kb", () => {
    expect(parseQdiscStats(TBF.replace("93868b", "12Kb")).backlogBytes).toBe(12 * 1024);
  });
  it("refuses text that is not tc's", () => {
    expect(() => parseQdiscStats("Cannot find device")).toThrow(/not the output of tc -s qdisc/);
  });
});

const SERVICES = join(root, "helpers", "net", "services.ts");

describe.skipIf(labAccess().mode !== "root")("addDelay", () => {
  let lab: Lab | undefined;
  afterAll(async () => void (await lab?.close()));

  it("makes a host a wire of the asked round trip, and leaves nothing held", async () => {
    lab = await startLab({
      hosts: { a: {}, wire: {}, b: {} },
      links: [
        { between: ["a", "wire"], subnet: "10.0.9.0/24", addresses: { wire: null } },
        { between: ["wire", "b"], subnet: "10.0.9.0/24", addresses: { wire: null } },
      ],
    });
    const wire = await addDelay(lab, "wire", { rttMs: 100 });
    expect(wire.netemTest === "ok" ? "netem" : "userspace delay line (AF_PACKET)").toBe(wire.method);
    const sink = await lab.host("b").run<typeof services, "tcpServer">(SERVICES, "tcpServer", 0);
    const bulk = await lab
      .host("a")
      .run<typeof services, "tcpSendBulk">(SERVICES, "tcpSendBulk", lab.address("b"), sink.port, 200_000);
    expect(bulk.error).toBeUndefined();
    // Connect (one round trip), data, FIN and the sink's FIN back: at least two round trips.
    expect(bulk.ms).toBeGreaterThanOrEqual(195);
    await new Promise((r) => setTimeout(r, 150)); // the last ACK is still on the wire for 50 ms
    const stats = await wire.stats();
    if (stats) {
      expect(stats.held).toBe(0);
      expect(stats.directions[0].frames).toBeGreaterThan(10);
      expect(stats.directions.every((d) => d.dropped === 0)).toBe(true);
    }
    expect((await qdiscStats(lab.host("a"), "eth0")).kind).toBeTruthy();
  }, 30_000);

  it("refuses a host that is not between two links", async () => {
    await expect(addDelay(lab!, "a", { rttMs: 10 })).rejects.toThrow(/exactly two links/);
  });
});
