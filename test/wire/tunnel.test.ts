// helpers/wire/tunnel.ts: the 16-byte header laid out as WireGuard's transport message (type 1
// here, little-endian receiver and counter), and one TunnelError per fault.
import { describe, expect, it } from "vitest";
import { tunnelDatagram, TunnelError, OVERHEAD } from "../../helpers/wire/tunnel";

describe("tunnel datagram", () => {
  it("golden bytes", () => {
    const sealed = Buffer.alloc(20, 0xab);
    const b = tunnelDatagram.encode({ type: "data", receiver: 0x01020304, counter: 0x0a0b0c0d0e0f1011n, sealed });
    expect(b.subarray(0, 16).toString("hex")).toBe("01000000" + "04030201" + "11100f0e0d0c0b0a");
    expect(b.length).toBe(36);
    expect(tunnelDatagram.decode(b)).toEqual({
      type: "data",
      receiver: 0x01020304,
      counter: 0x0a0b0c0d0e0f1011n,
      sealed,
    });
    expect(OVERHEAD).toBe(32);
  });
  it("faults", () => {
    const good = tunnelDatagram.encode({ type: "data", receiver: 1, counter: 0n, sealed: Buffer.alloc(16) });
    const codeOf = (b: Buffer) => {
      try {
        tunnelDatagram.decode(b);
        return "decoded";
      } catch (e) {
        expect(e).toBeInstanceOf(TunnelError);
        return (e as TunnelError).code;
      }
    };
    expect(codeOf(good.subarray(0, 31))).toBe("ERR_TUNNEL_TRUNCATED");
    expect(codeOf(Buffer.concat([Buffer.from([4]), good.subarray(1)]))).toBe("ERR_TUNNEL_BAD_TYPE");
    expect(codeOf(Buffer.concat([Buffer.from([1, 0, 1]), good.subarray(3)]))).toBe("ERR_TUNNEL_BAD_RESERVED");
    expect(() => tunnelDatagram.encode({ type: "data", receiver: 1, counter: -1n, sealed: Buffer.alloc(16) })).toThrow(
      RangeError,
    );
  });
});
