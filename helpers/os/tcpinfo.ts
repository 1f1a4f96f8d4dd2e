// The kernel's own record of a TCP connection: getsockopt(TCP_INFO) read field by field, and the
// connection's congestion-control algorithm (TCP_CONGESTION), both through libc (os/libc.ts). The
// queues and timers `ss` prints are in os/procnet.ts. Linux only.
import type { Socket } from "node:net";
import { getsockoptBytes, setsockoptBytes, SOL, SyscallError, TCP } from "./libc";
import { fdOf } from "./sockopt";

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
  const buf = getsockoptBytes(fdOf(s), SOL.TCP, TCP.INFO, 512);
  if (buf.length < NEEDED) {
    throw new SyscallError(
      "ERR_TCP_INFO",
      "getsockopt",
      `this kernel's tcp_info has ${buf.length} bytes; snd_wnd and rcv_wnd need ${NEEDED} (Linux 6.2 or later)`,
    );
  }
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

/** Chooses the connection's congestion-control algorithm (setsockopt TCP_CONGESTION). */
export function setCongestion(s: Socket, algorithm: string): void {
  try {
    setsockoptBytes(fdOf(s), SOL.TCP, TCP.CONGESTION, Buffer.from(algorithm), `TCP_CONGESTION "${algorithm}"`);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    const where = "/proc/sys/net/ipv4/tcp_available_congestion_control";
    throw new SyscallError(e.code, e.syscall, `${e.message}; the algorithms this kernel has are in ${where}`);
  }
}

/** The algorithm the connection uses, as the kernel reports it. */
export function getCongestion(s: Socket): string {
  const name = getsockoptBytes(fdOf(s), SOL.TCP, TCP.CONGESTION, 16);
  return name.toString("latin1").replace(/\0.*$/s, "");
}
