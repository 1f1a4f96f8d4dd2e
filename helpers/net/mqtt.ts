// MQTT at work: a mosquitto broker started with a config of its own on a free loopback port (and
// stopped at kernel shutdown if not before), with its log kept; and a raw MQTT connection that
// sends packets we encoded (or any bytes at all) and hands back, one by one, the packets the
// broker sent, decoded by helpers/wire/mqtt.ts, or the fact that it closed the connection. The
// `mqtt` npm client and mosquitto_sub/pub talk to the same broker as second opinions.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import { logLines } from "../os/log-lines";
import { sleep } from "../os/time";
import { MqttError, packet, type MqttPacket } from "../wire/mqtt";

/** A port that was free a moment ago, for a daemon that cannot bind port 0 and report it. */
async function freePort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once("error", reject).listen(0, host, resolve));
  const address = probe.address();
  await new Promise((r) => probe.close(r));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function acceptsConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** How many bytes the packet starting at `at` needs in all, once its fixed header is there (0 before). */
function wholeLength(buf: Buffer, at: number): number {
  let n = 0;
  for (let i = 0, mult = 1; i < 4 && at + 1 + i < buf.length; i++, mult *= 128) {
    n += (buf[at + 1 + i] & 0x7f) * mult;
    if (buf[at + 1 + i] < 0x80) return 2 + i + n;
  }
  return 0;
}

export interface MosquittoOptions {
  /** More lines for mosquitto.conf (after the listener). */
  config?: string[];
  /** How long to wait for the broker to listen (default 10 s). */
  startMs?: number;
}

/** mosquitto on 127.0.0.1 with its own config (anonymous clients allowed, no persistence, the log
 *  on stderr with every message type): a service with its port, the log lines so far and close(). */
export async function startMosquitto(opts: MosquittoOptions = {}) {
  const host = "127.0.0.1";
  const dir = mkdtempSync(join(tmpdir(), "wirebook-mosquitto-"));
  const port = await freePort(host);
  const conf = join(dir, "mosquitto.conf");
  const lines = [`listener ${port} ${host}`, "allow_anonymous true", "persistence false", "log_dest stderr"];
  writeFileSync(conf, [...lines, "log_type all", ...(opts.config ?? [])].join("\n") + "\n");
  const child = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  const log = logLines(child, child.stderr, "mosquitto", (l) => l.replace(/^\d+: /, "")); // a timestamp
  let closing: Promise<void> | undefined;
  const stop = onShutdown(async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  });
  const close = () => (closing ??= stop());
  const until = Date.now() + (opts.startMs ?? 10_000);
  while (!(await acceptsConnections(host, port))) {
    if (child.exitCode !== null || Date.now() > until) {
      await close();
      throw new Error(`mosquitto did not start: ${log.lines().slice(-3).join(" / ") || "no log"}`);
    }
    await sleep(50);
  }
  return {
    host,
    port,
    /** The broker's log lines so far, without mosquitto's timestamp prefix ("1700000000: "). */
    log: log.lines,
    /** Waits for log lines: see helpers/os/log-lines.ts. */
    logged: log.logged,
    close,
  };
}

/** What `next()` gives: a packet, the end of the connection, or nothing within the time. */
export type Arrival =
  | { kind: "packet"; packet: MqttPacket; bytes: Buffer }
  | { kind: "closed"; /** "end" (FIN), or the socket error's code. */ how: string }
  | { kind: "timeout" };

/** A raw MQTT connection to `host`:`port`: send encoded packets or any bytes, and read what the
 *  other side sends, packet by packet. Bytes that do not parse end the connection with the
 *  MqttError on `malformed`. Closed at kernel shutdown if not before. */
export async function rawMqtt(host: string, port: number) {
  const socket = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  socket.setNoDelay(true);
  const queue: Arrival[] = [];
  const waiters: ((a: Arrival) => void)[] = [];
  let ended: Arrival | undefined;
  let malformed: MqttError | undefined;
  const push = (a: Arrival) => {
    const w = waiters.shift();
    if (w) w(a);
    else queue.push(a);
  };
  // A large packet arrives in many chunks: they are joined only once the whole packet is there.
  let chunks: Buffer[] = [];
  let total = 0;
  let need = 0;
  socket.on("data", (d: Buffer) => {
    chunks.push(d);
    total += d.length;
    if (total < need) return;
    const buffered = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
    let at = 0;
    need = 0;
    try {
      while (at < buffered.length) {
        const { value, bytes } = packet.read(buffered, at);
        push({ kind: "packet", packet: value, bytes: Buffer.from(buffered.subarray(at, at + bytes)) });
        at += bytes;
      }
    } catch (e) {
      if (!(e instanceof MqttError)) throw e;
      if (e.code !== "ERR_MQTT_TRUNCATED") {
        malformed = e;
        socket.destroy();
      } else need = wholeLength(buffered, at);
    }
    const rest = buffered.subarray(at);
    chunks = rest.length ? [rest] : [];
    total = rest.length;
  });
  const finish = (how: string) => {
    if (ended) return;
    ended = { kind: "closed", how };
    push(ended);
    for (const w of waiters.splice(0)) w(ended);
  };
  socket.on("end", () => finish("end"));
  socket.on("error", (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
  socket.on("close", () => finish("end"));
  let closing: Promise<void> | undefined;
  const stop = onShutdown(
    () =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once("close", () => resolve());
        socket.destroy();
      }),
  );
  return {
    /** Sends a packet (encoded here) or raw bytes. */
    send(p: MqttPacket | Buffer): Buffer {
      const bytes = Buffer.isBuffer(p) ? p : packet.encode(p);
      if (!socket.destroyed) socket.write(bytes);
      return bytes;
    },
    /** The next thing that arrives, within `timeoutMs` (default 2 s). */
    next(timeoutMs = 2000): Promise<Arrival> {
      const a = queue.shift() ?? (queue.length === 0 ? ended : undefined);
      if (a) return Promise.resolve(a);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(done), 1);
          resolve({ kind: "timeout" });
        }, timeoutMs);
        const done = (x: Arrival) => {
          clearTimeout(timer);
          resolve(x);
        };
        waiters.push(done);
      });
    },
    /** Reads PUBLISH packets until one to `endTopic` (not included) arrives, answering QoS 1 and 2
     *  as a subscriber must (PUBACK; PUBREC, then PUBCOMP for the broker's PUBREL); resolves with
     *  them in order, or with what came so far once nothing arrives for `timeoutMs`. */
    async publishesUntil(endTopic: string, timeoutMs = 3000): Promise<Extract<MqttPacket, { type: "publish" }>[]> {
      const got: Extract<MqttPacket, { type: "publish" }>[] = [];
      for (;;) {
        const a = await this.next(timeoutMs);
        if (a.kind !== "packet") return got;
        const p = a.packet;
        if (p.type === "pubrel") this.send({ type: "pubcomp", packetId: p.packetId });
        if (p.type !== "publish") continue;
        if (p.qos === 1 && p.packetId) this.send({ type: "puback", packetId: p.packetId });
        if (p.qos === 2 && p.packetId) this.send({ type: "pubrec", packetId: p.packetId });
        if (p.topic === endTopic) return got;
        got.push(p);
      }
    },
    /** Whether the other side has closed the connection (or it failed). */
    closed: () => ended !== undefined,
    /** Bytes from the other side that did not parse, if any. */
    malformed: () => malformed,
    /** Ends the connection abruptly, with no DISCONNECT (a reset when `reset` is set). */
    drop(reset = false) {
      if (reset) socket.resetAndDestroy();
      else socket.destroy();
    },
    close: () => (closing ??= stop()),
  };
}

const running = new Map<string, () => Promise<void>>();

/** mosquitto_sub as a second subscriber: `-v` (topic and payload per line) on `filters` of the
 *  broker at 127.0.0.1:`port`, with client id `id` and any `extra` arguments (a will, say). Resolves
 *  once the broker's log shows the SUBACK it sent, so publishing may start. A service: `lines()`
 *  is what it printed so far, `until(line)` waits for a line, `kill(signal)` ends it. */
export async function mosquittoSub(
  broker: { port: number; log(): string[] },
  id: string,
  filters: string[],
  extra: string[] = [],
) {
  await running.get(id)?.(); // the same id again (a cell run twice): the old one goes first
  const mark = broker.log().length;
  const args = ["-h", "127.0.0.1", "-p", String(broker.port), "-i", id, "-v", ...extra];
  for (const f of filters) args.push("-t", f);
  const child = spawn("mosquitto_sub", args, { stdio: ["ignore", "pipe", "pipe"] });
  const out = logLines(child, child.stdout, "mosquitto_sub");
  const stop = onShutdown(() => stopProcess(child));
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= stop().then(() => void (running.get(id) === close && running.delete(id))));
  running.set(id, close);
  const until = Date.now() + 10_000;
  while (!broker.log().slice(mark).includes(`Sending SUBACK to ${id}`)) {
    if (child.exitCode !== null || Date.now() > until) {
      await close();
      throw new Error(`mosquitto_sub did not subscribe (exit ${child.exitCode})`);
    }
    await sleep(20);
  }
  return {
    lines: out.lines,
    /** Waits until a line equal to `line` has been printed (false after `timeoutMs`). */
    async until(line: string, timeoutMs = 5000): Promise<boolean> {
      const end = Date.now() + timeoutMs;
      while (!out.lines().includes(line)) {
        if (Date.now() > end || child.exitCode !== null) return false;
        await sleep(20);
      }
      return true;
    },
    /** Ends it with `signal`: SIGKILL leaves no chance to send DISCONNECT. */
    kill(signal: NodeJS.Signals): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
      });
    },
    close,
  };
}
