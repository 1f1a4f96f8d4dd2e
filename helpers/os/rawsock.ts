// Raw IPv4 sockets and AF_PACKET (packet) sockets: Node's net and dgram only know TCP and UDP, so
// the socket, its options and sendto are libc calls (os/libc.ts), and receiving is a blocking
// read(2) on libuv's threadpool (fs.read) with SO_RCVTIMEO bounding each read, so the event loop
// never blocks and close never waits long. Filters are classic BPF programs (wire/bpf.ts), checked
// here before the kernel sees them — or, with `attachFilter`, handed over exactly as given, so the
// kernel's own checker answers. Needs CAP_NET_RAW; meant for network namespaces the caller made
// (this module never creates one). Linux only.
import { read } from "node:fs";
import { ipv4Text, ipv4ToInt } from "../wire/addr";
import { checkFilter, type BpfInsn } from "../wire/bpf";
import {
  AF,
  attachFilter as attach,
  bindPacket,
  close as closeFd,
  ifindex as ifindexOf,
  IP,
  lastPacketTime,
  PACKET,
  send,
  sendtoIpv4,
  setReceiveTimeout,
  setsockoptInt,
  SOCK,
  socket,
  SOL,
  SyscallError,
} from "./libc";

/** How long one read(2) may block: the longest close waits, and the recv timeout's granularity. */
const READ_SLICE_MS = 100;

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, RAW: 255 } as const;

/** Opens a socket, runs `setup` on it, and closes it again if setup throws (no fd leaks). */
function openFd(domain: number, protocol: number, what: string, setup: (fd: number) => void): number {
  const fd = socket(domain, SOCK.RAW, protocol, what);
  try {
    // Bounds each blocking read, so the threadpool thread comes back and close can proceed.
    setReceiveTimeout(fd, READ_SLICE_MS);
    setup(fd);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return fd;
}

// ---- reading without blocking the event loop ----------------------------------------------------

interface Reader {
  /** The next datagram or frame, or null when `timeoutMs` passes first or the socket closes. */
  next(timeoutMs: number): Promise<Buffer | null>;
  /** Closes the fd once no read is in flight (at most one READ_SLICE_MS later). Idempotent. */
  close(): Promise<void>;
  readonly closed: boolean;
}

function reader(fd: number, bufferSize: number): Reader {
  const buf = Buffer.alloc(bufferSize);
  let closing = false;
  let fdClosed: Promise<void> | undefined;
  // One read(2) at a time; a read that outlives a caller's timeout is kept, and its datagram
  // goes to the next caller rather than being lost.
  let pending: Promise<Buffer | null | Error> | undefined;
  const readOnce = () =>
    new Promise<Buffer | null | Error>((resolve) => {
      read(fd, buf, 0, buf.length, null, (err, n) => {
        if (!err) return resolve(Buffer.from(buf.subarray(0, n)));
        // EAGAIN: SO_RCVTIMEO ran out with nothing to read; EINTR: a signal. Both mean "again".
        const code = (err as NodeJS.ErrnoException).code;
        resolve(
          code === "EAGAIN" || code === "EWOULDBLOCK" || code === "EINTR"
            ? null
            : new SyscallError(code ?? "EIO", "read", `read from raw socket failed: ${err.message}`),
        );
      });
    });
  // Serializes callers: next() waits for an earlier next() to finish.
  let queue: Promise<unknown> = Promise.resolve();

  async function take(timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (!closing) {
      pending ??= readOnce();
      const left = deadline - Date.now();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">(
        (resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, left))),
      );
      const got = await Promise.race([pending, timedOut]);
      clearTimeout(timer);
      if (got === "timeout") return null;
      pending = undefined;
      if (got instanceof Error) throw got;
      if (got && !closing) return got;
      if (Date.now() >= deadline) return null;
    }
    return null;
  }

  return {
    get closed() {
      return closing;
    },
    next(timeoutMs) {
      if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be a non-negative number, got ${timeoutMs}`);
      const result = queue.then(() => take(timeoutMs));
      queue = result.catch(() => undefined);
      return result;
    },
    close() {
      if (fdClosed) return fdClosed;
      closing = true;
      // Closing an fd while a threadpool read(2) still uses it could let a new socket reuse
      // the number under that read: close only after the read has returned.
      fdClosed = (pending ?? Promise.resolve()).then(() => {
        closeFd(fd);
      });
      return fdClosed;
    },
  };
}

// ---- raw IPv4 sockets ---------------------------------------------------------------------------

export interface RawOptions {
  /** IPPROTO_ICMP (1), IPPROTO_UDP (17), ..., or IPPROTO_RAW (255: send only, header included). */
  protocol: number;
  /** Set IP_HDRINCL: `send` takes a whole IPv4 packet, header built by the caller. */
  hdrincl?: boolean;
}

export interface RawSocket {
  readonly fd: number;
  /** Sends `packet` (the payload, or with hdrincl a whole IPv4 packet) to IPv4 address `dst`. */
  send(packet: Buffer, dst: string): void;
  /** The next packet for this protocol, IPv4 header included (Linux raw sockets deliver it);
   *  `from` is that header's source address. null when `timeoutMs` passes first. */
  recv(timeoutMs: number): Promise<{ data: Buffer; from?: string } | null>;
  /** Resolves once the fd is closed (within about 100 ms). Idempotent. */
  close(): Promise<void>;
}

const closedError = (syscall: string) => new SyscallError("ERR_SOCKET_CLOSED", syscall, "send on a closed socket");

/** What is sent must be bytes: a string would go out as its characters, silently. */
function checkBytes(data: unknown, what: string): void {
  if (!(data instanceof Uint8Array)) {
    throw Object.assign(new TypeError(`${what} must be a Buffer or Uint8Array, got ${typeof data}`), {
      code: "ERR_INVALID_ARG_TYPE",
    });
  }
}

export function openRaw({ protocol, hdrincl = false }: RawOptions): RawSocket {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
    throw new RangeError(`protocol must be an IP protocol number 0..255, got ${protocol}`);
  }
  const fd = openFd(AF.INET, protocol, `(AF_INET, SOCK_RAW, ${protocol})`, (fd) => {
    if (hdrincl) setsockoptInt(fd, SOL.IP, IP.HDRINCL, 1);
  });
  const r = reader(fd, 65536); // an IPv4 packet is at most 65535 bytes
  return {
    fd,
    send(packet, dst) {
      checkBytes(packet, "the packet");
      if (r.closed) throw closedError("sendto");
      // The port is 0 for raw sockets; with IP_HDRINCL the kernel still routes by this address.
      sendtoIpv4(fd, packet, ipv4ToInt(dst, "dst"), `to ${dst}`);
    },
    async recv(timeoutMs) {
      const data = await r.next(timeoutMs);
      if (!data) return null;
      const from = data.length >= 20 && data[0] >> 4 === 4 ? ipv4Text(data, 12) : undefined;
      return { data, from };
    },
    close: () => r.close(),
  };
}

// ---- AF_PACKET capture --------------------------------------------------------------------------

export interface CaptureOptions {
  iface: string;
  /** A classic BPF program (see `bpf`), run by the kernel on each frame before it is queued. */
  filter?: BpfInsn[];
  /** Skip frames this host sends (PACKET_IGNORE_OUTGOING): on lo each packet then shows once. */
  ignoreOutgoing?: boolean;
}

export interface Capture {
  readonly fd: number;
  readonly ifindex: number;
  /** The next frame (Ethernet header first) with the kernel's receive time in ms since the
   *  epoch (microsecond resolution), or null when `timeoutMs` passes first. */
  next(timeoutMs: number): Promise<{ data: Buffer; time: number } | null>;
  /** Sends one whole frame (Ethernet header first) out of the interface, byte for byte: the
   *  kernel fills in nothing, not even a checksum. */
  send(frame: Buffer): void;
  close(): Promise<void>;
}

/** A packet socket bound to `iface`, the filter (if any) attached before bind, so not one
 *  unfiltered frame slips in: at socket() (protocol 0) nothing is queued yet. `checked`: run our
 *  own checks first (one RangeError for a bad program); otherwise the kernel's checker answers. */
export function packetSocket(
  iface: string,
  filter: BpfInsn[] | undefined,
  opts: { checked?: boolean; ignoreOutgoing?: boolean } = {},
) {
  const ifindex = ifindexOf(iface);
  if (filter && opts.checked !== false) checkFilter(filter);
  const fd = openFd(AF.PACKET, 0, "(AF_PACKET, SOCK_RAW)", (fd) => {
    if (filter) attach(fd, filter);
    if (opts.ignoreOutgoing) setsockoptInt(fd, SOL.PACKET, PACKET.IGNORE_OUTGOING, 1);
    // The first SIOCGSTAMP turns on the socket's timestamps (ENOENT: no frame yet): from then on
    // the kernel stamps each frame on arrival and keeps the last read one's for SIOCGSTAMP.
    // (SO_TIMESTAMP would hand the stamp to recvmsg's control data instead, which read lacks.)
    lastPacketTime(fd);
    bindPacket(fd, ifindex, iface);
  });
  return { fd, ifindex };
}

export function openCapture({ iface, filter, ignoreOutgoing = false }: CaptureOptions): Capture {
  const { fd, ifindex } = packetSocket(iface, filter, { ignoreOutgoing });
  const r = reader(fd, 262144);
  return {
    fd,
    ifindex,
    async next(timeoutMs) {
      const data = await r.next(timeoutMs);
      if (!data) return null;
      // SIOCGSTAMP: the arrival time of the frame last read; reads are serialized, so it is this one's.
      return { data, time: lastPacketTime(fd) ?? Date.now() };
    },
    send(frame) {
      checkBytes(frame, "the frame");
      if (r.closed) throw closedError("send");
      send(fd, frame, `on ${iface}`);
    },
    close: () => r.close(),
  };
}

/** Hands `prog` to the kernel exactly as given (SO_ATTACH_FILTER on a packet socket bound to
 *  nothing, so no frame ever reaches it), then closes the socket. A program the kernel's checker
 *  refuses throws a SyscallError with code EINVAL. */
export function attachFilter(prog: BpfInsn[]): { attached: true; instructions: number } {
  const fd = socket(AF.PACKET, SOCK.RAW, 0, "(AF_PACKET, SOCK_RAW)");
  try {
    attach(fd, prog);
    return { attached: true, instructions: prog.length };
  } finally {
    closeFd(fd);
  }
}
