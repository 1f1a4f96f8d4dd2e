// UDP packets per second through the kernel: a flood sender and a receiver, each in a process of
// its own (a peer on loopback, os/remote, or the agents of two lab hosts across a lab link), and
// the kernel's own count of what the receiving socket dropped (/proc/net/udp) as the witness.
import * as dgram from "node:dgram";
import { join } from "node:path";
import type { LabHost } from "../lab/topology";
import type * as services from "../net/services";
import type * as procnet from "../os/procnet";
import { udpSocketDrops } from "../os/procnet";
import { startAgent } from "../os/remote";
import { sleep } from "../os/time";

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

/** Sends `size`-byte datagrams to `address`:`port` (127.0.0.1 unless given) as fast as the socket
 *  takes them, for `seconds`: batches of 256, letting the event loop breathe between batches. Run
 *  in a peer or a lab host. */
export async function flood(
  port: number,
  size: number,
  seconds: number,
  address = "127.0.0.1",
): Promise<{ sent: number }> {
  const s = dgram.createSocket({ type: "udp4", sendBufferSize: 8 << 20 });
  const payload = Buffer.alloc(size, 0x61);
  let sent = 0;
  await new Promise<void>((resolve) => s.connect(port, address, () => resolve()));
  try {
    for (const end = Date.now() + seconds * 1000; Date.now() < end;) {
      await new Promise<void>((resolve) => {
        let left = 256;
        for (let i = 0; i < 256; i++) {
          s.send(payload, () => {
            sent++;
            if (--left === 0) resolve();
          });
        }
      });
    }
    return { sent };
  } finally {
    s.close();
  }
}

// By path, not module object: the peers load the files (and so does any test runner's loader).
const SERVICES = join(__dirname, "..", "net", "services.ts");
const PPS = join(__dirname, "pps.ts");
const PROCNET = join(__dirname, "..", "os", "procnet.ts");

/** Floods `size`-byte datagrams for `seconds` and counts what arrived. */
export async function udpPacketRate(size: number, seconds = 1): Promise<PpsResult> {
  const [receiving, sending] = await Promise.all([
    startAgent({ name: "the receiving process" }),
    startAgent({ name: "the sending process" }),
  ]);
  try {
    const receiver = await receiving.run<typeof services, "udpServer">(SERVICES, "udpServer", 0, {
      address: "127.0.0.1",
      record: false,
      receiveBuffer: 8 << 20,
    });
    const { sent } = await sending.run<{ flood: typeof flood }, "flood">(PPS, "flood", receiver.port, size, seconds);
    // The receiver reads what is still queued; it is done when its count stops moving.
    let datagrams = -1;
    for (let last = -2; datagrams !== last; await sleep(100)) {
      last = datagrams;
      ({ datagrams } = await receiver.totals());
    }
    const socketDrops = udpSocketDrops(receiver.port);
    return { size, seconds, sent, received: datagrams, pps: datagrams / seconds, socketDrops };
  } finally {
    await Promise.all([receiving.close(), sending.close()]);
  }
}

/** Floods `size`-byte datagrams for `seconds` from lab host `from` to a receiver in lab host `to`,
 *  at `to`'s address `address` (so the packets take whatever path leads there: a veth, a macvlan,
 *  a tunnel), and counts what arrived; the drops are `to`'s own /proc/net/udp. */
export async function udpPacketRateBetween(
  from: LabHost,
  to: LabHost,
  address: string,
  size: number,
  seconds = 1,
): Promise<PpsResult> {
  const receiver = await to.run<typeof services, "udpServer">(SERVICES, "udpServer", 0, {
    address,
    record: false,
    receiveBuffer: 8 << 20,
  });
  try {
    const run = { flood } as const;
    const { sent } = await from.run<typeof run, "flood">(PPS, "flood", receiver.port, size, seconds, address);
    let datagrams = -1;
    for (let last = -2; datagrams !== last; await sleep(100)) {
      last = datagrams;
      ({ datagrams } = await receiver.totals());
    }
    const socketDrops = await to.run<typeof procnet, "udpSocketDrops">(
      PROCNET,
      "udpSocketDrops",
      receiver.port,
      address,
    );
    return { size, seconds, sent, received: datagrams, pps: datagrams / seconds, socketDrops };
  } finally {
    await receiver.close();
  }
}
