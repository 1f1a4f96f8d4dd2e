// Fuzzing the `tcpdump -d` listing of helpers/wire/bpf.ts, the one text format among the codecs:
// generated programs of every instruction libpcap prints read back from their listing as the same
// instructions; damaged listings read back or fail with a BpfListingError (a CodecError whose
// offset is where the line starts), quickly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BpfListingError, disassemble, OP, parseListing, type BpfInsn } from "../../helpers/wire/bpf";
import { check, corrupted, decodesOrFails, RUNS, same, u32 } from "./fuzz";

const k = fc.oneof(fc.integer({ min: 0, max: 255 }), u32);
const stmt = (code: number, kArb: fc.Arbitrary<number> = fc.constant(0)) =>
  kArb.map((kv): BpfInsn => ({ code, jt: 0, jf: 0, k: kv }));
const sizes = [OP.W, OP.H, OP.B];
const aluOps = [OP.ADD, OP.SUB, OP.MUL, OP.DIV, OP.OR, OP.AND, OP.LSH, OP.RSH, OP.MOD, OP.XOR];
const jumps = [OP.JEQ, OP.JGT, OP.JGE, OP.JSET];
const instruction: fc.Arbitrary<BpfInsn> = fc.oneof(
  fc.constantFrom(...sizes).chain((s) => stmt(OP.LD | s | OP.ABS, k)),
  fc.constantFrom(...sizes).chain((s) => stmt(OP.LD | s | OP.IND, k)),
  stmt(OP.LD | OP.W | OP.LEN),
  stmt(OP.LD | OP.IMM, k),
  stmt(OP.LD | OP.MEM, fc.integer({ min: 0, max: 15 })),
  stmt(OP.LDX | OP.W | OP.LEN),
  stmt(OP.LDX | OP.B | OP.MSH, k),
  stmt(OP.LDX | OP.IMM, k),
  stmt(OP.LDX | OP.MEM, fc.integer({ min: 0, max: 15 })),
  stmt(OP.ST, fc.integer({ min: 0, max: 15 })),
  stmt(OP.STX, fc.integer({ min: 0, max: 15 })),
  fc.constantFrom(...aluOps).chain((op) => stmt(OP.ALU | op | OP.K, k)),
  fc.constantFrom(...aluOps).chain((op) => stmt(OP.ALU | op | OP.X)),
  stmt(OP.ALU | OP.NEG),
  stmt(OP.JMP | OP.JA, fc.integer({ min: 0, max: 1000 })),
  fc
    .record({
      op: fc.constantFrom(...jumps),
      x: fc.boolean(),
      jt: fc.integer({ min: 0, max: 255 }),
      jf: fc.integer({ min: 0, max: 255 }),
      k,
    })
    .map(({ op, x, jt, jf, k: kv }) => ({ code: OP.JMP | op | (x ? OP.X : OP.K), jt, jf, k: x ? 0 : kv })),
  stmt(OP.RET | OP.K, k),
  stmt(OP.RET | OP.A),
  stmt(OP.MISC | OP.TAX),
  stmt(OP.MISC | OP.TXA),
);
const program = fc.array(instruction, { minLength: 1, maxLength: 12 });

describe("the BPF listing, fuzzed", () => {
  it(`reads back ${RUNS} generated programs from their listing`, () => {
    const cases = check(program, (prog) => {
      const listing = disassemble(prog);
      same(parseListing(listing), prog, listing);
      same(parseListing(`Capturing on 'eth0'\n${listing}\n`), prog, "with dumpcap's other lines"); // skipped
    });
    expect(cases).toBe(RUNS);
  });
  it(`reads ${RUNS} damaged listings or fails with a BpfListingError`, () => {
    const valid = program.map((p) => Buffer.from(disassemble(p), "latin1"));
    const cases = check(corrupted(valid, 200), (b) =>
      decodesOrFails((buf) => parseListing(buf.toString("latin1")), BpfListingError, b, undefined, [0]),
    );
    expect(cases).toBe(RUNS);
  });
});
