// helpers/wire/websocket.ts against RFC 6455's own examples: the frames of §5.7 and the
// handshake of §1.3 (the key "dGhlIHNhbXBsZSBub25jZQ==").
import { describe, expect, it } from "vitest";
import { acceptFor, frame, WebSocketError } from "../../helpers/wire/websocket";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const key = hex("37fa213d");

describe("websocket frames, RFC 6455 §5.7", () => {
  it("writes and reads the RFC's examples", () => {
    const hello = Buffer.from("Hello");
    const cases: [Parameters<typeof frame.encode>[0], string][] = [
      [{ opcode: 1, payload: hello }, "8105 48656c6c6f"],
      [{ opcode: 1, payload: hello, mask: key }, "8185 37fa213d 7f9f4d5158"],
      [{ opcode: 1, fin: false, payload: Buffer.from("Hel") }, "0103 48656c"],
      [{ opcode: 0, payload: Buffer.from("lo") }, "8002 6c6f"],
      [{ opcode: 9, payload: hello }, "8905 48656c6c6f"],
      [{ opcode: 10, payload: hello, mask: key }, "8a85 37fa213d 7f9f4d5158"],
    ];
    for (const [f, bytes] of cases) {
      expect(frame.encode(f).toString("hex")).toBe(hex(bytes).toString("hex"));
      expect(frame.decode(hex(bytes)).payload).toEqual(f.payload);
    }
    expect(
      frame
        .encode({ opcode: 2, payload: Buffer.alloc(256) })
        .subarray(0, 4)
        .toString("hex"),
    ).toBe("827e0100");
    expect(
      frame
        .encode({ opcode: 2, payload: Buffer.alloc(65536) })
        .subarray(0, 10)
        .toString("hex"),
    ).toBe("827f0000000000010000");
  });
  it("computes §1.3's Sec-WebSocket-Accept", () => {
    expect(acceptFor("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
  it("refuses what the RFC says to fail the connection over, with 1002", () => {
    const code = (b: string) => {
      try {
        frame.decode(hex(b));
        return "decoded";
      } catch (e) {
        return e instanceof WebSocketError ? `${e.code} ${e.closeCode}` : String(e);
      }
    };
    expect(code("8300")).toBe("ERR_WS_BAD_OPCODE 1002");
    expect(code("c100")).toBe("ERR_WS_RESERVED_BITS 1002");
    expect(code("097e0080" + "00".repeat(128))).toBe("ERR_WS_BAD_CONTROL 1002");
    expect(code("0900")).toBe("ERR_WS_BAD_CONTROL 1002");
    expect(code("827f8000000000000000")).toBe("ERR_WS_BAD_LENGTH 1002");
    expect(code("8105 4865")).toBe("ERR_WS_TRUNCATED 1002");
  });
});
