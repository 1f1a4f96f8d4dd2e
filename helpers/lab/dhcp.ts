// The DHCP lab: two hosts on one link, a server (ours, or dnsmasq) and a client (ours) whose
// interface starts without an address. The client runs DORA, applies the lease, renews and
// releases it, while a capture on the client's interface records every DHCP frame to a pcap file;
// tshark then reads the file back. Used by notebook 43 and `npm run lab -- dhcp`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as capture from "../os/capture";
import { needProgram } from "../os/programs";
import { tshark, TSHARK_PROBLEMS } from "../os/tshark";
import * as client from "../net/dhcp-client";
import * as server from "../net/dhcp-server";
import { startLab, type Lab } from ".";
import { bpf } from "../wire/bpf";

export type DhcpServerKind = "own" | "dnsmasq";

export interface DhcpLabOptions {
  server: DhcpServerKind;
  /** Where the capture goes; default a temp file removed when the lab is closed. */
  pcap?: string;
  /** Renew this many ms after the lease is bound (default 1000), then release. */
  renewAfterMs?: number;
}

export const SUBNET = "10.0.0.0/24";
const SERVER_IP = "10.0.0.1";
const POOL = ["10.0.0.100", "10.0.0.149"] as const;

/** Our server's configuration in this lab; dnsmasq gets the same pool, router and domain. */
export const OWN_SERVER: server.DhcpServerOptions = {
  iface: "eth0",
  serverIp: SERVER_IP,
  poolStart: POOL[0],
  poolEnd: POOL[1],
  router: SERVER_IP,
  dnsServers: [SERVER_IP],
  domainName: "lab.internal",
  leaseTime: 120,
};

export interface DhcpLabResult {
  server: DhcpServerKind;
  transcript: client.DhcpTranscript;
  /** Our server's log and leases; for dnsmasq, the lines of its log about DHCP. */
  serverLog: server.ExchangeRecord[] | string[];
  pcap: { path: string; frames: number };
}

/** With our server, its log is the records of what it received and sent. */
export interface OwnDhcpLabResult extends DhcpLabResult {
  server: "own";
  serverLog: server.ExchangeRecord[];
}

/** With dnsmasq, its log is the lines it wrote about DHCP. */
export interface DnsmasqDhcpLabResult extends DhcpLabResult {
  server: "dnsmasq";
  serverLog: string[];
}

/** Builds the lab, runs the exchange, stops the server and the capture; the lab stays open.
 *  The result's type says which log `serverLog` holds when the call names the server. */
export function runDhcpLab(lab: Lab, opts: DhcpLabOptions & { server: "own" }): Promise<OwnDhcpLabResult>;
export function runDhcpLab(lab: Lab, opts: DhcpLabOptions & { server: "dnsmasq" }): Promise<DnsmasqDhcpLabResult>;
export function runDhcpLab(lab: Lab, opts: DhcpLabOptions): Promise<DhcpLabResult>;
export async function runDhcpLab(lab: Lab, opts: DhcpLabOptions): Promise<DhcpLabResult> {
  const work = mkdtempSync(join(tmpdir(), "wirebook-dhcp-"));
  const pcap = resolve(opts.pcap ?? join(work, "dora.pcap"));
  const cap = await lab.host("client").run(capture, "startCapture", { iface: "eth0", pcap, filter: bpf.udpPort(67) });
  try {
    const stopServer = await startServer(lab, opts.server, work);
    const transcript = await lab.host("client").run(client, "dhcpClient", {
      iface: "eth0",
      hostName: "wirebook-client",
      apply: true,
      renew: opts.renewAfterMs ?? 1000,
      release: true,
      timeoutMs: 1000,
    });
    const serverLog = await stopServer();
    return { server: opts.server, transcript, serverLog, pcap: { path: pcap, frames: (await cap.stop(200)).written } };
  } finally {
    await cap.close().catch(() => {}); // already closed unless something failed
    if (!opts.pcap) lab.onClose(() => rmSync(work, { recursive: true, force: true }));
    else rmSync(work, { recursive: true, force: true });
  }
}

/** The lab of this experiment: the client's interface has no address until DHCP gives it one. */
export function startDhcpLab(): Promise<Lab> {
  return startLab({
    hosts: { server: {}, client: {} },
    links: [{ between: ["server", "client"], subnet: SUBNET, addresses: { server: SERVER_IP, client: null } }],
  });
}

async function startServer(
  lab: Lab,
  kind: DhcpServerKind,
  work: string,
): Promise<() => Promise<server.ExchangeRecord[] | string[]>> {
  if (kind === "own") {
    const own = await lab.host("server").run(server, "startDhcpServer", OWN_SERVER);
    return async () => (await own.close()).log;
  }
  needProgram("dnsmasq", "dnsmasq-base");
  // --no-ping: dnsmasq would otherwise ping an address for a few seconds before offering it.
  // --user=root: it would switch to "nobody", which a user namespace of ours does not map.
  const dnsmasq = lab
    .host("server")
    .spawn([
      "dnsmasq",
      "--no-daemon",
      "--conf-file=/dev/null",
      "--interface=eth0",
      "--bind-interfaces",
      "--port=0",
      `--dhcp-range=${POOL[0]},${POOL[1]},255.255.255.0,2m`,
      "--dhcp-option=option:router," + SERVER_IP,
      "--domain=lab.internal",
      `--dhcp-leasefile=${join(work, "dnsmasq.leases")}`,
      "--pid-file=",
      "--user=root",
      "--group=root",
      "--no-ping",
      "--log-dhcp",
    ]);
  let log = "";
  dnsmasq.stderr!.on("data", (d) => (log += d));
  const started = Date.now();
  while (!log.includes("DHCP, sockets bound")) {
    if (dnsmasq.exitCode !== null || Date.now() - started > 10_000)
      throw new Error(`dnsmasq did not start: ${log.trim()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return async () => {
    dnsmasq.kill("SIGTERM");
    await new Promise((r) => (dnsmasq.exitCode !== null ? r(null) : dnsmasq.once("exit", r)));
    return log
      .split("\n")
      .filter((l) => /DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE)/.test(l))
      .map((l) => l.replace(/^dnsmasq-dhcp(\[\d+\])?: (\d+ )?/, ""));
  };
}

export interface TsharkDhcp {
  /** One row per DHCP frame as tshark dissects it: the message type, IPv4 addresses, the client MAC. */
  frames: { type: string; src: string; dst: string; mac: string }[];
  /** Frames tshark flags as malformed or with an expert error. */
  malformed: number;
  /** Frames with an expert note of severity warning or above (malformed ones included). */
  warnings: number;
}

const TYPES: Record<string, string> = {
  "1": "DISCOVER",
  "2": "OFFER",
  "3": "REQUEST",
  "4": "DECLINE",
  "5": "ACK",
  "6": "NAK",
  "7": "RELEASE",
  "8": "INFORM",
};

/** tshark's reading of a capture: the independent check of every DHCP byte we put on the wire. */
export async function tsharkDhcp(pcap: string): Promise<TsharkDhcp> {
  const read = (...args: string[]) => tshark(pcap, "-n", ...args).trim();
  const rows = read(
    "-Y",
    "dhcp",
    "-T",
    "fields",
    "-E",
    "separator=,",
    "-e",
    "dhcp.option.dhcp",
    "-e",
    "ip.src",
    "-e",
    "ip.dst",
    "-e",
    "dhcp.hw.mac_addr",
  );
  const count = (filter: string) => {
    const lines = read("-Y", filter, "-T", "fields", "-e", "frame.number");
    return lines ? lines.split("\n").length : 0;
  };
  return {
    frames: rows
      ? rows
          .split("\n")
          .map((r) => r.split(","))
          .map(([t, src, dst, mac]) => ({ type: TYPES[t] ?? `type ${t}`, src, dst, mac }))
      : [],
    malformed: count("_ws.malformed || _ws.expert.severity == error"),
    warnings: count(TSHARK_PROBLEMS),
  };
}
