// helpers/wire/grpc.ts: gRPC's Length-Prefixed-Message (doc/PROTOCOL-HTTP2.md) as golden bytes,
// messages split back out of a stream's DATA, and each fault named.
import { describe, expect, it } from "vitest";
import { GrpcFrameError, grpcMessage, grpcMessages } from "../../helpers/wire/grpc";

describe("grpc messages", () => {
  it("prefixes a message with the flag and a 4-byte big-endian length", () => {
    const m = Buffer.from("0a03416461", "hex"); // HelloRequest { name: "Ada" }
    expect(grpcMessage.encode({ compressed: false, message: m }).toString("hex")).toBe("00000000050a03416461");
    expect(grpcMessage.encode({ compressed: true, message: Buffer.alloc(0) }).toString("hex")).toBe("0100000000");
  });
  it("splits a DATA payload back into messages", () => {
    const payload = Buffer.from("00000000020801" + "0000000000" + "000000000108", "hex");
    expect(grpcMessages(payload).map((m) => m.message.toString("hex"))).toEqual(["0801", "", "08"]);
  });
  it("names each fault", () => {
    const fault = (h: string) => {
      try {
        grpcMessages(Buffer.from(h, "hex"));
        return "decoded";
      } catch (e) {
        return e instanceof GrpcFrameError ? `${e.code}@${e.offset}` : String(e);
      }
    };
    expect(fault("00000000")).toBe("ERR_GRPC_TRUNCATED@0");
    expect(fault("000000000508")).toBe("ERR_GRPC_TRUNCATED@1");
    expect(fault("0200000000")).toBe("ERR_GRPC_BAD_FLAG@0");
    expect(fault("0000000001080000")).toBe("ERR_GRPC_TRUNCATED@6");
  });
});
