// helpers/net/http2.ts on loopback: the server serves its bodies over HTTP/2 to h2Fetch (all
// streams on one connection) and over HTTP/1.1 by ALPN, both ends write a key log, and close()
// ends it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { frameConnection, h2Fetch, h2Server } from "../../helpers/net/http2";
import { HpackEncoder } from "../../helpers/wire/hpack";
import { PREFACE } from "../../helpers/wire/http2";
import { chainPem, createLab } from "../../helpers/net/pki";

const pki = createLab();
const dir = mkdtempSync(join(tmpdir(), "wirebook-h2-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("h2Server and h2Fetch", () => {
  it("serves several streams on one connection, and HTTP/1.1 by ALPN", async () => {
    const keylog = join(dir, "server.keys");
    const s = await h2Server(0, {
      key: pki.server.keyPem,
      cert: chainPem(pki.server),
      address: "127.0.0.1",
      bodies: { "/a": 5000, "/b": 70000 },
      keylog,
    });
    try {
      const got = await h2Fetch(`https://127.0.0.1:${s.port}`, ["/a", "/b", "/nope"], {
        ca: pki.root.certPem,
        keylog: join(dir, "client.keys"),
      });
      expect(got).toEqual([
        { path: "/a", status: 200, streamId: 1, bytes: 5000 },
        { path: "/b", status: 200, streamId: 3, bytes: 70000 },
        { path: "/nope", status: 404, streamId: 5, bytes: 0 },
      ]);
      expect(s.connections()).toBe(1);
      const h1 = await new Promise<string>((resolve, reject) => {
        https
          .get(
            { host: "127.0.0.1", port: s.port, path: "/a", ca: pki.root.certPem, servername: "localhost" },
            (res) => {
              let body = "";
              res.on("data", (d) => (body += d));
              res.on("end", () => resolve(`${res.httpVersion} ${res.statusCode} ${body.length} ${body[0]}`));
            },
          )
          .on("error", reject);
      });
      expect(h1).toBe("1.1 200 5000 a");
      expect((await s.requests()).map((r) => `${r.httpVersion} ${r.path} ${r.streamId} ${r.connection}`)).toEqual([
        "2.0 /a 1 1",
        "2.0 /b 3 1",
        "2.0 /nope 5 1",
        "1.1 /a 0 2",
      ]);
      for (const f of ["server.keys", "client.keys"])
        expect(readFileSync(join(dir, f), "utf8")).toMatch(/^CLIENT_HANDSHAKE_TRAFFIC_SECRET /m);
    } finally {
      await s.close();
    }
  });
  it("frameConnection: our frames make a request, a PING is answered, the flow-control window holds", async () => {
    const s = await h2Server(0, {
      key: pki.server.keyPem,
      cert: chainPem(pki.server),
      address: "127.0.0.1",
      bodies: { "/a": 3000 },
    });
    const c = await frameConnection(s.port, { ca: pki.root.certPem });
    try {
      const block = new HpackEncoder().encode([
        { name: ":method", value: "GET" },
        { name: ":scheme", value: "https" },
        { name: ":path", value: "/a" },
        { name: ":authority", value: "localhost" },
      ]);
      c.send(
        PREFACE,
        { type: "SETTINGS", settings: [[4, 1000]] },
        { type: "HEADERS", streamId: 1, block, endHeaders: true, endStream: true },
      );
      const data = () => c.received().reduce((n, f) => n + (f.type === "DATA" ? f.data.length : 0), 0);
      expect(await c.next((f) => f.type === "DATA", 2000)).toBeDefined();
      expect(await c.next((f) => f.type === "DATA" && !!f.endStream, 300)).toBeUndefined();
      expect(data()).toBe(1000);
      c.send({ type: "WINDOW_UPDATE", streamId: 1, increment: 5000 });
      expect(await c.next((f) => f.type === "DATA" && !!f.endStream, 2000)).toBeDefined();
      expect(data()).toBe(3000);
      c.send({ type: "PING", data: Buffer.from("wirebook") });
      const pong = await c.next((f) => f.type === "PING" && !!f.ack, 2000);
      expect(pong?.type === "PING" && pong.data.toString()).toBe("wirebook");
      expect(c.error()).toBeUndefined();
    } finally {
      c.close();
      await s.close();
    }
  });
});
