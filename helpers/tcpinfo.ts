// The kernel's own record of a TCP connection: getsockopt(TCP_INFO) through koffi, and the
// queues and timers `ss` (iproute2) prints. Linux only.
import type { Socket } from "node:net";
import { execFileSync } from "node:child_process";
import koffi from "koffi";
import { fdOf, IPPROTO_TCP, SockoptError } from "./sockopt";

const TCP_INFO = 11; // <netinet/tcp.h>

let getsockopt: ((fd: number, level: number, name: number, value: Buffer, length: number[]) => number) | undefined;

/** A few fields of `struct tcp_info` (include/uapi/linux/tcp.h), by their kernel names. */
export interface TcpInfo {
  state: number; // 1 = ESTABLISHED
  /** Persist / retransmission timer backoff: how many times the timer has doubled. */
  backoff: number;
  sndMss: number;
  /** Bytes sent but not yet acknowledged, in segments. */
  unacked: number;
  rcvSpace: number;
  bytesAcked: number;
  bytesReceived: number;
  /** Bytes the application wrote that the kernel has not sent yet. */
  notsentBytes: number;
  /** Microseconds the sender spent limited by the receiver's window. */
  rwndLimitedUs: number;
  bytesSent: number;
  /** The window the peer advertised (scaled), as this side last saw it: the sender's limit. */
  sndWnd: number;
  /** The window this side last advertised to its peer. */
  rcvWnd: number;
}

// Offsets in struct tcp_info; snd_wnd (Linux 5.19) and rcv_wnd (6.2) are the last we read.
const NEEDED = 236;

export function tcpInfo(s: Socket): TcpInfo {
  if (process.platform !== "linux") throw new SockoptError("ERR_PLATFORM", "TCP_INFO needs Linux");
  getsockopt ??= koffi.load("libc.so.6").func("int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *length)") as any;
  const buf = Buffer.alloc(512);
  const len = [buf.length];
  if (getsockopt!(fdOf(s), IPPROTO_TCP, TCP_INFO, buf, len) !== 0) throw new SockoptError("ERR_GETSOCKOPT", `getsockopt(TCP_INFO) failed, errno ${koffi.errno()}`);
  if (len[0] < NEEDED) throw new SockoptError("ERR_TCP_INFO", `this kernel's tcp_info has ${len[0]} bytes; snd_wnd and rcv_wnd need ${NEEDED} (Linux 6.2 or later)`);
  const u32 = (o: number) => buf.readUInt32LE(o);
  const u64 = (o: number) => Number(buf.readBigUInt64LE(o));
  return {
    state: buf.readUInt8(0),
    backoff: buf.readUInt8(4),
    sndMss: u32(16),
    unacked: u32(24),
    rcvSpace: u32(96),
    bytesAcked: u64(120),
    bytesReceived: u64(128),
    notsentBytes: u32(144),
    rwndLimitedUs: u64(176),
    bytesSent: u64(200),
    sndWnd: u32(228),
    rcvWnd: u32(232),
  };
}

/** What `ss -tnmio` says about one connection: its queues, buffer sizes and timer. */
export interface SsView {
  /** Receive queue: bytes the kernel holds that the application has not read. */
  recvQ: number;
  /** Send queue: bytes written by the application and not yet acknowledged by the peer. */
  sendQ: number;
  /** Receive and send buffer sizes (skmem rb, tb). */
  rb: number;
  tb: number;
  /** The timer running, e.g. "persist", "on" (retransmission), "keepalive", or "" for none. */
  timer: string;
  line: string;
}

export function ssView(s: Socket): SsView {
  const filter = `sport = :${s.localPort} and dport = :${s.remotePort}`;
  const out = execFileSync("ss", ["-tnmio", "state", "established", filter], { encoding: "utf8" });
  const line = out.split("\n").slice(1).join(" ").replace(/\s+/g, " ").trim();
  if (!line) throw new SockoptError("ERR_SS", `ss does not list ${filter}`);
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  return {
    recvQ: num(/^(\d+) /),
    sendQ: num(/^\d+ (\d+) /),
    rb: num(/\brb(\d+)/),
    tb: num(/\btb(\d+)/),
    timer: /timer:\((\w+),/.exec(line)?.[1] ?? "",
    line,
  };
}
