// STUN and NAT traversal at work, on the codec of wire/stun.ts: a small STUN server (Binding
// requests answered with the sender's address as seen, RFC 8489 §7.3), a peer that keeps one UDP
// socket for everything it does — ask a STUN server its mapped address, punch a hole towards
// another peer by sending while listening, talk through a TURN relay (RFC 8656: Allocate with the
// long-term credential, CreatePermission, Send and Data indications) — and coturn, the reference
// server, started on loopback or as a command for a lab host. They run in this process or inside a
// lab host (`lab.host("a").run(stunNet, "stunPeer", 5000)`); results are plain data.
import { spawn } from "node:child_process";
import * as dgram from "node:dgram";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import { nowMs, sleep } from "../os/time";
import * as stun from "../wire/stun";
import { udpServer } from "./services";

/** The SOFTWARE our server and peer send. */
export const SOFTWARE = "wirebook STUN";

/** The Binding success response to `request` from `from`: XOR-MAPPED-ADDRESS, SOFTWARE and a
 *  FINGERPRINT; null for anything that is not a Binding request. Pure: the server's core. */
export function bindingResponse(request: Buffer, from: { address: string; port: number }): Buffer | null {
  if (!stun.looksLikeStun(request)) return null;
  const m = stun.decode(request);
  if (m.method !== "Binding" || m.class !== "request") return null;
  return stun.encode({
    method: "Binding",
    class: "success",
    transactionId: m.transactionId,
    attributes: [
      { type: "XOR-MAPPED-ADDRESS", address: from.address, port: from.port },
      { type: "SOFTWARE", value: SOFTWARE },
      { type: "FINGERPRINT" },
    ],
  });
}

/** A STUN server on `port` (0: any) that answers Binding requests. A service. */
export async function stunServer(port: number, address?: string) {
  const server = await udpServer(port, {
    address,
    reply: (message, from) => bindingResponse(message, { address: from.address, port: from.port }),
  });
  return { port: server.port, answered: () => server.count(), close: server.close };
}

export interface BindingResult {
  /** "address:port" the server saw, or null when no answer came. */
  mapped: string | null;
  /** The server's SOFTWARE, if it sent one. */
  software?: string;
  /** Whether the answer's FINGERPRINT held (undefined: it had none). */
  fingerprintOk?: boolean;
  /** Every attribute of the answer, decoded. */
  attributes?: stun.StunAttribute[];
  error?: string;
}

export interface Heard {
  from: string;
  text: string;
}

/** Binding request bytes with a fresh transaction id (and a FINGERPRINT, as ICE sends them). */
export const bindingRequest = (transactionId = stun.transactionId()): Buffer =>
  stun.encode({
    method: "Binding",
    class: "request",
    transactionId,
    attributes: [{ type: "SOFTWARE", value: SOFTWARE }, { type: "FINGERPRINT" }],
  });

// A peer started again on the same port (a cell run twice) replaces the old one.
const peers = new Map<number, () => Promise<void>>();

/**
 * One UDP socket on `localPort` (0: any) that does everything a peer behind a NAT does from the
 * same port, so that every step uses the same NAT mapping. A service.
 */
export async function stunPeer(localPort: number, address = "0.0.0.0") {
  await peers.get(localPort)?.();
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(localPort, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  socket.on("error", () => {}); // ICMP errors on an unconnected socket: a lost datagram, nothing more
  const heard: Heard[] = [];
  const waiting = new Map<string, (m: stun.StunMessage, from: string) => void>();
  socket.on("message", (data, from) => {
    const where = `${from.address}:${from.port}`;
    if (stun.looksLikeStun(data)) {
      try {
        const m = stun.decode(data);
        if (m.method === "Data" && m.class === "indication") return relayed(m);
        waiting.get(m.transactionId.toString("hex"))?.(m, where);
      } catch {
        // not for us
      }
      return;
    }
    heard.push({ from: where, text: data.toString() });
  });
  const relayed = (m: stun.StunMessage) => {
    const peer = stun.attribute(m, "XOR-PEER-ADDRESS");
    const data = stun.attribute(m, "DATA");
    if (peer && data) heard.push({ from: `${peer.address}:${peer.port} via the relay`, text: data.data.toString() });
  };
  const send = (b: Buffer, to: string, port: number) =>
    new Promise<void>((resolve) => socket.send(b, port, to, () => resolve()));

  /** Sends `request` until an answer with its transaction id comes (retransmitting, as RFC 8489
   *  §6.2.1 says, here every 250 ms), or `timeoutMs` passes. */
  async function transact(request: Buffer, to: string, port: number, timeoutMs: number) {
    const id = request.subarray(8, 20).toString("hex");
    let answer: { m: stun.StunMessage; from: string } | undefined;
    waiting.set(id, (m, from) => (answer = { m, from }));
    try {
      for (let end = nowMs() + timeoutMs, next = 0; !answer && nowMs() < end; await sleep(10))
        if (nowMs() >= next) {
          await send(request, to, port);
          next = nowMs() + 250;
        }
      return answer;
    } finally {
      waiting.delete(id);
    }
  }

  let closed: Promise<void> | undefined;
  // A TURN allocation is given back first (a Refresh with LIFETIME 0), as a client should.
  const shut = () =>
    (closed ??= (relay?.release() ?? Promise.resolve()).then(
      () =>
        new Promise<void>((resolve) => {
          if (peers.get(localPort) === close) peers.delete(localPort);
          socket.close(() => resolve());
        }),
    ));
  const forget = onShutdown(shut);
  const close = () => forget().then(shut);
  if (localPort) peers.set(localPort, close);
  let relay: TurnSession | undefined;
  return {
    port: socket.address().port,
    /** Asks the STUN server at `to`:`port` what address this socket's datagrams come from. */
    async binding(to: string, port: number, timeoutMs = 1500): Promise<BindingResult> {
      const got = await transact(bindingRequest(), to, port, timeoutMs);
      if (!got) return { mapped: null, error: "timeout" };
      const mapped = stun.attribute(got.m, "XOR-MAPPED-ADDRESS") ?? stun.attribute(got.m, "MAPPED-ADDRESS");
      return {
        mapped: mapped ? `${mapped.address}:${mapped.port}` : null,
        software: stun.attribute(got.m, "SOFTWARE")?.value,
        fingerprintOk: stun.attribute(got.m, "FINGERPRINT")?.ok,
        attributes: got.m.attributes,
      };
    },
    /** Hole punching: sends `text` to `to`:`port` every `intervalMs` for `ms` while listening,
     *  and returns what arrived from anyone meanwhile. */
    async punch(to: string, port: number, text: string, ms = 1500, intervalMs = 100): Promise<Heard[]> {
      const first = heard.length;
      for (const end = nowMs() + ms; nowMs() < end; await sleep(intervalMs)) await send(Buffer.from(text), to, port);
      return heard.slice(first);
    },
    /** Everything heard so far (datagrams, and data relayed by TURN); with `text`, first waits
     *  up to `timeoutMs` for a datagram that says it. */
    async heard(text?: string, timeoutMs = 2000): Promise<Heard[]> {
      for (const end = nowMs() + timeoutMs; text !== undefined && nowMs() < end; await sleep(10))
        if (heard.some((h) => h.text === text)) break;
      return heard.slice();
    },
    /** TURN: an allocation on the server at `to`:`port` with the long-term credential; returns
     *  the relayed address, or why not. */
    async allocate(to: string, port: number, user: { username: string; password: string }) {
      relay = new TurnSession(to, port, user, transact);
      return relay.allocate();
    },
    /** TURN: lets datagrams from `peer` (an IP address; ports do not matter) in through the relay. */
    permit: (peer: string) => (relay ? relay.permit(peer) : Promise.resolve({ ok: false, steps: ["no allocation"] })),
    /** TURN: sends `text` to `peer`:`port` through the relay (a Send indication). */
    async relaySend(peer: string, port: number, text: string): Promise<void> {
      if (!relay) throw new Error("no TURN allocation: call allocate() first");
      await send(relay.sendIndication(peer, port, Buffer.from(text)), relay.server, relay.serverPort);
    },
    close,
  };
}

type Transact = (
  request: Buffer,
  to: string,
  port: number,
  timeoutMs: number,
) => Promise<{ m: stun.StunMessage; from: string } | undefined>;

/** A TURN client's state: the server, the credential, and the realm and nonce the server chose. */
class TurnSession {
  private realm = "";
  private nonce = "";
  constructor(
    readonly server: string,
    readonly serverPort: number,
    private readonly user: { username: string; password: string },
    private readonly transact: Transact,
  ) {}

  private request(method: string, attributes: stun.StunAttribute[]): Buffer {
    const signed: stun.StunAttribute[] = this.nonce
      ? [
          { type: "USERNAME", value: this.user.username },
          { type: "REALM", value: this.realm },
          { type: "NONCE", value: this.nonce },
          { type: "MESSAGE-INTEGRITY", key: stun.longTermKey(this.user.username, this.realm, this.user.password) },
        ]
      : [];
    return stun.encode({
      method,
      class: "request",
      transactionId: stun.transactionId(),
      attributes: [...attributes, ...signed, { type: "FINGERPRINT" }],
    });
  }

  /** A request; a 401 (or 438, stale nonce) answer teaches the realm and nonce, and it is sent once more. */
  private async ask(method: string, attributes: stun.StunAttribute[]) {
    const steps: string[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      const got = await this.transact(this.request(method, attributes), this.server, this.serverPort, 2000);
      if (!got) return { steps: [...steps, `${method}: no answer`], answer: undefined };
      const error = stun.attribute(got.m, "ERROR-CODE");
      const reason = error?.reason.replace(/\0+$/, ""); // coturn ends its reasons with a NUL
      steps.push(`${method} ${got.m.class}${error ? ` ${error.code} ${reason}` : ""}`);
      if (got.m.class === "success") return { steps, answer: got.m };
      if (!error || (error.code !== 401 && error.code !== 438)) return { steps, answer: undefined };
      this.realm = stun.attribute(got.m, "REALM")?.value ?? this.realm;
      this.nonce = stun.attribute(got.m, "NONCE")?.value ?? this.nonce;
    }
    return { steps, answer: undefined };
  }

  async allocate() {
    const { steps, answer } = await this.ask("Allocate", [{ type: "REQUESTED-TRANSPORT", protocol: 17 }]);
    const relayed = answer && stun.attribute(answer, "XOR-RELAYED-ADDRESS");
    const mapped = answer && stun.attribute(answer, "XOR-MAPPED-ADDRESS");
    return {
      steps,
      relayed: relayed ? `${relayed.address}:${relayed.port}` : null,
      mapped: mapped ? `${mapped.address}:${mapped.port}` : null,
      lifetime: answer && stun.attribute(answer, "LIFETIME")?.value,
    };
  }

  /** Deletes the allocation: a Refresh with LIFETIME 0 (RFC 8656 §8). */
  async release(): Promise<void> {
    await this.ask("Refresh", [{ type: "LIFETIME", value: 0 }]);
  }

  async permit(peer: string) {
    const { steps, answer } = await this.ask("CreatePermission", [
      { type: "XOR-PEER-ADDRESS", address: peer, port: 0 },
    ]);
    return { ok: answer !== undefined, steps };
  }

  sendIndication(peer: string, port: number, data: Buffer): Buffer {
    return stun.encode({
      method: "Send",
      class: "indication",
      transactionId: stun.transactionId(),
      attributes: [
        { type: "XOR-PEER-ADDRESS", address: peer, port },
        { type: "DATA", data },
      ],
    });
  }
}

// ---- coturn --------------------------------------------------------------------------------------

export interface CoturnOptions {
  /** The address it listens on (and relays from). */
  address: string;
  port: number;
  /** TURN users ("name:password"); none: STUN only. */
  users?: string[];
  realm?: string;
}

/** The turnserver command line: no TLS, no CLI, no files (its user database in memory). */
export function coturnCommand(o: CoturnOptions): string[] {
  const turn = o.users?.length
    ? ["--lt-cred-mech", `--realm=${o.realm ?? "wirebook.test"}`, ...o.users.map((u) => `--user=${u}`)]
    : ["--stun-only"];
  return [
    "turnserver",
    "-n",
    "--no-cli",
    "--no-tls",
    "--no-dtls",
    "--fingerprint",
    `--listening-ip=${o.address}`,
    `--relay-ip=${o.address}`,
    `--listening-port=${o.port}`,
    "--min-port=49152",
    "--max-port=49407",
    "--pidfile=/dev/null",
    "--db=:memory:",
    "--log-file=stdout",
    "--simple-log",
    ...turn,
  ];
}

/** A UDP port on 127.0.0.1 that was free a moment ago (for servers that cannot bind port 0). */
export async function freeUdpPort(): Promise<number> {
  const probe = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Waits until a STUN server answers a Binding request at `to`:`port`; false after `timeoutMs`. */
export async function waitForStun(to: string, port: number, timeoutMs = 10_000): Promise<boolean> {
  const peer = await stunPeer(0);
  try {
    for (const end = nowMs() + timeoutMs; nowMs() < end;) if ((await peer.binding(to, port, 300)).mapped) return true;
    return false;
  } finally {
    await peer.close();
  }
}

/** coturn as a STUN server on 127.0.0.1 (a free port). Stopped by close() or at kernel shutdown.
 *  A port taken by someone else between the probe and coturn's bind: it tries another, twice. */
export async function startCoturn(options: { users?: string[]; realm?: string } = {}) {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort();
    const argv = coturnCommand({ address: "127.0.0.1", port, ...options });
    const child = spawn(argv[0], argv.slice(1), { stdio: "ignore" });
    const close = onShutdown(() => stopProcess(child));
    if (await waitForStun("127.0.0.1", port)) return { address: "127.0.0.1", port, close };
    await close();
    if (attempt === 3) throw new Error(`coturn did not answer on 127.0.0.1 (last tried port ${port})`);
  }
}
