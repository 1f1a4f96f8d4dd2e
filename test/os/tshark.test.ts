// os/tshark: a UDP frame of our own written to a pcap file, read back field by field by tshark.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { LINKTYPE, PcapWriter } from "../../helpers/os/pcap-file";
import { tsharkFields } from "../../helpers/os/tshark";
import { ethernet, ETHERTYPE, ipv4, PROTO, udp } from "../../helpers/wire/packet";

describe.skipIf(!hasProgram("tshark"))("tsharkFields", () => {
  it("returns one row per matching frame with the fields asked for", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wirebook-tshark-"));
    try {
      const payload = udp.encode({
        srcPort: 1234,
        dstPort: 5678,
        payload: Buffer.from("hi"),
        src: "10.0.0.1",
        dst: "10.0.0.2",
      });
      const packet = ipv4.encode({ src: "10.0.0.1", dst: "10.0.0.2", protocol: PROTO.UDP, payload });
      const frame = ethernet.encode({
        dst: "02:00:00:00:00:02",
        src: "02:00:00:00:00:01",
        ethertype: ETHERTYPE.IPV4,
        payload: packet,
      });
      const w = new PcapWriter(join(dir, "one.pcap"), { linktype: LINKTYPE.ETHERNET });
      w.write(frame, 0);
      w.close();
      const seen = await tsharkFields(join(dir, "one.pcap"), "udp", ["ip.src", "udp.dstport"]);
      expect(seen).toEqual({ rows: [{ "ip.src": "10.0.0.1", "udp.dstport": "5678" }], malformed: 0 });
      expect((await tsharkFields(join(dir, "one.pcap"), "tcp", ["ip.src"])).rows).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
