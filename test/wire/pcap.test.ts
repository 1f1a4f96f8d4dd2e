// helpers/wire/pcap.ts and helpers/os/pcap-file.ts, judged by Wireshark: tshark reads the files we
// write and dissects our hand-built ICMP, UDP and TCP (helpers/wire/icmp, udp, tcp) as such,
// checksums good, nothing malformed; and what tshark writes, we read and write back byte for byte.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PcapWriter } from "../../helpers/os/pcap-file";
import { ethernet, icmp, ipv4, PROTO, tcp, TCP_FLAGS, udp } from "../../helpers/wire/packet";
import { LINKTYPE, pcap, PcapError, readPcap } from "../../helpers/wire/pcap";
import { run } from "../support/process";

const dir = mkdtempSync(join(tmpdir(), "wirebook-pcap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const a = "10.0.0.1";
const b = "10.0.0.2";
const probe = ipv4.encode({
  protocol: PROTO.UDP,
  src: a,
  dst: b,
  id: 9,
  ttl: 1,
  payload: udp.encode({ srcPort: 40000, dstPort: 33434, payload: Buffer.from("probe"), src: a, dst: b }),
});
const packets = [
  ipv4.encode({
    protocol: PROTO.ICMP,
    src: a,
    dst: b,
    payload: icmp.encode({ kind: "echo-request", id: 0x1234, seq: 1, data: Buffer.from("abcd") }),
  }),
  ipv4.encode({
    protocol: PROTO.ICMP,
    src: b,
    dst: a,
    payload: icmp.encode({ kind: "echo-reply", id: 0x1234, seq: 1, data: Buffer.from("abcd") }),
  }),
  probe,
  ipv4.encode({
    protocol: PROTO.ICMP,
    src: b,
    dst: a,
    payload: icmp.encode({ kind: "time-exceeded", code: 0, original: probe }),
  }),
  ipv4.encode({
    protocol: PROTO.ICMP,
    src: b,
    dst: a,
    payload: icmp.encode({ kind: "destination-unreachable", code: 4, nextHopMtu: 1400, original: probe }),
  }),
];
const frame = (p: Buffer) =>
  ethernet.encode({ dst: "02:00:00:00:00:02", src: "02:00:00:00:00:01", ethertype: 0x0800, payload: p });
const t0 = 1_700_000_000_000.25; // ms since the epoch, with 250 µs

/** tshark's fields, one row per frame, first occurrence of each (an ICMP error holds two IPs). */
async function tsharkFields(file: string, fields: string[], occurrence: "f" | "a" = "f"): Promise<string[][]> {
  const args = [
    "-r",
    file,
    "-o",
    "ip.check_checksum:TRUE",
    "-o",
    "udp.check_checksum:TRUE",
    "-T",
    "fields",
    "-E",
    "separator=/t",
    "-E",
    `occurrence=${occurrence}`,
    "-E",
    "aggregator=;",
  ];
  const r = await run("tshark", [...args, ...fields.flatMap((f) => ["-e", f])]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trimEnd()
    .split("\n")
    .map((l) => l.split("\t"));
}
async function malformed(file: string): Promise<string> {
  const r = await run("tshark", ["-r", file, "-Y", "_ws.malformed || _ws.expert.severity >= warning"]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe("PcapWriter + tshark", () => {
  it("writes an Ethernet (linktype 1) file that tshark dissects: ICMP, UDP, quotes, good checksums", async () => {
    const file = join(dir, "ethernet.pcap");
    const w = new PcapWriter(file, { linktype: LINKTYPE.ETHERNET });
    packets.forEach((p, i) => w.write(frame(p), t0 + i));
    w.close();
    w.close(); // idempotent
    const rows = await tsharkFields(file, [
      "frame.time_epoch",
      "eth.type",
      "ip.src",
      "ip.proto",
      "icmp.type",
      "icmp.code",
      "icmp.ident",
      "icmp.seq",
      "icmp.mtu",
      "udp.srcport",
      "udp.dstport",
      "ip.checksum.status",
      "icmp.checksum.status",
      "udp.checksum.status",
    ]);
    expect(rows).toEqual([
      ["1700000000.000250000", "0x0800", a, "1", "8", "0", "4660", "1", "", "", "", "1", "1", ""],
      ["1700000000.001250000", "0x0800", b, "1", "0", "0", "4660", "1", "", "", "", "1", "1", ""],
      ["1700000000.002250000", "0x0800", a, "17", "", "", "", "", "", "40000", "33434", "1", "", "1"],
      // The quoted UDP is cut short: unverified.
      ["1700000000.003250000", "0x0800", b, "1", "11", "0", "", "", "", "40000", "33434", "1", "1", "2"],
      ["1700000000.004250000", "0x0800", b, "1", "3", "4", "", "", "1400", "40000", "33434", "1", "1", "2"],
    ]);
    // The quote inside each error is dissected as the original IPv4 header.
    const quotes = await tsharkFields(file, ["ip.src", "ip.id"], "a");
    expect(quotes.slice(3)).toEqual([
      [`${b};${a}`, "0x0000;0x0009"],
      [`${b};${a}`, "0x0000;0x0009"],
    ]);
    expect(await malformed(file)).toBe("");
  });

  it("writes a raw IP (linktype 101) file, and cuts records at the snaplen keeping the wire length", async () => {
    const file = join(dir, "raw.pcap");
    writeFileSync(
      file,
      pcap.encode({ linktype: LINKTYPE.RAW, snaplen: 40, records: packets.map((data, i) => ({ data, time: t0 + i })) }),
    );
    const rows = await tsharkFields(file, ["frame.len", "frame.cap_len", "ip.src"]);
    expect(rows.map((r) => r.map(Number).slice(0, 2))).toEqual(packets.map((p) => [p.length, Math.min(p.length, 40)]));
    expect(rows.map((r) => r[2])).toEqual([a, b, a, b, b]);
    const full = join(dir, "raw-full.pcap");
    writeFileSync(full, pcap.encode({ linktype: LINKTYPE.RAW, records: packets.map((data) => ({ data, time: t0 })) }));
    expect((await tsharkFields(full, ["icmp.type"])).map((r) => r[0])).toEqual(["8", "0", "", "11", "3"]);
    expect(await malformed(full)).toBe("");
  });
});

describe("TCP, encoded by hand, as tshark dissects it", () => {
  it("a handshake and a data segment: ports, flags, options, lengths, good checksums, nothing malformed", async () => {
    const ends = (from: string, to: string) => ({ src: from, dst: to });
    const segments = [
      tcp.encode({
        srcPort: 40000,
        dstPort: 80,
        seq: 1000,
        flags: TCP_FLAGS.SYN,
        window: 64240,
        options: [
          { kind: 2, data: Buffer.from("05b4", "hex") }, // MSS 1460
          { kind: 4, data: Buffer.alloc(0) }, // SACK permitted
          { kind: 8, data: Buffer.from("0000000100000000", "hex") }, // timestamps
          { kind: 1, data: Buffer.alloc(0) },
          { kind: 3, data: Buffer.from([7]) }, // window scale 7
        ],
        ...ends(a, b),
      }),
      tcp.encode({
        srcPort: 80,
        dstPort: 40000,
        seq: 5000,
        ack: 1001,
        flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK,
        window: 65160,
        options: [{ kind: 2, data: Buffer.from("05b4", "hex") }],
        ...ends(b, a),
      }),
      tcp.encode({
        srcPort: 40000,
        dstPort: 80,
        seq: 1001,
        ack: 5001,
        flags: TCP_FLAGS.PSH | TCP_FLAGS.ACK,
        window: 502,
        payload: Buffer.from("GET / HTTP/1.0\r\n\r\n"), // odd length: the checksum pads it
        ...ends(a, b),
      }),
    ];
    const file = join(dir, "tcp.pcap");
    const w = new PcapWriter(file, { linktype: LINKTYPE.RAW });
    const from = [a, b, a];
    segments.forEach((s, i) =>
      w.write(ipv4.encode({ protocol: PROTO.TCP, src: from[i], dst: from[i] === a ? b : a, payload: s }), t0 + i),
    );
    w.close();
    const r = await run("tshark", [
      ..."-r FILE -o tcp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE -T fields -E separator=/t"
        .split(" ")
        .map((x) => (x === "FILE" ? file : x)),
      ...[
        "tcp.srcport",
        "tcp.dstport",
        "tcp.seq",
        "tcp.ack",
        "tcp.flags",
        "tcp.hdr_len",
        "tcp.len",
        "tcp.options.mss_val",
        "tcp.options.wscale.shift",
        "tcp.checksum.status",
      ].flatMap((f) => ["-e", f]),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(
      r.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split("\t")),
    ).toEqual([
      ["40000", "80", "1000", "0", "0x0002", "40", "0", "1460", "7", "1"],
      ["80", "40000", "5000", "1001", "0x0012", "24", "0", "1460", "", "1"],
      ["40000", "80", "1001", "5001", "0x0018", "20", "18", "", "", "1"],
    ]);
    expect(await malformed(file)).toBe("");
  });
});

describe("readPcap", () => {
  it("reads back what we wrote, and what tshark itself writes as classic pcap", async () => {
    const ours = join(dir, "ours.pcap");
    const w = new PcapWriter(ours, { linktype: LINKTYPE.ETHERNET, snaplen: 65535 });
    packets.forEach((p, i) => w.write(frame(p), t0 + i));
    w.close();
    const read = readPcap(readFileSync(ours));
    expect(read).toMatchObject({ version: "2.4", linktype: 1, snaplen: 65535, nanosecond: false });
    expect(read.records.map((r) => r.data)).toEqual(packets.map(frame));
    expect(read.records.map((r) => r.time)).toEqual(packets.map((_, i) => t0 + i));
    expect(readFileSync(ours).subarray(0, 4)).toEqual(Buffer.from("d4c3b2a1", "hex")); // a1b2c3d4, little-endian

    const theirs = join(dir, "theirs.pcap");
    const r = await run("tshark", ["-r", ours, "-F", "pcap", "-w", theirs]);
    expect(r.code, r.stderr).toBe(0);
    expect(readPcap(readFileSync(theirs)).records.map((x) => x.data)).toEqual(packets.map(frame));
  });

  it.each([
    ["pcap", false],
    ["nsecpcap", true],
  ])("decodes what tshark writes as -F %s and encodes it back to the same bytes", async (format, nanosecond) => {
    const ours = join(dir, `for-${format}.pcap`);
    writeFileSync(
      ours,
      pcap.encode({ linktype: 1, records: packets.map((p, i) => ({ data: frame(p), time: t0 + i })) }),
    );
    const theirs = join(dir, `theirs-${format}.pcap`);
    const r = await run("tshark", ["-r", ours, "-F", format, "-w", theirs]);
    expect(r.code, r.stderr).toBe(0);
    const bytes = readFileSync(theirs);
    const file = pcap.decode(bytes);
    expect(file).toMatchObject({ nanosecond, linktype: 1, version: "2.4" });
    expect(file.records.map((x) => x.time)).toEqual(packets.map((_, i) => t0 + i));
    expect(pcap.encode(file)).toEqual(bytes);
    expect(pcap.decode.bytes).toBe(bytes.length);
  });

  it("bad magic and truncated records are PcapErrors with the offset", () => {
    const file = pcap.encode({ linktype: 1, records: [{ data: frame(packets[0]), time: t0 }] });
    const err = (buf: Buffer) => {
      try {
        readPcap(buf);
      } catch (e) {
        if (e instanceof PcapError) return { code: e.code, offset: e.offset };
        throw e;
      }
      return undefined;
    };
    // pcapng, not classic pcap:
    expect(err(Buffer.from("0a0d0d0a" + "00".repeat(24), "hex"))).toEqual({ code: "ERR_PCAP_BAD_MAGIC", offset: 0 });
    expect(err(file.subarray(0, 10))).toEqual({ code: "ERR_PCAP_TRUNCATED", offset: 0 });
    expect(err(file.subarray(0, 30))).toEqual({ code: "ERR_PCAP_TRUNCATED", offset: 24 });
    expect(err(file.subarray(0, file.length - 1))).toEqual({ code: "ERR_PCAP_BAD_LENGTH", offset: 32 });
  });
});
