// Small socket tools that run inside a lab host (helpers/lab/index.ts, `host.run(labnet, "fn", …)`), or
// anywhere else: a UDP replier and a one-shot UDP question, a TCP server that greets and hangs up
// and a client that reads the greeting, and the host's IP counters from /proc/net/snmp. Every
// result is plain JSON; failures come back as the socket error's code ("ECONNREFUSED"), not as
// exceptions, because in these experiments a failure is the answer.
import * as dgram from "node:dgram";
import * as net from "node:net";
import { readFileSync } from "node:fs";

// Servers started in this process, by protocol and port: starting one again on the same port (a
// notebook cell run twice) closes the old one first instead of failing with EADDRINUSE.
const running = new Map<string, () => Promise<unknown>>();
async function replacing(key: string): Promise<void> {
  const close = running.get(key);
  running.delete(key);
  if (close) await close().catch(() => {});
}
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

export interface Heard {
  text: string;
  from: string;
}

/** A UDP server on `port` (all of the host's addresses) that answers every datagram with
 *  `<name> heard "<text>" from <source address>`. A service: stays up until close(). */
export async function udpReplier(port: number, name: string) {
  await replacing(`udp:${port}`);
  const socket = dgram.createSocket("udp4");
  const heard: Heard[] = [];
  socket.on("message", (msg, from) => {
    const text = msg.toString();
    heard.push({ text, from: from.address });
    socket.send(`${name} heard "${text}" from ${from.address}`, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, "0.0.0.0", () => resolve());
  });
  const close = once(() => new Promise<number>((resolve) => socket.close(() => resolve(heard.length))));
  const bound = socket.address().port;
  running.set(`udp:${bound}`, close);
  return { port: bound, name, heard: () => heard.slice(), close };
}

export interface Answer {
  /** The reply's text, or null when none came. */
  reply: string | null;
  /** Why there is no reply: a socket error's code, or "timeout" when nothing came back in time. */
  error?: string;
}

/** Sends one datagram (with IP TTL `ttl` if given) and waits up to `timeoutMs` for one reply. */
export async function udpAsk(
  address: string,
  port: number,
  text: string,
  opts: { ttl?: number; timeoutMs?: number } = {},
): Promise<Answer> {
  const socket = dgram.createSocket("udp4");
  try {
    await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
    if (opts.ttl !== undefined) socket.setTTL(opts.ttl);
    return await new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => resolve({ reply: null, error: "timeout" }), opts.timeoutMs ?? 500);
      socket.once("message", (m) => {
        clearTimeout(timer);
        resolve({ reply: m.toString() });
      });
      socket.send(text, port, address, (err) => {
        if (!err) return;
        clearTimeout(timer);
        resolve({ reply: null, error: (err as NodeJS.ErrnoException).code ?? err.message });
      });
    });
  } finally {
    socket.close();
  }
}

/** A TCP server on `port` that writes `banner` to every client and closes. A service. */
export async function tcpBanner(port: number, banner: string, address = "0.0.0.0") {
  await replacing(`tcp:${port}`);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
    s.end(banner);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  const close = once(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const bound = (server.address() as net.AddressInfo).port;
  running.set(`tcp:${bound}`, close);
  return { port: bound, close };
}

/** Connects, reads until the server closes, and returns the text; or the error's code, or
 *  "timeout" when the connection is not made within `timeoutMs`. */
export function tcpFetch(address: string, port: number, timeoutMs = 1000): Promise<Answer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: null, error: "timeout" });
    }, timeoutMs);
    socket.on("data", (d) => chunks.push(d));
    socket.on("end", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks).toString() });
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ reply: null, error: err.code ?? err.message });
    });
  });
}

/** /proc/net/snmp as { Ip: { ForwDatagrams: n, … }, Icmp: { OutTimeExcds: n, … }, … }: each
 *  protocol has a line of names followed by a line of values. */
export function parseSnmp(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  const lines = text.split("\n").filter((l) => l.includes(":"));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [proto, names] = lines[i].split(/:\s*/);
    const [proto2, values] = lines[i + 1].split(/:\s*/);
    if (proto !== proto2) throw new Error(`/proc/net/snmp: expected a line of values for ${proto}, got ${proto2}`);
    const v = values.trim().split(/\s+/).map(Number);
    out[proto] = Object.fromEntries(
      names
        .trim()
        .split(/\s+/)
        .map((n, k) => [n, v[k]]),
    );
  }
  return out;
}

/** This host's counters: /proc/net/snmp belongs to the reading process's network namespace. */
export function snmpCounters(): Record<string, Record<string, number>> {
  return parseSnmp(readFileSync("/proc/net/snmp", "utf8"));
}
