// helpers/wire/protobuf.ts: the encoding guide's worked examples (protobuf.dev/programming-guides/
// encoding) as golden bytes, zigzag's table, and protobufjs, an independent implementation,
// reading our bytes and writing bytes that we read.
import * as protobufjs from "protobufjs";
import { describe, expect, it } from "vitest";
import * as pb from "../../helpers/wire/protobuf";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("varints", () => {
  it("writes the guide's examples", () => {
    expect(hex(pb.varint.encode(1))).toBe("01");
    expect(hex(pb.varint.encode(150))).toBe("9601");
    expect(hex(pb.varint.encode(300))).toBe("ac02");
    expect(hex(pb.varint.encode(2n ** 64n - 1n))).toBe("ffffffffffffffffff01");
  });
  it("reads them back, also non-minimal encodings, and says how many bytes it read", () => {
    expect(pb.varint.decode(Buffer.from("ac02", "hex"))).toBe(300n);
    expect(pb.varint.decode(Buffer.from("8100", "hex"))).toBe(1n);
    expect(pb.varint.decode.bytes).toBe(2);
  });
  it("refuses what is not a varint", () => {
    expect(() => pb.varint.decode(Buffer.from("96", "hex"))).toThrow(pb.ProtobufError);
    expect(() => pb.varint.decode(Buffer.from("ffffffffffffffffff02", "hex"))).toThrow(/above 2\^64/);
    expect(() => pb.varint.decode(Buffer.alloc(11, 0xff))).toThrow(/longer than 10/);
    expect(() => pb.varint.encode(-1)).toThrow(RangeError);
    expect(() => pb.varint.encode(2n ** 64n)).toThrow(RangeError);
  });
});

describe("zigzag", () => {
  it("is the guide's table", () => {
    const pairs: [number, bigint][] = [
      [0, 0n],
      [-1, 1n],
      [1, 2n],
      [-2, 3n],
      [0x7fffffff, 0xfffffffen],
      [-0x80000000, 0xffffffffn],
    ];
    for (const [n, z] of pairs) {
      expect(pb.zigzag(n)).toBe(z);
      expect(pb.unzigzag(z)).toBe(BigInt(n));
    }
  });
  it("and two's complement writes -1 in ten bytes", () => {
    expect(pb.varint.encode(pb.twosComplement(-1)).length).toBe(10);
    expect(pb.signed64(pb.twosComplement(-40))).toBe(-40n);
  });
});

describe("messages", () => {
  it('writes the guide\'s examples: 150 in field 1, "testing" in field 2, packed 3, 270, 86942 in field 4', () => {
    expect(hex(pb.message.encode([{ field: 1, wire: "varint", value: 150 }]))).toBe("089601");
    expect(hex(pb.message.encode([{ field: 2, wire: "len", value: Buffer.from("testing") }]))).toBe(
      "120774657374696e67",
    );
    const packed = pb.packedVarints.encode([3, 270, 86942]);
    expect(hex(pb.message.encode([{ field: 4, wire: "len", value: packed }]))).toBe("2206038e029ea705");
  });

  const root = protobufjs.parse(
    `syntax = "proto3"; message M { uint32 a = 1; sint64 b = 2; fixed64 c = 3; float d = 4; bytes e = 5;
     repeated int32 f = 6; sfixed32 g = 7; }`,
  ).root;
  const M = root.lookupType("M");
  it("agrees with protobufjs both ways", () => {
    const ours = pb.message.encode([
      { field: 1, wire: "varint", value: 2 ** 32 - 1 },
      { field: 2, wire: "varint", value: pb.zigzag(-123456789012n) },
      { field: 3, wire: "i64", value: 2n ** 64n - 2n },
      { field: 4, wire: "i32", value: pb.floatBits(1.5) },
      { field: 5, wire: "len", value: Buffer.from([0, 1, 2]) },
      { field: 6, wire: "len", value: pb.packedVarints.encode([1, pb.twosComplement(-1)]) },
      { field: 7, wire: "i32", value: 0xffffffff },
    ]);
    const obj = M.toObject(M.decode(ours), { longs: String, bytes: Array });
    expect(obj).toEqual({
      a: 4294967295,
      b: "-123456789012",
      c: "18446744073709551614",
      d: 1.5,
      e: [0, 1, 2],
      f: [1, -1],
      g: -1,
    });
    const theirs = Buffer.from(M.encode(M.fromObject(obj)).finish());
    expect(hex(theirs)).toBe(hex(ours));
    const fields = pb.message.decode(theirs);
    expect(fields.map((f) => f.field)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pb.bitsFloat(Number(fields[3].value))).toBe(1.5);
  });
  it("keeps fields it has no schema for, and the bytes read back the same", () => {
    const b = Buffer.from("089601ea0603616263", "hex"); // field 1 = 150, field 109 = "abc"
    const f = pb.message.decode(b);
    expect(f[1]).toEqual({ field: 109, wire: "len", value: Buffer.from("abc") });
    expect(pb.message.encode(f).equals(b)).toBe(true);
  });
  it("names each fault", () => {
    const code = (h: string) => {
      try {
        pb.message.decode(Buffer.from(h, "hex"));
        return "decoded";
      } catch (e) {
        return e instanceof pb.ProtobufError ? `${e.code}@${e.offset}` : String(e);
      }
    };
    expect(code("0896")).toBe("ERR_PROTOBUF_TRUNCATED@1");
    expect(code("3210726f")).toBe("ERR_PROTOBUF_TRUNCATED@1");
    expect(code("0f01")).toBe("ERR_PROTOBUF_BAD_WIRE_TYPE@0");
    expect(code("0b0c")).toBe("ERR_PROTOBUF_GROUP@0");
    expect(code("0001")).toBe("ERR_PROTOBUF_BAD_FIELD@0");
    expect(code("2d0102")).toBe("ERR_PROTOBUF_TRUNCATED@1");
    expect(code("80808080800100")).toBe("ERR_PROTOBUF_BAD_FIELD@0");
  });
  it("checks what it is asked to write", () => {
    expect(() => pb.message.encode([{ field: 0, wire: "varint", value: 1 }])).toThrow(RangeError);
    expect(() => pb.message.encode([{ field: 1, wire: "i32", value: 2 ** 32 }])).toThrow(RangeError);
    expect(() => pb.tag(pb.MAX_FIELD + 1, "len")).toThrow(RangeError);
  });
});
