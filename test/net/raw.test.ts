// helpers/net/raw inside a client-router-server lab, with the kernel as the judge: a hand-built echo
// is answered and one with a wrong checksum is dropped (and counted); UDP probes draw a real time
// exceeded from the router and a port unreachable from the server that quote what was sent; a raw
// listener sees packets for others; IP_HDRINCL packets are accepted with the header checksum
// refilled by the sender's kernel, while an AF_PACKET frame with a bad one is dropped. Packets
// cross the agent as Buffers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab, type LabHost } from "../../helpers/lab";
import type * as raw from "../../helpers/net/raw";
import type * as services from "../../helpers/net/services";
import type * as capture from "../../helpers/os/capture";
import type * as procnet from "../../helpers/os/procnet";
import { bpf } from "../../helpers/wire/bpf";
import { dissect, ethernet, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";
import { helperFile, inHost } from "../support/in-host";

const inRaw = inHost<typeof raw>(helperFile("net/raw"));
const inServices = inHost<typeof services>(helperFile("net/services"));
const inCapture = inHost<typeof capture>(helperFile("os/capture"));
const inProcnet = inHost<typeof procnet>(helperFile("os/procnet"));

// Root only: the same functions run as an ordinary user through the notebooks' user-namespace
// replay; here the lab is built with `ip netns` directly.
describe.skipIf(labAccess().mode !== "root")(
  "net/raw in a client-router-server lab (skipped unless root: raw sockets need CAP_NET_RAW in the lab)",
  () => {
    let lab: Lab;
    let client: LabHost;
    let router: LabHost;
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
      router = lab.host("router");
      server = lab.host("server");
      srv = lab.address("server");
      for (const h of [router, server]) expect(await inProcnet(h, "setIpv4Sysctl", "icmp_ratelimit", "0")).toBe("0");
    }, 60_000);
    afterAll(async () => {
      await lab?.close();
    });

    it("icmpEcho: a hand-built echo is answered; one with a bad checksum is dropped and counted", async () => {
      const request = icmp.encode({ kind: "echo-request", id: 0x1e57, seq: 3, data: Buffer.from("net/raw") });
      const r = await inRaw(client, "icmpEcho", srv, request, { id: 0x1e57 });
      expect(Buffer.isBuffer(r.reply!.data)).toBe(true);
      const l = dissect(r.reply!.data);
      expect(r.reply!.from).toBe(srv);
      expect(l.ip).toMatchObject({ src: srv, dst: lab.address("client"), ttl: 63, checksumOk: true });
      expect(l.icmp).toMatchObject({
        kind: "echo-reply",
        id: 0x1e57,
        seq: 3,
        data: Buffer.from("net/raw"),
        checksumOk: true,
      });
      expect(r.rttMs).toBeGreaterThan(0);

      const before = await inProcnet(server, "counters", ["Icmp.InCsumErrors"]);
      const bad = Buffer.from(request);
      bad[2] ^= 0x01;
      expect(await inRaw(client, "icmpEcho", srv, bad, { id: 0x1e57, timeoutMs: 500 })).toEqual({
        reply: null,
        rttMs: null,
        others: [],
      });
      expect((await inProcnet(server, "counters", ["Icmp.InCsumErrors"]))["Icmp.InCsumErrors"]).toBe(
        before["Icmp.InCsumErrors"] + 1,
      );
    });

    it("ping: the kernel's reply and its checksum; a raw listener on the server sees the request", async () => {
      const listener = await inRaw(server, "rawListener", PROTO.ICMP);
      try {
        expect(await inRaw(client, "ping", srv, { id: 9, seq: 3, data: "x" })).toEqual({
          reply: true,
          from: srv,
          data: "x",
          checksumOk: true,
        });
        // A raw ICMP socket gets a copy of every ICMP packet the host receives, here the request
        // (the kernel answered it itself; the reply it sent is not received).
        const seen = (await listener.drain(300)).map((p) => dissect(p.data).icmp);
        expect(seen).toEqual([expect.objectContaining({ kind: "echo-request", id: 9, seq: 3, checksumOk: true })]);
      } finally {
        await listener.close();
      }
    });

    it("udpProbe: TTL 1 draws time exceeded, TTL 2 port unreachable, each quoting the datagram", async () => {
      const payload = Buffer.from("probe");
      const te = await inRaw(client, "udpProbe", srv, 33434, { srcPort: 40001, ttl: 1, payload });
      const t = dissect(te.error!.data);
      expect(te.error!.from).toBe(lab.address("router"));
      expect(t.icmp).toMatchObject({ type: 11, code: 0, checksumOk: true });
      // The router quotes the datagram as it arrived: byte for byte what left the client. RFC 792
      // asks for the header and 8 bytes; Linux quotes up to 576 bytes in all (RFC 1812), so here all.
      expect((t.icmp as { original: Buffer }).original).toEqual(te.sent);
      expect(te.sent!.subarray(28)).toEqual(payload);

      const pu = await inRaw(client, "udpProbe", srv, 33434, { srcPort: 40002, ttl: 2, payload });
      const p = dissect(pu.error!.data);
      expect(pu.error!.from).toBe(srv);
      expect(p.icmp).toMatchObject({ type: 3, code: 3, checksumOk: true });
      const quote = (p.icmp as { quote: { ip: { ttl: number; src: string; dst: string }; first8: Buffer } }).quote;
      expect(quote.ip).toMatchObject({ ttl: 1, src: lab.address("client"), dst: srv }); // the router took one off
      expect(quote.first8).toEqual(pu.sent!.subarray(20, 28));
    });

    it("IP_HDRINCL: the header checksum is refilled; a bad one sent on AF_PACKET is dropped, counted", async () => {
      const rx = await inServices(server, "udpServer", 5858);
      const wire = await inCapture(server, "startCapture", {
        iface: "eth0",
        filter: bpf.udpPort(5858),
        ignoreOutgoing: true,
      });
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
        await inRaw(client, "sendHdrincl", broken, srv);
        expect(await rx.received(1)).toEqual([{ payload: Buffer.from("by hand"), from: ends.src, port: 5800 }]);
        const [arrived] = await wire.take();
        expect(ipv4.decode(arrived.data, 14)).toMatchObject({ checksumOk: true, ttl: 63, id: 0x5858 });

        // On the client's own link, to the router's MAC: only the router sees it, and drops it.
        const rows = lab.describe();
        const mac = (host: string) => String(rows.find((r) => r.host === host && r.link === 0)!.mac);
        const before = await inProcnet(router, "counters", ["IpExt.InCsumErrors"]);
        const frame = ethernet.encode({ dst: mac("router"), src: mac("client"), ethertype: 0x0800, payload: broken });
        expect(await inRaw(client, "sendFrames", "eth0", [frame])).toEqual({ sent: 1 });
        expect(await rx.received(1, 300)).toEqual([]);
        expect((await inProcnet(router, "counters", ["IpExt.InCsumErrors"]))["IpExt.InCsumErrors"]).toBe(
          before["IpExt.InCsumErrors"] + 1,
        );
      } finally {
        await wire.close();
        await rx.close();
      }
    });

    it("bad arguments are rejected at the edge", async () => {
      // Bytes must be bytes: a hex string (what crossed the agent before Buffers did) is refused,
      // not sent as its characters.
      const text = "0800f7ff00000000" as unknown as Buffer;
      await expect(inRaw(client, "icmpEcho", srv, text, { id: 1 })).rejects.toMatchObject({
        code: "ERR_INVALID_ARG_TYPE",
      });
      await expect(inRaw(client, "sendFrames", "eth0", [text])).rejects.toMatchObject({
        code: "ERR_INVALID_ARG_TYPE",
      });
      const request = icmp.encode({ kind: "echo-request", id: 1, seq: 1, data: Buffer.alloc(0) });
      await expect(inRaw(client, "icmpEcho", "10.0.2.300", request, { id: 1 })).rejects.toMatchObject({
        code: "ERR_INVALID_ARG_VALUE",
      });
      await expect(inProcnet(client, "counters", ["Icmp.NoSuchThing"])).rejects.toMatchObject({
        code: "ERR_PROC_NET",
      });
    });
  },
);
