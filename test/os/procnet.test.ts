// The kernel's records, parsed from text written out as the kernel prints it.
import { describe, expect, it } from "vitest";
import { parseConntrack, parseIgmp, parseNetDev, parseSnmp } from "../../helpers/os/procnet";

const IGMP = [
  "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter",
  "1\tlo        :     1      V3",
  "\t\t\t\t010000E0     1 0:00000000\t\t0",
  "2\teth0      :     2      V3",
  "\t\t\t\t010037EF     2 0:00000000\t\t0",
  "\t\t\t\t010000E0     1 0:00000000\t\t0",
  "",
].join("\n");

describe("procnet parsers", () => {
  it("parses /proc/net/snmp into named counters per protocol", () => {
    const text = "Ip: Forwarding DefaultTTL ForwDatagrams\nIp: 1 64 7\nIcmp: InMsgs OutTimeExcds\nIcmp: 3 2\n";
    expect(parseSnmp(text)).toEqual({
      Ip: { Forwarding: 1, DefaultTTL: 64, ForwDatagrams: 7 },
      Icmp: { InMsgs: 3, OutTimeExcds: 2 },
    });
    expect(() => parseSnmp("Ip: A B\nTcp: 1 2\n")).toThrow(/values for Ip/);
  });

  it("reads /proc/net/dev", () => {
    const text =
      "Inter-|   Receive |  Transmit\n face |bytes packets ...\n" +
      "    lo: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n" +
      "  eth0: 740 10 0 1 0 0 0 0 370 5 0 0 0 0 0 0\n";
    expect(parseNetDev(text).eth0).toEqual({
      rx_bytes: 740,
      rx_packets: 10,
      rx_errs: 0,
      rx_drop: 1,
      tx_bytes: 370,
      tx_packets: 5,
      tx_errs: 0,
      tx_drop: 0,
    });
    expect(Object.keys(parseNetDev(text))).toEqual(["lo", "eth0"]);
  });

  it("reads /proc/net/igmp, whose groups are printed in the machine's byte order", () => {
    expect(parseIgmp(IGMP, true)).toEqual([
      { device: "lo", version: "V3", groups: [{ group: "224.0.0.1", users: 1 }] },
      {
        device: "eth0",
        version: "V3",
        groups: [
          { group: "239.55.0.1", users: 2 },
          { group: "224.0.0.1", users: 1 },
        ],
      },
    ]);
    // The same text from a big-endian machine would mean other groups.
    expect(parseIgmp(IGMP, false)[1].groups[0].group).toBe("1.0.55.239");
  });
});

describe("parseConntrack", () => {
  it("reads /proc/net/nf_conntrack and conntrack -L lines", () => {
    const text = [
      "ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.42.3 dst=10.42.0.2 sport=5000 dport=80 " +
        "src=10.42.0.2 dst=10.42.0.1 sport=80 dport=64105 [ASSURED] mark=0 zone=0 use=2",
      "ipv4     2 udp      17 29 src=192.168.42.2 dst=10.42.0.2 sport=42977 dport=53 [UNREPLIED] " +
        "src=10.42.0.2 dst=10.42.0.1 sport=53 dport=42977 mark=0 zone=0 use=2",
      "tcp      6 9 CLOSE src=10.42.0.2 dst=10.42.0.1 sport=41110 dport=8080 " +
        "src=192.168.42.2 dst=10.42.0.2 sport=80 dport=41110 [ASSURED] mark=0 use=1",
      "",
    ].join("\n");
    const [a, b, c] = parseConntrack(text);
    expect(a).toEqual({
      proto: "tcp",
      state: "ESTABLISHED",
      timeout: 431999,
      flags: ["[ASSURED]"],
      original: { src: "192.168.42.3", dst: "10.42.0.2", sport: 5000, dport: 80 },
      reply: { src: "10.42.0.2", dst: "10.42.0.1", sport: 80, dport: 64105 },
    });
    expect(b).toMatchObject({
      proto: "udp",
      state: "",
      timeout: 29,
      flags: ["[UNREPLIED]"],
      reply: { dst: "10.42.0.1", dport: 42977 },
    });
    expect(c).toMatchObject({ state: "CLOSE", original: { dport: 8080 }, reply: { src: "192.168.42.2", sport: 80 } });
    expect(parseConntrack("")).toEqual([]);
  });
});

describe("udpSocketDrops", () => {
  it("finds a socket bound to 127.0.0.1 (the default) and to a given address", async () => {
    const { createSocket } = await import("node:dgram");
    const { udpSocketDrops } = await import("../../helpers/os/procnet");
    const bind = (address: string) =>
      new Promise<import("node:dgram").Socket>((resolve) => {
        const s = createSocket("udp4");
        s.bind(0, address, () => resolve(s));
      });
    const [loop, any] = [await bind("127.0.0.1"), await bind("0.0.0.0")];
    try {
      expect(udpSocketDrops(loop.address().port)).toBe(0);
      expect(udpSocketDrops(any.address().port, "0.0.0.0")).toBe(0);
      expect(() => udpSocketDrops(any.address().port)).toThrow(/no socket on 127.0.0.1/);
    } finally {
      loop.close();
      any.close();
    }
  });
});
