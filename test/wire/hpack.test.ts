// helpers/wire/hpack.ts against RFC 7541's own examples: the integers of C.1, the single fields
// of C.2, the requests of C.3 (raw) and C.4 (Huffman), the responses of C.5 and C.6 with a
// 256-byte table that evicts; each decoded to the RFC's header list and table size, and encoded
// back to the RFC's bytes. The blocks of C.3 to C.6 are in fixtures/hpack-rfc7541-appendix-c.json,
// which notebook 35 reads too.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HpackDecoder,
  HpackEncoder,
  HpackError,
  huffmanDecode,
  huffmanEncode,
  representation,
  STATIC_TABLE,
  type HeaderField,
} from "../../helpers/wire/hpack";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const h = (...pairs: [string, string][]): HeaderField[] => pairs.map(([name, value]) => ({ name, value }));

interface Vectors {
  sequences: {
    section: string;
    tableSize: number;
    huffman: boolean;
    blocks: { hex: string; headers: [string, string][]; size: number }[];
  }[];
}
const vectors: Vectors = JSON.parse(
  readFileSync(join(__dirname, "../../fixtures/hpack-rfc7541-appendix-c.json"), "utf8"),
);
const bySection = (section: string) => {
  const s = vectors.sequences.find((v) => v.section === section);
  if (!s) throw new Error(`no ${section} in the fixture`);
  return s;
};
function sequence(section: string) {
  const { blocks: all, tableSize: table, huffman } = bySection(section);
  const blocks = all.map((b) => b.hex);
  const lists = all.map((b) => h(...b.headers));
  const sizes = all.map((b) => b.size);
  const d = new HpackDecoder(table);
  const e = new HpackEncoder({ huffman: huffman ? "always" : "never", maxTableSize: table });
  blocks.forEach((b, i) => {
    expect(d.decode(hex(b)), `block ${i + 1} decoded`).toEqual(lists[i]);
    expect(d.table.size, `table size after block ${i + 1}`).toBe(sizes[i]);
    expect(e.encode(lists[i]).toString("hex"), `block ${i + 1} encoded`).toBe(hex(b).toString("hex"));
    expect(e.table.entries).toEqual(d.table.entries);
  });
}

describe("hpack, RFC 7541 Appendix C", () => {
  it("has the 61 entries of the static table (Appendix A)", () => {
    expect(STATIC_TABLE.length - 1).toBe(61);
    expect(STATIC_TABLE[16]).toEqual(["accept-encoding", "gzip, deflate"]);
    expect(STATIC_TABLE[33]).toEqual(["date", ""]);
    expect(STATIC_TABLE[61]).toEqual(["www-authenticate", ""]);
  });
  it("C.1: integers with 5- and 8-bit prefixes", () => {
    expect(representation.encode({ kind: "size-update", size: 10 }).toString("hex")).toBe("2a");
    expect(representation.encode({ kind: "size-update", size: 1337 }).toString("hex")).toBe("3f9a0a");
    expect(representation.decode(hex("3f9a0a"))).toEqual({ kind: "size-update", size: 1337 });
  });
  it("C.2: one field of each kind", () => {
    const d = new HpackDecoder();
    expect(d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))).toEqual(
      h(["custom-key", "custom-header"]),
    );
    expect(d.table.size).toBe(55);
    expect(d.decode(hex("040c 2f73 616d 706c 652f 7061 7468"))).toEqual(h([":path", "/sample/path"]));
    expect(d.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))).toEqual([
      { name: "password", value: "secret", sensitive: true },
    ]);
    expect(d.decode(hex("82"))).toEqual(h([":method", "GET"]));
    expect(d.table.size).toBe(55); // only the first was indexed
    const e = new HpackEncoder({ huffman: "never", index: false });
    expect(e.encode(h([":path", "/sample/path"])).toString("hex")).toBe("040c2f73616d706c652f70617468");
    expect(e.encode([{ name: "password", value: "secret", sensitive: true }]).toString("hex")).toBe(
      "100870617373776f726406736563726574",
    );
  });
  it("C.3: requests without Huffman", () => sequence("C.3"));
  it("C.4: requests with Huffman", () => sequence("C.4"));
  it("C.5: responses without Huffman, a 256-byte table that evicts", () => sequence("C.5"));
  it("C.6: responses with Huffman", () => sequence("C.6"));
  it("Huffman: every byte value round-trips; bad codes and padding are HpackErrors", () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    expect(huffmanEncode(Buffer.from("www.example.com")).toString("hex")).toBe("f1e3c2e5f23a6ba0ab90f4ff");
    const codes = (b: string) => {
      try {
        huffmanDecode(hex(b));
        return "decoded";
      } catch (e) {
        expect(e).toBeInstanceOf(HpackError);
        return (e as HpackError).code;
      }
    };
    expect(codes("ffffffff")).toBe("ERR_HPACK_BAD_HUFFMAN"); // EOS
    expect(codes("f1e3c2e5f23a6ba0ab90f4ff ff")).toBe("ERR_HPACK_BAD_HUFFMAN"); // 8 bits of padding
    expect(codes("00")).toBe("ERR_HPACK_BAD_HUFFMAN"); // '0' then 3 zero bits of padding
  });
  it("rejects an index past the tables and a late or oversized table size update", () => {
    const errs = (b: string, limit = 4096) => {
      try {
        new HpackDecoder(limit).decode(hex(b));
        return "decoded";
      } catch (e) {
        return e instanceof HpackError ? e.code : String(e);
      }
    };
    expect(errs("80")).toBe("ERR_HPACK_BAD_INDEX");
    expect(errs("be")).toBe("ERR_HPACK_BAD_INDEX"); // 62, and the dynamic table is empty
    expect(errs("8220")).toBe("ERR_HPACK_BAD_TABLE_SIZE");
    expect(errs("3fe21f", 4096)).toBe("ERR_HPACK_BAD_TABLE_SIZE"); // 4096 + 1
    expect(errs("ffffffffff0f")).toBe("ERR_HPACK_INTEGER_OVERFLOW");
    expect(errs("400a6375")).toBe("ERR_HPACK_TRUNCATED");
  });
});
