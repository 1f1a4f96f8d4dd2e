// Request/response latency on loopback: an echo server in a peer process (its own event loop,
// started through os/remote), a client that sends a small request and waits for the whole reply,
// and the statistics that describe the result: percentiles and jitter.
import * as net from "node:net";
import { join } from "node:path";
import type * as services from "../net/services";
import { startAgent } from "../os/remote";
import { nowMs } from "../os/time";
import { summarize, type Summary } from "./stats";

// By path, not module object: the peer loads the file (and so does any test runner's loader).
const SERVICES = join(__dirname, "..", "net", "services.ts");

/** A TCP echo server in its own process; closed by `close()` or at kernel shutdown. */
export async function echoProcess(): Promise<{ port: number; close: () => Promise<void> }> {
  const peer = await startAgent({ name: "the echo process" });
  try {
    const server = await peer.run<typeof services, "tcpServer">(SERVICES, "tcpServer", 0, {
      echo: true,
      address: "127.0.0.1",
    });
    return { port: server.port, close: () => peer.close() };
  } catch (e) {
    await peer.close();
    throw e;
  }
}

/** `count` sequential round trips of `size`-byte requests; each sample in milliseconds. The next
 *  request goes out from the read callback itself, and replies are read into one reused buffer
 *  (`onread`), so no promise or allocation sits between a reply and the next request. */
export function roundTrips(
  port: number,
  options: { count?: number; size?: number; warmup?: number } = {},
): Promise<number[]> {
  const size = options.size ?? 1;
  const warmup = options.warmup ?? 20;
  const total = warmup + (options.count ?? 1000);
  const request = Buffer.alloc(size, 0x2a);
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    let i = 0;
    let got = 0;
    let t0 = 0;
    const send = () => {
      got = 0;
      t0 = nowMs();
      socket.write(request);
    };
    const socket = net.connect({
      port,
      host: "127.0.0.1",
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(Math.max(size, 64 << 10)),
        callback(n: number) {
          if ((got += n) < size) return true;
          if (i++ >= warmup) samples.push(nowMs() - t0);
          if (i < total) send();
          else socket.destroy();
          return true;
        },
      },
    });
    socket.once("connect", send);
    socket.once("error", reject);
    socket.once("close", () =>
      i >= total ? resolve(samples) : reject(new Error(`the echo closed after ${i} of ${total} round trips`)),
    );
  });
}

export interface Jitter {
  /** Standard deviation of the samples. */
  stddev: number;
  /** RFC 3550's interarrival jitter: a running mean of |difference between consecutive samples|
   *  with gain 1/16, the estimator RTP receivers report. */
  rfc3550: number;
}

export function jitter(samples: number[]): Jitter {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const stddev = Math.sqrt(samples.reduce((a, x) => a + (x - mean) ** 2, 0) / samples.length);
  let j = 0;
  for (let i = 1; i < samples.length; i++) j += (Math.abs(samples[i] - samples[i - 1]) - j) / 16;
  return { stddev, rfc3550: j };
}

export function latencyReport(samples: number[]): Summary & Jitter {
  return { ...summarize(samples), ...jitter(samples) };
}
