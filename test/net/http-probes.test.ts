// net/http-probes: each probe against a small HTTPS server on loopback whose limits are known.
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as probe from "../../helpers/net/http-probes";
import { createRootCA, createServerCert } from "../../helpers/net/pki";
import { serve, type Served } from "../../helpers/net/serve";

describe("http probes", () => {
  const root = createRootCA();
  const leaf = createServerCert(root);
  let server: https.Server;
  let served: Served;
  let target: probe.Target;
  beforeAll(async () => {
    server = https.createServer(
      {
        key: leaf.keyPem,
        cert: leaf.certPem,
        headersTimeout: 500,
        requestTimeout: 2000,
        keepAliveTimeout: 300,
        connectionsCheckingInterval: 100,
        maxHeaderSize: 4096,
      },
      (req, res) => {
        if (req.url === "/slow") setTimeout(() => res.end("late\n"), 400);
        else res.end("hi\n");
      },
    );
    served = await serve(server);
    target = { port: served.port, ca: root.certPem };
  });
  afterAll(async () => {
    await served?.close();
  });

  it("sends one request and reads the whole response, or the status the server refused it with", async () => {
    const ok = await probe.request(target, { path: "/" });
    expect(ok).toMatchObject({ status: "200", body: "hi\n" });
    const big = await probe.request(target, { headers: { "X-Big": "a".repeat(8192) } });
    expect(big.status).toBe("431");
  });

  it("sees a slow-loris client cut off with 408, and an idle keep-alive connection closed", async () => {
    const loris = await probe.slowLoris(target, { everyMs: 100, forMs: 3000 });
    expect(loris.status).toBe("408");
    expect(loris.closedAfterMs).not.toBeNull();
    const idle = await probe.idleKeepAlive(target, 3000);
    expect(idle.status).toBe("200");
    expect(idle.closedAfterMs).not.toBeNull();
  }, 10_000);

  it("counts a burst's statuses", async () => {
    expect(await probe.burst(target, 3)).toEqual({ "200": 3 });
  });

  it("reports what a request in flight got during shutdown, and that new connections were refused", async () => {
    const other = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_req, res) => {
      setTimeout(() => res.end("late\n"), 400);
    });
    const s = await serve(other);
    const r = await probe.requestDuringShutdown(
      { port: s.port, ca: root.certPem },
      () => (other.close(), other.closeIdleConnections()),
      { path: "/slow" },
    );
    expect(r.inFlight).toMatchObject({ status: "200", body: "late\n" });
    expect(r.afterwards.error).toBe("ECONNREFUSED");
    await s.close();
  });
});
