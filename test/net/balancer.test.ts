import { afterAll, describe, expect, it } from "vitest";
import { leastConnections, roundRobin, smoothWeighted } from "../../helpers/models/balance";
import { startBackend, type Backend } from "../../helpers/net/backend";
import { startBalancer } from "../../helpers/net/balancer";
import { request } from "../../helpers/net/https";
import { hasProgram } from "../../helpers/os/programs";
import { startNginx } from "../../helpers/net/nginx";

const opened: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
});
const backends = async () => {
  const bs = await Promise.all(["a", "b", "c"].map(startBackend));
  opened.push(...bs);
  return bs;
};
const pool = (bs: Backend[]) => bs.map((b) => ({ name: b.name, port: b.port }));
const name = async (port: number) => (await request(`http://127.0.0.1:${port}/`)).text().trim();

describe("the balancer", () => {
  it("round robin through real backends, and failover when one dies", async () => {
    const bs = await backends();
    const lb = await startBalancer({ backends: pool(bs), policy: roundRobin() });
    opened.push(lb);
    const seq = [];
    for (let i = 0; i < 6; i++) seq.push(await name(lb.port));
    expect(seq.join("")).toBe("abcabc");
    await bs[0].kill();
    for (let i = 0; i < 4; i++) expect(["b", "c"]).toContain(await name(lb.port));
    expect(lb.state().a).toBe("down");
    expect(lb.log.some((d) => d.tried.join(">") === "a>b" || d.tried.join(">") === "a>c")).toBe(true);
    expect((await lb.checkHealth()).a).toBe("down");
  });

  it("answers 502 when no backend is left", async () => {
    const bs = await backends();
    const lb = await startBalancer({ backends: pool(bs), policy: roundRobin() });
    opened.push(lb);
    for (const b of bs) await b.kill();
    expect((await request(`http://127.0.0.1:${lb.port}/`)).status).toBe(502);
  });

  it("least connections avoids a backend that holds its requests", async () => {
    const bs = await backends();
    const lb = await startBalancer({ backends: pool(bs), policy: leastConnections() });
    opened.push(lb);
    let held = () => {};
    bs[1].hold(() => held());
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < 9; i++) {
      await new Promise<void>((resolve) => {
        held = resolve;
        answers.push(name(lb.port).then(() => resolve()));
      });
    }
    bs[1].release();
    await Promise.all(answers);
    expect(bs[1].served).toBe(1);
    expect(bs[0].served + bs[2].served).toBe(8);
  });

  it("active health checks: fall failures in a row", async () => {
    const bs = await backends();
    const lb = await startBalancer({ backends: pool(bs), policy: roundRobin(), fall: 2 });
    opened.push(lb);
    await bs[2].kill();
    expect((await lb.checkHealth()).c).toBe("up");
    expect((await lb.checkHealth()).c).toBe("down");
  });

  it.skipIf(!hasProgram("nginx"))("nginx's smooth weighted round robin picks as ours does", async () => {
    const bs = await backends();
    const w = [5, 1, 1];
    const ng = await startNginx(
      (port) => `upstream pool { ${bs.map((b, i) => `server 127.0.0.1:${b.port} weight=${w[i]};`).join(" ")} }
      server { listen 127.0.0.1:${port}; location / { proxy_pass http://pool; } }`,
    );
    opened.push(ng);
    const p = smoothWeighted({ a: 5, b: 1, c: 1 });
    for (let i = 0; i < 14; i++) expect(await name(ng.port)).toBe(p.pick(["a", "b", "c"]));
  });

  it("a client can connect from any loopback address", async () => {
    const bs = await backends();
    const lb = await startBalancer({
      backends: pool(bs),
      policy: roundRobin(),
      key: (r) => r.socket.remoteAddress ?? "",
    });
    opened.push(lb);
    await request(`http://127.0.0.1:${lb.port}/`, { localAddress: "127.0.3.7" });
    expect(lb.log[0].key).toBe("127.0.3.7");
  });
});
