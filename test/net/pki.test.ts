// helpers/net/pki.ts and `npm run pki`, checked by openssl: it accepts the chains, rejects a leaf
// without its intermediate, reports the expired one, and completes a TLS 1.3 handshake.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainPem, createLab, createRootCA, createServerCert, type Lab } from "../../helpers/net/pki";
import { openssl, tlsServer } from "../../helpers/net/tls";

const root = join(__dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "wirebook-pki-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run pki -- --out DIR", () => {
  const out = join(dir, "cli");
  let lab: Record<string, string>;
  beforeAll(() => {
    execFileSync(process.execPath, ["--require", "tsx/cjs", "helpers/net/pki-cli.ts", "--out", out], {
      cwd: root,
      stdio: "pipe",
    });
    const f = (name: string) => join(out, name);
    lab = Object.fromEntries(
      ["root-ca", "intermediate-ca", "server", "server-key", "client", "client-key", "expired-server"].map((n) => [
        n,
        f(`${n}.pem`),
      ]),
    );
  }, 60_000);

  const verify = (...args: string[]) => spawnSync("openssl", ["verify", ...args], { encoding: "utf8" });

  it("writes every file, private keys readable by the owner only", () => {
    for (const [name, path] of Object.entries(lab)) {
      const mode = statSync(path).mode & 0o777;
      expect(mode, name).toBe(name.endsWith("-key") ? 0o600 : 0o644);
    }
  });

  it("openssl verify accepts the server and client chains", () => {
    const r = verify("-CAfile", lab["root-ca"], "-untrusted", lab["intermediate-ca"], lab.server, lab.client);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${lab.server}: OK`);
    expect(r.stdout).toContain(`${lab.client}: OK`);
  });

  it("openssl verify checks the purposes: serverAuth for the server, clientAuth for the client", () => {
    expect(
      verify("-purpose", "sslserver", "-CAfile", lab["root-ca"], "-untrusted", lab["intermediate-ca"], lab.server)
        .status,
    ).toBe(0);
    expect(
      verify("-purpose", "sslclient", "-CAfile", lab["root-ca"], "-untrusted", lab["intermediate-ca"], lab.client)
        .status,
    ).toBe(0);
    expect(
      verify("-purpose", "sslclient", "-CAfile", lab["root-ca"], "-untrusted", lab["intermediate-ca"], lab.server)
        .status,
    ).not.toBe(0);
  });

  it("openssl verify rejects a leaf without its intermediate (error 20)", () => {
    const r = verify("-CAfile", lab["root-ca"], lab.server);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/error 20 at 0 depth lookup: unable to get local issuer certificate/);
  });

  it("openssl verify reports the expired server certificate (error 10)", () => {
    const r = verify("-CAfile", lab["root-ca"], "-untrusted", lab["intermediate-ca"], lab["expired-server"]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/error 10 at 0 depth lookup: certificate has expired/);
  });

  it("the intermediate signs leaves only (pathlen 0); the root is a CA; the leaf has SAN localhost, 127.0.0.1", () => {
    const text = (file: string) =>
      execFileSync("openssl", ["x509", "-in", file, "-noout", "-text"], { encoding: "utf8" });
    expect(text(lab["intermediate-ca"])).toMatch(/Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text(lab["root-ca"])).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text(lab["root-ca"])).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text(lab.server)).toMatch(/Subject Alternative Name:\s+DNS:localhost, IP Address:127\.0\.0\.1/);
    expect(text(lab.server)).toMatch(/Extended Key Usage:\s+TLS Web Server Authentication/);
    expect(text(lab.client)).toMatch(/Extended Key Usage:\s+TLS Web Client Authentication/);
  });

  it("a bad argument exits 2 with a usage line", () => {
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", "helpers/net/pki-cli.ts", "--bogus"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("usage: npm run pki -- --out DIR");
  });
});

describe("a TLS server using the lab chain", () => {
  let lab: Lab;
  beforeAll(() => {
    lab = createLab();
    writeFileSync(join(dir, "root.pem"), lab.root.certPem);
  }, 60_000);

  it("openssl s_client completes a TLS 1.3 handshake and verifies the chain", async () => {
    const server = await tlsServer({ key: lab.server.keyPem, cert: chainPem(lab.server) }, (s) => s.end("hello\n"));
    try {
      const r = await openssl([
        "s_client",
        "-connect",
        `127.0.0.1:${server.port}`,
        "-CAfile",
        join(dir, "root.pem"),
        "-servername",
        "localhost",
        "-tls1_3",
        "-brief",
        "-verify_return_error",
        "-ign_eof",
      ]);
      expect(r.stderr).toContain("Protocol version: TLSv1.3");
      expect(r.stderr).toContain("Verification: OK");
      expect(r.stderr).toContain("Peer certificate: CN = localhost, O = wirebook lab");
      expect(r.stdout).toContain("hello");
    } finally {
      await server.close();
    }
  });

  it("openssl s_client refuses a chain from another root", async () => {
    const other = createRootCA("Another Root");
    writeFileSync(join(dir, "other.pem"), other.certPem);
    const server = await tlsServer({ key: lab.server.keyPem, cert: chainPem(lab.server) });
    try {
      const r = await openssl([
        "s_client",
        "-connect",
        `127.0.0.1:${server.port}`,
        "-CAfile",
        join(dir, "other.pem"),
        "-servername",
        "localhost",
        "-brief",
        "-verify_return_error",
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/unable to get local issuer certificate|certificate verify failed/);
    } finally {
      await server.close();
    }
  });

  it("validity windows can be set: a not-yet-valid certificate is refused by openssl", () => {
    const future = createServerCert(lab.intermediate, "localhost", {
      notBefore: new Date(Date.now() + 10 * 86_400_000),
      notAfter: new Date(Date.now() + 20 * 86_400_000),
    });
    writeFileSync(join(dir, "future.pem"), future.certPem);
    writeFileSync(join(dir, "intermediate.pem"), lab.intermediate.certPem);
    const r = spawnSync(
      "openssl",
      [
        "verify",
        "-CAfile",
        join(dir, "root.pem"),
        "-untrusted",
        join(dir, "intermediate.pem"),
        join(dir, "future.pem"),
      ],
      { encoding: "utf8" },
    );
    expect(r.stdout + r.stderr).toMatch(/error 9 at 0 depth lookup: certificate is not yet valid/);
  });

  it("keys are cached per process: a second lab reuses them (no new key generation)", () => {
    const again = createLab();
    expect(again.server.keyPem).toBe(lab.server.keyPem);
    expect(again.server.certPem).not.toBe(lab.server.certPem); // a fresh certificate (new serial) all the same
  });
});
