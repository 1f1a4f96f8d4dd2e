// The reference DNS programs a DNSSEC experiment is checked by, run on 127.0.0.1 and removed
// afterwards: nsd (NLnet Labs' authoritative server) serving a zone file, unbound (a validating
// resolver) that trusts only the DS records it is given and asks only our nsd (a stub zone for
// the root as well, so that nothing leaves the machine), and the zone checkers ldns-verify-zone
// (ldnsutils) and dnssec-verify (BIND's tools). Plus a small stub resolver query on our codec.
// The daemons cannot bind port 0, so they get a port that was free a moment ago.
import { execFile, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import { nowMs, sleep } from "../os/time";
import * as dns from "../wire/dns";
import { udpRequest } from "./services";
import { freeUdpPort } from "./stun";

export interface Answer {
  rcode: string;
  /** Authentic Data: the resolver validated the answer. */
  ad: boolean;
  aa: boolean;
  answers: dns.ResourceRecord[];
  authorities: dns.ResourceRecord[];
}

/** One query over UDP to 127.0.0.1:`port`, with RD and AD set (RFC 6840 §5.7: "tell me whether
 *  you validated it"), and CD (checking disabled) if asked; null when nothing answers in time. */
export async function query(
  port: number,
  name: string,
  type: string,
  o: { cd?: boolean; timeoutMs?: number } = {},
): Promise<Answer | null> {
  const id = randomInt(0x10000);
  const bytes = dns.encode({ id, flags: { rd: true, ad: true, cd: o.cd }, questions: [{ name, type }] });
  try {
    const reply = await udpRequest(port, bytes, {
      timeoutMs: o.timeoutMs ?? 3000,
      accept: (r) => r.length >= 2 && r.readUInt16BE(0) === id,
    });
    const m = dns.decode(reply);
    const { rcode, ad, aa } = m.flags;
    return { rcode: dns.rcodeName(rcode), ad, aa, answers: m.answers, authorities: m.authorities };
  } catch {
    return null;
  }
}

/** Waits until something answers queries on `port` (any rcode); false after `timeoutMs`. */
async function answering(port: number, name: string, timeoutMs: number): Promise<boolean> {
  for (const end = nowMs() + timeoutMs; nowMs() < end; await sleep(50))
    if (await query(port, name, "SOA", { timeoutMs: 300 })) return true;
  return false;
}

/** A daemon in a temporary directory of its own, stopped and removed by close() or at shutdown. */
async function daemon(
  argv: (dir: string, port: number) => string[],
  files: (dir: string, port: number) => Record<string, string>,
  probe: string,
) {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "wirebook-dns-"));
    const port = await freeUdpPort();
    for (const [name, text] of Object.entries(files(dir, port))) writeFileSync(join(dir, name), text);
    const [program, ...args] = argv(dir, port);
    const child = spawn(program, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr = (stderr + d).slice(-2000)));
    const close = onShutdown(async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    });
    if (await answering(port, probe, 10_000)) return { address: "127.0.0.1", port, close, log: () => stderr };
    await close();
    if (attempt === 3) throw new Error(`${program} did not answer on 127.0.0.1:${port}: ${stderr.trim()}`);
  }
}

/** nsd serving `zoneText` (a zone file) for `origin`. */
export function startNsd(origin: string, zoneText: string) {
  const conf = (dir: string, port: number) =>
    [
      "server:",
      `  ip-address: 127.0.0.1@${port}`,
      "  do-ip6: no",
      '  username: ""',
      '  chroot: ""',
      `  zonesdir: "${dir}"`,
      '  database: ""', // no compiled database (it would go to /var/lib/nsd): the zone file is read
      `  zonelistfile: "${dir}/zone.list"`,
      `  xfrdfile: "${dir}/xfrd.state"`,
      `  xfrdir: "${dir}"`,
      '  pidfile: ""',
      "  server-count: 1",
      "  verbosity: 0",
      "remote-control:",
      "  control-enable: no",
      "zone:",
      `  name: "${origin}"`,
      "  zonefile: zone.db",
      "",
    ].join("\n");
  return daemon(
    (dir) => ["nsd", "-d", "-c", join(dir, "nsd.conf")],
    (dir, port) => ({ "zone.db": zoneText, "nsd.conf": conf(dir, port) }),
    origin,
  );
}

/** unbound validating with `trustAnchors` (DS records in zone-file form) and asking only the
 *  authoritative server at 127.0.0.1:`authPort`, for `zone` and (so that no query can leave) for
 *  the root too. */
export function startUnbound(zone: string, authPort: number, trustAnchors: string[]) {
  const conf = (dir: string, port: number) =>
    [
      "server:",
      "  interface: 127.0.0.1",
      `  port: ${port}`,
      "  do-ip6: no",
      "  do-daemonize: no",
      '  username: ""',
      '  chroot: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      "  use-syslog: no",
      '  logfile: ""',
      "  verbosity: 0",
      "  val-log-level: 2",
      "  num-threads: 1",
      "  do-not-query-localhost: no",
      "  access-control: 127.0.0.0/8 allow",
      "  trust-anchor-signaling: no",
      "  root-key-sentinel: no",
      "  qname-minimisation: no",
      // unbound answers names under .test, .invalid, .localhost ... itself (RFC 6761): not this one
      `  local-zone: "${zone.split(".").slice(-1)[0]}." nodefault`,
      '  module-config: "validator iterator"',
      ...trustAnchors.map((ta) => `  trust-anchor: "${ta}"`),
      "remote-control:",
      "  control-enable: no",
      ...[zone, "."].flatMap((z) => ["stub-zone:", `  name: "${z}"`, `  stub-addr: 127.0.0.1@${authPort}`]),
      "",
    ].join("\n");
  return daemon(
    (dir) => ["unbound", "-d", "-c", join(dir, "unbound.conf")],
    (dir, port) => ({ "unbound.conf": conf(dir, port) }),
    zone,
  );
}

export interface ZoneCheck {
  /** The tool's exit status was 0. */
  ok: boolean;
  /** What it printed (stdout and stderr). */
  output: string;
}

/** Checks a signed zone file with ldns-verify-zone or dnssec-verify. */
export async function verifyZone(
  tool: "ldns-verify-zone" | "dnssec-verify",
  origin: string,
  zoneText: string,
): Promise<ZoneCheck> {
  const dir = mkdtempSync(join(tmpdir(), "wirebook-zone-"));
  const file = join(dir, "zone.db");
  writeFileSync(file, zoneText);
  const argv = tool === "ldns-verify-zone" ? [file] : ["-o", origin, file];
  try {
    return await new Promise<ZoneCheck>((resolve) =>
      execFile(tool, argv, { timeout: 30_000 }, (e, stdout, stderr) =>
        resolve({ ok: !e, output: `${stdout}${stderr}`.split(file).join("zone.db").trim() }),
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
