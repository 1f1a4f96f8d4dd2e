// A small BGP speaker (RFC 4271 §8's finite state machine, the active side only): it opens a TCP
// connection to a peer's port 179 from a chosen local address, sends OPEN, checks the peer's
// OPEN, confirms with KEEPALIVE and keeps the session up with KEEPALIVEs every third of the
// negotiated hold time. Then it sends UPDATEs (announce, withdraw) or any bytes at all, and keeps
// every message the peer sends, decoded by wire/bgp.ts. Runs inside a lab host
// (`host.run(speaker, "bgpSession", {...})`) and is a service there: close() ends the session
// with a Cease NOTIFICATION.
import * as net from "node:net";
import { onShutdown } from "../../kernel/runtime";
import {
  announce,
  AS_TRANS,
  BGP_PORT,
  bgp,
  bgpStream,
  capabilities as ourCapabilities,
  openAs,
  type BgpMessage,
  type Capability,
  type MessageType,
  type Open,
  type Origin,
} from "../wire/bgp";
import { nowMs } from "../os/time";

export interface SessionOptions {
  peer: string;
  /** The address to connect from: what the peer knows us by. */
  localAddress?: string;
  port?: number;
  myAs: number;
  bgpId: string;
  /** Seconds (default 90). */
  holdTime?: number;
  /** What OPEN announces (default: IPv4 unicast and the 4-octet AS). */
  capabilities?: Capability[];
  /** How long to wait for the session to come up, in ms (default 5000). */
  timeoutMs?: number;
}

export interface Received {
  /** Milliseconds since the session's connection attempt began. */
  atMs: number;
  message: BgpMessage;
  length: number;
}

export type SessionState = "connecting" | "open-sent" | "open-confirm" | "established" | "closed";

export interface SessionStatus {
  state: SessionState;
  /** The peer's OPEN, once it came. */
  peerAs?: number;
  peerId?: string;
  holdTime?: number;
  /** Why the session ended: the peer's NOTIFICATION, a decoding error, or the socket's. */
  ended?: string;
  received: number;
  /** TCP connections it took (the peer may refuse a few while it waits after an error). */
  attempts: number;
  /** The TCP port of the last connection (to find it in a capture). */
  localPort?: number;
}

// A session asked for again (a cell run twice) while the same one is still established is that
// session: a second connection to the same peer would collide with the first (RFC 4271 §6.8).
const running = new Map<string, BgpSession>();
export type BgpSession = Awaited<ReturnType<typeof openSession>>;

/** Opens a session; resolves once it is established, or has ended (status() says which). */
export async function bgpSession(opts: SessionOptions): Promise<BgpSession> {
  const key = [opts.localAddress ?? "*", opts.peer, opts.port ?? BGP_PORT, opts.myAs, opts.bgpId].join(" ");
  const old = running.get(key);
  if (old && old.status().state === "established") return old;
  const session = await openSession(opts);
  running.set(key, session);
  return session;
}

async function openSession(opts: SessionOptions) {
  const t0 = nowMs();
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  let state: SessionState = "connecting";
  let peerOpen: Open | undefined;
  let ended: string | undefined;
  let hold = opts.holdTime ?? 90;
  let keepalive: NodeJS.Timeout | undefined;
  let stream = bgpStream();
  let socket: net.Socket;
  let attempts = 0;
  let localPort: number | undefined;
  const deadline = t0 + (opts.timeoutMs ?? 5000);

  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const end = (why: string) => {
    if (state === "closed") return;
    state = "closed";
    ended = why;
    clearInterval(keepalive);
    socket.destroy();
    wake();
  };
  const sent: Array<MessageType | "bytes"> = [];
  const send = (m: BgpMessage | Buffer) => {
    if (state === "closed") return;
    socket.write(Buffer.isBuffer(m) ? m : bgp.encode(m));
    sent.push(Buffer.isBuffer(m) ? "bytes" : m.type);
  };
  // RFC 4271's ConnectRetry: a connection the peer closes (or refuses) before its OPEN came is
  // tried again, every half second, until the deadline; a peer that has just dropped a session
  // does not listen again at once.
  const retryOrEnd = (why: string) => {
    if (state === "closed") return;
    if (!peerOpen && nowMs() + 500 < deadline) {
      socket.destroy();
      state = "connecting";
      setTimeout(connect, 500);
    } else end(why);
  };

  function connect() {
    if (state === "closed") return;
    attempts++;
    stream = bgpStream();
    socket = net.connect({ host: opts.peer, port: opts.port ?? BGP_PORT, localAddress: opts.localAddress });
    socket.setNoDelay(true);
    const mine = socket;
    socket.on("connect", () => {
      localPort = socket.localPort;
      state = "open-sent";
      send({
        type: "open",
        version: 4,
        myAs: opts.myAs > 0xffff ? AS_TRANS : opts.myAs,
        holdTime: hold,
        bgpId: opts.bgpId,
        capabilities: opts.capabilities ?? ourCapabilities(opts.myAs),
      });
    });
    socket.on("data", (chunk: Buffer) => {
      let messages;
      try {
        messages = stream.push(chunk);
      } catch (e) {
        return end(`our decoder: ${e instanceof Error ? e.message : String(e)}`);
      }
      for (const { message, bytes } of messages) {
        received.push({ atMs: nowMs() - t0, message, length: bytes.length });
        if (message.type === "notification") end(`NOTIFICATION ${message.code}/${message.subcode}`);
        else if (message.type === "open" && state === "open-sent") {
          peerOpen = message;
          hold = Math.min(hold, message.holdTime);
          state = "open-confirm";
          send({ type: "keepalive" });
        } else if (message.type === "keepalive" && state === "open-confirm") {
          state = "established";
          if (hold > 0) keepalive = setInterval(() => send({ type: "keepalive" }), (hold * 1000) / 3);
        }
      }
      wake();
    });
    socket.on("error", (e) => mine === socket && retryOrEnd(`socket: ${Reflect.get(e, "code") ?? e.message}`));
    socket.on("close", () => mine === socket && retryOrEnd("the peer closed the connection"));
  }

  connect();

  /** Resolves when `done()` holds or `timeoutMs` passed; true if it held. */
  const until = (done: () => boolean, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (done()) return resolve(true);
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      waiters.add(check);
    });

  await until(() => state === "established" || state === "closed", deadline - nowMs());
  const current = (): SessionState => state; // read anew: callbacks change it
  if (current() !== "established" && current() !== "closed") end("timed out before the session came up");

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      if (current() === "established") {
        send({ type: "notification", code: 6, subcode: 2, data: Buffer.alloc(0) }); // Cease / Administrative Shutdown
        await new Promise<void>((r) => socket.end(() => r()));
      }
      end("closed by us");
    })());
  const forget = onShutdown(shutdown);
  /** Ends the session with a Cease NOTIFICATION (Administrative Shutdown). */
  const close = () => forget().then(shutdown);

  return {
    status(): SessionStatus {
      return {
        state,
        peerAs: peerOpen && openAs(peerOpen),
        peerId: peerOpen?.bgpId,
        holdTime: peerOpen ? hold : undefined,
        ended,
        received: received.length,
        attempts,
        localPort,
      };
    },
    /** The messages received so far (from index `from`). */
    received(from = 0): Received[] {
      return received.slice(from);
    },
    /** The types of the messages sent so far, in order ("bytes" for raw bytes). */
    sent(): Array<MessageType | "bytes"> {
      return [...sent];
    },
    /** Announces `nlri` with these attributes, in one UPDATE. */
    announce(
      nlri: string[],
      route: { asPath: number[]; nextHop: string; origin?: Origin; med?: number; localPref?: number },
    ) {
      send(announce(nlri, route));
    },
    withdraw(prefixes: string[]) {
      send({ type: "update", withdrawn: prefixes, attributes: [], nlri: [] });
    },
    /** Sends a message, or raw bytes (to see what the peer makes of a broken one). */
    send(m: BgpMessage | Buffer) {
      send(m);
    },
    /** Waits up to `timeoutMs` for a message of `type` at index `from` or later; its index, or -1. */
    async waitFor(type: MessageType, from: number, timeoutMs = 5000): Promise<number> {
      const find = () => received.findIndex((r, i) => i >= from && r.message.type === type);
      await until(() => find() >= 0 || state === "closed", timeoutMs);
      return find();
    },
    /** Waits until the session has ended (the peer closed it), up to `timeoutMs`. */
    async waitClosed(timeoutMs = 5000): Promise<boolean> {
      return until(() => state === "closed", timeoutMs);
    },
    close,
  };
}
