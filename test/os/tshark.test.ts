// helpers/os/tshark: tshark reads a capture we wrote, and counts the frames it finds malformed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { PcapWriter } from "../../helpers/os/pcap-file";
import { MALFORMED, tshark, tsharkCount, tsharkFields, tsharkProblemCount } from "../../helpers/os/tshark";
import { announce, bgp } from "../../helpers/wire/bgp";
import { ethernet } from "../../helpers/wire/ethernet";
import { tcp, TCP_FLAGS } from "../../helpers/wire/tcp";
import { LINKTYPE } from "../../helpers/wire/pcap";
import { ipv4, PROTO, udp } from "../../helpers/wire/packet";

const dir = mkdtempSync(join(tmpdir(), "wb-tshark-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const [A, B] = ["10.9.0.1", "10.9.0.2"];
const datagram = udp.encode({ srcPort: 4000, dstPort: 4001, payload: Buffer.from("hello"), src: A, dst: B });
const packet = ipv4.encode({ src: A, dst: B, protocol: PROTO.UDP, payload: datagram });

function pcapOf(name: string, frames: Buffer[]): string {
  const file = join(dir, name);
  const w = new PcapWriter(file, { linktype: LINKTYPE.RAW });
  frames.forEach((f, i) => w.write(f, Date.UTC(2026, 0, 1) + i));
  w.close();
  return file;
}

describe.skipIf(!hasProgram("tshark"))("tshark", () => {
  it("reads the fields of a frame we wrote", () => {
    const file = pcapOf("one.pcap", [packet]);
    const fields = ["ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.length"];
    expect(tshark(file, "-T", "fields", ...fields.flatMap((f) => ["-e", f]))).toBe(
      [A, B, "4000", "4001", "13"].join("\t"),
    );
    expect(tsharkProblemCount(file)).toBe(0);
  });

  it("counts a frame cut short as a problem", () => {
    const file = pcapOf("cut.pcap", [packet, packet.subarray(0, 24)]);
    expect(tsharkProblemCount(file)).toBe(1);
  });

  it("gives the fields of the frames a filter matches as rows", async () => {
    const file = pcapOf("fields.pcap", [packet]);
    expect(await tsharkFields(file, "udp", ["ip.src", "udp.dstport"])).toEqual([
      { "ip.src": A, "udp.dstport": "4001" },
    ]);
    expect(await tsharkFields(file, "tcp", ["ip.src"])).toEqual([]);
  });
});

describe.skipIf(!hasProgram("tshark"))("tsharkFields on a BGP frame", () => {
  it("reads the fields of each matching frame, several values joined by commas", async () => {
    const payload = bgp.encode(announce(["10.1.0.0/16", "10.2.2.0/24"], { asPath: [65001], nextHop: "10.0.0.2" }));
    const [src, dst] = ["10.0.0.2", "10.0.0.1"];
    const segment = tcp.encode({
      srcPort: 40000,
      dstPort: 179,
      seq: 1,
      ack: 1,
      flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH,
      window: 512,
      payload,
      src,
      dst,
    });
    const packet = ipv4.encode({ protocol: 6, src, dst, ttl: 64, payload: segment });
    const frame = ethernet.encode({
      dst: "02:00:00:00:00:01",
      src: "02:00:00:00:00:02",
      ethertype: 0x0800,
      payload: packet,
    });
    const pcap = join(dir, "bgp.pcap");
    const w = new PcapWriter(pcap, { linktype: LINKTYPE.ETHERNET });
    w.write(frame, 1_700_000_000_000);
    w.close();
    const rows = await tsharkFields(pcap, "bgp", ["ip.src", "bgp.type", "bgp.nlri_prefix", "bgp.prefix_length"]);
    expect(rows).toEqual([
      { "ip.src": src, "bgp.type": "2", "bgp.nlri_prefix": "10.1.0.0,10.2.2.0", "bgp.prefix_length": "16,24" },
    ]);
    expect(await tsharkCount(pcap, MALFORMED)).toBe(0);
    expect(await tsharkCount(pcap, "udp")).toBe(0);
  });
});
