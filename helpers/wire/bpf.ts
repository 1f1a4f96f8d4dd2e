// Classic BPF, the language of socket filters, in plain TypeScript: instructions (struct
// sock_filter), an assembler with labels and ready-made filters that match what libpcap compiles,
// the kernel's load-time checks (what makes SO_ATTACH_FILTER answer EINVAL), an interpreter that
// runs a program over a frame the way the Linux kernel does, and the `tcpdump -d` / `dumpcap -d`
// listing both ways. Pure functions: no sockets, runs anywhere; os/rawsock.ts attaches programs.
// A listing that cannot be read raises BpfListingError, a CodecError (helpers/wire/codec.ts).
import { CodecError } from "./codec";

/** Every opcode part of <linux/filter.h>. */
export const OP = {
  // classes
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  // load sizes and modes
  W: 0x00, H: 0x08, B: 0x10,
  IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, LEN: 0x80, MSH: 0xa0,
  // ALU operations
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50,
  LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  // jumps
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  // operand source, return source, misc
  K: 0x00, X: 0x08, A: 0x10, TAX: 0x00, TXA: 0x80,
} as const; // prettier-ignore

/** Scratch memory: 16 words, M[0]..M[15]. */
export const MEMWORDS = 16;
/** The longest program the kernel takes (BPF_MAXINSNS). */
export const MAXINSNS = 4096;

const cls = (code: number) => code & 0x07;
const stmt = (code: number, k = 0): BpfInsn => ({ code, jt: 0, jf: 0, k: k >>> 0 });

const ALU_OPS = {
  add: OP.ADD,
  sub: OP.SUB,
  mul: OP.MUL,
  div: OP.DIV,
  or: OP.OR,
  and: OP.AND,
  lsh: OP.LSH,
  rsh: OP.RSH,
  mod: OP.MOD,
  xor: OP.XOR,
} as const;
type AluName = keyof typeof ALU_OPS;

// ---- instructions and the assembler ------------------------------------------------------------

/** One classic BPF instruction (struct sock_filter): jt/jf are relative forward jumps. */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** What libpcap's programs return to accept a packet: its default snaplen. */
export const ACCEPT = 262144;

/** A jump target: a relative offset, or the name of a `label` further on. */
type Target = number | string;
type Line = BpfInsn | { label: string } | { code: number; k: number; jt: Target; jf: Target };

const jumpTo = (code: number, k: number, jt: Target, jf: Target): Line => ({ code, k, jt, jf });

/** Instructions by their tcpdump -d names; the conditional jumps take labels for `assemble`. */
export const insn = {
  ldh: (k: number) => stmt(OP.LD | OP.H | OP.ABS, k), // A = u16 at k
  ldb: (k: number) => stmt(OP.LD | OP.B | OP.ABS, k), // A = u8 at k
  ld: (k: number) => stmt(OP.LD | OP.W | OP.ABS, k), // A = u32 at k
  ldhInd: (k: number) => stmt(OP.LD | OP.H | OP.IND, k), // A = u16 at X + k
  ldbInd: (k: number) => stmt(OP.LD | OP.B | OP.IND, k),
  ldxbMsh: (k: number) => stmt(OP.LDX | OP.B | OP.MSH, k), // X = 4 * (byte at k & 0xf): an IHL
  jeq: (k: number, jt: Target, jf: Target) => jumpTo(OP.JMP | OP.JEQ | OP.K, k, jt, jf),
  jgt: (k: number, jt: Target, jf: Target) => jumpTo(OP.JMP | OP.JGT | OP.K, k, jt, jf),
  jset: (k: number, jt: Target, jf: Target) => jumpTo(OP.JMP | OP.JSET | OP.K, k, jt, jf),
  ret: (k: number) => stmt(OP.RET | OP.K, k),
  label: (label: string) => ({ label }),
  // the rest of the instruction set (jumps with numeric offsets only)
  ldImm: (k: number) => stmt(OP.LD | OP.IMM, k), // A = k
  ldLen: () => stmt(OP.LD | OP.W | OP.LEN), // A = frame length
  ldMem: (k: number) => stmt(OP.LD | OP.MEM, k), // A = M[k]
  ldxImm: (k: number) => stmt(OP.LDX | OP.IMM, k),
  ldxMem: (k: number) => stmt(OP.LDX | OP.MEM, k),
  st: (k: number) => stmt(OP.ST, k), // M[k] = A
  stx: (k: number) => stmt(OP.STX, k), // M[k] = X
  alu: (op: AluName, k: number) => stmt(OP.ALU | ALU_OPS[op] | OP.K, k), // A = A op k
  aluX: (op: AluName) => stmt(OP.ALU | ALU_OPS[op] | OP.X), // A = A op X
  and: (k: number) => stmt(OP.ALU | OP.AND | OP.K, k),
  neg: () => stmt(OP.ALU | OP.NEG),
  tax: () => stmt(OP.MISC | OP.TAX),
  txa: () => stmt(OP.MISC | OP.TXA),
  ja: (k: number) => stmt(OP.JMP | OP.JA, k),
  retA: () => stmt(OP.RET | OP.A),
};

/** Resolves labels to the relative offsets the kernel wants. Jumps go forward only (classic
 *  BPF has no loops), at most 255 instructions. */
export function assemble(lines: Line[]): BpfInsn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const l of lines) {
    if ("label" in l) {
      if (at.has(l.label)) throw new RangeError(`BPF label ${l.label} defined twice`);
      at.set(l.label, pc);
    } else pc++;
  }
  const out: BpfInsn[] = [];
  for (const l of lines) {
    if ("label" in l) continue;
    const pcHere = out.length;
    const rel = (t: Target) => {
      if (typeof t === "number") return t;
      const target = at.get(t);
      if (target === undefined) throw new RangeError(`BPF label ${t} is not defined`);
      return target - pcHere - 1;
    };
    out.push({ code: l.code, k: l.k >>> 0, jt: rel(l.jt), jf: rel(l.jf) });
  }
  checkFilter(out);
  return out;
}

/** Field ranges first (a BpfInsn is plain numbers), then the kernel's own load-time checks, so a
 *  bad filter is one RangeError here rather than EINVAL from setsockopt. */
export function checkFilter(prog: BpfInsn[]): void {
  prog.forEach((p, i) => {
    for (const [f, max] of [
      ["code", 0xffff],
      ["jt", 255],
      ["jf", 255],
      ["k", 0xffffffff],
    ] as const) {
      if (!Number.isInteger(p[f]) || p[f] < 0 || p[f] > max)
        throw new RangeError(`BPF instruction ${i}: ${f} ${p[f]} is not in 0..${max}`);
    }
  });
  const problem = checkBpf(prog);
  if (problem) throw new RangeError(`BPF instruction ${problem.pc}: ${problem.reason}`);
}

/** Ready-made filters for Ethernet frames (and lo), each what libpcap compiles the expression
 *  in its comment to. */
export const bpf = {
  /** "ip proto <p>" */
  ipProto: (p: number) =>
    assemble([
      insn.ldh(12), insn.jeq(0x0800, 0, "drop"), // ethertype IPv4?
      insn.ldb(23), insn.jeq(p, 0, "drop"), // IP protocol (14 + 9)
      insn.ret(ACCEPT),
      insn.label("drop"), insn.ret(0),
    ]), // prettier-ignore
  /** "icmp" */
  icmp: () => bpf.ipProto(1),
  /** "ip and udp port <n>": either port, unfragmented or first fragment (later ones have no ports). */
  udpPort: (n: number) =>
    assemble([
      insn.ldh(12), insn.jeq(0x0800, 0, "drop"),
      insn.ldb(23), insn.jeq(17, 0, "drop"),
      insn.ldh(20), insn.jset(0x1fff, "drop", 0), // fragment offset not 0: no UDP header here
      insn.ldxbMsh(14), // X = IP header length
      insn.ldhInd(14), insn.jeq(n, "accept", 0), // source port
      insn.ldhInd(16), insn.jeq(n, "accept", "drop"), // destination port
      insn.label("accept"), insn.ret(ACCEPT),
      insn.label("drop"), insn.ret(0),
    ]), // prettier-ignore
};

// ---- opcode tables ----------------------------------------------------------------------------

const ALU_BY_CODE = new Map<number, string>(Object.entries(ALU_OPS).map(([n, c]) => [c, n]));
const JUMP_NAMES = new Map<number, string>([
  [OP.JEQ, "jeq"],
  [OP.JGT, "jgt"],
  [OP.JGE, "jge"],
  [OP.JSET, "jset"],
]);
// libpcap prints bit operations' constants in hex, arithmetic ones in decimal.
const HEX_ALU = new Set<number>([OP.AND, OP.OR, OP.XOR]);

/** The instructions the kernel accepts (net/core/filter.c, chk_code_allowed), by code. */
const ALLOWED = new Set<number>([
  ...[...ALU_BY_CODE.keys()].flatMap((op) => [OP.ALU | op | OP.K, OP.ALU | op | OP.X]),
  OP.ALU | OP.NEG,
  ...[OP.W, OP.H, OP.B].flatMap((size) => [OP.LD | size | OP.ABS, OP.LD | size | OP.IND]),
  OP.LD | OP.W | OP.LEN, OP.LD | OP.IMM, OP.LD | OP.MEM,
  OP.LDX | OP.W | OP.LEN, OP.LDX | OP.B | OP.MSH, OP.LDX | OP.IMM, OP.LDX | OP.MEM,
  OP.ST, OP.STX, OP.MISC | OP.TAX, OP.MISC | OP.TXA, OP.RET | OP.K, OP.RET | OP.A,
  OP.JMP | OP.JA,
  ...[...JUMP_NAMES.keys()].flatMap((j) => [OP.JMP | j | OP.K, OP.JMP | j | OP.X]),
]); // prettier-ignore

// ---- the kernel's checks at attach time ----------------------------------------------------------

export interface CheckProblem {
  /** The instruction at fault (the program's length for problems of the whole program). */
  pc: number;
  reason: string;
}

/** What the kernel's classic BPF checker (bpf_check_classic) would refuse with EINVAL, or null
 *  for a program it accepts: an unknown opcode, a jump past the end, a constant divisor of 0, a
 *  shift by 32 or more, scratch memory outside M[0..15] or read before any path wrote it, and a
 *  last instruction that is not `ret`. (Classic BPF has no backward jumps at all: offsets are
 *  unsigned, so every program ends.) */
export function checkBpf(prog: BpfInsn[]): CheckProblem | null {
  const n = prog.length;
  if (n === 0 || n > MAXINSNS) return { pc: n, reason: `a program has 1 to ${MAXINSNS} instructions, this one ${n}` };
  for (let pc = 0; pc < n; pc++) {
    const { code, jt, jf, k } = prog[pc];
    if (!ALLOWED.has(code)) return { pc, reason: `opcode 0x${code.toString(16)} is not a classic BPF instruction` };
    if ((code === (OP.ALU | OP.DIV | OP.K) || code === (OP.ALU | OP.MOD | OP.K)) && k === 0)
      return { pc, reason: "divides by the constant 0" };
    if ((code === (OP.ALU | OP.LSH | OP.K) || code === (OP.ALU | OP.RSH | OP.K)) && k >= 32)
      return { pc, reason: `shifts by ${k}, 32 or more` };
    if ([OP.LD | OP.MEM, OP.LDX | OP.MEM, OP.ST, OP.STX].includes(code as any) && k >= MEMWORDS)
      return { pc, reason: `M[${k}] is outside the ${MEMWORDS} scratch words` };
    if (code === (OP.JMP | OP.JA) && k >= n - pc - 1)
      return { pc, reason: `ja to ${pc + 1 + k}, past the last instruction (${n - 1})` };
    if (cls(code) === OP.JMP && code !== (OP.JMP | OP.JA) && (pc + 1 + jt >= n || pc + 1 + jf >= n)) {
      return { pc, reason: `jumps to ${pc + 1 + Math.max(jt, jf)}, past the last instruction (${n - 1})` };
    }
  }
  if (cls(prog[n - 1].code) !== OP.RET)
    return { pc: n - 1, reason: "the last instruction is not ret: the program could run off its end" };
  // Scratch memory must be written on every path before it is read (check_load_and_stores).
  const masks = new Array<number>(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    valid &= masks[pc];
    const { code, jt, jf, k } = prog[pc];
    if (code === OP.ST || code === OP.STX) valid |= 1 << k;
    else if (code === (OP.LD | OP.MEM) || code === (OP.LDX | OP.MEM)) {
      if (!(valid & (1 << k))) return { pc, reason: `reads M[${k}] before every path to it has written it` };
    } else if (code === (OP.JMP | OP.JA)) {
      masks[pc + 1 + k] &= valid;
      valid = 0xffff;
    } else if (cls(code) === OP.JMP) {
      masks[pc + 1 + jt] &= valid;
      masks[pc + 1 + jf] &= valid;
      valid = 0xffff;
    }
  }
  return null;
}

// ---- the interpreter -----------------------------------------------------------------------------

export class BpfVmError extends Error {
  readonly code = "ERR_BPF_PROGRAM";
  constructor(
    readonly pc: number,
    message: string,
  ) {
    super(`BPF instruction ${pc}: ${message}`);
    this.name = "BpfVmError";
  }
}

export interface Step {
  pc: number;
  /** The instruction as `tcpdump -d` prints it. */
  text: string;
  /** The registers after it ran. */
  A: number;
  X: number;
}

export interface Verdict {
  /** What `ret` returned: 0 drops the frame, anything else is a snap length. */
  ret: number;
  /** How many bytes of the frame a capture socket gets: min(ret, frame length); 0 = dropped. */
  keep: number;
  /** Set when the program ended early: a load past the frame's end, or a division by X = 0. The
   *  kernel then returns 0, as here. */
  aborted?: string;
  /** With `trace`: each instruction executed, in order. */
  steps?: Step[];
}

/** Runs `prog` over `frame` (Ethernet header first, as an AF_PACKET socket's filter sees it) as
 *  the Linux kernel does: 32-bit unsigned registers A and X and 16 scratch words, all starting at
 *  0; loads are big-endian (network order); a load past the end of the frame ends the program
 *  with 0 (drop). The program must pass `checkBpf` first, like the kernel's. Offsets of 2^31 and
 *  more (the kernel's ancillary SKF_AD_* loads) are not modelled and throw. */
export function runBpf(prog: BpfInsn[], frame: Buffer, opts: { trace?: boolean } = {}): Verdict {
  const problem = checkBpf(prog);
  if (problem) throw new BpfVmError(problem.pc, `the kernel would refuse this program: ${problem.reason}`);
  const mem = new Uint32Array(MEMWORDS);
  let A = 0;
  let X = 0;
  const steps: Step[] | undefined = opts.trace ? [] : undefined;
  const end = (ret: number, aborted?: string): Verdict => ({
    ret,
    keep: Math.min(ret, frame.length),
    ...(aborted ? { aborted } : {}),
    ...(steps ? { steps } : {}),
  });
  // A load of `size` bytes at `offset`, or undefined when it does not fit in the frame.
  const load = (pc: number, offset: number, size: number): number | undefined => {
    if (offset >= 0x80000000)
      throw new BpfVmError(
        pc,
        `offset ${offset - 0x100000000} (negative: the kernel's ancillary data) is not modelled`,
      );
    if (offset + size > frame.length) return undefined;
    return size === 4 ? frame.readUInt32BE(offset) : size === 2 ? frame.readUInt16BE(offset) : frame[offset];
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, jt, jf, k } = prog[pc];
    const sizeOf = (c: number) => ((c & 0x18) === OP.W ? 4 : (c & 0x18) === OP.H ? 2 : 1);
    let jump = 0;
    switch (cls(code)) {
      case OP.LD: {
        const mode = code & 0xe0;
        if (mode === OP.IMM) A = k;
        else if (mode === OP.LEN) A = frame.length;
        else if (mode === OP.MEM) A = mem[k];
        else {
          const at = mode === OP.ABS ? k : (X + k) >>> 0;
          const v = load(pc, at, sizeOf(code));
          if (v === undefined)
            return end(0, `instruction ${pc} reads ${sizeOf(code)} bytes at ${at}, past the frame's ${frame.length}`);
          A = v;
        }
        break;
      }
      case OP.LDX: {
        const mode = code & 0xe0;
        if (mode === OP.IMM) X = k;
        else if (mode === OP.LEN) X = frame.length;
        else if (mode === OP.MEM) X = mem[k];
        else {
          const v = load(pc, k, 1);
          if (v === undefined)
            return end(0, `instruction ${pc} reads 1 byte at ${k}, past the frame's ${frame.length}`);
          X = (v & 0x0f) * 4;
        }
        break;
      }
      case OP.ST:
        mem[k] = A;
        break;
      case OP.STX:
        mem[k] = X;
        break;
      case OP.ALU: {
        const op = code & 0xf0;
        const v = code & OP.X ? X : k;
        if ((op === OP.DIV || op === OP.MOD) && v === 0) return end(0, `instruction ${pc} divides by X = 0`);
        A = aluOp(op, A, v) >>> 0;
        break;
      }
      case OP.JMP: {
        const op = code & 0xf0;
        if (op === OP.JA) {
          jump = k;
          break;
        }
        const v = code & OP.X ? X : k;
        const yes = op === OP.JEQ ? A === v : op === OP.JGT ? A > v : op === OP.JGE ? A >= v : (A & v) !== 0;
        jump = yes ? jt : jf;
        break;
      }
      case OP.RET: {
        const ret = code & OP.A ? A : k;
        steps?.push({ pc, text: formatInsn(prog[pc], pc), A, X });
        return end(ret >>> 0);
      }
      case OP.MISC:
        if (code & OP.TXA) A = X;
        else X = A;
        break;
    }
    steps?.push({ pc, text: formatInsn(prog[pc], pc), A, X });
    pc += jump;
  }
  throw new BpfVmError(prog.length - 1, "ran off the end"); // unreachable after checkBpf
}

function aluOp(op: number, a: number, v: number): number {
  switch (op) {
    case OP.ADD: return a + v;
    case OP.SUB: return a - v;
    case OP.MUL: return Math.imul(a, v);
    case OP.DIV: return Math.floor(a / v);
    case OP.MOD: return a % v;
    case OP.OR: return a | v;
    case OP.AND: return a & v;
    case OP.XOR: return a ^ v;
    // The kernel runs classic BPF as eBPF's 32-bit shifts; a shift by X of 32 or more is
    // masked to its low 5 bits there (the x86 and arm64 JITs do the same).
    case OP.LSH: return a << (v & 31);
    case OP.RSH: return a >>> (v & 31);
    case OP.NEG: return -a;
    default: throw new RangeError(`ALU operation 0x${op.toString(16)}`);
  }
} // prettier-ignore

/** True when the kernel would queue `frame` on a socket with this filter. */
export const accepts = (prog: BpfInsn[], frame: Buffer): boolean => runBpf(prog, frame).keep > 0;

// ---- the tcpdump -d listing, both ways -----------------------------------------------------------

/** One instruction as libpcap's bpf_image prints it (absolute jump targets). */
export function formatInsn(p: BpfInsn, pc: number): string {
  const n = `(${String(pc).padStart(3, "0")})`;
  const line = (op: string, operand = "") => `${n} ${op.padEnd(8)} ${operand}`.trimEnd();
  const hex = (k: number) => `#0x${k.toString(16)}`;
  const size = ({ [OP.W]: "ld", [OP.H]: "ldh", [OP.B]: "ldb" } as Record<number, string>)[p.code & 0x18];
  switch (cls(p.code)) {
    case OP.LD:
      switch (p.code & 0xe0) {
        case OP.ABS: return line(size, `[${p.k}]`);
        case OP.IND: return line(size, `[x + ${p.k}]`);
        case OP.LEN: return line("ld", "#pktlen");
        case OP.MEM: return line("ld", `M[${p.k}]`);
        case OP.IMM: return line("ld", hex(p.k));
      }
      break;
    case OP.LDX:
      switch (p.code & 0xe0) {
        case OP.MSH: return line("ldxb", `4*([${p.k}]&0xf)`);
        case OP.LEN: return line("ldx", "#pktlen");
        case OP.MEM: return line("ldx", `M[${p.k}]`);
        case OP.IMM: return line("ldx", hex(p.k));
      }
      break;
    case OP.ST: return line("st", `M[${p.k}]`);
    case OP.STX: return line("stx", `M[${p.k}]`);
    case OP.ALU: {
      const op = p.code & 0xf0;
      if (op === OP.NEG) return line("neg");
      const name = ALU_BY_CODE.get(op);
      if (!name) break;
      return line(name, p.code & OP.X ? "x" : HEX_ALU.has(op) ? hex(p.k) : `#${p.k}`);
    }
    case OP.JMP: {
      const op = p.code & 0xf0;
      if (op === OP.JA) return line("ja", String(pc + 1 + p.k));
      const name = JUMP_NAMES.get(op);
      if (!name) break;
      const operand = (p.code & OP.X ? "x" : hex(p.k)).padEnd(16);
      return `${n} ${name.padEnd(8)} ${operand} jt ${pc + 1 + p.jt}\tjf ${pc + 1 + p.jf}`;
    }
    case OP.RET: return p.code & OP.A ? line("ret") : line("ret", `#${p.k}`);
    case OP.MISC: return line(p.code & OP.TXA ? "txa" : "tax");
  }
  return `${n} { 0x${p.code.toString(16)}, ${p.jt}, ${p.jf}, 0x${p.k.toString(16)} }`;
} // prettier-ignore

/** A whole program in the format of `tcpdump -d` and `dumpcap -d`. */
export const disassemble = (prog: BpfInsn[]): string => prog.map(formatInsn).join("\n");

/** A listing that cannot be read back: a CodecError whose offset is where the line starts in
 *  the text, and which also says the line (counted from 0). */
export class BpfListingError extends CodecError<"ERR_BPF_LISTING"> {
  constructor(
    readonly line: number,
    text: string,
    reason: string,
    offset: number,
  ) {
    super("ERR_BPF_LISTING", offset, reason, `BPF listing line ${line + 1} ${JSON.stringify(text)}: ${reason}`);
    this.name = "BpfListingError";
  }
}

/** Reads a `tcpdump -d` / `dumpcap -d` listing back into instructions: lines that do not start
 *  with `(NNN)` (dumpcap's other output) are skipped; the numbers must count up from 0. */
export function parseListing(text: string): BpfInsn[] {
  const out: BpfInsn[] = [];
  const lines = text.split("\n");
  let lineStart = 0;
  lines.forEach((raw, i) => {
    const offset = lineStart;
    lineStart += raw.length + 1;
    const m = /^\((\d{3,})\)\s+(\S+)\s*(.*?)\s*$/.exec(raw);
    if (!m) return;
    const [, num, op, rest] = m;
    const pc = out.length;
    const fail = (reason: string): never => {
      throw new BpfListingError(i, raw, reason, offset);
    };
    if (Number(num) !== pc) fail(`expected instruction ${pc}`);
    const num32 = (s: string) =>
      (/^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^-?\d+$/.test(s) ? Number(s) : fail(`not a number: ${s}`)) >>> 0;
    let m2: RegExpExecArray | null;
    const sizes: Record<string, number> = { ld: OP.W, ldh: OP.H, ldb: OP.B };
    if (op in sizes && (m2 = /^\[(-?\d+)\]$/.exec(rest)))
      return void out.push(stmt(OP.LD | sizes[op] | OP.ABS, num32(m2[1])));
    if (op in sizes && (m2 = /^\[x \+ (-?\d+)\]$/.exec(rest)))
      return void out.push(stmt(OP.LD | sizes[op] | OP.IND, num32(m2[1])));
    if ((op === "ld" || op === "ldx") && rest === "#pktlen")
      return void out.push(stmt((op === "ld" ? OP.LD : OP.LDX) | OP.W | OP.LEN));
    if ((op === "ld" || op === "ldx") && (m2 = /^M\[(\d+)\]$/.exec(rest)))
      return void out.push(stmt((op === "ld" ? OP.LD : OP.LDX) | OP.MEM, num32(m2[1])));
    if ((op === "ld" || op === "ldx") && (m2 = /^#(\S+)$/.exec(rest)))
      return void out.push(stmt((op === "ld" ? OP.LD : OP.LDX) | OP.IMM, num32(m2[1])));
    if (op === "ldxb" && (m2 = /^4\*\(\[(\d+)\]&0xf\)$/.exec(rest)))
      return void out.push(stmt(OP.LDX | OP.B | OP.MSH, num32(m2[1])));
    if ((op === "st" || op === "stx") && (m2 = /^M\[(\d+)\]$/.exec(rest)))
      return void out.push(stmt(op === "st" ? OP.ST : OP.STX, num32(m2[1])));
    if (op === "neg" && !rest) return void out.push(stmt(OP.ALU | OP.NEG));
    if (op in ALU_OPS) {
      const aluCode = OP.ALU | ALU_OPS[op as keyof typeof ALU_OPS];
      if (rest === "x") return void out.push(stmt(aluCode | OP.X));
      if ((m2 = /^#(\S+)$/.exec(rest))) return void out.push(stmt(aluCode | OP.K, num32(m2[1])));
    }
    if (op === "ja" && /^\d+$/.test(rest)) return void out.push(stmt(OP.JMP | OP.JA, Number(rest) - pc - 1));
    const jumpCode = [...JUMP_NAMES].find(([, name]) => name === op)?.[0];
    if (jumpCode !== undefined && (m2 = /^(x|#\S+)\s+jt (\d+)\s+jf (\d+)$/.exec(rest))) {
      const [, operand, jt, jf] = m2;
      const rel = (t: string) => (Number(t) > pc ? Number(t) - pc - 1 : fail(`jump target ${t} is not after ${pc}`));
      return void out.push({
        code: OP.JMP | jumpCode | (operand === "x" ? OP.X : OP.K),
        jt: rel(jt),
        jf: rel(jf),
        k: operand === "x" ? 0 : num32(operand.slice(1)),
      });
    }
    if (op === "ret")
      return void out.push(
        rest
          ? stmt(OP.RET | OP.K, (m2 = /^#(\S+)$/.exec(rest)) ? num32(m2[1]) : fail("ret takes #k or nothing (A)"))
          : stmt(OP.RET | OP.A),
      );
    if ((op === "tax" || op === "txa") && !rest) return void out.push(stmt(OP.MISC | (op === "txa" ? OP.TXA : OP.TAX)));
    fail(`unknown instruction ${op}`);
  });
  if (!out.length) throw new BpfListingError(0, text.slice(0, 40), "no instructions found", 0);
  return out;
}
