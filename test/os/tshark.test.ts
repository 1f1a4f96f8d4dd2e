// helpers/os/tshark.ts: fields and counts from a pcap file that tshark dissects — one frame
// holding a BGP UPDATE over TCP port 179, built with our own codecs. Skipped without tshark.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { PcapWriter, LINKTYPE } from "../../helpers/os/pcap-file";
import { MALFORMED, tsharkCount, tsharkFields } from "../../helpers/os/tshark";
import { announce, bgp } from "../../helpers/wire/bgp";
import { ethernet } from "../../helpers/wire/ethernet";
import { ipv4 } from "../../helpers/wire/ipv4";
import { tcp, TCP_FLAGS } from "../../helpers/wire/tcp";

const dir = mkdtempSync(join(tmpdir(), "wirebook-tshark-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasProgram("tshark"))("tsharkFields", () => {
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
