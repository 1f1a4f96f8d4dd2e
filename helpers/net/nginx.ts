// nginx as a peer: started on 127.0.0.1 with a config the caller writes (the inside of the `http`
// block), in a temporary prefix of its own (config, pid file, logs, temp paths), as one process in
// the foreground (`daemon off; master_process off;`, so it never switches user and needs no
// root), and stopped when the notebook closes it or the kernel shuts down. nginx cannot listen on
// port 0, so a free port is picked just before it starts (as for iperf3), and `startNginx` only
// returns once that port accepts connections.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import { sleep } from "../os/time";

export class NginxError extends Error {
  code = "ERR_NGINX";
}

export interface Nginx {
  port: number;
  /** The temporary directory nginx runs in. */
  prefix: string;
  /** What nginx wrote to its error log so far. */
  errorLog(): string;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, released before it is returned (pick it just before use). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((r) => probe.close(r));
  if (!address || typeof address === "string") throw new NginxError("no port");
  return address.port;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/** The whole nginx.conf around `http`, the inside of the http block (it must `listen` on `port`). */
export function nginxConf(prefix: string, http: string): string {
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((t) => `  ${t}_temp_path ${join(prefix, t)};`)
    .join("\n");
  return [
    "daemon off;",
    "master_process off;",
    `pid ${join(prefix, "nginx.pid")};`,
    `error_log ${join(prefix, "error.log")} info;`,
    "events { worker_connections 256; }",
    "http {",
    `  access_log ${join(prefix, "access.log")};`,
    temp,
    http,
    "}",
    "",
  ].join("\n");
}

/** Starts nginx with `http(port)` as the inside of its http block. */
export async function startNginx(http: (port: number) => string, timeoutMs = 10_000): Promise<Nginx> {
  // Another process may take the free port before nginx binds it: then nginx exits, and we try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(http, timeoutMs);
    } catch (e) {
      if (!(e instanceof NginxError && /in use/.test(e.message)) || attempt >= 3) throw e;
    }
  }
}

async function startOnce(http: (port: number) => string, timeoutMs: number): Promise<Nginx> {
  const prefix = mkdtempSync(join(tmpdir(), "wirebook-nginx-"));
  const port = await freePort();
  const conf = join(prefix, "nginx.conf");
  writeFileSync(conf, nginxConf(prefix, http(port)));
  const errorLogPath = join(prefix, "error.log");
  const child = spawn("nginx", ["-p", prefix, "-c", conf, "-e", errorLogPath], { stdio: "ignore" });
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  child.on("error", () => (exited = -1));
  const errorLog = () => {
    try {
      return readFileSync(errorLogPath, "utf8");
    } catch {
      return "";
    }
  };
  const close = onShutdown(async () => {
    await stopProcess(child);
    rmSync(prefix, { recursive: true, force: true });
  });
  const fail = async () => {
    const why = errorLog().trim().split("\n").slice(-3).join(" / ");
    await close();
    return new NginxError(`nginx did not start (exit ${exited}): ${why}`);
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exited !== undefined || Date.now() > deadline) throw await fail();
    await sleep(20);
  }
  await sleep(50); // whoever accepted, nginx must still be running (a failed bind exits at once)
  if (exited !== undefined) throw await fail();
  let closing: Promise<void> | undefined;
  return { port, prefix, errorLog, close: () => (closing ??= close()) };
}
