import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { request } from "../../helpers/net/https";
import { freePort, NginxError, nginxConf, startNginx } from "../../helpers/net/nginx";
import { hasProgram } from "../../helpers/os/programs";

describe("nginx as a peer", () => {
  it("writes a config that keeps everything in its prefix", () => {
    const conf = nginxConf("/tmp/p", "server { listen 127.0.0.1:1; }");
    expect(conf).toContain("pid /tmp/p/nginx.pid;");
    expect(conf).toContain("master_process off;");
    expect(conf).toContain("proxy_temp_path /tmp/p/proxy;");
  });

  it("finds a free port", async () => {
    expect(await freePort()).toBeGreaterThan(0);
  });

  it.skipIf(!hasProgram("nginx"))("starts, serves, and removes its prefix when closed", async () => {
    const ng = await startNginx((port) => `server { listen 127.0.0.1:${port}; location / { return 200 "hi\\n"; } }`);
    expect((await request(`http://127.0.0.1:${ng.port}/`)).text()).toBe("hi\n");
    await ng.close();
    expect(existsSync(ng.prefix)).toBe(false);
  });

  it.skipIf(!hasProgram("nginx"))("a bad config is one NginxError with nginx's own words", async () => {
    await expect(startNginx(() => "this is not nginx;")).rejects.toBeInstanceOf(NginxError);
  });
});
