// Functions the lab tests run inside a host through its agent.
import * as dgram from "node:dgram";
import { networkInterfaces } from "node:os";
import { assertInLabHost } from "../../helpers/os/netns";

/** Interface names and IPv4 addresses as the host sees them. */
export function addresses(): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(networkInterfaces()).map(([name, list]) => [
      name,
      (list ?? []).filter((a) => a.family === "IPv4").map((a) => a.address),
    ]),
  );
}

/** A UDP echo server: a service the agent keeps alive until close(). */
export async function udpEcho(address: string) {
  const socket = dgram.createSocket("udp4");
  let echoed = 0;
  socket.on("message", (msg, from) => {
    echoed++;
    socket.send(msg, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return {
    port: socket.address().port,
    echoed: () => echoed,
    close: () => new Promise<number>((resolve) => socket.close(() => resolve(echoed))),
  };
}

/** Sends `count` datagrams and counts the echoes that come back within `waitMs`. */
export async function udpRoundTrips(address: string, port: number, count: number, waitMs = 1000): Promise<number> {
  const socket = dgram.createSocket("udp4");
  let back = 0;
  socket.on("message", () => back++);
  for (let i = 0; i < count; i++) socket.send(Buffer.from(`probe ${i}`), port, address);
  await new Promise((r) => setTimeout(r, waitMs));
  socket.close();
  return back;
}

export function fail(message: string): never {
  throw Object.assign(new Error(message), { code: "ERR_PROBE" });
}

/** True inside a lab host; throws NotInLabError elsewhere (helpers/os/netns.ts). */
export function insideLab(): boolean {
  assertInLabHost("lab-probe.insideLab");
  return true;
}

/** Hands back what it was given, with what it found each value to be on arrival. */
export function bytesBack(buffer: Buffer, bytes: Uint8Array, nested: { parts: Buffer[] }) {
  return {
    buffer,
    bytes,
    nested,
    arrived: {
      buffer: Buffer.isBuffer(buffer),
      bytes: bytes instanceof Uint8Array && !Buffer.isBuffer(bytes),
      parts: nested.parts.every((p) => Buffer.isBuffer(p)),
    },
  };
}

/** A service that keeps the bytes it is given, and hands them back joined: a method returning a Buffer. */
export function byteStore() {
  const kept: Buffer[] = [];
  return {
    put(b: Buffer): number {
      kept.push(b);
      return kept.length;
    },
    joined: (): Buffer => Buffer.concat(kept),
    close() {},
  };
}
