// helpers/wire/http2.ts: frames against bytes written out from RFC 9113's layouts, and against
// node:http2 (nghttp2) as the peer: our frames make a request it answers, its frames decode, and
// for bad frames the error code in its GOAWAY is the one our decoder names.
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HpackDecoder, HpackEncoder } from "../../helpers/wire/hpack";
import {
  describe as say,
  errorName,
  frame,
  frames,
  Http2Error,
  PREFACE,
  type DecodedFrame,
} from "../../helpers/wire/http2";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("http2 frames, by the RFC's layouts", () => {
  it("writes the 9-byte header and each payload", () => {
    const settings = frame.encode({
      type: "SETTINGS",
      settings: [
        [3, 100],
        [4, 65535],
      ],
    });
    expect(settings.toString("hex")).toBe("00000c040000000000" + "000300000064" + "00040000ffff");
    expect(frame.encode({ type: "SETTINGS", ack: true, settings: [] }).toString("hex")).toBe("000000040100000000");
    expect(frame.encode({ type: "WINDOW_UPDATE", streamId: 0, increment: 1000 }).toString("hex")).toBe(
      "000004080000000000000003e8",
    );
    expect(frame.encode({ type: "RST_STREAM", streamId: 3, errorCode: 8 }).toString("hex")).toBe(
      "00000403000000000300000008",
    );
    expect(
      frame.encode({ type: "DATA", streamId: 1, data: Buffer.from("hi"), endStream: true, padding: 2 }).toString("hex"),
    ).toBe("000005000900000001" + "02" + "6869" + "0000");
    const goaway = frame.encode({ type: "GOAWAY", lastStreamId: 5, errorCode: 1, debug: Buffer.from("x") });
    expect(goaway.toString("hex")).toBe("000009070000000000" + "00000005" + "00000001" + "78");
    const h = frame.encode({
      type: "HEADERS",
      streamId: 1,
      block: hex("82"),
      endHeaders: true,
      priority: { exclusive: true, dependsOn: 0, weight: 16 },
    });
    expect(h.toString("hex")).toBe("000006012400000001" + "80000000" + "0f" + "82");
    expect(frame.decode(h)).toMatchObject({
      type: "HEADERS",
      streamId: 1,
      endHeaders: true,
      priority: { exclusive: true, weight: 16 },
    });
  });
  it("names the RFC's error for frames a peer must refuse", () => {
    const code = (b: string) => {
      try {
        frame.decode(hex(b));
        return "decoded";
      } catch (e) {
        return e instanceof Http2Error ? `${e.code} ${e.rfcCode}` : String(e);
      }
    };
    expect(code("000007060000000000 00000000000000")).toBe("ERR_HTTP2_FRAME_SIZE FRAME_SIZE_ERROR");
    expect(code("000004080000000000 00000000")).toBe("ERR_HTTP2_ZERO_INCREMENT PROTOCOL_ERROR");
    expect(code("000000040000000001")).toBe("ERR_HTTP2_BAD_STREAM PROTOCOL_ERROR");
    expect(code("000006040000000000 000480000000")).toBe("ERR_HTTP2_BAD_SETTING FLOW_CONTROL_ERROR");
    expect(code("000003000800000001 05 6869")).toBe("ERR_HTTP2_BAD_PADDING PROTOCOL_ERROR");
    expect(code("00000a000000000001 00")).toBe("ERR_HTTP2_TRUNCATED FRAME_SIZE_ERROR");
    expect(say(frame.decode(hex("000004080000000000000003e8")))).toBe("WINDOW_UPDATE connection +1000");
  });
});

describe("http2 frames, against node:http2", () => {
  let server: http2.Http2Server;
  let port = 0;
  const sessions: http2.ServerHttp2Session[] = [];
  beforeAll(async () => {
    server = http2.createServer((req, res) => res.end(`hello ${req.url}`));
    server.on("session", (s) => sessions.push(s));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = Number(Object(server.address()).port);
  });
  afterAll(async () => {
    sessions.forEach((s) => s.destroy());
    await new Promise<void>((r) => server.close(() => r()));
  });

  /** Sends the preface, our SETTINGS and `more`, and reads frames until `until` says stop. */
  const talk = (more: Buffer[], until: (f: DecodedFrame) => boolean) =>
    new Promise<DecodedFrame[]>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1");
      let got = Buffer.alloc(0);
      s.on("data", (d) => {
        got = Buffer.concat([got, d]);
        const all = frames(got).frames;
        if (all.some(until)) {
          s.destroy();
          resolve(all);
        }
      });
      s.on("error", reject);
      s.on("close", () => resolve(frames(got).frames));
      s.write(Buffer.concat([PREFACE, frame.encode({ type: "SETTINGS", settings: [] }), ...more]));
    });

  it("answers a request made of our frames, with frames we decode", async () => {
    const block = new HpackEncoder().encode([
      { name: ":method", value: "GET" },
      { name: ":scheme", value: "http" },
      { name: ":path", value: "/x" },
      { name: ":authority", value: "localhost" },
    ]);
    const got = await talk(
      [frame.encode({ type: "HEADERS", streamId: 1, block, endHeaders: true, endStream: true })],
      (f) => f.type === "DATA" && !!f.endStream,
    );
    const headers = got.find((f) => f.type === "HEADERS");
    const data = got.find((f) => f.type === "DATA");
    expect(headers && headers.type === "HEADERS" && new HpackDecoder().decode(headers.block)[0]).toEqual({
      name: ":status",
      value: "200",
    });
    expect(data && data.type === "DATA" && data.data.toString()).toBe("hello /x");
    expect(got[0].type).toBe("SETTINGS");
  });
  it("sends GOAWAY with the error our decoder names", async () => {
    // Where nghttp2 itself checks a frame, its GOAWAY names the RFC's code, as our decoder does.
    // (For the checks node's own callback makes, a WINDOW_UPDATE of 0, a SETTINGS value out of
    // range, a frame on the wrong stream, node answers INTERNAL_ERROR instead; notebook 35 shows it.)
    const bad = [
      "000007060000000000 00000000000000", // PING of 7 bytes: FRAME_SIZE_ERROR
      "000005040000000000 0001000000", // SETTINGS of 5 bytes: FRAME_SIZE_ERROR
      "000004020000000001 00000000", // PRIORITY of 4 bytes: FRAME_SIZE_ERROR
      "000002000000000000 6869", // DATA on stream 0: PROTOCOL_ERROR
      "000003000800000001 05 6869", // 5 bytes of padding in 3: PROTOCOL_ERROR
    ];
    for (const b of bad) {
      let ours = "";
      try {
        frame.decode(hex(b));
      } catch (e) {
        ours = e instanceof Http2Error ? e.rfcCode : "";
      }
      const got = await talk([hex(b)], (f) => f.type === "GOAWAY");
      const goaway = got.find((f) => f.type === "GOAWAY");
      expect(goaway && goaway.type === "GOAWAY" && errorName(goaway.errorCode), b).toBe(ours);
    }
  });
});
