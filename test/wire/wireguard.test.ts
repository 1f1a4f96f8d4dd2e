// helpers/wire/wireguard.ts: the sizes and field offsets of the whitepaper's §5.4 (initiation 148
// bytes, response 92, cookie reply 64, transport 16 + packet + 16), little-endian indices, and one
// WireGuardError per fault. Notebook 65 decodes wireguard-go's own messages and compares with tshark.
import { describe, expect, it } from "vitest";
import { wireguard, WireGuardError, type WireGuardMessage } from "../../helpers/wire/wireguard";

const fill = (n: number, b: number) => Buffer.alloc(n, b);

describe("wireguard messages", () => {
  it("initiation: 148 bytes, sender at 4, ephemeral at 8, macs at the end", () => {
    const m: WireGuardMessage = {
      type: "initiation",
      sender: 0x11223344,
      ephemeral: fill(32, 1),
      encryptedStatic: fill(48, 2),
      encryptedTimestamp: fill(28, 3),
      mac1: fill(16, 4),
      mac2: fill(16, 5),
    };
    const b = wireguard.encode(m);
    expect(b.length).toBe(148);
    expect(b.subarray(0, 8).toString("hex")).toBe("0100000044332211");
    expect([b[8], b[40], b[88], b[116], b[132]]).toEqual([1, 2, 3, 4, 5]);
    expect(wireguard.decode(b)).toEqual(m);
  });
  it("response: 92 bytes; cookie reply: 64; transport: header + sealed packet", () => {
    const r = wireguard.encode({
      type: "response",
      sender: 1,
      receiver: 2,
      ephemeral: fill(32, 1),
      encryptedNothing: fill(16, 2),
      mac1: fill(16, 3),
      mac2: fill(16, 4),
    });
    expect([r.length, r[0], r.readUInt32LE(4), r.readUInt32LE(8)]).toEqual([92, 2, 1, 2]);
    const c = wireguard.encode({ type: "cookie-reply", receiver: 7, nonce: fill(24, 1), encryptedCookie: fill(32, 2) });
    expect(c.length).toBe(64);
    const t = wireguard.encode({ type: "transport", receiver: 9, counter: 258n, encrypted: fill(16, 0) });
    expect(t.subarray(0, 16).toString("hex")).toBe("04000000" + "09000000" + "0201000000000000");
  });
  it("faults", () => {
    const codeOf = (b: Buffer) => {
      try {
        wireguard.decode(b);
        return "decoded";
      } catch (e) {
        expect(e).toBeInstanceOf(WireGuardError);
        return (e as WireGuardError).code;
      }
    };
    expect(codeOf(Buffer.from([1, 0]))).toBe("ERR_WG_TRUNCATED");
    expect(codeOf(Buffer.from([5, 0, 0, 0]))).toBe("ERR_WG_BAD_TYPE");
    expect(codeOf(Buffer.from([4, 0, 1, 0]))).toBe("ERR_WG_BAD_RESERVED");
    expect(codeOf(Buffer.concat([Buffer.from([1, 0, 0, 0]), fill(100, 0)]))).toBe("ERR_WG_BAD_LENGTH");
    expect(codeOf(Buffer.concat([Buffer.from([4, 0, 0, 0]), fill(20, 0)]))).toBe("ERR_WG_TRUNCATED");
  });
});
