// getsockopt/setsockopt on real sockets. Node exposes a few options as methods (setNoDelay,
// setKeepAlive) but cannot read any back, so we call libc through koffi, a maintained FFI.
import type { Socket as DgramSocket } from "node:dgram";
import type { Server, Socket } from "node:net";
import koffi from "koffi";

/** Linux values from <sys/socket.h>, <netinet/in.h> and <netinet/tcp.h>. */
export const SOL_SOCKET = 1;
export const IPPROTO_TCP = 6;
export const SO = { REUSEADDR: 2, SNDBUF: 7, RCVBUF: 8, KEEPALIVE: 9, REUSEPORT: 15 } as const;
export const TCP = { NODELAY: 1, KEEPIDLE: 4, KEEPINTVL: 5, KEEPCNT: 6 } as const;

export class SockoptError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let libc: { get: (...a: unknown[]) => number; set: (...a: unknown[]) => number; errno: () => number } | undefined;
function load() {
  if (process.platform !== "linux") throw new SockoptError("ERR_PLATFORM", "socket options via libc need Linux");
  if (!libc) {
    const lib = koffi.load("libc.so.6");
    libc = {
      get: lib.func("int getsockopt(int fd, int level, int name, _Out_ int *value, _Inout_ uint32_t *length)"),
      set: lib.func("int setsockopt(int fd, int level, int name, const int *value, uint32_t length)"),
      errno: () => koffi.errno(),
    };
  }
  return libc;
}

/** The file descriptor under a Node socket, server or UDP socket (it has one once connected,
 *  listening or bound). Node keeps a UDP socket's handle under a private symbol; its public-looking
 *  `_handle` getter works too but prints a deprecation warning (DEP0112) into the notebook. */
export function fdOf(s: Socket | Server | DgramSocket): number {
  const state = Object.getOwnPropertySymbols(s).find((k) => k.description === "state symbol");
  const fd = state ? (s as any)[state]?.handle?.fd : (s as any)._handle?.fd;
  if (typeof fd !== "number" || fd < 0)
    throw new SockoptError("ERR_NO_FD", "the socket has no file descriptor yet (not connected, listening or bound)");
  return fd;
}

export function getsockopt(s: Socket | Server | DgramSocket, level: number, name: number): number {
  const value = [0];
  const r = load().get(fdOf(s), level, name, value, [4]);
  if (r !== 0)
    throw new SockoptError("ERR_GETSOCKOPT", `getsockopt(${level}, ${name}) failed, errno ${load().errno()}`);
  return value[0];
}

/** SO_BINDTODEVICE from <asm-generic/socket.h>: its value is an interface name, not an int. */
export const SO_BINDTODEVICE = 25;
let setBytes: ((...a: unknown[]) => number) | undefined;

/** Ties a bound UDP socket to one interface (SO_BINDTODEVICE, needs CAP_NET_RAW): it then receives
 *  only what arrives there and its sends, limited broadcast included, leave only there, whatever
 *  the routing table says. A dgram socket has a descriptor only after bind, so call it from the
 *  bind callback. */
export function bindToDevice(socket: DgramSocket, iface: string): void {
  if (!/^[^\s/]{1,15}$/.test(iface))
    throw new SockoptError("ERR_INVALID_ARG_VALUE", `not an interface name: ${JSON.stringify(iface)}`);
  const fd = fdOf(socket);
  load();
  setBytes ??= koffi
    .load("libc.so.6")
    .func("int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t length)");
  const name = Buffer.from(iface + "\0");
  if (setBytes(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length) !== 0) {
    throw new SockoptError(
      "ERR_SETSOCKOPT",
      `SO_BINDTODEVICE ${iface} failed, errno ${load().errno()} (no such interface, or not root)`,
    );
  }
}

export function setsockopt(s: Socket | Server | DgramSocket, level: number, name: number, value: number): void {
  const r = load().set(fdOf(s), level, name, [value], 4);
  if (r !== 0)
    throw new SockoptError("ERR_SETSOCKOPT", `setsockopt(${level}, ${name}, ${value}) failed, errno ${load().errno()}`);
}

/** The kernel's view of a TCP connection from `ss -tmi` (iproute2): an independent check. */
export function ssDescribe(s: Socket): { line: string; rcvbuf?: number; sndbuf?: number; keepalive: boolean } {
  const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
  const filter = `sport = :${s.localPort} and dport = :${s.remotePort}`;
  const out = execFileSync("ss", ["-tnmio", "state", "established", filter], { encoding: "utf8" });
  const text = out.split("\n").slice(1).join(" ");
  const num = (re: RegExp) => (re.exec(text) ? Number(re.exec(text)![1]) : undefined);
  return {
    line: text.trim(),
    rcvbuf: num(/\brb(\d+)/),
    sndbuf: num(/\btb(\d+)/),
    keepalive: /timer:\(keepalive/.test(text),
  };
}
