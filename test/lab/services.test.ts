// helpers/labnet: the socket tools notebook 56 runs inside lab hosts. They work in any namespace,
// so most of them are tested here on loopback; the TTL check needs a lab with a router.
import * as net from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labAccess, startLab, type LabHost } from "../../helpers/lab";
import type * as labnet from "../../helpers/lab/services";
import { tcpBanner, tcpFetch, udpAsk, udpReplier } from "../../helpers/lab/services";
import type { Args } from "../../helpers/os/remote";

// Vitest loads modules its own way, so the agent is given the module's path.
const LABNET = join(__dirname, "..", "..", "helpers", "lab/services.ts");
type Labnet = typeof labnet;
const inHost = <K extends keyof Labnet & string>(host: LabHost, fn: K, ...args: Args<Labnet, K>) =>
  host.run<Labnet, K>(LABNET, fn, ...args);

describe("labnet on loopback", () => {
  it("asks a UDP replier and gets what it heard back", async () => {
    const replier = await udpReplier(0, "x");
    expect(await udpAsk("127.0.0.1", replier.port, "hi")).toEqual({ reply: 'x heard "hi" from 127.0.0.1' });
    expect(replier.heard()).toEqual([{ text: "hi", from: "127.0.0.1" }]);
    // Started again on the same port (a cell run twice), the old replier makes way.
    const again = await udpReplier(replier.port, "y");
    expect((await udpAsk("127.0.0.1", again.port, "hi")).reply).toMatch(/^y heard/);
    await again.close();
    expect(await udpAsk("127.0.0.1", again.port, "anyone?", { timeoutMs: 200 })).toEqual({
      reply: null,
      error: "timeout",
    });
  });

  it("reads a TCP banner, and reports a refused connection by its code", async () => {
    const server = await tcpBanner(0, "hello", "127.0.0.1");
    expect(await tcpFetch("127.0.0.1", server.port)).toEqual({ reply: "hello" });
    await server.close();
    await server.close(); // safe twice
    expect(await tcpFetch("127.0.0.1", server.port)).toEqual({ reply: null, error: "ECONNREFUSED" });
  });

  it("reports a timeout when no greeting ends in time", async () => {
    // A server that accepts and never answers: the fetch never sees the end of the greeting.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    expect(await tcpFetch("127.0.0.1", port, 200)).toEqual({ reply: null, error: "timeout" });
    silent.close();
  });
});

const noLab = labAccess().mode === "none" ? (labAccess() as { reason: string }).reason : "";
describe.skipIf(!!noLab)(`labnet inside a lab${noLab ? ` (skipped: ${noLab})` : ""}`, () => {
  it("a TTL of 1 ends at the router, which counts the drop; a TTL of 2 gets through", async () => {
    const lab = await startLab({
      hosts: { a: {}, r: { router: true }, c: {} },
      links: [
        { between: ["a", "r"], subnet: "10.9.1.0/24" },
        { between: ["r", "c"], subnet: "10.9.2.0/24" },
      ],
    });
    try {
      await inHost(lab.host("c"), "udpReplier", 7, "c");
      const before = await inHost(lab.host("r"), "snmpCounters");
      const one = await inHost(lab.host("a"), "udpAsk", lab.address("c"), 7, "t1", { ttl: 1, timeoutMs: 300 });
      const two = await inHost(lab.host("a"), "udpAsk", lab.address("c"), 7, "t2", { ttl: 2 });
      const after = await inHost(lab.host("r"), "snmpCounters");
      expect(one).toEqual({ reply: null, error: "timeout" });
      expect(two.reply).toBe('c heard "t2" from 10.9.1.1');
      expect(after.Ip.InHdrErrors - before.Ip.InHdrErrors).toBe(1);
      expect(after.Ip.ForwDatagrams - before.Ip.ForwDatagrams).toBe(2);
    } finally {
      await lab.close();
    }
  }, 30_000);
});
