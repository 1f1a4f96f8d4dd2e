// helpers/net/tls.ts: keyExchange reads a client connection's Diffie-Hellman group as typed data,
// and refuses a socket that has none to report.
import * as net from "node:net";
import * as tls from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { chainPem, createLab } from "../../helpers/net/pki";
import { keyExchange, openssl, tlsServer } from "../../helpers/net/tls";

describe("openssl", () => {
  it("resolves when the command exits without reading the input it was given (no EPIPE)", async () => {
    // 8 MiB is more than a pipe holds: the write is still going when `openssl version` exits.
    for (let i = 0; i < 3; i++) {
      const r = await openssl(["version"], "x".repeat(8 << 20));
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/OpenSSL/);
    }
  });
});

describe("keyExchange", () => {
  const lab = createLab();
  const serverSockets: tls.TLSSocket[] = [];
  const server = tlsServer({ key: lab.server.keyPem, cert: chainPem(lab.server) }, (s) => serverSockets.push(s));
  afterAll(async () => {
    serverSockets.forEach((s) => s.destroy());
    await (await server).close();
  });

  const connect = async (options: tls.ConnectionOptions = {}) => {
    const { port } = await server;
    const socket = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: lab.root.certPem, ...options });
    await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    return socket;
  };

  it("names the group a TLS 1.3 client negotiated", async () => {
    const client = await connect();
    expect(keyExchange(client)).toEqual({ type: "ECDH", name: "X25519", size: 253 });
    client.destroy();
  });

  it("names the curve the client asked for", async () => {
    const client = await connect({ ecdhCurve: "P-256" });
    expect(keyExchange(client)).toEqual({ type: "ECDH", name: "prime256v1", size: 256 });
    client.destroy();
  });

  it("throws a TypeError on a server's socket, which has none to report", async () => {
    const client = await connect();
    while (!serverSockets.length) await new Promise((r) => setTimeout(r, 5));
    expect(() => keyExchange(serverSockets[0])).toThrow(TypeError);
    client.destroy();
  });

  it("throws on a client socket before its handshake", () => {
    const unconnected = new tls.TLSSocket(new net.Socket());
    expect(() => keyExchange(unconnected)).toThrow(/no ephemeral key exchange/);
    unconnected.destroy();
  });
});
