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

/** The raw `struct tcp_info` of a connection. */
function readTcpInfo(s: Socket): Buffer {
  if (process.platform !== "linux") throw new SockoptError("ERR_PLATFORM", "TCP_INFO needs Linux");
  getsockopt ??= koffi
    .load("libc.so.6")
    .func("int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *length)") as any;
  const buf = Buffer.alloc(512);
  const len = [buf.length];
  if (getsockopt!(fdOf(s), IPPROTO_TCP, TCP_INFO, buf, len) !== 0)
    throw new SockoptError("ERR_GETSOCKOPT", `getsockopt(TCP_INFO) failed, errno ${koffi.errno()}`);
  if (len[0] < NEEDED)
    throw new SockoptError(
      "ERR_TCP_INFO",
      `this kernel's tcp_info has ${len[0]} bytes; snd_wnd and rcv_wnd need ${NEEDED} (Linux 6.2 or later)`,
    );
  return buf;
}

export function tcpInfo(s: Socket): TcpInfo {
  const buf = readTcpInfo(s);
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

/** The congestion-control side of `struct tcp_info`: what the sender's algorithm is doing. */
export interface CongestionInfo {
  /** 0 open, 1 disorder, 2 CWR, 3 recovery, 4 loss (tcp_ca_state). */
  caState: number;
  /** Congestion window, in segments. */
  cwnd: number;
  /** Slow-start threshold in segments; null while it is still "infinite" (no loss yet). */
  ssthresh: number | null;
  /** Smoothed RTT and the lowest RTT seen, in milliseconds. */
  rttMs: number;
  minRttMs: number;
  /** The kernel's delivery-rate estimate (what BBR models), in bits per second. */
  deliveryBps: number;
  pacingBps: number;
  /** Segments retransmitted over the connection's life. */
  totalRetrans: number;
  bytesAcked: number;
}

export function congestionInfo(s: Socket): CongestionInfo {
  const buf = readTcpInfo(s);
  const u32 = (o: number) => buf.readUInt32LE(o);
  const u64 = (o: number) => Number(buf.readBigUInt64LE(o));
  const ssthresh = u32(76);
  return {
    caState: buf.readUInt8(1),
    cwnd: u32(80),
    ssthresh: ssthresh >= 0x7fffffff ? null : ssthresh,
    rttMs: u32(68) / 1000,
    minRttMs: u32(148) / 1000,
    deliveryBps: u64(160) * 8,
    pacingBps: u64(104) * 8,
    totalRetrans: u32(100),
    bytesAcked: u64(120),
  };
}

let setsockoptStr: ((fd: number, level: number, name: number, value: string, length: number) => number) | undefined;
let getsockoptStr: ((fd: number, level: number, name: number, value: Buffer, length: number[]) => number) | undefined;
const TCP_CONGESTION = 13;

/** Chooses the connection's congestion-control algorithm (setsockopt TCP_CONGESTION). */
export function setCongestion(s: Socket, algorithm: string): void {
  setsockoptStr ??= koffi
    .load("libc.so.6")
    .func("int setsockopt(int fd, int level, int name, const char *value, uint32_t length)") as any;
  if (setsockoptStr!(fdOf(s), IPPROTO_TCP, TCP_CONGESTION, algorithm, Buffer.byteLength(algorithm)) !== 0) {
    throw new SockoptError(
      "ERR_SETSOCKOPT",
      `TCP_CONGESTION "${algorithm}" refused (errno ${koffi.errno()}); available: see /proc/sys/net/ipv4/tcp_available_congestion_control`,
    );
  }
}

/** The algorithm the connection uses, as the kernel reports it. */
export function getCongestion(s: Socket): string {
  getsockoptStr ??= koffi
    .load("libc.so.6")
    .func("int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32_t *length)") as any;
  const buf = Buffer.alloc(16);
  const len = [buf.length];
  if (getsockoptStr!(fdOf(s), IPPROTO_TCP, TCP_CONGESTION, buf, len) !== 0)
    throw new SockoptError("ERR_GETSOCKOPT", `getsockopt(TCP_CONGESTION) failed, errno ${koffi.errno()}`);
  return buf.subarray(0, len[0]).toString("latin1").replace(/\0.*$/s, "");
}
