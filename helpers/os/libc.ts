// The one binding to the C library (through koffi, a maintained FFI): the socket calls Node does
// not offer — raw and packet sockets, getsockopt/setsockopt of any option, socket filters, packet
// timestamps — with the Linux constants and structs they need, each declared once. A failed call
// throws a SyscallError whose `code` is the errno name ("EPERM", "EINVAL"). Linux only; loaded on
// first use, so importing this module costs nothing elsewhere.
import { constants } from "node:os";
import koffi, { type TypeObject } from "koffi";
import type { BpfInsn } from "../wire/bpf";

/** Linux values from <sys/socket.h>, <netinet/in.h>, <netinet/tcp.h>, <linux/if_ether.h>,
 *  <linux/if_packet.h>, <asm-generic/socket.h> and <asm-generic/sockios.h>. */
export const AF = { INET: 2, PACKET: 17 } as const;
export const SOCK = { RAW: 3, CLOEXEC: 0o2000000 } as const;
export const SOL = { IP: 0, SOCKET: 1, TCP: 6, PACKET: 263 } as const;
export const SO = {
  REUSEADDR: 2,
  SNDBUF: 7,
  RCVBUF: 8,
  KEEPALIVE: 9,
  REUSEPORT: 15,
  RCVTIMEO: 20,
  BINDTODEVICE: 25,
  ATTACH_FILTER: 26,
} as const;
export const IP = { HDRINCL: 3, MTU_DISCOVER: 10, MTU: 14 } as const;
export const TCP = { NODELAY: 1, KEEPIDLE: 4, KEEPINTVL: 5, KEEPCNT: 6, INFO: 11, CONGESTION: 13 } as const;
export const PACKET = { IGNORE_OUTGOING: 23 } as const;
export const ETH_P_ALL = 0x0003;
export const MSG_DONTWAIT = 0x40;
const SIOCGSTAMP = 0x8906;
/** <linux/if_tun.h>: TUNSETIFF = _IOW('T', 202, int); a TUN device (IP packets, no Ethernet) and
 *  no packet-information prefix. <fcntl.h>: O_RDWR, O_NONBLOCK, O_CLOEXEC. */
export const TUN = { SETIFF: 0x400454ca, IFF_TUN: 0x0001, IFF_NO_PI: 0x1000 } as const;
const O = { RDWR: 0o2, NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const;
const IFREQ_SIZE = 40;

/** A system call that failed: `code` is the errno name, `syscall` the call. */
export class SyscallError extends Error {
  constructor(
    readonly code: string,
    readonly syscall: string,
    message: string,
  ) {
    super(message);
    this.name = "SyscallError";
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The errno of the last failed call, by name. */
export const errnoName = (): string => {
  const errno = koffi.errno();
  return ERRNO_NAMES.get(errno) ?? `ERRNO${errno}`;
};

/** The error for a failed call, read from errno right after it, with a hint for the usual causes. */
export function sysError(syscall: string, detail = ""): SyscallError {
  const code = errnoName();
  const hint =
    code === "EPERM" || code === "EACCES"
      ? ": raw and packet sockets need CAP_NET_RAW (run as root, or inside a network namespace you own)"
      : code === "ENODEV"
        ? ": no such network interface in this namespace"
        : "";
  return new SyscallError(code, syscall, `${syscall}${detail ? ` ${detail}` : ""} failed: ${code}${hint}`);
}

interface Timeval {
  tv_sec: number;
  tv_usec: number;
}
type Fn<A extends unknown[], R = number> = (...args: A) => R;

interface Bound {
  socket: Fn<[domain: number, type: number, protocol: number]>;
  close: Fn<[fd: number]>;
  getsockopt: Fn<[fd: number, level: number, name: number, value: Buffer, length: number[]]>;
  setsockopt: Fn<[fd: number, level: number, name: number, value: Buffer, length: number]>;
  setsockoptTimeval: Fn<[fd: number, level: number, name: number, value: Timeval, length: number]>;
  setsockoptFprog: Fn<[fd: number, level: number, name: number, value: { len: number; filter: BpfInsn[] }, n: number]>;
  bindLl: Fn<[fd: number, addr: object, length: number]>;
  sendtoIn: Fn<[fd: number, buf: Buffer, length: number, flags: number, addr: object, addrlen: number]>;
  send: Fn<[fd: number, buf: Buffer, length: number, flags: number]>;
  recv: Fn<[fd: number, buf: Buffer, length: number, flags: number]>;
  ifNameToIndex: Fn<[name: string]>;
  ioctlStamp: Fn<[fd: number, request: number, out: Partial<Timeval>]>;
  ioctlBuffer: Fn<[fd: number, request: number, buf: Buffer]>;
  open: Fn<[path: string, flags: number]>;
  read: Fn<[fd: number, buf: Buffer, length: number]>;
  write: Fn<[fd: number, buf: Buffer, length: number]>;
  sizes: { timeval: number; sockaddrIn: number; sockaddrLl: number; fprog: number };
}

let bound: Bound | undefined;
function load(): Bound {
  if (process.platform !== "linux") throw new SyscallError("ERR_PLATFORM", "dlopen", "these socket calls need Linux");
  if (bound) return bound;
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
  const setsockoptOf = (valueType: TypeObject) =>
    lib.func("setsockopt", "int", ["int", "int", "int", koffi.pointer(valueType), "uint32_t"]);
  const ioctl = lib.func("int ioctl(int fd, unsigned long request, ...)");
  bound = {
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    close: lib.func("int close(int fd)"),
    getsockopt: lib.func("int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *length)"),
    setsockopt: lib.func("int setsockopt(int fd, int level, int name, const void *value, uint32_t length)"),
    setsockoptTimeval: setsockoptOf(timeval),
    setsockoptFprog: setsockoptOf(sockFprog),
    bindLl: lib.func("bind", "int", ["int", koffi.pointer(sockaddrLl), "uint32_t"]),
    sendtoIn: lib.func("sendto", "intptr_t", ["int", "void *", "size_t", "int", koffi.pointer(sockaddrIn), "uint32_t"]),
    send: lib.func("send", "intptr_t", ["int", "void *", "size_t", "int"]),
    recv: lib.func("recv", "intptr_t", ["int", "void *", "size_t", "int"]),
    ifNameToIndex: lib.func("unsigned int if_nametoindex(const char *name)"),
    ioctlStamp: (fd, request, out) => ioctl(fd, request, koffi.out(koffi.pointer(timeval)), out),
    ioctlBuffer: (fd, request, buf) => ioctl(fd, request, "void *", buf),
    open: lib.func("int open(const char *path, int flags)"),
    read: lib.func("read", "intptr_t", ["int", "void *", "size_t"]),
    write: lib.func("write", "intptr_t", ["int", "void *", "size_t"]),
    sizes: {
      timeval: koffi.sizeof(timeval),
      sockaddrIn: koffi.sizeof(sockaddrIn),
      sockaddrLl: koffi.sizeof(sockaddrLl),
      fprog: koffi.sizeof(sockFprog),
    },
  };
  return bound;
}

// ---- the calls, each checked -------------------------------------------------------------------

/** socket(2) with SOCK_CLOEXEC: a child process never inherits a raw socket. */
export function socket(domain: number, type: number, protocol: number, what: string): number {
  const fd = load().socket(domain, type | SOCK.CLOEXEC, protocol);
  if (fd < 0) throw sysError("socket", what);
  return fd;
}

export const close = (fd: number): void => void load().close(fd);

/** getsockopt(2) of an int option. */
export function getsockoptInt(fd: number, level: number, name: number): number {
  const buf = getsockoptBytes(fd, level, name, 4);
  return new Int32Array(buf.buffer, buf.byteOffset, 1)[0]; // the machine's byte order
}

/** getsockopt(2) into a buffer of `size` bytes; returns the bytes the kernel wrote. */
export function getsockoptBytes(fd: number, level: number, name: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const length = [size];
  if (load().getsockopt(fd, level, name, buf, length) !== 0) throw sysError("getsockopt", `(${level}, ${name})`);
  return buf.subarray(0, length[0]);
}

/** setsockopt(2) of an int option. */
export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  const buf = Buffer.from(new Int32Array([value]).buffer); // the machine's byte order
  setsockoptBytes(fd, level, name, buf, `(${level}, ${name}, ${value})`);
}

/** setsockopt(2) with the option's value as bytes (a string option such as an interface name). */
export function setsockoptBytes(fd: number, level: number, name: number, value: Buffer, what = ""): void {
  if (load().setsockopt(fd, level, name, value, value.length) !== 0) {
    throw sysError("setsockopt", what || `(${level}, ${name})`);
  }
}

/** SO_RCVTIMEO: a blocking read returns EAGAIN after `ms` without data. */
export function setReceiveTimeout(fd: number, ms: number): void {
  const c = load();
  const tv = { tv_sec: Math.floor(ms / 1000), tv_usec: (ms % 1000) * 1000 };
  if (c.setsockoptTimeval(fd, SOL.SOCKET, SO.RCVTIMEO, tv, c.sizes.timeval) !== 0) {
    throw sysError("setsockopt", "SO_RCVTIMEO");
  }
}

/** SO_ATTACH_FILTER: hands a classic BPF program to the kernel exactly as given; the kernel's
 *  checker refuses a bad one with EINVAL. */
export function attachFilter(fd: number, prog: BpfInsn[]): void {
  const c = load();
  if (c.setsockoptFprog(fd, SOL.SOCKET, SO.ATTACH_FILTER, { len: prog.length, filter: prog }, c.sizes.fprog) !== 0) {
    const code = errnoName();
    const why = code === "EINVAL" ? ": the kernel's checker refused the program" : "";
    throw new SyscallError(
      code,
      "setsockopt",
      `setsockopt(SO_ATTACH_FILTER) with a program of ${prog.length} instructions failed: ${code}${why}`,
    );
  }
}

/** bind(2) of a packet socket to one interface, receiving every protocol (ETH_P_ALL). */
export function bindPacket(fd: number, ifindex: number, iface: string): void {
  const c = load();
  const addr = {
    sll_family: AF.PACKET,
    sll_protocol: ETH_P_ALL,
    sll_ifindex: ifindex,
    sll_hatype: 0,
    sll_pkttype: 0,
    sll_halen: 0,
    sll_addr: [0, 0, 0, 0, 0, 0, 0, 0],
  };
  if (c.bindLl(fd, addr, c.sizes.sockaddrLl) !== 0) throw sysError("bind", `to ${iface}`);
}

/** sendto(2) an IPv4 address (`address` as a 32-bit number), port 0 as raw sockets want. */
export function sendtoIpv4(fd: number, data: Buffer, address: number, what: string): void {
  const c = load();
  const addr = { sin_family: AF.INET, sin_port: 0, sin_addr: address, sin_zero: [0, 0, 0, 0, 0, 0, 0, 0] };
  if (c.sendtoIn(fd, data, data.length, 0, addr, c.sizes.sockaddrIn) < 0) throw sysError("sendto", what);
}

/** send(2) on a bound packet socket: the frame leaves as it is. */
export function send(fd: number, data: Buffer, what: string): void {
  if (load().send(fd, data, data.length, 0) < 0) throw sysError("send", what);
}

/** recv(2) without blocking: the bytes read into `buf`, or -1 when nothing is queued. */
export const recvNow = (fd: number, buf: Buffer): number => load().recv(fd, buf, buf.length, MSG_DONTWAIT);

/** The interface's index, or a SyscallError (ENODEV) if this namespace has no such interface. */
export function ifindex(iface: string): number {
  const n = load().ifNameToIndex(iface);
  if (n === 0) throw sysError("if_nametoindex", JSON.stringify(iface));
  return n;
}

/** SIOCGSTAMP: the arrival time (ms since the epoch, µs resolution) of the frame last read, or
 *  null before the first. The first call also turns on the socket's timestamps. */
export function lastPacketTime(fd: number): number | null {
  const tv: Partial<Timeval> = {};
  if (load().ioctlStamp(fd, SIOCGSTAMP, tv) !== 0 || tv.tv_sec === undefined || tv.tv_usec === undefined) return null;
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

// ---- TUN devices ---------------------------------------------------------------------------------

/** Opens /dev/net/tun (non-blocking, close-on-exec) and attaches it to a new TUN interface named
 *  `name` (IFF_TUN | IFF_NO_PI: each read is one IP packet, each write sends one). The interface
 *  lives while the fd is open. Needs CAP_NET_ADMIN in the network namespace. */
export function openTun(name: string): { fd: number; name: string } {
  if (!/^[\w.-]{1,15}$/.test(name)) throw new RangeError(`not an interface name: ${JSON.stringify(name)}`);
  const c = load();
  const fd = c.open("/dev/net/tun", O.RDWR | O.NONBLOCK | O.CLOEXEC);
  if (fd < 0) throw sysError("open", "/dev/net/tun");
  const ifr = Buffer.alloc(IFREQ_SIZE);
  ifr.write(name, 0, "latin1");
  ifr.writeUInt16LE(TUN.IFF_TUN | TUN.IFF_NO_PI, 16); // ifr_flags, a short in the machine's order (x86, arm: LE)
  if (c.ioctlBuffer(fd, TUN.SETIFF, ifr) !== 0) {
    const e = sysError("ioctl", `TUNSETIFF ${name}`);
    c.close(fd);
    throw e;
  }
  return { fd, name: ifr.toString("latin1", 0, 16).replace(/\0.*$/s, "") };
}

/** read(2) without blocking (the fd is O_NONBLOCK): bytes read into `buf`, or -1 when none. */
export const readNow = (fd: number, buf: Buffer): number => load().read(fd, buf, buf.length);

/** write(2) of one whole buffer (one packet to a TUN fd); throws on failure. */
export function writeFd(fd: number, data: Buffer, what: string): void {
  if (load().write(fd, data, data.length) < 0) throw sysError("write", what);
}
