// helpers/net/services: the small servers and clients the lab notebooks run inside hosts. They work
// in any namespace, so the servers are tested here on loopback; the clients (which run only inside
// lab hosts), TTLs, DF and path MTU need a lab with a router: a — r — b, the r–b link at MTU 1280.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab, type LabHost } from "../../helpers/lab";
import type * as servicesModule from "../../helpers/net/services";
import { tcpFetch, tcpServer, udpAsk, udpCollect, udpServer } from "../../helpers/net/services";
import type * as procnet from "../../helpers/os/procnet";
import type { Args } from "../../helpers/os/remote";
import { parseExposition, sampleOf } from "../../helpers/wire/prometheus";

// Vitest loads modules its own way, so the agent is given each module's path.
const SERVICES = join(__dirname, "..", "..", "helpers", "net/services.ts");
const PROCNET = join(__dirname, "..", "..", "helpers", "os/procnet.ts");
type Services = typeof servicesModule;
type Procnet = typeof procnet;
const inHost = <K extends keyof Services & string>(host: LabHost, fn: K, ...args: Args<Services, K>) =>
  host.run<Services, K>(SERVICES, fn, ...args);
const inProcnet = <K extends keyof Procnet & string>(host: LabHost, fn: K, ...args: Args<Procnet, K>) =>
  host.run<Procnet, K>(PROCNET, fn, ...args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("servers on loopback", () => {
  it("udpCollect gathers every datagram a server sends back, and none from elsewhere", async () => {
    const server = dgram.createSocket("udp4");
    await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
    const port = server.address().port;
    server.on("message", (m, from) => {
      for (const n of [1, 2, 3]) server.send(Buffer.from(`${m} ${n}`), from.port, from.address);
    });
    const got = await udpCollect("127.0.0.1", port, Buffer.from("hi"), { windowMs: 200 });
    expect(got.map(String)).toEqual(["hi 1", "hi 2", "hi 3"]);
    server.close();
    expect(await udpCollect("127.0.0.1", port, Buffer.from("hi"), { timeoutMs: 200 })).toEqual([]);
  });
  it("asks a UDP server that says what it heard, and gets that back", async () => {
    const replier = await udpServer(0, { reply: { heard: "x" } });
    expect(await udpAsk("127.0.0.1", replier.port, "hi")).toEqual({ reply: 'x heard "hi" from 127.0.0.1' });
    expect(replier.heard()).toEqual([{ text: "hi", from: "127.0.0.1" }]);
    // Started again on the same port (a cell run twice), the old server makes way.
    const again = await udpServer(replier.port, { reply: { heard: "y" } });
    expect((await udpAsk("127.0.0.1", again.port, "hi")).reply).toMatch(/^y heard/);
    await again.close();
    expect(await udpAsk("127.0.0.1", again.port, "anyone?", { timeoutMs: 200 })).toEqual({
      reply: null,
      error: "timeout",
    });
  });

  it("the UDP echo server counts what it read (on loopback)", async () => {
    const server = await udpServer(0, { reply: "echo" });
    const client = dgram.createSocket("udp4");
    try {
      for (const text of ["a", "bc", "def"]) {
        const echoed = new Promise<string>((r) => client.once("message", (m) => r(m.toString())));
        client.send(text, server.port, "127.0.0.1");
        expect(await echoed).toBe(text);
      }
      const e = parseExposition(await server.metrics());
      expect(sampleOf(e, "udp_datagrams_received_total")?.value).toBe(3);
      expect(sampleOf(e, "udp_payload_bytes_received_total")?.value).toBe(6);
    } finally {
      client.close();
      await server.close();
    }
  });

  it("records datagrams as bytes with their sender, counts by prefix; a restart replaces it", async () => {
    const first = await udpServer(0);
    const client = dgram.createSocket("udp4");
    try {
      await new Promise<void>((r) => client.bind(0, "127.0.0.1", () => r()));
      for (const text of ["a 1", "a 2", "b 1"]) client.send(text, first.port, "127.0.0.1");
      const got = await first.received(3);
      expect(got.map((d) => [d.payload, d.from, d.port])).toEqual(
        ["a 1", "a 2", "b 1"].map((t) => [Buffer.from(t), "127.0.0.1", client.address().port]),
      );
      expect(await first.received(0, 0)).toEqual([]); // received() hands each datagram over once
      expect([first.count("a"), first.count("b"), first.count()]).toEqual([2, 1, 3]);
    } finally {
      client.close();
    }
    const second = await udpServer(first.port);
    expect([second.port, second.count()]).toEqual([first.port, 0]);
    expect(await second.close()).toBe(0);
    expect(await second.close()).toBe(0); // safe twice
  });

  it("reads a TCP banner, and reports a refused connection by its code", async () => {
    const server = await tcpServer(0, { greet: "hello", address: "127.0.0.1" });
    expect(await tcpFetch("127.0.0.1", server.port)).toEqual({ reply: "hello" });
    expect(server.peers()).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    expect(await server.close()).toBe(1);
    expect(await server.close()).toBe(1); // safe twice
    expect(await tcpFetch("127.0.0.1", server.port)).toEqual({ reply: null, error: "ECONNREFUSED" });
  });

  it("reports a timeout when no greeting ends in time", async () => {
    // A server that accepts and never answers: the fetch never sees the end of the greeting.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    expect(await tcpFetch("127.0.0.1", port, 200)).toEqual({ reply: null, error: "timeout" });
    silent.close();
  });

  it("a TCP server keeps text, counts bytes and connections, and tells a client where it came from", async () => {
    const server = await tcpServer(0, { keepText: true, tellPeer: true, address: "127.0.0.1" });
    try {
      const s = net.connect({ host: "127.0.0.1", port: server.port });
      const line = await new Promise<string>((r) => s.once("data", (d) => r(d.toString())));
      expect(line).toBe(`127.0.0.1:${s.localPort}\n`);
      expect(server.open()).toBe(1);
      await new Promise<void>((r) => s.end("some text", () => r()));
      await new Promise((r) => s.once("close", r));
      await sleep(50);
      expect([server.received(), server.received(), server.bytesReceived(), server.open()]).toEqual([
        ["some text"],
        [],
        9,
        0,
      ]);
      const e = parseExposition(server.metrics());
      expect(sampleOf(e, "tcp_connections_accepted_total")?.value).toBe(1);
      expect(sampleOf(e, "tcp_connections_open")?.value).toBe(0);
    } finally {
      await server.close();
    }
  });
});

const noLab = labAccess().mode === "none" ? (labAccess() as { reason: string }).reason : "";
describe.skipIf(!!noLab)(`services inside a lab${noLab ? ` (skipped: ${noLab})` : ""}`, () => {
  let lab: Lab;
  let a: LabHost;
  let r: LabHost;
  let b: LabHost;
  beforeAll(async () => {
    lab = await startLab({
      hosts: { a: {}, r: { router: true }, b: {} },
      links: [
        { between: ["r", "a"], subnet: "10.150.1.0/24" },
        { between: ["r", "b"], subnet: "10.150.2.0/24", mtu: 1280 },
      ],
    });
    [a, r, b] = [lab.host("a"), lab.host("r"), lab.host("b")];
    for (const h of [r, b]) expect(await inProcnet(h, "setIpv4Sysctl", "icmp_ratelimit", "0")).toBe("0");
  }, 60_000);
  afterAll(async () => {
    await lab?.close();
  });

  it("a TTL of 1 ends at the router, which counts the drop; a TTL of 2 gets through", async () => {
    await inHost(b, "udpServer", 7, { reply: { heard: "b" } });
    const before = await inProcnet(r, "snmpCounters");
    const one = await inHost(a, "udpAsk", lab.address("b"), 7, "t1", { ttl: 1, timeoutMs: 300 });
    const two = await inHost(a, "udpAsk", lab.address("b"), 7, "t2", { ttl: 2 });
    const after = await inProcnet(r, "snmpCounters");
    expect(one).toEqual({ reply: null, error: "timeout" });
    expect(two.reply).toBe(`b heard "t2" from ${lab.address("a")}`);
    expect(after.Ip.InHdrErrors - before.Ip.InHdrErrors).toBe(1);
    expect(after.Ip.ForwDatagrams - before.Ip.ForwDatagrams).toBe(2);
  });

  it("udpConnected: a connected socket is told ECONNREFUSED for each datagram to a closed port", async () => {
    expect(await inHost(a, "udpConnected", lab.address("b"), 9, { srcPort: 41000, count: 2 })).toEqual([
      "send 1: ok",
      "'error' event: ECONNREFUSED",
      "send 2: ok",
      "'error' event: ECONNREFUSED",
    ]);
  });

  it("udpSend with DF: EMSGSIZE over the link MTU, then ICMP 3/4 with MTU 1280, then the path MTU", async () => {
    await a.exec(["ip", "route", "flush", "cache"]);
    const sent = await inHost(a, "udpSend", lab.address("b"), 5000, [3000, 1400, 1400, 1252], {
      srcPort: 4001,
      pmtu: "do",
      watchIcmpMs: 500,
    });
    expect(sent.map((s) => s.result)).toEqual(["EMSGSIZE", "sent", "EMSGSIZE", "sent"]);
    expect(sent[1].icmp).toEqual([
      { from: "10.150.1.1", type: 3, code: 4, nextHopMtu: 1280, quotedLength: 1428, quotedDf: true },
    ]);
    expect(await inHost(a, "pathMtu", lab.address("b"))).toBe(1280);
  });

  it("udpPingPong: every datagram comes back from an echo server before the next leaves", async () => {
    const echo = await inHost(b, "udpServer", 0, { reply: "echo" });
    const run = await inHost(a, "udpPingPong", lab.address("b"), echo.port, 20, 100);
    expect([run.sent, run.echoed, run.rttMs.length]).toEqual([20, 20, 20]);
    expect(await echo.count()).toBe(20);
    await echo.close();
  });

  it("tcpConnect: sends to a server that keeps text, from a port the kernel picked", async () => {
    const server = await inHost(b, "tcpServer", 8080, { keepText: true });
    const client = await inHost(a, "tcpConnect", lab.address("b"), 8080, { send: "hi" });
    expect([client.connected, client.error]).toEqual([1, undefined]);
    expect(client.localPort).toBeGreaterThan(1023);
    await client.close();
    await sleep(100);
    expect(await server.received()).toEqual(["hi"]);
    expect(await server.close()).toBe(1);
  });

  it("tcpConnect: a tellPeer server's line, held connections reset at close, a refusal reported", async () => {
    const server = await inHost(b, "tcpServer", 0, { tellPeer: true });
    const held = await inHost(a, "tcpConnect", lab.address("b"), server.port, {
      count: 2,
      readLine: true,
      closeWith: "reset",
    });
    expect([held.connected, held.error, held.line]).toEqual([2, undefined, held.local]);
    expect(held.local).toBe(`${lab.address("a")}:${held.localPort}`);
    expect(await server.open()).toBe(2);
    await held.close();
    await sleep(100);
    expect(await server.open()).toBe(0);
    // A reset leaves no TIME_WAIT: the same source port can be used again at once.
    for (let i = 0; i < 2; i++) {
      const fixed = await inHost(a, "tcpConnect", lab.address("b"), server.port, {
        localPort: 42000,
        readLine: true,
        closeWith: "reset",
      });
      expect(fixed.line).toBe(`${lab.address("a")}:42000`);
      await fixed.close();
    }
    // Made again from that port to the same place while held (a cell run twice), a connection
    // replaces the one held from there.
    const first = await inHost(a, "tcpConnect", lab.address("b"), server.port, {
      localPort: 42000,
      closeWith: "reset",
    });
    const second = await inHost(a, "tcpConnect", lab.address("b"), server.port, {
      localPort: 42000,
      closeWith: "reset",
    });
    expect([first.connected, second.connected, second.error]).toEqual([1, 1, undefined]);
    await sleep(100);
    expect(await server.open()).toBe(1);
    await second.close();
    expect((await server.peers()).slice(2)).toEqual(Array(4).fill(`${lab.address("a")}:42000`));
    expect(await server.close()).toBe(6);
    expect(await inHost(a, "tcpConnect", lab.address("b"), server.port)).toMatchObject({
      connected: 0,
      error: "ECONNREFUSED",
    });
  });
});
