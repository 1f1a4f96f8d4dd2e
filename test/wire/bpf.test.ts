// helpers/wire/bpf: the interpreter, the checker and the listing are pure and tested everywhere;
// the interpreter's verdicts are then compared with the kernel's: the same hand-built frames go
// from one lab host to another, where capture sockets carrying each program receive them.
import { describe, expect, it } from "vitest";
import type * as raw from "../../helpers/net/raw";
import type * as capture from "../../helpers/os/capture";
import type * as rawsock from "../../helpers/os/rawsock";
import { labAccess, startLab } from "../../helpers/lab";
import { ethernet, icmp, ipv4, PROTO, udp } from "../../helpers/wire/packet";
import {
  ACCEPT,
  assemble,
  bpf,
  checkBpf,
  disassemble,
  insn,
  OP,
  parseListing,
  runBpf,
  type BpfInsn,
  type Step,
} from "../../helpers/wire/bpf";
import { helperFile, inHost } from "../support/in-host";

const A_MAC = "02:00:00:00:01:01";
const B_MAC = "02:00:00:00:01:02";
const A = "10.99.0.1";
const B = "10.99.0.2";

const frameOf = (ip: Parameters<typeof ipv4.encode>[0]) =>
  ethernet.encode({ dst: B_MAC, src: A_MAC, ethertype: 0x0800, payload: ipv4.encode(ip) });
const udpFrame = (dstPort: number, payload: string, extra: { options?: Buffer } = {}) =>
  frameOf({
    protocol: PROTO.UDP,
    src: A,
    dst: B,
    ...extra,
    payload: udp.encode({ srcPort: 4000, dstPort, payload: Buffer.from(payload), src: A, dst: B }),
  });
const tcpFrame = (dstPort: number, flags: number) => {
  const seg = Buffer.alloc(20);
  seg.writeUInt16BE(40000, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg[12] = 5 << 4;
  seg[13] = flags;
  seg.writeUInt16BE(1000, 14);
  return frameOf({ protocol: PROTO.TCP, src: A, dst: B, payload: seg });
};

/** The three filters notebook 67 writes by hand. */
const synTo80 = assemble([
  insn.ldh(12), insn.jeq(0x0800, 0, "drop"),
  insn.ldb(23), insn.jeq(6, 0, "drop"),
  insn.ldh(20), insn.jset(0x1fff, "drop", 0),
  insn.ldxbMsh(14),
  insn.ldbInd(27), insn.and(0x12), insn.jeq(0x02, 0, "drop"),
  insn.ldhInd(16), insn.jeq(80, 0, "drop"),
  insn.ret(ACCEPT), insn.label("drop"), insn.ret(0),
]); // prettier-ignore
const udpStartsW = assemble([
  insn.ldh(12), insn.jeq(0x0800, 0, "drop"),
  insn.ldb(23), insn.jeq(17, 0, "drop"),
  insn.ldh(20), insn.jset(0x1fff, "drop", 0),
  insn.ldxbMsh(14), insn.ldbInd(22), insn.jeq(0x57, 0, "drop"),
  insn.ret(ACCEPT), insn.label("drop"), insn.ret(0),
]); // prettier-ignore
/** Exercises what the three do not: the length, scratch memory, X arithmetic, ret A (keep the
 *  first 40 bytes of frames longer than 60, drop the rest). */
const lengthy: BpfInsn[] = [
  insn.ldLen(), insn.st(3), insn.ldxImm(60), insn.ldMem(3),
  { code: OP.JMP | OP.JGT | OP.X, jt: 0, jf: 3, k: 0 },
  insn.ldImm(80), insn.alu("div", 2), insn.retA(),
  insn.ret(0),
]; // prettier-ignore

const frames = {
  syn80: tcpFrame(80, 0x02),
  synAck80: tcpFrame(80, 0x12),
  syn81: tcpFrame(81, 0x02),
  udpW: udpFrame(5000, "Wx"),
  udpX: udpFrame(5000, "Xx"),
  // 4 bytes of IP options (four NOPs): the UDP header moves 4 bytes, only `ldxb` finds it.
  udpWOptions: udpFrame(5000, "Wx", { options: Buffer.from([1, 1, 1, 1]) }),
  // A later fragment whose 9th data byte is "W": no UDP header here, the fragment test drops it.
  fragment: frameOf({
    protocol: PROTO.UDP,
    src: A,
    dst: B,
    fragmentOffset: 8,
    payload: Buffer.from("0123456789abcdefW"),
  }),
  echo: frameOf({
    protocol: PROTO.ICMP,
    src: A,
    dst: B,
    payload: icmp.encode({ kind: "echo-request", id: 1, seq: 1, data: Buffer.from("hi") }),
  }),
  // Cut short: the IP header says UDP but the frame ends before the payload's first byte.
  truncated: udpFrame(5000, "W").subarray(0, 40),
  long: udpFrame(5000, "W" + "-".repeat(29)), // 72 bytes
  arp: ethernet.encode({ dst: "ff:ff:ff:ff:ff:ff", src: A_MAC, ethertype: 0x0806, payload: Buffer.alloc(28) }),
};

describe("the BPF interpreter", () => {
  it("gives the verdicts the programs are written for", () => {
    const verdicts = (prog: BpfInsn[]) =>
      Object.fromEntries(Object.entries(frames).map(([name, f]) => [name, runBpf(prog, f).keep > 0]));
    expect(verdicts(synTo80)).toEqual({
      syn80: true,
      synAck80: false,
      syn81: false,
      udpW: false,
      udpX: false,
      udpWOptions: false,
      fragment: false,
      echo: false,
      truncated: false,
      long: false,
      arp: false,
    });
    expect(verdicts(udpStartsW)).toEqual({
      syn80: false,
      synAck80: false,
      syn81: false,
      udpW: true,
      udpX: false,
      udpWOptions: true,
      fragment: false,
      echo: false,
      truncated: false,
      long: true,
      arp: false,
    });
    expect(verdicts(bpf.icmp()).echo).toBe(true);
    expect(runBpf(udpStartsW, frames.truncated).aborted).toMatch(/reads 1 bytes at 42, past the frame's 40/);
  });

  it("returns snap lengths: ret A, scratch memory, X comparisons and division", () => {
    expect(checkBpf(lengthy)).toBeNull();
    expect(runBpf(lengthy, frames.syn80)).toEqual({ ret: 0, keep: 0 }); // 54 bytes: not > 60
    expect(runBpf(lengthy, frames.long)).toEqual({ ret: 40, keep: 40 }); // 80 / 2
    expect(runBpf([insn.ldImm(1000), insn.retA()], frames.arp)).toEqual({ ret: 1000, keep: 42 });
  });

  it("traces each instruction with the registers after it", () => {
    const { steps } = runBpf(udpStartsW, frames.udpWOptions, { trace: true });
    const at = (pc: number) => steps!.find((s: Step) => s.pc === pc)!;
    expect(at(6)).toMatchObject({ text: "(006) ldxb     4*([14]&0xf)", X: 24 });
    expect(at(7)).toMatchObject({ A: 0x57 });
    expect(steps!.map((s) => s.pc)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("checks programs as the kernel does at attach time", () => {
    const ret0 = insn.ret(0);
    expect(checkBpf([])?.reason).toMatch(/1 to 4096/);
    expect(checkBpf([{ code: OP.JMP | OP.JEQ, jt: 5, jf: 0, k: 1 }, ret0])).toEqual({
      pc: 0,
      reason: "jumps to 6, past the last instruction (1)",
    });
    expect(checkBpf([insn.ja(1), ret0])?.reason).toMatch(/ja to 2/);
    expect(checkBpf([insn.alu("div", 0), ret0])?.reason).toBe("divides by the constant 0");
    expect(checkBpf([insn.alu("lsh", 32), ret0])?.reason).toMatch(/shifts by 32/);
    expect(checkBpf([insn.ldMem(16), ret0])?.reason).toMatch(/outside/);
    expect(checkBpf([insn.ldMem(2), ret0])?.reason).toMatch(/before every path/);
    // Written on one path only: still refused.
    expect(
      checkBpf([insn.ldb(0), { code: OP.JMP | OP.JEQ, jt: 0, jf: 1, k: 1 }, insn.st(2), insn.ldMem(2), ret0])?.pc,
    ).toBe(3);
    expect(checkBpf([{ code: 0xff, jt: 0, jf: 0, k: 0 }, ret0])?.reason).toMatch(/opcode 0xff/);
    expect(checkBpf([insn.ldb(0)])?.reason).toMatch(/not ret/);
    expect(() => runBpf([insn.ldMem(2), ret0], frames.arp)).toThrow(/kernel would refuse/);
  });

  it("prints libpcap's listing and reads it back", () => {
    const listing = disassemble(synTo80);
    expect(listing.split("\n")[8]).toBe("(008) and      #0x12");
    expect(listing.split("\n")[9]).toBe("(009) jeq      #0x2             jt 10\tjf 13");
    expect(parseListing(`Capturing on 'eth0'\n${listing}\n`)).toEqual(synTo80);
    const all = [
      ...lengthy,
      insn.tax(),
      insn.txa(),
      insn.neg(),
      insn.stx(1),
      insn.ldxMem(1),
      insn.aluX("xor"),
      insn.alu("or", 0xf0),
      { code: OP.JMP | OP.JSET | OP.X, jt: 0, jf: 0, k: 0 },
      insn.ld(2),
      insn.ldhInd(3),
      insn.ret(1),
    ];
    expect(parseListing(disassemble(all))).toEqual(all);
    expect(() => parseListing("(000) frob #1")).toThrow(/unknown instruction frob/);
    expect(() => parseListing("hello")).toThrow(/no instructions/);
  });
});

// ---- against the kernel -------------------------------------------------------------------------

const inCapture = inHost<typeof capture>(helperFile("os/capture"));
const inRaw = inHost<typeof raw>(helperFile("net/raw"));
const inRawsock = inHost<typeof rawsock>(helperFile("os/rawsock"));

const noLab = labAccess().mode === "none" ? (labAccess() as { reason: string }).reason : "";
describe.skipIf(!!noLab)(`the kernel agrees with the interpreter${noLab ? ` (skipped: ${noLab})` : ""}`, () => {
  it("delivers exactly the frames (and bytes) the interpreter keeps, and refuses what checkBpf refuses", async () => {
    const lab = await startLab({ hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet: "10.99.0.0/24" }] });
    try {
      const programs = { synTo80, udpStartsW, icmp: bpf.icmp(), udp5000: bpf.udpPort(5000), lengthy };
      const caps = await inCapture(lab.host("b"), "startCaptures", {
        iface: "eth0",
        filters: { all: null, ...programs },
      });
      const sent = Object.values(frames);
      expect(await inRaw(lab.host("a"), "sendFrames", "eth0", sent, 5)).toEqual({ sent: sent.length });
      // b answers some frames (an echo reply, ICMP port unreachable): its capture sockets see those
      // too, so the interpreter is run over everything that crossed b's eth0.
      const got = await caps.stop(300);
      const all = got.all;
      expect(sent.filter((f) => !all.some((g) => g.equals(f)))).toEqual([]);
      for (const [name, prog] of Object.entries(programs)) {
        const expected = all.map((f) => f.subarray(0, runBpf(prog, f).keep)).filter((f) => f.length);
        expect({ name, got: got[name] }).toEqual({ name, got: expected });
        expect(expected.length).toBeGreaterThan(0);
      }
      // The kernel's checker and ours agree on what to refuse.
      const bad = [
        [{ code: OP.JMP | OP.JEQ, jt: 5, jf: 0, k: 1 }, insn.ret(0)],
        [insn.alu("div", 0), insn.ret(0)],
        [insn.ldMem(2), insn.ret(0)],
        [insn.ldb(0)],
      ];
      for (const prog of bad) {
        expect(checkBpf(prog)).not.toBeNull();
        await expect(inRawsock(lab.host("b"), "attachFilter", prog)).rejects.toMatchObject({
          name: "SyscallError",
          code: "EINVAL",
        });
      }
      expect(await inRawsock(lab.host("b"), "attachFilter", lengthy)).toEqual({
        attached: true,
        instructions: lengthy.length,
      });
    } finally {
      await lab.close();
    }
  }, 60_000);
});
