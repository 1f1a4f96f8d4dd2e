// helpers/net/socks.ts: our proxy relays a CONNECT by name (from its own table), IPv4 and IPv6,
// answers refused, unknown, forbidden and unsupported requests with RFC 1928's codes, enforces
// RFC 1929's username and password, and closes on bad greetings; dante starts with its own config
// and our client goes through it.
import * as net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { hasProgram } from "../../helpers/os/programs";
import { socksConnect, socksProbe, socksProxy, startDante } from "../../helpers/net/socks";

async function echoServer(host: string) {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, host, r));
  const a = server.address();
  return { server, port: a !== null && typeof a === "object" ? a.port : 0 };
}
async function roundTrip(socket: net.Socket | undefined, text: string): Promise<string> {
  if (!socket) return "";
  socket.write(text);
  return new Promise((resolve) => socket.once("data", (d: Buffer) => (socket.destroy(), resolve(d.toString()))));
}

describe("our SOCKS5 proxy", async () => {
  const v4 = await echoServer("127.0.0.1");
  const v6 = await echoServer("::1");
  const proxy = await socksProxy({ names: { "echo.test": "127.0.0.1" } });
  const guarded = await socksProxy({ users: { u: "p" } });
  const at = { host: "127.0.0.1", port: proxy.port };
  afterAll(async () => {
    v4.server.close();
    v6.server.close();
    await proxy.close();
    await guarded.close();
  });

  it("relays to a name from its table, to IPv4 and to IPv6", async () => {
    expect(await roundTrip((await socksConnect(at, { type: "domain", host: "echo.test" }, v4.port)).socket, "a")).toBe(
      "a",
    );
    expect(await roundTrip((await socksConnect(at, { type: "ipv4", host: "127.0.0.1" }, v4.port)).socket, "b")).toBe(
      "b",
    );
    expect(await roundTrip((await socksConnect(at, { type: "ipv6", host: "::1" }, v6.port)).socket, "c")).toBe("c");
    expect(proxy.sessions()[0]).toMatchObject({ offered: [0], method: 0, resolved: "127.0.0.1", reply: 0 });
  });
  it("answers with the reply codes", async () => {
    const code = async (host: string, port: number, type: "ipv4" | "domain" = "ipv4", command?: number) =>
      (await socksConnect(at, type === "ipv4" ? { type, host } : { type, host }, port, { command })).reply;
    expect(await code("nowhere.test", 1, "domain")).toBe(4);
    expect(await code("192.0.2.1", 80)).toBe(2);
    expect(await code("127.0.0.1", v4.port, "ipv4", 2)).toBe(7);
    const gone = await echoServer("127.0.0.1");
    await new Promise((r) => gone.server.close(r));
    expect(await code("127.0.0.1", gone.port)).toBe(5);
    const atyp5 = await socksProbe("127.0.0.1", proxy.port, Buffer.from("050100" + "0501000500", "hex"));
    expect(atyp5.received.toString("hex").slice(0, 8)).toBe("05000508");
  });
  it("checks the username and password", async () => {
    const g = { host: "127.0.0.1", port: guarded.port };
    const target = { type: "ipv4", host: "127.0.0.1" } as const;
    expect((await socksConnect(g, target, v4.port, { auth: { username: "u", password: "p" } })).reply).toBe(0);
    const bad = await socksConnect(g, target, v4.port, { auth: { username: "u", password: "x" } });
    expect(bad.reply).toBeUndefined();
    expect(bad.steps.at(-1)?.bytes.toString("hex")).toBe("0101");
    expect((await socksConnect(g, target, v4.port)).steps.at(-1)?.bytes.toString("hex")).toBe("05ff");
  });
  it("closes on bad greetings", async () => {
    expect(await socksProbe("127.0.0.1", proxy.port, Buffer.from("04010050", "hex"))).toEqual({
      received: Buffer.alloc(0),
      closed: true,
    });
    expect(await socksProbe("127.0.0.1", proxy.port, Buffer.from("0500", "hex"))).toEqual({
      received: Buffer.from("05ff", "hex"),
      closed: true,
    });
  });
  it.skipIf(!hasProgram("danted"))("goes through dante, which blocks what its config blocks", async () => {
    const dante = await startDante({ blocked: "127.0.0.2" });
    const d = { host: "127.0.0.1", port: dante.port };
    try {
      expect(await roundTrip((await socksConnect(d, { type: "ipv4", host: "127.0.0.1" }, v4.port)).socket, "z")).toBe(
        "z",
      );
      expect((await socksConnect(d, { type: "ipv4", host: "127.0.0.2" }, v4.port)).reply).toBe(2);
    } finally {
      await dante.close();
    }
  });
});
