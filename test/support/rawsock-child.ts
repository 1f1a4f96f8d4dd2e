// Runs inside a network namespace the test made (unshare --net, or ip netns exec): raw-socket
// experiments whose judge is the kernel. Prints one JSON object, scenario name → result.
// Usage: rawsock-child.ts <scenario>... [--peer ADDR] [--iface NAME] [--pcap FILE]
import { execFileSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { dissect, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";
import { PcapWriter, LINKTYPE } from "../../helpers/os/pcap-file";
import { bpf } from "../../helpers/wire/bpf";
import { SyscallError } from "../../helpers/os/libc";
import { IPPROTO, openCapture, openRaw } from "../../helpers/os/rawsock";

const argv = process.argv.slice(2);
const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const scenarios = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fdOpen = (fd: number) => existsSync(`/proc/self/fd/${fd}`);

const run: Record<string, () => Promise<unknown>> = {
  /** A hand-built echo request on an ICMP raw socket; the kernel's reply, decoded. */
  async echo() {
    execFileSync("ip", ["link", "set", "lo", "up"]);
    const s = openRaw({ protocol: IPPROTO.ICMP });
    try {
      const id = process.pid & 0xffff;
      s.send(icmp.encode({ kind: "echo-request", id, seq: 7, data: Buffer.from("wirebook") }), "127.0.0.1");
      const seen: string[] = [];
      for (;;) {
        const got = await s.recv(2000);
        if (!got) return { seen, reply: null };
        const { ip, icmp: m } = dissect(got.data);
        seen.push(m!.kind); // our own request comes back in too: lo delivers it to every ICMP raw socket
        if (m?.kind === "echo-reply" && m.id === id)
          return {
            seen,
            from: got.from,
            ipChecksumOk: ip!.checksumOk,
            icmpChecksumOk: m.checksumOk,
            id: m.id === id,
            seq: m.seq,
            data: m.data.toString(),
            ttl: ip!.ttl,
            src: ip!.src,
            dst: ip!.dst,
          };
      }
    } finally {
      await s.close();
    }
  },

  /** A whole IPv4 + UDP datagram built by hand on an IP_HDRINCL socket, received by dgram. A
   *  copy with a wrong UDP checksum goes first: the kernel must drop it. */
  async hdrincl() {
    execFileSync("ip", ["link", "set", "lo", "up"]);
    const rx = createSocket("udp4");
    await new Promise<void>((r) => rx.bind(0, "127.0.0.1", r));
    const port = rx.address().port;
    const got: { text: string; address: string; port: number }[] = [];
    rx.on("message", (msg, rinfo) => got.push({ text: msg.toString(), address: rinfo.address, port: rinfo.port }));
    const s = openRaw({ protocol: IPPROTO.UDP, hdrincl: true });
    try {
      const build = (text: string) => {
        const ends = { src: "127.0.0.1", dst: "127.0.0.1" };
        return ipv4.encode({
          ...ends,
          protocol: PROTO.UDP,
          id: 4242,
          ttl: 5,
          payload: udp.encode({ srcPort: 4242, dstPort: port, payload: Buffer.from(text), ...ends }),
        });
      };
      const bad = build("bad checksum");
      bad[bad.length - 1] ^= 0xff; // payload changed after the checksum was computed
      s.send(bad, "127.0.0.1");
      s.send(build("hand-built"), "127.0.0.1");
      for (let i = 0; i < 40 && got.length === 0; i++) await sleep(25);
      await sleep(100); // room for a wrongly accepted second datagram to show up
      return got;
    } finally {
      await s.close();
      rx.close();
    }
  },

  /** bpf.udpPort on lo: of datagrams to two ports, only the filtered port's are captured. */
  async udpFilter() {
    execFileSync("ip", ["link", "set", "lo", "up"]);
    const cap = openCapture({ iface: "lo", filter: bpf.udpPort(5300), ignoreOutgoing: true });
    const tx = createSocket("udp4");
    try {
      for (const port of [5300, 5301, 5300, 5301]) await new Promise((r) => tx.send("x", port, "127.0.0.1", r));
      const ports: number[] = [];
      for (let f = await cap.next(500); f; f = await cap.next(300))
        ports.push(dissect(f.data, "ethernet").udp!.dstPort);
      return ports;
    } finally {
      tx.close();
      await cap.close();
    }
  },

  /** close with a recv in flight: the recv ends with null, the fd is closed, nothing hangs;
   *  and the event loop keeps turning while a read waits. */
  async close() {
    execFileSync("ip", ["link", "set", "lo", "up"]);
    const s = openRaw({ protocol: IPPROTO.ICMP });
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const empty = await s.recv(300);
    clearInterval(interval);
    const pending = s.recv(10_000);
    await sleep(50);
    const fdBefore = fdOpen(s.fd);
    await s.close();
    const result = await pending;
    await s.close(); // idempotent
    let sendAfterClose = "";
    try {
      s.send(Buffer.alloc(8), "127.0.0.1");
    } catch (e) {
      sendAfterClose = (e as SyscallError).code;
    }
    return { empty, ticks, fdBefore, fdAfter: fdOpen(s.fd), result, sendAfterClose };
  },

  /** Errors: an interface that does not exist, and (run without CAP_NET_RAW) no permission. */
  async errors() {
    const attempt = (f: () => unknown) => {
      try {
        const r = f() as { close(): Promise<void> };
        void r.close();
        return { ok: true };
      } catch (e) {
        return {
          error: e instanceof SyscallError ? "SyscallError" : String(e),
          code: (e as SyscallError).code,
          message: (e as Error).message,
        };
      }
    };
    return {
      noSuchIface: attempt(() => openCapture({ iface: "wbnope0" })),
      raw: attempt(() => openRaw({ protocol: IPPROTO.ICMP })),
      capture: attempt(() => openCapture({ iface: "lo" })),
    };
  },

  /** On a veth link to another namespace: one capture with the icmp filter, one without. Pings
   *  and UDP to a closed port (its answer is ICMP port unreachable) cross the link with ARP. */
  async veth() {
    const iface = option("--iface")!;
    const peer = option("--peer")!;
    const before = Date.now();
    const icmpOnly = openCapture({ iface, filter: bpf.icmp() });
    const everything = openCapture({ iface });
    const s = openRaw({ protocol: IPPROTO.ICMP });
    const tx = createSocket("udp4");
    try {
      for (let seq = 1; seq <= 3; seq++)
        s.send(icmp.encode({ kind: "echo-request", id: 99, seq, data: Buffer.from("over veth") }), peer);
      await new Promise((r) => tx.send("to a closed port", 9, peer, r));
      await sleep(300);
      const drain = async (c: typeof icmpOnly) => {
        const frames: { data: Buffer; time: number }[] = [];
        for (let f = await c.next(300); f; f = await c.next(200)) frames.push(f);
        return frames;
      };
      const filtered = await drain(icmpOnly);
      const all = await drain(everything);
      const after = Date.now();
      const pcap = option("--pcap");
      if (pcap) {
        const w = new PcapWriter(pcap, { linktype: LINKTYPE.ETHERNET });
        for (const f of filtered) w.write(f.data, f.time);
        w.close();
      }
      const describe = (f: { data: Buffer }) => {
        const l = dissect(f.data, "ethernet");
        if (l.icmp) {
          const m = l.icmp;
          const quoting =
            m.kind === "destination-unreachable"
              ? ` ${m.code} quoting udp ${m.quote.ip.src}->${m.quote.first8.readUInt16BE(2)}`
              : "";
          return `icmp ${m.kind}${quoting} ${m.checksumOk && l.ip?.checksumOk ? "ok" : "BAD"}`;
        }
        if (l.udp) return "udp";
        return `ethertype 0x${l.ethernet!.ethertype.toString(16).padStart(4, "0")}`;
      };
      return {
        filtered: filtered.map(describe),
        all: all.map(describe),
        timesInRange: [...filtered, ...all].every((f) => f.time >= before - 1 && f.time <= after + 1),
      };
    } finally {
      tx.close();
      await Promise.all([s.close(), icmpOnly.close(), everything.close()]);
    }
  },
};

(async () => {
  const out: Record<string, unknown> = {};
  for (const name of scenarios) {
    try {
      out[name] = await run[name]();
    } catch (e) {
      out[name] = { thrown: (e as Error).stack ?? String(e) };
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
