// helpers/net/mqtt.ts: mosquitto started with its own config on a free port, a raw connection that
// sends our packets and reads the broker's back (a QoS 2 delivery to itself, a 3-byte remaining
// length split over many TCP chunks), a malformed packet closing the connection, waiting for the
// broker's log, and mosquitto_sub replaced when started again with the same client id.
import { afterAll, describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { mosquittoSub, rawMqtt, startMosquitto } from "../../helpers/net/mqtt";

describe.skipIf(!hasProgram("mosquitto") || !hasProgram("mosquitto_sub"))("mosquitto and a raw client", async () => {
  const broker = await startMosquitto();
  afterAll(() => broker.close());
  const connected = async (id: string) => {
    const c = await rawMqtt(broker.host, broker.port);
    c.send({ type: "connect", clientId: id, cleanSession: true, keepAlive: 60 });
    expect(await c.next()).toMatchObject({ kind: "packet", packet: { type: "connack", returnCode: 0 } });
    return c;
  };

  it("delivers a QoS 2 message and a 2 MiB one through the broker", async () => {
    const c = await connected("t1");
    c.send({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "t/#", qos: 2 }] });
    expect((await c.next()).kind).toBe("packet");
    c.send({
      type: "publish",
      topic: "t/a",
      payload: Buffer.from("x"),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 3,
    });
    expect(await c.next()).toMatchObject({ packet: { type: "pubrec", packetId: 3 } });
    c.send({ type: "pubrel", packetId: 3 });
    const big = Buffer.alloc(2_097_152, 1);
    c.send({ type: "publish", topic: "t/end", payload: big, qos: 0, retain: false, dup: false });
    const got = await c.publishesUntil("t/end");
    expect(got.map((p) => p.topic)).toEqual(["t/a"]);
    await c.close();
    expect(await broker.logged(/^Sending PUBCOMP to t1/)).toHaveLength(1);
  });
  it("reports the broker closing after a malformed packet", async () => {
    const c = await connected("t2");
    c.send(Buffer.from("36050001610001", "hex")); // QoS 3
    expect(await c.next()).toEqual({ kind: "closed", how: "end" });
    expect(c.closed()).toBe(true);
  });
  it("waits for the log lines asked for, from a line on, and says when they do not come", async () => {
    const from = broker.log().length;
    const c = await connected("t4");
    c.send({ type: "disconnect" }); // the broker logs it after it has acted on it
    expect(await broker.logged(/^Client t\d disconnected\.$/, { from })).toEqual(["Client t4 disconnected."]);
    await c.close();
    const two = await broker.logged(/^New client connected .* as t[14] /, { count: 2 });
    expect(two.map((l) => l.split(" as ")[1].split(" ")[0])).toEqual(["t1", "t4"]);
    await expect(broker.logged(/^Client t4 disconnected/, { count: 2, timeoutMs: 200 })).rejects.toThrow(
      "mosquitto logged 1 of 2 lines matching /^Client t4 disconnected/ in 200 ms",
    );
  });
  it("runs mosquitto_sub, and replaces one started again with the same id", async () => {
    const a = await mosquittoSub(broker, "t-sub", ["s/#"]);
    const b = await mosquittoSub(broker, "t-sub", ["s/#"]);
    const p = await connected("t3");
    p.send({ type: "publish", topic: "s/x", payload: Buffer.from("hi"), qos: 0, retain: false, dup: false });
    expect(await b.until("s/x hi")).toBe(true);
    expect(a.lines()).toEqual([]);
    await Promise.all([a.close(), b.close(), p.close()]);
  });
});
