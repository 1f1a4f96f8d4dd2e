// helpers/os/capture inside a lab of three namespaces (a — r — b, the r–b link at MTU 1280), with
// the kernel as the judge: a router's fragments as wire/fragment computes them, written to a pcap
// that reads back; captureFor stopping at maxFrames; take() handing over each frame once. Frames
// cross the agent as Buffers. Root only: notebooks 50 and 72 exercise the user-namespace path.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab, type LabHost } from "../../helpers/lab";
import type * as raw from "../../helpers/net/raw";
import type * as services from "../../helpers/net/services";
import type * as capture from "../../helpers/os/capture";
import { bpf } from "../../helpers/wire/bpf";
import { fragment, refragment } from "../../helpers/wire/fragment";
import { ipv4 } from "../../helpers/wire/packet";
import { readPcap } from "../../helpers/wire/pcap";
import { summarize } from "../../helpers/wire/summary";
import { helperFile, inHost } from "../support/in-host";

const inCapture = inHost<typeof capture>(helperFile("os/capture"));
const inServices = inHost<typeof services>(helperFile("net/services"));
const inRaw = inHost<typeof raw>(helperFile("net/raw"));

describe.skipIf(labAccess().mode !== "root")("captures inside a lab (skipped unless root)", () => {
  let lab: Lab;
  let a: LabHost;
  let b: LabHost;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wirebook-capture-"));
    lab = await startLab({
      hosts: { a: {}, r: { router: true }, b: {} },
      links: [
        { between: ["r", "a"], subnet: "10.150.1.0/24" },
        { between: ["r", "b"], subnet: "10.150.2.0/24", mtu: 1280 },
      ],
    });
    [a, b] = [lab.host("a"), lab.host("b")];
  }, 30_000);
  afterAll(async () => {
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("DF clear: the router refragments as refragment() says; one datagram arrives; the pcap holds all", async () => {
    const pcap = join(dir, "b.pcap");
    const rx = await inServices(b, "udpServer", 5000);
    const cap = await inCapture(b, "startCapture", { iface: "eth0", filter: bpf.ipProto(17), pcap });
    const sent = await inServices(a, "udpSend", lab.address("b"), 5000, [3000], { srcPort: 4000, pmtu: "dont" });
    const got = await cap.stop();
    expect(sent).toEqual([{ size: 3000, result: "sent", icmp: [] }]);
    const ips = got.frames.map((f) => ipv4.decode(f.data, 14));
    expect(ips.map((ip) => [ip.fragmentOffset, ip.payload.length, ip.mf])).toEqual(
      refragment(fragment(3008, 1500), 1280).map((f) => [f.offset, f.length, f.mf]),
    );
    expect(got.written).toBe(5);
    const records = readPcap(readFileSync(pcap)).records;
    expect(records).toHaveLength(5);
    expect(records.map((r) => r.data)).toEqual(got.frames.map((f) => f.data));
    expect(await rx.received(1)).toEqual([{ payload: Buffer.alloc(3000, 0x61), from: lab.address("a"), port: 4000 }]);
    await rx.close();
  });

  it("captureFor stops at maxFrames: the echo request and the kernel's reply", async () => {
    const capturing = inCapture(b, "captureFor", { iface: "eth0", filter: bpf.icmp(), ms: 3000, maxFrames: 2 });
    await new Promise((r) => setTimeout(r, 300));
    expect(await inRaw(a, "ping", lab.address("b"), { id: 9, seq: 3, data: "x" })).toMatchObject({ reply: true });
    const lines = (await capturing).frames.map((f) => summarize(f.data));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ICMP echo request, id 9, seq 3, length 9$/);
    expect(lines[1]).toMatch(/ICMP echo reply, id 9, seq 3, length 9$/);
  });

  it("take() hands over the frames since the last take; stop() returns them all", async () => {
    const cap = await inCapture(b, "startCapture", { iface: "eth0", filter: bpf.icmp(), ignoreOutgoing: true });
    try {
      for (const seq of [1, 2]) await inRaw(a, "ping", lab.address("b"), { id: 10, seq, data: "t" });
      const first = await cap.take();
      await inRaw(a, "ping", lab.address("b"), { id: 10, seq: 3, data: "t" });
      const second = await cap.take();
      // ignoreOutgoing: only the requests that arrived, not the replies b sent.
      expect([first, second].map((fs) => fs.map((f) => summarize(f.data).replace(/.*ICMP /, "")))).toEqual([
        ["echo request, id 10, seq 1, length 9", "echo request, id 10, seq 2, length 9"],
        ["echo request, id 10, seq 3, length 9"],
      ]);
      expect(await cap.take(0)).toEqual([]);
      expect(typeof first[0].time).toBe("number");
      expect((await cap.stop(0)).frames.map((f) => f.data)).toEqual([...first, ...second].map((f) => f.data));
    } finally {
      await cap.close();
    }
  });
});
