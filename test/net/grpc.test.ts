// helpers/net/grpc.ts: the Greeter on loopback answers all four kinds of call through the helper's
// clients, which report status codes, details and both sets of metadata as plain data, a deadline
// included; and the bytes protobufjs serializes for it are the ones our codec writes.
import { afterAll, describe, expect, it } from "vitest";
import * as grpc from "../../helpers/net/grpc";
import * as pb from "../../helpers/wire/protobuf";

describe("the Greeter on @grpc/grpc-js", async () => {
  const server = await grpc.greeterServer();
  const client = grpc.grpcClient(grpc.greeter(), "127.0.0.1", server.port);
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it("answers a unary call with metadata both ways", async () => {
    const r = await client.unary("SayHello", { name: "Ada" }, { metadata: { "x-trace": "t" } });
    expect(r).toMatchObject({ code: 0, status: "OK", replies: [{ message: "hello, Ada", count: 1 }] });
    expect(r.headers["x-trace"]).toBe("t");
    expect(r.trailers["x-greeted"]).toBe("Ada");
  });
  it("streams both ways", async () => {
    expect((await client.serverStream("SayHellos", { name: "A", times: 3 })).replies).toHaveLength(3);
    const counted = await client.clientStream("CountNames", [{ name: "a" }, { name: "b" }]);
    expect(counted.replies).toEqual([{ message: "a, b", count: 2 }]);
    const chat = await client.bidi("Chat", [{ name: "a" }, { name: "b" }, { name: "c" }], { lockstep: true });
    expect(chat.replies.map((m) => m.count)).toEqual([1, 2, 3]);
  });
  it("reports failures as results", async () => {
    expect((await client.unary("SayHello", { name: "" })).status).toBe("INVALID_ARGUMENT");
    expect((await client.serverStream("SayHellos", { name: "A", times: 101 })).status).toBe("OUT_OF_RANGE");
    const late = await client.unary("SayHello", { name: "A", delay_ms: 2000 }, { deadlineMs: 50 });
    expect(late.status).toBe("DEADLINE_EXCEEDED");
    expect(() => client.unary("Nope", {})).toThrow(RangeError);
  });
  it("greeterHello makes one call and closes its client", async () => {
    expect((await grpc.greeterHello("127.0.0.1", server.port, "Grace")).replies[0]).toEqual({
      message: "hello, Grace",
      count: 1,
    });
  });
  it("serializes with protobufjs the bytes our codec writes", () => {
    const d = grpc.greeter().definition.SayHello;
    const bytes = d.requestSerialize({ name: "Ada", times: 2 });
    expect(
      bytes.equals(
        pb.message.encode([
          { field: 1, wire: "len", value: Buffer.from("Ada") },
          { field: 2, wire: "varint", value: 2 },
        ]),
      ),
    ).toBe(true);
  });
});
