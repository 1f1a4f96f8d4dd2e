// helpers/wire/mqtt.ts: the remaining length at every boundary of MQTT 3.1.1 §2.2.3's table, golden
// bytes of the common packets, mqtt-packet (the parser inside the `mqtt` client, an independent
// implementation) reading our bytes and writing bytes we read, faults named, and topic matching
// against the examples of §4.7.
import * as mqttPacket from "mqtt-packet";
import { describe, expect, it } from "vitest";
import * as mqtt from "../../helpers/wire/mqtt";

const hex = (b: Buffer) => b.toString("hex");
const theirParse = (b: Buffer): mqttPacket.Packet[] => {
  const out: mqttPacket.Packet[] = [];
  const errors: Error[] = [];
  const p = mqttPacket.parser({ protocolVersion: 4 });
  p.on("packet", (x: mqttPacket.Packet) => out.push(x));
  p.on("error", (e: Error) => errors.push(e));
  p.parse(b);
  if (errors.length) throw errors[0];
  return out;
};

describe("the remaining length", () => {
  it("is §2.2.3's table, boundary by boundary", () => {
    const table: [number, string][] = [
      [0, "00"],
      [127, "7f"],
      [128, "8001"],
      [16383, "ff7f"],
      [16384, "808001"],
      [2097151, "ffff7f"],
      [2097152, "80808001"],
      [268435455, "ffffff7f"],
    ];
    for (const [n, h] of table) {
      expect(hex(mqtt.remainingLength.encode(n))).toBe(h);
      expect(mqtt.remainingLength.decode(Buffer.from(h, "hex"))).toBe(n);
    }
    expect(() => mqtt.remainingLength.encode(268435456)).toThrow(RangeError);
    expect(() => mqtt.remainingLength.decode(Buffer.from("ffffffff01", "hex"))).toThrow(/longer than 4/);
  });
  it("agrees with mqtt-packet for PUBLISH packets across the boundaries", () => {
    for (const n of [3, 127, 128, 16383, 16384, 2097151, 2097152]) {
      const payload = Buffer.alloc(n - 3, 0x61); // the topic "a" takes 3 bytes
      const p = { type: "publish", topic: "a", payload, qos: 0, retain: false, dup: false } as const;
      const ours = mqtt.packet.encode(p);
      const theirs = mqttPacket.generate({ cmd: "publish", topic: "a", payload, qos: 0, retain: false, dup: false });
      expect(ours.equals(theirs)).toBe(true);
      expect(mqtt.remainingLength.decode(ours, 1)).toBe(n);
    }
  });
});

describe("packets", () => {
  it("writes the golden bytes of CONNECT, SUBSCRIBE, PUBLISH and the acknowledgements", () => {
    const connect = mqtt.packet.encode({ type: "connect", clientId: "a", cleanSession: true, keepAlive: 60 });
    expect(hex(connect)).toBe("100d00044d5154540402003c000161");
    expect(hex(mqtt.packet.encode({ type: "subscribe", packetId: 1, subscriptions: [{ topic: "a/+", qos: 1 }] }))).toBe(
      "82080001000361 2f2b01".replace(" ", ""),
    );
    const pub = {
      type: "publish",
      topic: "a/b",
      payload: Buffer.from("hi"),
      qos: 1,
      retain: true,
      dup: false,
      packetId: 7,
    } as const;
    expect(hex(mqtt.packet.encode(pub))).toBe("3309000361 2f620007 6869".replace(/ /g, ""));
    expect(hex(mqtt.packet.encode({ type: "pubrel", packetId: 7 }))).toBe("62020007");
    expect(hex(mqtt.packet.encode({ type: "pingreq" }))).toBe("c000");
  });
  const samples: mqtt.MqttPacket[] = [
    {
      type: "connect",
      clientId: "sensor-1",
      cleanSession: false,
      keepAlive: 30,
      will: { topic: "status/sensor-1", payload: Buffer.from("offline"), qos: 1, retain: true },
      username: "u",
      password: Buffer.from("p"),
    },
    { type: "connack", sessionPresent: true, returnCode: 0 },
    { type: "publish", topic: "t", payload: Buffer.from("x"), qos: 2, retain: false, dup: true, packetId: 65535 },
    { type: "puback", packetId: 1 },
    { type: "pubrec", packetId: 2 },
    { type: "pubrel", packetId: 3 },
    { type: "pubcomp", packetId: 4 },
    {
      type: "subscribe",
      packetId: 5,
      subscriptions: [
        { topic: "a/#", qos: 2 },
        { topic: "+", qos: 0 },
      ],
    },
    { type: "suback", packetId: 5, granted: [2, 0x80] },
    { type: "unsubscribe", packetId: 6, topics: ["a/#", "b"] },
    { type: "unsuback", packetId: 6 },
    { type: "pingreq" },
    { type: "pingresp" },
    { type: "disconnect" },
  ];
  it("every type is read by mqtt-packet as what we meant, and its bytes by us", () => {
    for (const p of samples) {
      const ours = mqtt.packet.encode(p);
      const [theirs] = theirParse(ours);
      expect(theirs.cmd).toBe(p.type);
      const again = mqttPacket.generate(theirs);
      expect(mqtt.packet.decode(again)).toEqual(p);
    }
  });
  it("splits a stream and keeps a partial packet for later", () => {
    const stream = Buffer.concat(samples.map((p) => mqtt.packet.encode(p)));
    const { packets, rest } = mqtt.splitPackets(stream.subarray(0, stream.length - 1));
    expect(packets).toEqual(
      samples
        .slice(0, -1)
        .concat([])
        .slice(0, samples.length - 1),
    );
    expect(hex(rest)).toBe("e0");
  });
  it("names each fault", () => {
    const fault = (h: string) => {
      try {
        mqtt.packet.decode(Buffer.from(h, "hex"));
        return "decoded";
      } catch (e) {
        return e instanceof mqtt.MqttError ? `${e.code}@${e.offset}` : String(e);
      }
    };
    expect(fault("00")).toBe("ERR_MQTT_BAD_TYPE@0");
    expect(fault("f000")).toBe("ERR_MQTT_BAD_TYPE@0");
    expect(fault("30ffffffff01")).toBe("ERR_MQTT_BAD_LENGTH@1");
    expect(fault("3005")).toBe("ERR_MQTT_TRUNCATED@1");
    expect(fault("3603000161")).toBe("ERR_MQTT_BAD_FLAGS@0"); // QoS 3
    expect(fault("6002 0001".replace(" ", ""))).toBe("ERR_MQTT_BAD_FLAGS@0"); // PUBREL without its 0010
    expect(fault("c100")).toBe("ERR_MQTT_BAD_FLAGS@0");
    expect(fault("100d00044d5154540302003c000161")).toBe("ERR_MQTT_PROTOCOL@2"); // level 3
    expect(fault("100d00044d5154540403003c000161")).toBe("ERR_MQTT_PROTOCOL@9"); // reserved flag
    expect(fault("30040002c328")).toBe("ERR_MQTT_BAD_STRING@2"); // ill-formed UTF-8
    expect(fault("300400020000")).toBe("ERR_MQTT_BAD_STRING@2"); // U+0000
    expect(fault("4003000100")).toBe("ERR_MQTT_BAD_LENGTH@4");
  });
  it("checks what it is asked to write", () => {
    const pub = { type: "publish", topic: "a", payload: Buffer.alloc(0), retain: false, dup: false } as const;
    expect(() => mqtt.packet.encode({ ...pub, qos: 1 })).toThrow(/packetId/);
    expect(() => mqtt.packet.encode({ ...pub, qos: 0, dup: true })).toThrow(/DUP/);
    expect(() =>
      mqtt.packet.encode({ type: "connect", clientId: "a\u0000", cleanSession: true, keepAlive: 0 }),
    ).toThrow(RangeError);
  });
});

describe("topic filters", () => {
  it("match as §4.7's examples say", () => {
    const yes: [string, string][] = [
      ["sport/tennis/player1/#", "sport/tennis/player1"],
      ["sport/tennis/player1/#", "sport/tennis/player1/ranking"],
      ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"],
      ["sport/#", "sport"],
      ["#", "sport/tennis"],
      ["sport/tennis/+", "sport/tennis/player1"],
      ["sport/+", "sport/"],
      ["+/+", "/finance"],
      ["/+", "/finance"],
      ["$SYS/#", "$SYS/broker/uptime"],
    ];
    const no: [string, string][] = [
      ["sport/tennis/+", "sport/tennis/player1/ranking"],
      ["sport/+", "sport"],
      ["+", "/finance"],
      ["#", "$SYS/broker/uptime"],
      ["+/monitor/Clients", "$SYS/monitor/Clients"],
    ];
    for (const [f, t] of yes) expect(mqtt.topicMatches(f, t), `${f} ${t}`).toBe(true);
    for (const [f, t] of no) expect(mqtt.topicMatches(f, t), `${f} ${t}`).toBe(false);
  });
  it("refuse filters and names that are not valid", () => {
    for (const f of ["sport/tennis#", "sport/tennis/#/ranking", "sport+", ""]) expect(mqtt.validFilter(f)).toBe(false);
    expect(() => mqtt.topicMatches("a/#/b", "a")).toThrow(RangeError);
    expect(() => mqtt.topicMatches("a", "a/+")).toThrow(RangeError);
  });
});
