// A TUN device from Node: `openTunDevice("tun0")` creates the interface in this network namespace
// (inside a lab host) and hands over the IP packets the kernel routes to it; `write()` gives the
// kernel a packet as if it had arrived on that interface. The fd is non-blocking and read on the
// event loop, a few times per millisecond while packets come and every millisecond otherwise,
// the way os/capture reads packet sockets. Closing it removes the interface.
import { accessSync, constants } from "node:fs";
import { CellSkipped } from "../../kernel/runtime";
import { close as closeFd, openTun, readNow, writeFd } from "./libc";
import { assertInLabHost } from "./netns";

export const TUN_DEVICE = "/dev/net/tun";

/** Whether this process may open the TUN clone device (a lab's user namespace has the same
 *  rights to it as the user: none where the device is 0600, as on some machines). */
export function tunUsable(): boolean {
  try {
    accessSync(TUN_DEVICE, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Skips the cell, with one line saying why, unless this user may open /dev/net/tun. */
export function needTun(): void {
  if (!tunUsable())
    throw new CellSkipped(
      `this cell needs to open ${TUN_DEVICE}, which this user may not (run as root, or chmod 0666 it)`,
    );
}

export interface TunDevice {
  name: string;
  /** Sends one IP packet into the kernel's stack, arriving on this interface. */
  write(packet: Buffer): void;
  close(): void;
}

/** Opens TUN interface `name`; `onPacket` gets every packet the kernel sends out through it. */
export function openTunDevice(name: string, onPacket: (packet: Buffer) => void): TunDevice {
  assertInLabHost("openTunDevice");
  const { fd, name: actual } = openTun(name);
  const buf = Buffer.alloc(65536);
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    if (!open) return;
    let n = 0;
    for (let len = readNow(fd, buf); len >= 0 && open; len = readNow(fd, buf)) {
      onPacket(Buffer.from(buf.subarray(0, len)));
      if (++n >= 256) break; // let the rest of the event loop run
    }
    if (!open) return;
    if (n > 0) setImmediate(drain);
    else timer = setTimeout(drain, 1);
  };
  drain();
  return {
    name: actual,
    write(packet: Buffer) {
      if (open) writeFd(fd, packet, `to ${actual}`);
    },
    close() {
      if (!open) return;
      open = false;
      if (timer) clearTimeout(timer);
      closeFd(fd);
    },
  };
}
