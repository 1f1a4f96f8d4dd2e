// helpers/lab/icmp-lab.ts inside a namespace lab, with the kernel as the judge: a hand-built echo is
// answered and one with a wrong checksum is dropped (and counted); UDP probes draw a real time
// exceeded from the router and a port unreachable from the server that quote what was sent; a
// connected dgram socket sees ECONNREFUSED; IP_HDRINCL packets are accepted with the header
// checksum refilled by the sender's kernel, while an AF_PACKET frame with a bad one is dropped.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab, type LabHost } from "../../helpers/lab";
import type * as icmpLab from "../../helpers/lab/icmp-lab";
import { dissect, ethernet, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";
import type { Args } from "../../helpers/os/remote";

// Vitest loads modules its own way, so the agent gets the helper's path, not the module object.
const FILE = join(__dirname, "..", "..", "helpers", "lab/icmp-lab.ts");
type M = typeof icmpLab;
const inHost = <K extends keyof M & string>(host: LabHost, fn: K, ...args: Args<M, K>) =>
  host.run<M, K>(FILE, fn, ...args);
const hexOf = (b: Buffer) => b.toString("hex");
const decode = (hex: string) => dissect(Buffer.from(hex, "hex"));

// Root only: the same functions run as an ordinary user through the notebooks' user-namespace
// replay; here the lab is built with `ip netns` directly.
describe.skipIf(labAccess().mode !== "root")(
  "icmp-lab in a client-router-server lab (skipped unless root: raw sockets need CAP_NET_RAW in the lab)",
  () => {
    let lab: Lab;
    let client: LabHost;
    let server: LabHost;
    let srv: string;
    beforeAll(async () => {
      lab = await startLab({
        hosts: { client: {}, router: { router: true }, server: {} },
        links: [
          { between: ["client", "router"], subnet: "10.0.1.0/24" },
          { between: ["router", "server"], subnet: "10.0.2.0/24" },
        ],
      });
      client = lab.host("client");
      server = lab.host("server");
      srv = lab.address("server");
      for (const h of ["router", "server"])
        expect(await inHost(lab.host(h), "setIpv4Sysctl", "icmp_ratelimit", "0")).toBe("0");
    }, 60_000);
    afterAll(async () => {
      await lab?.close();
    });

    it("echo: the reply to a hand-built request decodes with both checksums good; a bad checksum gets no reply and is counted", async () => {
      const request = icmp.encode({ kind: "echo-request", id: 0x1e57, seq: 3, data: Buffer.from("icmp-lab") });
      const r = await inHost(client, "echo", srv, hexOf(request), { id: 0x1e57 });
      const l = decode(r.reply!.hex);
      expect(r.reply!.from).toBe(srv);
      expect(l.ip).toMatchObject({ src: srv, dst: lab.address("client"), ttl: 63, checksumOk: true });
      expect(l.icmp).toMatchObject({
        kind: "echo-reply",
        id: 0x1e57,
        seq: 3,
        data: Buffer.from("icmp-lab"),
        checksumOk: true,
      });
      expect(r.rttMs).toBeGreaterThan(0);

      const before = await inHost(server, "counters", ["Icmp.InCsumErrors"]);
      const bad = Buffer.from(request);
      bad[2] ^= 0x01;
      expect(await inHost(client, "echo", srv, hexOf(bad), { id: 0x1e57, timeoutMs: 500 })).toEqual({
        reply: null,
        rttMs: null,
        others: [],
      });
      expect((await inHost(server, "counters", ["Icmp.InCsumErrors"]))["Icmp.InCsumErrors"]).toBe(
        before["Icmp.InCsumErrors"] + 1,
      );
    });

    it("udpProbe: TTL 1 draws time exceeded from the router, TTL 2 a port unreachable from the server, each quoting the datagram", async () => {
      const payloadHex = Buffer.from("probe").toString("hex");
      const te = await inHost(client, "udpProbe", srv, 33434, { srcPort: 40001, ttl: 1, payloadHex });
      const t = decode(te.error!.hex);
      expect(te.error!.from).toBe(lab.address("router"));
      expect(t.icmp).toMatchObject({ type: 11, code: 0, checksumOk: true });
      // The router quotes the datagram as it arrived: byte for byte what left the client. RFC 792
      // asks for the header and 8 bytes; Linux quotes up to 576 bytes in all (RFC 1812), so here all.
      expect(hexOf((t.icmp as { original: Buffer }).original)).toBe(te.sent);

      const pu = await inHost(client, "udpProbe", srv, 33434, { srcPort: 40002, ttl: 2, payloadHex });
      const p = decode(pu.error!.hex);
      expect(pu.error!.from).toBe(srv);
      expect(p.icmp).toMatchObject({ type: 3, code: 3, checksumOk: true });
      const quote = (p.icmp as { quote: { ip: { ttl: number; src: string; dst: string }; first8: Buffer } }).quote;
      expect(quote.ip).toMatchObject({ ttl: 1, src: lab.address("client"), dst: srv }); // the router took one off
      expect(hexOf(quote.first8)).toBe(pu.sent!.slice(40, 56));
    });

    it("connectedUdp: a connected socket is told ECONNREFUSED for each datagram to a closed port", async () => {
      expect(await inHost(client, "connectedUdp", srv, 9, { srcPort: 41000, count: 2 })).toEqual([
        "send 1: ok",
        "'error' event: ECONNREFUSED",
        "send 2: ok",
        "'error' event: ECONNREFUSED",
      ]);
    });

    it("IP_HDRINCL: the receiver gets the payload, the header checksum is refilled; a bad one sent on AF_PACKET is dropped and counted", async () => {
      const rx = await inHost(server, "udpReceiver", 5858);
      try {
        const ends = { src: lab.address("client"), dst: srv };
        const packet = ipv4.encode({
          ...ends,
          protocol: PROTO.UDP,
          id: 0x5858,
          ttl: 64,
          payload: udp.encode({ srcPort: 5800, dstPort: 5858, payload: Buffer.from("by hand"), ...ends }),
        });
        const broken = Buffer.from(packet);
        broken[10] ^= 0xff;
        await inHost(client, "sendHdrincl", hexOf(broken), srv);
        expect(await rx.received(1)).toEqual([
          { payloadHex: hexOf(Buffer.from("by hand")), from: ends.src, port: 5800 },
        ]);
        const [arrived] = await rx.wire();
        expect(ipv4.decode(Buffer.from(arrived, "hex"))).toMatchObject({ checksumOk: true, ttl: 63, id: 0x5858 });

        // On the client's own link, to the router's MAC: only the router sees it, and drops it.
        const rows = lab.describe();
        const mac = (host: string) => String(rows.find((r) => r.host === host && r.link === 0)!.mac);
        const before = await inHost(lab.host("router"), "counters", ["IpExt.InCsumErrors"]);
        const frame = ethernet.encode({ dst: mac("router"), src: mac("client"), ethertype: 0x0800, payload: broken });
        await inHost(client, "sendFrame", hexOf(frame));
        expect(await rx.received(1, 300)).toEqual([]);
        expect((await inHost(lab.host("router"), "counters", ["IpExt.InCsumErrors"]))["IpExt.InCsumErrors"]).toBe(
          before["IpExt.InCsumErrors"] + 1,
        );
      } finally {
        await rx.close();
      }
    });

    it("bad arguments are rejected at the edge", async () => {
      await expect(inHost(client, "echo", srv, "xyz", { id: 1 })).rejects.toMatchObject({
        code: "ERR_INVALID_ARG_VALUE",
      });
      await expect(inHost(client, "counters", ["Icmp.NoSuchThing"])).rejects.toMatchObject({
        code: "ERR_INVALID_ARG_VALUE",
      });
    });
  },
);
