// Raw IPv4 sockets and AF_PACKET captures through libc (koffi): Node's net and dgram only know
// TCP and UDP, so the socket, its options and sendto are plain libc calls, and receiving is a
// blocking read(2) on libuv's threadpool (fs.read) with SO_RCVTIMEO bounding each read, so the
// event loop never blocks and close never waits long. Filters are classic BPF programs
// (helpers/wire/bpf.ts). Needs CAP_NET_RAW; meant for network
// namespaces the caller made (this module never creates one). Linux only.
import { read } from "node:fs";
import { constants } from "node:os";
import koffi from "koffi";
import { checkFilter, type BpfInsn } from "../wire/bpf";
import { ipv4Text, ipv4ToInt } from "../wire/addr";

// Linux values from <sys/socket.h>, <netinet/in.h>, <linux/if_ether.h>, <linux/if_packet.h>,
// <asm-generic/socket.h>, <asm-generic/sockios.h>.
const AF_INET = 2;
const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000; // a child process must not inherit a raw socket
const SOL_SOCKET = 1;
const SOL_IP = 0;
const SOL_PACKET = 263;
const IP_HDRINCL = 3;
const SO_RCVTIMEO = 20;
const SO_ATTACH_FILTER = 26;
const PACKET_IGNORE_OUTGOING = 23;
const ETH_P_ALL = 0x0003;
const SIOCGSTAMP = 0x8906;
/** How long one read(2) may block: the longest close waits, and the recv timeout's granularity. */
const READ_SLICE_MS = 100;

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, RAW: 255 } as const;

export class RawSocketError extends Error {
  constructor(
    /** The errno name ("EPERM", "ENODEV", ...) or ERR_PLATFORM / ERR_SOCKET_CLOSED. */
    readonly code: string,
    readonly syscall: string,
    message: string,
  ) {
    super(message);
    this.name = "RawSocketError";
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The error for a failed libc call, read from errno right after it. */
function sysError(syscall: string, detail = ""): RawSocketError {
  const errno = koffi.errno();
  const code = ERRNO_NAMES.get(errno) ?? `ERRNO${errno}`;
  const hint =
    code === "EPERM" || code === "EACCES"
      ? ": raw and packet sockets need CAP_NET_RAW (run as root, or inside a network namespace you own, e.g. unshare --net --map-root-user)"
      : code === "ENODEV"
        ? ": no such network interface in this namespace"
        : "";
  return new RawSocketError(code, syscall, `${syscall}${detail ? ` ${detail}` : ""} failed: ${code}${hint}`);
}

// ---- libc through koffi -------------------------------------------------------------------------

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockoptInt(fd: number, level: number, name: number, value: number[], len: number): number;
  setsockoptTimeval(
    fd: number,
    level: number,
    name: number,
    value: { tv_sec: number; tv_usec: number },
    len: number,
  ): number;
  setsockoptFprog(
    fd: number,
    level: number,
    name: number,
    value: { len: number; filter: BpfInsn[] },
    len: number,
  ): number;
  bindLl(fd: number, addr: object, len: number): number;
  sendtoIn(fd: number, buf: Buffer, len: number, flags: number, addr: object, addrlen: number): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  ifNameToIndex(name: string): number;
  ioctlStamp(fd: number, request: number, out: { tv_sec?: number; tv_usec?: number }): number;
  sizes: { timeval: number; sockaddrIn: number; sockaddrLl: number; fprog: number };
}

let libc: Libc | undefined;
function load(): Libc {
  if (process.platform !== "linux")
    throw new RawSocketError("ERR_PLATFORM", "socket", "raw and packet sockets through libc need Linux");
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  // Anonymous structs: a named koffi type can be declared only once per process.
  const timeval = koffi.struct({ tv_sec: "long", tv_usec: "long" });
  const sockaddrIn = koffi.struct({
    sin_family: "uint16_t",
    sin_port: "uint16_be_t",
    sin_addr: "uint32_be_t",
    sin_zero: koffi.array("uint8_t", 8),
  });
  const sockaddrLl = koffi.struct({
    sll_family: "uint16_t",
    sll_protocol: "uint16_be_t", // network byte order, like sin_port
    sll_ifindex: "int",
    sll_hatype: "uint16_t",
    sll_pkttype: "uint8_t",
    sll_halen: "uint8_t",
    sll_addr: koffi.array("uint8_t", 8),
  });
  const sockFilter = koffi.struct({ code: "uint16_t", jt: "uint8_t", jf: "uint8_t", k: "uint32_t" });
  const sockFprog = koffi.struct({ len: "uint16_t", filter: koffi.pointer(sockFilter) });
  const setsockopt = (valueType: unknown) =>
    lib.func("setsockopt", "int", ["int", "int", "int", koffi.pointer(valueType as any), "uint32_t"]);
  const ioctl = lib.func("int ioctl(int fd, unsigned long request, ...)");
  libc = {
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    setsockoptInt: setsockopt("int"),
    setsockoptTimeval: setsockopt(timeval),
    setsockoptFprog: setsockopt(sockFprog),
    bindLl: lib.func("bind", "int", ["int", koffi.pointer(sockaddrLl), "uint32_t"]),
    sendtoIn: lib.func("sendto", "intptr_t", ["int", "void *", "size_t", "int", koffi.pointer(sockaddrIn), "uint32_t"]),
    send: lib.func("send", "intptr_t", ["int", "void *", "size_t", "int"]),
    close: lib.func("int close(int fd)"),
    ifNameToIndex: lib.func("unsigned int if_nametoindex(const char *name)"),
    ioctlStamp: (fd, request, out) => ioctl(fd, request, koffi.out(koffi.pointer(timeval)), out),
    sizes: {
      timeval: koffi.sizeof(timeval),
      sockaddrIn: koffi.sizeof(sockaddrIn),
      sockaddrLl: koffi.sizeof(sockaddrLl),
      fprog: koffi.sizeof(sockFprog),
    },
  };
  return libc;
}

function setInt(fd: number, level: number, name: number, value: number, what: string) {
  if (load().setsockoptInt(fd, level, name, [value], 4) !== 0) throw sysError("setsockopt", what);
}

/** Opens a socket, runs `setup` on it, and closes it again if setup throws (no fd leaks). */
function openFd(domain: number, type: number, protocol: number, what: string, setup: (fd: number) => void): number {
  const c = load();
  const fd = c.socket(domain, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) throw sysError("socket", what);
  try {
    // Bounds each blocking read, so the threadpool thread comes back and close can proceed.
    if (
      c.setsockoptTimeval(
        fd,
        SOL_SOCKET,
        SO_RCVTIMEO,
        { tv_sec: 0, tv_usec: READ_SLICE_MS * 1000 },
        c.sizes.timeval,
      ) !== 0
    )
      throw sysError("setsockopt", "SO_RCVTIMEO");
    setup(fd);
  } catch (e) {
    c.close(fd);
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
            : new RawSocketError(code ?? "EIO", "read", `read from raw socket failed: ${err.message}`),
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
        load().close(fd);
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

export function openRaw({ protocol, hdrincl = false }: RawOptions): RawSocket {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255)
    throw new RangeError(`protocol must be an IP protocol number 0..255, got ${protocol}`);
  const fd = openFd(AF_INET, SOCK_RAW, protocol, `(AF_INET, SOCK_RAW, ${protocol})`, (fd) => {
    if (hdrincl) setInt(fd, SOL_IP, IP_HDRINCL, 1, "IP_HDRINCL");
  });
  const r = reader(fd, 65536); // an IPv4 packet is at most 65535 bytes
  return {
    fd,
    send(packet, dst) {
      if (r.closed) throw new RawSocketError("ERR_SOCKET_CLOSED", "sendto", "send on a closed raw socket");
      const c = load();
      // The port must be 0 for raw sockets; with IP_HDRINCL the kernel still routes by this address.
      const addr = {
        sin_family: AF_INET,
        sin_port: 0,
        sin_addr: ipv4ToInt(dst, "dst"),
        sin_zero: [0, 0, 0, 0, 0, 0, 0, 0],
      };
      const sent = c.sendtoIn(fd, packet, packet.length, 0, addr, c.sizes.sockaddrIn);
      if (sent < 0) throw sysError("sendto", `to ${dst}`);
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

export function openCapture({ iface, filter, ignoreOutgoing = false }: CaptureOptions): Capture {
  const c = load();
  const ifindex = c.ifNameToIndex(iface);
  if (ifindex === 0) throw sysError("if_nametoindex", JSON.stringify(iface));
  if (filter) checkFilter(filter);
  // Protocol 0 at socket(): no frame is queued yet. The filter goes on first and bind then
  // starts the flow, so not one unfiltered frame slips in between.
  const fd = openFd(AF_PACKET, SOCK_RAW, 0, `(AF_PACKET, SOCK_RAW)`, (fd) => {
    if (
      filter &&
      c.setsockoptFprog(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length, filter }, c.sizes.fprog) !== 0
    )
      throw sysError("setsockopt", "SO_ATTACH_FILTER");
    if (ignoreOutgoing) setInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
    // The first SIOCGSTAMP turns on the socket's timestamps (ENOENT: no frame yet): from then on
    // the kernel stamps each frame on arrival and keeps the last read one's for SIOCGSTAMP.
    // (SO_TIMESTAMP would hand the stamp to recvmsg's control data instead, which read lacks.)
    c.ioctlStamp(fd, SIOCGSTAMP, {});
    const addr = {
      sll_family: AF_PACKET,
      sll_protocol: ETH_P_ALL,
      sll_ifindex: ifindex,
      sll_hatype: 0,
      sll_pkttype: 0,
      sll_halen: 0,
      sll_addr: [0, 0, 0, 0, 0, 0, 0, 0],
    };
    if (c.bindLl(fd, addr, c.sizes.sockaddrLl) !== 0) throw sysError("bind", `to ${iface}`);
  });
  const r = reader(fd, 262144);
  return {
    fd,
    ifindex,
    async next(timeoutMs) {
      const data = await r.next(timeoutMs);
      if (!data) return null;
      // SIOCGSTAMP: the arrival time of the frame last read; reads are serialized, so it is this one's.
      const tv: { tv_sec?: number; tv_usec?: number } = {};
      const time = c.ioctlStamp(fd, SIOCGSTAMP, tv) === 0 ? tv.tv_sec! * 1000 + tv.tv_usec! / 1000 : Date.now();
      return { data, time };
    },
    send(frame) {
      if (r.closed) throw new RawSocketError("ERR_SOCKET_CLOSED", "send", "send on a closed packet socket");
      if (c.send(fd, frame, frame.length, 0) < 0) throw sysError("send", `on ${iface}`);
    },
    close: () => r.close(),
  };
}
