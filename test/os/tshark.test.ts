// helpers/os/tshark: tshark reads a capture we wrote, and counts the frames it finds malformed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { PcapWriter } from "../../helpers/os/pcap-file";
import { tshark, tsharkFields, tsharkProblemCount } from "../../helpers/os/tshark";
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
    const seen = await tsharkFields(file, "udp", ["ip.src", "udp.dstport"]);
    expect(seen).toEqual({ rows: [{ "ip.src": A, "udp.dstport": "4001" }], malformed: 0 });
    expect((await tsharkFields(file, "tcp", ["ip.src"])).rows).toEqual([]);
  });
});
