// Socket options on Node's own sockets: getsockopt/setsockopt of any option through libc
// (os/libc.ts), since Node sets a few options (setNoDelay, setKeepAlive) but reads none back; and
// SO_BINDTODEVICE, which ties a UDP socket to one interface. Linux only.
import type { Socket as DgramSocket } from "node:dgram";
import type { Server, Socket } from "node:net";
import { getsockoptInt, setsockoptBytes, setsockoptInt, SO, SOL, SyscallError } from "./libc";

export { IP, SO, SOL, TCP } from "./libc";
/** The C names for the two levels notebooks use most. */
export const SOL_SOCKET = SOL.SOCKET;
export const IPPROTO_TCP = SOL.TCP;

/** Any of Node's sockets: TCP, a listening server, UDP. */
export type AnySocket = Socket | Server | DgramSocket;

/** The file descriptor under a Node socket, server or UDP socket (it has one once connected,
 *  listening or bound). Node keeps a UDP socket's handle under a private symbol; its public-looking
 *  `_handle` getter works too but prints a deprecation warning (DEP0112) into the notebook. */
export function fdOf(s: AnySocket): number {
  const state = Object.getOwnPropertySymbols(s).find((k) => k.description === "state symbol");
  const handle: { fd?: number } | undefined = state ? Reflect.get(s, state)?.handle : Reflect.get(s, "_handle");
  const fd = handle?.fd;
  if (typeof fd !== "number" || fd < 0) {
    throw new SyscallError(
      "ERR_NO_FD",
      "fd",
      "the socket has no file descriptor yet (not connected, listening or bound)",
    );
  }
  return fd;
}

/** An int option of a socket, as the kernel holds it. */
export const getsockopt = (s: AnySocket, level: number, name: number): number => getsockoptInt(fdOf(s), level, name);

/** Sets an int option of a socket. */
export const setsockopt = (s: AnySocket, level: number, name: number, value: number): void =>
  setsockoptInt(fdOf(s), level, name, value);

/** Ties a bound UDP socket to one interface (SO_BINDTODEVICE, needs CAP_NET_RAW): it then receives
 *  only what arrives there and its sends, limited broadcast included, leave only there, whatever
 *  the routing table says. A dgram socket has a descriptor only after bind, so call it from the
 *  bind callback. */
export function bindToDevice(socket: DgramSocket, iface: string): void {
  if (!/^[^\s/]{1,15}$/.test(iface)) {
    throw new SyscallError("ERR_INVALID_ARG_VALUE", "setsockopt", `not an interface name: ${JSON.stringify(iface)}`);
  }
  setsockoptBytes(fdOf(socket), SOL.SOCKET, SO.BINDTODEVICE, Buffer.from(iface + "\0"), `SO_BINDTODEVICE ${iface}`);
}
