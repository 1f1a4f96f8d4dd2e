// UDP packets per second through the kernel on loopback: a sender and a receiver, each in its own
// process, and the kernel's own UDP counters (/proc/net/snmp) as the witness of what it did.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";

const RECEIVER = `
const dgram = require("node:dgram");
const s = dgram.createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
let packets = 0, bytes = 0;
s.on("message", (m) => { packets++; bytes += m.length; });
s.bind(0, "127.0.0.1", () => process.stdout.write(s.address().port + "\\n"));
// The kernel's count of datagrams dropped on this socket (its receive buffer was full): the last
// column of our line in /proc/net/udp, whose local address is 0100007F:<port in hex>.
const socketDrops = () => {
  const local = "0100007F:" + s.address().port.toString(16).toUpperCase().padStart(4, "0");
  const line = require("node:fs").readFileSync("/proc/net/udp", "utf8").split("\\n").find((l) => l.trim().split(/\\s+/)[1] === local);
  return Number(line.trim().split(/\\s+/).pop());
};
process.stdin.on("data", () => setTimeout(() => { process.stdout.write(JSON.stringify({ packets, bytes, drops: socketDrops() }) + "\\n"); s.close(); }, 200));
`;

// Sends batches of datagrams, letting the event loop breathe between batches, for `seconds`.
const SENDER = `
const dgram = require("node:dgram");
const [port, size, seconds] = process.argv.slice(1).map(Number);
const s = dgram.createSocket({ type: "udp4", sendBufferSize: 8 << 20 });
const payload = Buffer.alloc(size, 0x61);
let sent = 0;
const end = Date.now() + seconds * 1000;
s.connect(port, "127.0.0.1", async () => {
  while (Date.now() < end) {
    await new Promise((resolve) => { let left = 256; for (let i = 0; i < 256; i++) s.send(payload, () => { sent++; if (--left === 0) resolve(); }); });
  }
  process.stdout.write(JSON.stringify({ sent }) + "\\n");
  s.close();
});
`;

/** The kernel's machine-wide UDP counters (InDatagrams, RcvbufErrors, ...) from /proc/net/snmp. */
export function udpCounters(): Record<string, number> {
  const lines = readFileSync("/proc/net/snmp", "utf8")
    .split("\n")
    .filter((l) => l.startsWith("Udp:"));
  const [names, values] = lines.map((l) => l.split(/\s+/).slice(1));
  return Object.fromEntries(names.map((n, i) => [n, Number(values[i])]));
}

export interface PpsResult {
  size: number;
  seconds: number;
  sent: number;
  received: number;
  /** Datagrams per second the receiver got. */
  pps: number;
  /** Datagrams the kernel dropped at the receiving socket (its buffer was full), from /proc/net/udp. */
  socketDrops: number;
}

const firstLine = async (stream: NodeJS.ReadableStream) => String((await once(stream, "data"))[0]).trim();

/** Floods `size`-byte datagrams for `seconds` and counts what arrived. */
export async function udpPacketRate(size: number, seconds = 1): Promise<PpsResult> {
  const receiver = spawn(process.execPath, ["-e", RECEIVER], { stdio: ["pipe", "pipe", "inherit"] });
  try {
    const port = Number(await firstLine(receiver.stdout!));
    const sender = spawn(process.execPath, ["-e", SENDER, String(port), String(size), String(seconds)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const { sent } = JSON.parse(await firstLine(sender.stdout!));
    receiver.stdin!.write("done\n");
    const { packets, drops } = JSON.parse(await firstLine(receiver.stdout!));
    return {
      size,
      seconds,
      sent,
      received: packets,
      pps: packets / seconds,
      socketDrops: drops,
    };
  } finally {
    receiver.kill();
  }
}
