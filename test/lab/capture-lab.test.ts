// helpers/lab/capture-lab.ts: the fragment arithmetic and the one-line summaries are pure and tested
// everywhere; the functions that run inside lab hosts are judged by the kernel in a lab of three
// namespaces (a — r — b, the r–b link at MTU 1280), which needs root.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fragment, refragment, summarize } from "../../helpers/lab/capture-lab";
import type * as captureLab from "../../helpers/lab/capture-lab";
import { labAccess, startLab, type Lab, type LabHost } from "../../helpers/lab";
import { ethernet, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";
import { readPcap } from "../../helpers/wire/pcap";
import { bpf } from "../../helpers/wire/bpf";
import type { Args } from "../../helpers/os/remote";

// Vitest loads modules its own way, so the agent gets the module's path.
const MODULE = join(__dirname, "..", "..", "helpers", "lab/capture-lab.ts");
type M = typeof captureLab;
const inHost = <K extends keyof M & string>(host: LabHost, fn: K, ...args: Args<M, K>) =>
  host.run<M, K>(MODULE, fn, ...args);

describe("fragment arithmetic", () => {
  it("cuts at multiples of 8, MF on all but the last, offsets as bytes and as the /8 field", () => {
    expect(fragment(3008, 1500).map((f) => [f.offset, f.offsetField, f.length, f.mf, f.totalLength])).toEqual([
      [0, 0, 1480, true, 1500],
      [1480, 185, 1480, true, 1500],
      [2960, 370, 48, false, 68],
    ]);
    // (1006 − 20) = 986 rounds down to 984
    expect(fragment(2000, 1006).map((f) => f.length)).toEqual([984, 984, 32]);
    expect(fragment(1480, 1500)).toEqual([{ offset: 0, offsetField: 0, length: 1480, mf: false, totalLength: 1500 }]);
    expect(fragment(100, 576, { headerLength: 24 })[0].totalLength).toBe(124);
  });
  it("refragments: pieces continue from the fragment's offset and keep its MF", () => {
    expect(refragment(fragment(3008, 1500), 1280).map((f) => [f.offset, f.length, f.mf])).toEqual([
      [0, 1256, true],
      [1256, 224, true],
      [1480, 1256, true],
      [2736, 224, true],
      [2960, 48, false],
    ]);
  });
  it("rejects what cannot be cut", () => {
    expect(() => fragment(100, 27)).toThrow(/no room/);
    expect(() => fragment(-1, 1500)).toThrow(RangeError);
    expect(() => fragment(100, 1500, { start: 4 })).toThrow(/multiple of 8/);
  });
});

describe("summarize", () => {
  const ends = { src: "10.0.0.1", dst: "10.0.0.2" };
  const frame = (payload: Buffer) =>
    ethernet.encode({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02", ethertype: 0x0800, payload });
  it("prints UDP, ICMP and fragments without the random identification", () => {
    const dg = ipv4.encode({
      ...ends,
      protocol: PROTO.UDP,
      id: 999,
      payload: udp.encode({ srcPort: 40000, dstPort: 53, payload: Buffer.from("q"), ...ends }),
    });
    expect(summarize(frame(dg), { ephemeral: (p) => p === 40000 })).toBe(
      "02:00:00:00:00:01 > 02:00:00:00:00:02, IPv4, ttl 64, 10.0.0.1.ephemeral > 10.0.0.2.53: UDP, length 1",
    );
    const echo = ipv4.encode({
      ...ends,
      protocol: PROTO.ICMP,
      df: true,
      payload: icmp.encode({ kind: "echo-request", id: 7, seq: 1, data: Buffer.from("abcd") }),
    });
    expect(summarize(frame(echo))).toMatch(
      /ttl 64 DF, 10\.0\.0\.1 > 10\.0\.0\.2: ICMP echo request, id 7, seq 1, length 12$/,
    );
    const frag = ipv4.encode({
      ...ends,
      protocol: PROTO.UDP,
      id: 5,
      fragmentOffset: 1480,
      mf: true,
      payload: Buffer.alloc(16),
    });
    expect(summarize(frame(frag))).toMatch(
      /ttl 64 frag offset 1480 \+MF, 10\.0\.0\.1 > 10\.0\.0\.2: UDP fragment, length 16$/,
    );
  });
});

const asRoot = labAccess().mode === "root";

describe.skipIf(!asRoot)(
  "inside a lab (skipped unless root: the user-namespace path is exercised by notebooks 50 and 72 as nobody)",
  () => {
    let lab: Lab;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "wirebook-capture-lab-"));
      lab = await startLab({
        hosts: { a: {}, r: { router: true }, b: {} },
        links: [
          { between: ["r", "a"], subnet: "10.150.1.0/24" },
          { between: ["r", "b"], subnet: "10.150.2.0/24", mtu: 1280 },
        ],
      });
    }, 30_000);
    afterAll(async () => {
      await lab?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("DF clear: the router refragments as refragment() says; the receiver gets one datagram; the pcap holds the fragments", async () => {
      const pcap = join(dir, "b.pcap");
      const rx = await inHost(lab.host("b"), "udpReceiver", 5000);
      const cap = await inHost(lab.host("b"), "startCapture", { iface: "eth0", filter: bpf.ipProto(17), pcap });
      const sent = await inHost(lab.host("a"), "udpSend", {
        to: lab.address("b"),
        port: 5000,
        srcPort: 4000,
        sizes: [3000],
        mode: "dont",
      });
      const got = await cap.stop();
      expect(sent).toEqual([{ size: 3000, result: "sent", icmp: [] }]);
      const ips = got.frames.map((f) => ipv4.decode(Buffer.from(f.hex, "hex"), 14));
      expect(ips.map((ip) => [ip.fragmentOffset, ip.payload.length, ip.mf])).toEqual(
        refragment(fragment(3008, 1500), 1280).map((f) => [f.offset, f.length, f.mf]),
      );
      expect(got.written).toBe(5);
      expect(readPcap(readFileSync(pcap)).records).toHaveLength(5);
      expect(await rx.received()).toEqual([{ from: lab.address("a"), length: 3000 }]);
      await rx.close();
    });

    it("DF set: EMSGSIZE over the first link's MTU, ICMP 3/4 with MTU 1280 from the router, then EMSGSIZE from the learned path MTU", async () => {
      await lab.host("a").exec(["ip", "route", "flush", "cache"]);
      const r = await inHost(lab.host("a"), "udpSend", {
        to: lab.address("b"),
        port: 5000,
        srcPort: 4001,
        sizes: [3000, 1400, 1400, 1252],
        mode: "do",
        waitMs: 500,
      });
      expect(r.map((s) => s.result)).toEqual(["EMSGSIZE", "sent", "EMSGSIZE", "sent"]);
      expect(r[1].icmp).toEqual([
        { from: "10.150.1.1", type: 3, code: 4, nextHopMtu: 1280, quotedLength: 1428, quotedDf: true },
      ]);
      expect(await inHost(lab.host("a"), "pathMtu", lab.address("b"))).toBe(1280);
    });

    it("ping gets the kernel's reply; a TCP client reaches the server; captureFor stops at maxFrames", async () => {
      const capture = inHost(lab.host("b"), "captureFor", {
        iface: "eth0",
        filter: bpf.icmp(),
        ms: 3000,
        maxFrames: 2,
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(await inHost(lab.host("a"), "ping", lab.address("b"), { id: 9, seq: 3, data: "x" })).toEqual({
        reply: true,
        from: lab.address("b"),
        data: "x",
        checksumOk: true,
      });
      const frames = (await capture).frames.map((f) => summarize(Buffer.from(f.hex, "hex")));
      expect(frames).toHaveLength(2);
      expect(frames[0]).toMatch(/ICMP echo request, id 9, seq 3, length 9$/);
      expect(frames[1]).toMatch(/ICMP echo reply, id 9, seq 3, length 9$/);
      const server = await inHost(lab.host("b"), "tcpServer", 8080);
      const client = await inHost(lab.host("a"), "tcpClient", lab.address("b"), 8080, "hi");
      expect(client.localPort).toBeGreaterThan(1023);
      await client.close();
      await new Promise((r) => setTimeout(r, 100));
      expect(await server.received()).toEqual(["hi"]);
      await server.close();
    });
  },
);
