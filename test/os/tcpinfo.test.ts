// TCP_INFO and ss on a real loopback connection: the fields we read are the kernel's.
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ssView } from "../../helpers/os/procnet";
import { tcpInfo } from "../../helpers/os/tcpinfo";

describe.runIf(process.platform === "linux")("tcpinfo", () => {
  const open: Array<net.Socket | net.Server> = [];
  afterEach(() => {
    for (const s of open.splice(0)) "destroy" in s ? s.destroy() : s.close();
  });

  async function pair(): Promise<{ client: net.Socket; peer: net.Socket }> {
    const server = net.createServer({ pauseOnConnect: true });
    open.push(server);
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
    await new Promise((r) => client.once("connect", r));
    const peer = await accepted;
    open.push(client, peer);
    return { client, peer };
  }

  it("reads an established connection's byte counters and windows", async () => {
    const { client, peer } = await pair();
    client.write(Buffer.alloc(1000, 1));
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      peer.on("data", (d) => (n += d.length) === 1000 && resolve(n));
      peer.resume();
    });
    expect(got).toBe(1000);
    const c = tcpInfo(client);
    const p = tcpInfo(peer);
    expect(c.state).toBe(1); // TCP_ESTABLISHED
    expect(p.bytesReceived).toBe(1000);
    expect(c.bytesAcked).toBeGreaterThanOrEqual(1000); // counts the SYN's sequence number too
    expect(c.sndWnd).toBeGreaterThan(0);
    expect(p.rcvWnd).toBeGreaterThan(0);
  });

  it("sees unread bytes in ss's Recv-Q and in-flight bytes in Send-Q", async () => {
    const { client, peer } = await pair(); // the peer was accepted paused: it reads nothing
    client.write(Buffer.alloc(5000, 2));
    for (let i = 0; i < 100 && ssView(peer).recvQ < 5000; i++) await new Promise((r) => setTimeout(r, 5));
    const p = ssView(peer);
    expect(p.recvQ).toBe(5000);
    expect(p.rb).toBeGreaterThan(0);
    expect(tcpInfo(peer).bytesReceived).toBe(5000);
    expect(ssView(client).sendQ).toBe(0); // delivered and acknowledged, only unread
  });
});
