// A small VPN endpoint, run inside a lab host: a TUN interface (os/tun) on one side, a UDP socket
// on the other. Every IP packet the kernel routes into the TUN interface is sealed with an AEAD
// from node:crypto (ChaCha20-Poly1305 or AES-256-GCM; the nonce is 4 zero bytes and the 64-bit
// send counter, the header is the additional data) and sent to the peer as one datagram
// (wire/tunnel); every datagram that arrives is checked against the replay window
// (models/replay-window), opened, and written into the TUN interface. Each direction has its own
// key, so a nonce is never used twice with one key. Counters say what was sent, received,
// refused as a replay or as a forgery. A service: close() removes the interface.
import { createCipheriv, createDecipheriv } from "node:crypto";
import * as dgram from "node:dgram";
import { onShutdown } from "../../kernel/runtime";
import { ReplayWindow } from "../models/replay-window";
import { openTunDevice } from "../os/tun";
import { HEADER_LENGTH, TAG_LENGTH, tunnelDatagram } from "../wire/tunnel";

export type Aead = "chacha20-poly1305" | "aes-256-gcm";

export interface TunnelOptions {
  /** The TUN interface's name. */
  dev: string;
  /** UDP port to listen on (inside the lab host). */
  port: number;
  /** Where the other end listens. */
  peer: { address: string; port: number };
  aead: Aead;
  /** 32 bytes each: what we seal with, and what the peer seals with. */
  sendKey: Buffer;
  receiveKey: Buffer;
  /** Our session id (the peer puts it in the header) and the peer's. */
  localId: number;
  peerId: number;
  /** Replay window size in packets (default 64). */
  window?: number;
}

export interface TunnelStats {
  sent: number;
  received: number;
  replays: number;
  tooOld: number;
  forgeries: number;
  malformed: number;
  /** Bytes of the largest datagram sent and of the inner packet in it. */
  largestDatagram: number;
  largestInner: number;
}

const nonceOf = (counter: bigint) => {
  const n = Buffer.alloc(12);
  n.writeBigUInt64LE(counter, 4);
  return n;
};

function seal(aead: Aead, key: Buffer, header: Buffer, counter: bigint, plain: Buffer): Buffer {
  const opts = { authTagLength: TAG_LENGTH };
  const c =
    aead === "aes-256-gcm"
      ? createCipheriv("aes-256-gcm", key, nonceOf(counter), opts)
      : createCipheriv("chacha20-poly1305", key, nonceOf(counter), opts);
  c.setAAD(header, { plaintextLength: plain.length });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

function open(aead: Aead, key: Buffer, header: Buffer, counter: bigint, sealed: Buffer): Buffer | null {
  const opts = { authTagLength: TAG_LENGTH };
  const d =
    aead === "aes-256-gcm"
      ? createDecipheriv("aes-256-gcm", key, nonceOf(counter), opts)
      : createDecipheriv("chacha20-poly1305", key, nonceOf(counter), opts);
  const body = sealed.subarray(0, sealed.length - TAG_LENGTH);
  d.setAAD(header, { plaintextLength: body.length });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  try {
    return Buffer.concat([d.update(body), d.final()]);
  } catch {
    return null; // the tag does not match: forged, damaged, or the wrong key
  }
}

// An endpoint started again on the same interface and port (a cell run twice) replaces the old one.
const running = new Map<string, () => Promise<void>>();

/** Starts the endpoint; the notebook then gives the interface its address and MTU with `ip`. */
export async function startTunnel(o: TunnelOptions) {
  for (const k of [o.sendKey, o.receiveKey]) if (k.length !== 32) throw new RangeError("keys are 32 bytes");
  const key = `${o.dev}:${o.port}`;
  await running.get(key)?.();
  const stats: TunnelStats = {
    sent: 0,
    received: 0,
    replays: 0,
    tooOld: 0,
    forgeries: 0,
    malformed: 0,
    largestDatagram: 0,
    largestInner: 0,
  };
  const window = new ReplayWindow(o.window ?? 64);
  let counter = 0n;
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(o.port, () => resolve());
  });
  socket.on("error", () => {});
  const tun = openTunDevice(o.dev, (inner) => {
    const header = tunnelDatagram
      .encode({ type: "data", receiver: o.peerId, counter, sealed: Buffer.alloc(TAG_LENGTH) })
      .subarray(0, HEADER_LENGTH);
    const datagram = Buffer.concat([header, seal(o.aead, o.sendKey, header, counter, inner)]);
    counter++;
    stats.sent++;
    if (datagram.length > stats.largestDatagram) {
      stats.largestDatagram = datagram.length;
      stats.largestInner = inner.length;
    }
    socket.send(datagram, o.peer.port, o.peer.address);
  });
  socket.on("message", (msg) => {
    let d;
    try {
      d = tunnelDatagram.decode(msg);
    } catch {
      stats.malformed++;
      return;
    }
    if (d.receiver !== o.localId) return void stats.malformed++;
    const verdict = window.check(d.counter);
    if (verdict === "replay") return void stats.replays++;
    if (verdict === "too-old") return void stats.tooOld++;
    const inner = open(o.aead, o.receiveKey, msg.subarray(0, HEADER_LENGTH), d.counter, d.sealed);
    if (!inner) return void stats.forgeries++;
    window.update(d.counter); // only an authentic datagram moves the window
    stats.received++;
    tun.write(inner);
  });
  let closed = false;
  const shutdown = async () => {
    if (closed) return;
    closed = true;
    tun.close();
    await new Promise<void>((r) => socket.close(() => r()));
  };
  const forget = onShutdown(shutdown);
  const close = () => {
    if (running.get(key) === close) running.delete(key);
    return forget().then(shutdown);
  };
  running.set(key, close);
  return {
    dev: tun.name,
    stats: (): TunnelStats => ({ ...stats }),
    close,
  };
}
