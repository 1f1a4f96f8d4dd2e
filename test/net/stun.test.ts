// helpers/net/stun: our STUN server's core as a pure function, the server and a peer on loopback,
// coturn answering the peer (when turnserver is installed), and coturn's command line.
import { describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import {
  bindingRequest,
  bindingResponse,
  coturnCommand,
  startCoturn,
  stunPeer,
  stunServer,
} from "../../helpers/net/stun";
import * as stun from "../../helpers/wire/stun";

describe("net/stun", () => {
  it("answers a Binding request with the sender's address, XORed, under a fingerprint", () => {
    const req = bindingRequest();
    const res = bindingResponse(req, { address: "10.1.2.3", port: 4567 });
    expect(res).not.toBeNull();
    const m = stun.decode(res ?? Buffer.alloc(0));
    expect(m.class).toBe("success");
    expect(m.transactionId).toEqual(req.subarray(8, 20));
    expect(stun.attribute(m, "XOR-MAPPED-ADDRESS")).toMatchObject({ address: "10.1.2.3", port: 4567 });
    expect(stun.attribute(m, "FINGERPRINT")?.ok).toBe(true);
    expect(bindingResponse(Buffer.from("hello, not STUN at all"), { address: "10.1.2.3", port: 1 })).toBeNull();
  });
  it("a peer learns its loopback address and port from our server", async () => {
    const server = await stunServer(0, "127.0.0.1");
    const peer = await stunPeer(0, "127.0.0.1");
    try {
      const got = await peer.binding("127.0.0.1", server.port);
      expect(got).toMatchObject({ mapped: `127.0.0.1:${peer.port}`, fingerprintOk: true });
      expect(server.answered()).toBeGreaterThanOrEqual(1);
      expect(await peer.punch("127.0.0.1", peer.port, "to myself", 200, 50)).toContainEqual({
        from: `127.0.0.1:${peer.port}`,
        text: "to myself",
      });
    } finally {
      await peer.close();
      await server.close();
    }
  });
  it("no answer is a timeout, not a throw", async () => {
    const peer = await stunPeer(0, "127.0.0.1");
    const silent = await stunPeer(0, "127.0.0.1"); // a socket that never answers
    try {
      expect(await peer.binding("127.0.0.1", silent.port, 300)).toEqual({ mapped: null, error: "timeout" });
    } finally {
      await peer.close();
      await silent.close();
    }
  });
  it.skipIf(!hasProgram("turnserver"))(
    "coturn answers our Binding request",
    async () => {
      const coturn = await startCoturn();
      const peer = await stunPeer(0, "127.0.0.1");
      try {
        const got = await peer.binding(coturn.address, coturn.port);
        expect(got.mapped).toBe(`127.0.0.1:${peer.port}`);
        expect(got.software).toMatch(/^Coturn/);
        expect(got.fingerprintOk).toBe(true);
      } finally {
        await peer.close();
        await coturn.close();
      }
    },
    15_000,
  );
  it("coturn's command: STUN only without users, the long-term credential with them", () => {
    const base = { address: "10.0.0.1", port: 3478 };
    expect(coturnCommand(base)).toContain("--stun-only");
    const turn = coturnCommand({ ...base, users: ["alice:pw"], realm: "r.test" });
    expect(turn).toEqual(expect.arrayContaining(["--lt-cred-mech", "--realm=r.test", "--user=alice:pw"]));
    expect(turn).not.toContain("--stun-only");
  });
});
