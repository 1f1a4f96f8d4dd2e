// helpers/net/aead-tunnel.ts (with os/tun and libc's TUNSETIFF) in a two-host lab: a ping and a
// bulk TCP transfer (services.tcpSendBulk) go through the TUN interfaces; a wrong key is a
// forgery. Skipped where no lab can be built or /dev/net/tun may not be opened.
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab } from "../../helpers/lab";
import type * as tunnel from "../../helpers/net/aead-tunnel";
import type * as raw from "../../helpers/net/raw";
import type * as services from "../../helpers/net/services";
import { openTun } from "../../helpers/os/libc";
import { tunUsable } from "../../helpers/os/tun";
import { helperFile, inHost } from "../support/in-host";

const inTunnel = inHost<typeof tunnel>(helperFile("net/aead-tunnel"));
const inRaw = inHost<typeof raw>(helperFile("net/raw"));
const inServices = inHost<typeof services>(helperFile("net/services"));

let lab: Lab | undefined;
afterAll(async () => {
  await lab?.close();
});

describe("openTun", () => {
  it("refuses a name that is not an interface name", () => {
    expect(() => openTun("no spaces allowed")).toThrow(RangeError);
  });
});

describe.skipIf(labAccess().mode === "none" || !tunUsable())("an AEAD tunnel between two lab hosts", () => {
  it("carries a ping and TCP, and counts what it refuses", { timeout: 60_000 }, async () => {
    lab = await startLab({ hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet: "10.65.0.0/24" }] });
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    const ends = [
      { h: "a", me: "10.99.0.1", peer: "10.65.0.2", send: k1, recv: k2, id: 1, peerId: 2 },
      { h: "b", me: "10.99.0.2", peer: "10.65.0.1", send: k2, recv: k1, id: 2, peerId: 1 },
    ];
    const t = [];
    for (const e of ends) {
      t.push(
        await inTunnel(lab.host(e.h), "startTunnel", {
          dev: "tun0",
          port: 4000,
          peer: { address: e.peer, port: 4000 },
          aead: "aes-256-gcm", // the notebook uses ChaCha20-Poly1305
          sendKey: e.send,
          receiveKey: e.recv,
          localId: e.id,
          peerId: e.peerId,
        }),
      );
      await lab.host(e.h).exec(["ip", "addr", "add", `${e.me}/24`, "dev", "tun0"]);
      await lab.host(e.h).exec(["ip", "link", "set", "tun0", "mtu", "1440", "up"]);
    }
    expect(await inRaw(lab.host("a"), "ping", "10.99.0.2", { id: 1, seq: 1, data: "x" })).toMatchObject({
      reply: true,
    });
    await inServices(lab.host("b"), "tcpServer", 5001, {});
    const bulk = await inServices(lab.host("a"), "tcpSendBulk", "10.99.0.2", 5001, 1_000_000);
    expect(bulk).toMatchObject({ bytes: 1_000_000 });
    expect(bulk.error).toBeUndefined();
    const sa = await t[0].stats();
    expect(sa.largestInner).toBe(1440);
    expect(sa.largestDatagram).toBe(1472);
    // a datagram sealed with another key
    const wrong = Buffer.concat([Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]), Buffer.alloc(8, 0xff), randomBytes(40)]);
    await inServices(lab.host("a"), "udpSend", "10.65.0.2", 4000, [wrong]);
    await new Promise((r) => setTimeout(r, 200));
    expect((await t[1].stats()).forgeries).toBe(1);
  });
});
