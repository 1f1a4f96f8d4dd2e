// helpers/net/bgp-speaker.ts against a minimal peer on loopback: OPEN, OPEN, KEEPALIVE,
// KEEPALIVE makes a session; UPDATEs arrive as sent; a NOTIFICATION ends it; a session asked for
// again while established is the same one. (Notebook 44 runs it against BIRD 2.)
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { bgpSession } from "../../helpers/net/bgp-speaker";
import { bgp, bgpStream, capabilities, type BgpMessage } from "../../helpers/wire/bgp";

const servers: net.Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A peer in AS 65000 that accepts any OPEN, or answers a bad AS with a NOTIFICATION. */
async function peer(expectAs?: number) {
  const got: BgpMessage[] = [];
  const server = net.createServer((sock) => {
    const stream = bgpStream();
    sock.on("data", (chunk) => {
      for (const { message } of stream.push(chunk)) {
        got.push(message);
        if (message.type !== "open") continue;
        sock.write(
          bgp.encode({
            type: "open",
            version: 4,
            myAs: 65000,
            holdTime: 30,
            bgpId: "10.0.0.1",
            capabilities: capabilities(65000),
          }),
        );
        if (expectAs !== undefined && message.myAs !== expectAs) {
          sock.end(bgp.encode({ type: "notification", code: 2, subcode: 2, data: Buffer.alloc(0) }));
        } else sock.write(bgp.encode({ type: "keepalive" }));
      }
    });
    sock.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, got };
}

describe("bgpSession", () => {
  it("establishes, negotiates the hold time, sends UPDATEs and ends with a Cease", async () => {
    const p = await peer();
    const s = await bgpSession({ peer: "127.0.0.1", port: p.port, myAs: 65001, bgpId: "10.0.0.2" });
    expect(s.status()).toMatchObject({ state: "established", peerAs: 65000, peerId: "10.0.0.1", holdTime: 30 });
    expect(await bgpSession({ peer: "127.0.0.1", port: p.port, myAs: 65001, bgpId: "10.0.0.2" })).toBe(s);
    s.announce(["10.1.0.0/16"], { asPath: [65001], nextHop: "10.0.0.2" });
    s.withdraw(["10.2.0.0/16"]);
    await s.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(p.got.map((m) => m.type)).toEqual(["open", "keepalive", "update", "update", "notification"]);
    expect(s.sent()).toEqual(["open", "keepalive", "update", "update", "notification"]);
    expect(s.status().state).toBe("closed");
  });
  it("reports the peer's NOTIFICATION", async () => {
    const p = await peer(65003);
    const s = await bgpSession({ peer: "127.0.0.1", port: p.port, myAs: 65004, bgpId: "10.0.0.3" });
    expect(s.status()).toMatchObject({ state: "closed", ended: "NOTIFICATION 2/2" });
    expect(s.received().map((r) => r.message.type)).toEqual(["open", "notification"]);
  });
});
