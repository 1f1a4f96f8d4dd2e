// helpers/os/rawsock.ts with the kernel as the judge: inside network namespaces this test makes
// (and always deletes), a hand-built echo request is answered, a hand-built IP_HDRINCL UDP
// datagram reaches a dgram socket, and AF_PACKET captures with our BPF filters see only what the
// filter admits. The filters themselves are compared with libpcap's compiler (dumpcap -d).
// Nothing leaves the machine: lo and a veth pair between two of our namespaces only.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assemble, bpf, disassemble, insn } from "../../helpers/wire/bpf";
import { SyscallError } from "../../helpers/os/libc";
import { openCapture } from "../../helpers/os/rawsock";
import { run } from "../support/process";

const isRoot = process.getuid?.() === 0;
const child = join(__dirname, "..", "support", "rawsock-child.ts");
const tsx = require.resolve("tsx/cjs");

/** Runs rawsock-child.ts with `prefix` (the namespace wrapper) and returns its JSON. */
async function inNamespace(prefix: string[], args: string[]): Promise<any> {
  const [cmd, ...rest] = prefix;
  const r = await run(cmd, [...rest, process.execPath, "--require", tsx, child, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe("BPF assembler (no privileges needed)", () => {
  it("resolves labels to relative forward jumps and rejects what the kernel would", () => {
    const prog = assemble([
      insn.ldb(23),
      insn.jeq(1, "yes", "no"),
      insn.label("yes"),
      insn.ret(1),
      insn.label("no"),
      insn.ret(0),
    ]);
    expect(prog).toEqual([
      { code: 0x30, jt: 0, jf: 0, k: 23 },
      { code: 0x15, jt: 0, jf: 1, k: 1 },
      { code: 0x06, jt: 0, jf: 0, k: 1 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ]);
    expect(() => assemble([insn.ldb(23)])).toThrow(/last instruction is not ret/);
    expect(() => assemble([insn.jeq(1, "nowhere", 0), insn.ret(0)])).toThrow(/not defined/);
    expect(() => assemble([insn.label("back"), insn.ret(0), insn.jeq(1, "back", 0), insn.ret(0)])).toThrow(/jt -2/);
  });

  it("checks a filter of raw instructions as the kernel will, with one RangeError before any socket opens", () => {
    const ret0 = { code: 0x06, jt: 0, jf: 0, k: 0 };
    const capture = (filter: Array<typeof ret0>) => () => openCapture({ iface: "lo", filter });
    expect(capture([{ code: 0x05, jt: 0, jf: 0, k: 5 }, ret0])).toThrow(
      new RangeError("BPF instruction 0: ja to 6, past the last instruction (1)"),
    );
    expect(capture([{ code: 0xff, jt: 0, jf: 0, k: 0 }, ret0])).toThrow(
      /BPF instruction 0: opcode 0xff is not a classic BPF instruction/,
    );
    expect(capture([{ ...ret0, k: -1 }])).toThrow(/BPF instruction 0: k -1 is not in 0..4294967295/);
    expect(capture([])).toThrow(/1 to 4096 instructions/);
    expect(disassemble([{ code: 0x05, jt: 0, jf: 0, k: 1 }, ret0, ret0])).toBe(
      "(000) ja       2\n(001) ret      #0\n(002) ret      #0",
    );
  });
});

describe.skipIf(!isRoot)(
  "raw sockets in namespaces of our own (skipped unless root: needs CAP_NET_RAW and CAP_SYS_ADMIN)",
  () => {
    it.each([
      ["icmp", () => bpf.icmp()],
      ["ip proto 17", () => bpf.ipProto(17)],
      ["ip and udp port 53", () => bpf.udpPort(53)],
      ["ip and udp port 5300", () => bpf.udpPort(5300)],
    ])("bpf for %j is what libpcap compiles (dumpcap -d on lo in a fresh namespace)", async (expr, make) => {
      const r = await run("unshare", [
        "--net",
        "sh",
        "-c",
        `ip link set lo up && exec dumpcap -i lo -f "$1" -d`,
        "sh",
        expr,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const compiled = r.stdout
        .split("\n")
        .filter((l) => /^\(\d{3}\)/.test(l))
        .join("\n");
      expect(disassemble(make())).toBe(compiled);
    });

    it("an ICMP echo built by hand is answered by the kernel, and the reply decodes with good checksums", async () => {
      const { echo } = await inNamespace(["unshare", "--net"], ["echo"]);
      expect(echo).toEqual({
        seen: ["echo-request", "echo-reply"],
        from: "127.0.0.1",
        ipChecksumOk: true,
        icmpChecksumOk: true,
        id: true,
        seq: 7,
        data: "wirebook",
        ttl: 64,
        src: "127.0.0.1",
        dst: "127.0.0.1",
      });
    });

    it("a UDP datagram built by hand reaches a dgram socket via IP_HDRINCL; a bad checksum is dropped", async () => {
      const { hdrincl } = await inNamespace(["unshare", "--net"], ["hdrincl"]);
      expect(hdrincl).toEqual([{ text: "hand-built", address: "127.0.0.1", port: 4242 }]);
    });

    it("bpf.udpPort on a packet socket admits only that port; close ends a pending recv, frees the fd", async () => {
      const { udpFilter, close } = await inNamespace(["unshare", "--net"], ["udpFilter", "close"]);
      expect(udpFilter).toEqual([5300, 5300]);
      expect(close).toMatchObject({
        empty: null,
        fdBefore: true,
        fdAfter: false,
        result: null,
        sendAfterClose: "ERR_SOCKET_CLOSED",
      });
      expect(close.ticks).toBeGreaterThan(3); // timers ran while a read(2) waited on the threadpool
    });

    it("errors: ENODEV for an unknown interface; EPERM, naming CAP_NET_RAW, without the capability", async () => {
      expect(() => openCapture({ iface: "wbnope0" })).toThrow(
        expect.objectContaining({ code: "ENODEV", name: "SyscallError" }),
      );
      expect(() => openCapture({ iface: "wbnope0" })).toThrow(SyscallError);
      // root without CAP_NET_RAW: setpriv drops it from the bounding set before exec.
      const { errors } = await inNamespace(
        ["unshare", "--net", "setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw"],
        ["errors"],
      );
      expect(errors.noSuchIface).toMatchObject({ error: "SyscallError", code: "ENODEV" });
      for (const e of [errors.raw, errors.capture])
        expect(e).toMatchObject({
          error: "SyscallError",
          code: "EPERM",
          message: expect.stringContaining("CAP_NET_RAW"),
        });
    });

    describe("over a veth pair between two namespaces", () => {
      const a = `wbtest-${process.pid}-a`;
      const b = `wbtest-${process.pid}-b`;
      let dir = "";
      const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

      /** Deleting a namespace deletes its end of the veth, and with it the pair. */
      const cleanUp = () => {
        for (const ns of [a, b]) {
          try {
            ip("netns", "del", ns);
          } catch {
            /* not created */
          }
        }
        if (dir) rmSync(dir, { recursive: true, force: true });
      };
      beforeAll(() => {
        try {
          dir = mkdtempSync(join(tmpdir(), "wirebook-rawsock-"));
          ip("netns", "add", a);
          ip("netns", "add", b);
          ip("-n", a, "link", "add", "wbva", "type", "veth", "peer", "name", "wbvb", "netns", b);
          ip("-n", a, "addr", "add", "10.199.0.1/24", "dev", "wbva");
          ip("-n", b, "addr", "add", "10.199.0.2/24", "dev", "wbvb");
          for (const [ns, dev] of [
            [a, "wbva"],
            [b, "wbvb"],
            [a, "lo"],
            [b, "lo"],
          ])
            ip("-n", ns, "link", "set", dev, "up");
        } catch (e) {
          cleanUp(); // a half-built lab is removed before the error is reported
          throw e;
        }
      });
      afterAll(cleanUp);

      it("an icmp-filtered capture sees only ICMP (echo, reply, unreachable); unfiltered, ARP and UDP", async () => {
        const pcap = join(dir, "icmp.pcap");
        const { veth } = await inNamespace(
          ["ip", "netns", "exec", a],
          ["veth", "--iface", "wbva", "--peer", "10.199.0.2", "--pcap", pcap],
        );
        expect(veth.filtered.length).toBeGreaterThan(0);
        expect(veth.filtered.every((d: string) => d.startsWith("icmp ") && d.endsWith(" ok"))).toBe(true);
        expect(veth.filtered.filter((d: string) => d.startsWith("icmp echo-request"))).toHaveLength(3);
        expect(veth.filtered.filter((d: string) => d.startsWith("icmp echo-reply"))).toHaveLength(3);
        expect(veth.filtered).toContain("icmp destination-unreachable 3 quoting udp 10.199.0.1->9 ok");
        expect(veth.all).toEqual(expect.arrayContaining(["ethertype 0x0806", "udp", ...veth.filtered]));
        expect(veth.timesInRange).toBe(true);
        // Wireshark agrees: every captured frame is ICMP and none is malformed.
        const r = await run("tshark", ["-r", pcap, "-T", "fields", "-e", "_ws.col.Protocol"]);
        expect(r.code, r.stderr).toBe(0);
        expect(new Set(r.stdout.trim().split("\n"))).toEqual(new Set(["ICMP"]));
        expect((await run("tshark", ["-r", pcap, "-Y", "_ws.malformed"])).stdout).toBe("");
      });
    });
  },
);
