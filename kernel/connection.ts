// The connection file: which ports and key a kernel and its client share.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ConnectionInfo {
  transport: "tcp";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  kernel_name?: string;
}

const PORTS = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"] as const;

export function readConnectionFile(path: string): ConnectionInfo {
  let info: any;
  try {
    info = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read connection file ${path}: ${(e as Error).message}`);
  }
  for (const p of PORTS) {
    if (!Number.isInteger(info[p]) || info[p] <= 0)
      throw new Error(`connection file ${path}: ${p} must be a port number`);
  }
  if (info.transport !== "tcp") throw new Error(`connection file ${path}: only tcp transport is supported`);
  return { signature_scheme: "hmac-sha256", key: "", ...info };
}

export function endpoint(info: ConnectionInfo, port: number): string {
  return `${info.transport}://${info.ip}:${port}`;
}

/** Ports the OS reports free right now (bind to 0, read, release), as jupyter_client does. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Writes a fresh connection file (127.0.0.1, random key, mode 0600) into a private temp dir. */
export async function createConnectionFile(): Promise<{ path: string; info: ConnectionInfo }> {
  const ports = await freePorts(PORTS.length);
  const info: ConnectionInfo = {
    transport: "tcp",
    ip: "127.0.0.1",
    key: randomBytes(32).toString("hex"),
    signature_scheme: "hmac-sha256",
    kernel_name: "wirebook",
    ...(Object.fromEntries(PORTS.map((p, i) => [p, ports[i]])) as Pick<ConnectionInfo, (typeof PORTS)[number]>),
  };
  const path = join(mkdtempSync(join(tmpdir(), "wirebook-kernel-")), "connection.json");
  writeFileSync(path, JSON.stringify(info, null, 1), { mode: 0o600 });
  return { path, info };
}
