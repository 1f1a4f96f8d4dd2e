// A delay line in userspace, for kernels without netem: inside a lab host with two interfaces, every
// frame that arrives on one leaves by the other `delayMs` later, byte for byte — a transparent
// bridge whose wire is long. Each interface has a packet socket with PACKET_VNET_HDR, so a GSO
// super-packet and an offloaded checksum cross as they came (the 10-byte virtio header that
// describes them is read and written back unchanged), and PACKET_IGNORE_OUTGOING, so a frame the
// line sends is not read again. Frames are held from the kernel's arrival stamp (SIOCGSTAMP), so a
// late read does not add to the delay; a late timer does, and `stats()` says by how much. The
// sockets are read without blocking every millisecond, the way os/capture does. A service.
import { setPriority } from "node:os";
import { performance } from "node:perf_hooks";
import {
  bindPacket,
  close as closeFd,
  ifindex as ifindexOf,
  lastPacketTime,
  PACKET,
  recvNow,
  send,
  setReceiveTimeout,
  setsockoptInt,
  SO,
  SOCK,
  socket,
  SOL,
  AF,
  SyscallError,
} from "./libc";
import { assertInLabHost } from "./netns";

/** <linux/if_packet.h> PACKET_VNET_HDR; <asm-generic/socket.h> SO_SNDBUFFORCE, SO_RCVBUFFORCE. */
const PACKET_VNET_HDR = 15;
const SO_SNDBUFFORCE = 32;
const SO_RCVBUFFORCE = 33;
/** Room for a 64 KiB GSO super-packet behind its virtio header and Ethernet header. */
const FRAME_MAX = 65536 + 10 + 14 + 4;
/** Enough socket buffer for a second of 100 Mbit/s arriving while the event loop is late. */
const SOCKET_BUFFER = 16 * 1024 * 1024;

export interface DirectionStats {
  /** "eth0 → eth1" */
  direction: string;
  frames: number;
  bytes: number;
  /** The send failed (ENOBUFS: the outgoing interface's queue was full) and the frame was lost. */
  dropped: number;
}

export interface DelayLineStats {
  delayMs: number;
  directions: DirectionStats[];
  /** Frames waiting now, in both directions: 0 means nothing of ours is on the wire. */
  held: number;
  maxHeld: number;
  /** How much later than due frames left (timer lateness), median, 99th percentile and worst. */
  lateMs: { p50: number; p99: number; max: number };
}

interface Held {
  due: number;
  frame: Buffer;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable with SIOCGSTAMP's stamps. */
const epochMs = () => performance.timeOrigin + performance.now();

/** Past net.core.rmem_max where allowed (CAP_NET_ADMIN of the first namespace: root, not a user
 *  namespace's root); elsewhere as large as the sysctls let an ordinary socket be. */
function bigBuffers(fd: number): void {
  for (const [force, plain] of [
    [SO_RCVBUFFORCE, SO.RCVBUF],
    [SO_SNDBUFFORCE, SO.SNDBUF],
  ]) {
    try {
      setsockoptInt(fd, SOL.SOCKET, force, SOCKET_BUFFER);
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === "EPERM")) throw e;
      setsockoptInt(fd, SOL.SOCKET, plain, SOCKET_BUFFER);
    }
  }
}

function openSide(iface: string): number {
  const fd = socket(AF.PACKET, SOCK.RAW, 0, "(AF_PACKET, SOCK_RAW)");
  try {
    setReceiveTimeout(fd, 100);
    setsockoptInt(fd, SOL.PACKET, PACKET_VNET_HDR, 1);
    setsockoptInt(fd, SOL.PACKET, PACKET.IGNORE_OUTGOING, 1);
    bigBuffers(fd);
    lastPacketTime(fd); // turns on arrival stamps
    bindPacket(fd, ifindexOf(iface), iface); // protocol 0 until here: nothing queued before the options
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return fd;
}

/** Starts the line between `ifaces[0]` and `ifaces[1]` of this lab host, `delayMs` each way. */
export function startDelayLine(opts: { ifaces: [string, string]; delayMs: number }) {
  assertInLabHost("delay-line.startDelayLine");
  const { ifaces, delayMs } = opts;
  if (!(delayMs >= 0 && delayMs <= 10_000)) throw new RangeError(`delayMs must be 0..10000, got ${delayMs}`);
  if (SO.RCVBUF !== 8) throw new Error("unexpected socket constants"); // the FORCE values sit next to these
  // The line's timers are the wire's length: on a busy machine they must not wait behind other
  // work, so this thread asks for the highest priority (root may; in a user namespace it stays 0).
  let nice = "0 (normal)";
  try {
    setPriority(0, -20);
    nice = "-20 (highest)";
  } catch (e) {
    nice = `0 (normal: ${(e as NodeJS.ErrnoException).code ?? "refused"})`;
  }
  const fds: number[] = [];
  try {
    for (const iface of ifaces) fds.push(openSide(iface));
  } catch (e) {
    fds.forEach((fd) => closeFd(fd));
    throw e;
  }
  // queues[i]: frames that arrived on ifaces[i], leaving by the other one. One delay for all, so
  // each queue is in order of its due times.
  const queues: Held[][] = [[], []];
  const stats: DirectionStats[] = [0, 1].map((i) => ({
    direction: `${ifaces[i]} → ${ifaces[1 - i]}`,
    frames: 0,
    bytes: 0,
    dropped: 0,
  }));
  const late: number[] = [];
  let maxHeld = 0;
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const buf = Buffer.alloc(FRAME_MAX);

  const tick = () => {
    timer = undefined;
    if (!open) return;
    let moved = 0;
    for (const i of [0, 1]) {
      for (let n = recvNow(fds[i], buf); n >= 0; n = recvNow(fds[i], buf)) {
        const at = lastPacketTime(fds[i]) ?? epochMs();
        queues[i].push({ due: at + delayMs, frame: Buffer.from(buf.subarray(0, n)) });
        moved++;
      }
    }
    maxHeld = Math.max(maxHeld, queues[0].length + queues[1].length);
    const now = epochMs();
    for (const i of [0, 1]) {
      const q = queues[i];
      let k = 0;
      for (; k < q.length && q[k].due <= now; k++) {
        late.push(now - q[k].due);
        try {
          send(fds[1 - i], q[k].frame, `on ${ifaces[1 - i]}`);
          stats[i].frames++;
          stats[i].bytes += q[k].frame.length - 10;
        } catch (e) {
          if (!(e instanceof SyscallError)) throw e;
          stats[i].dropped++;
        }
      }
      if (k) q.splice(0, k);
      moved += k;
    }
    if (late.length > 200_000) late.splice(0, 100_000);
    if (moved) setImmediate(tick);
    else timer = setTimeout(tick, 1);
  };
  tick();

  return {
    ifaces,
    delayMs,
    /** The scheduling priority (nice value) the line runs at. */
    nice,
    stats(): DelayLineStats {
      const sorted = [...late].sort((a, b) => a - b);
      const at = (p: number) =>
        sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0;
      return {
        delayMs,
        directions: stats.map((s) => ({ ...s })),
        held: queues[0].length + queues[1].length,
        maxHeld,
        lateMs: { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 },
      };
    },
    /** Forgets the lateness seen so far (between experiments). */
    resetLateness(): void {
      late.length = 0;
      maxHeld = 0;
    },
    close(): void {
      if (!open) return;
      open = false;
      if (timer) clearTimeout(timer);
      fds.splice(0).forEach((fd) => closeFd(fd));
    },
  };
}
