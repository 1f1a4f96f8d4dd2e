// Functions for classic BPF experiments that run inside a lab host (`host.run(bpfLab, "…")`):
// hand a program to the kernel exactly as given (no checks of ours first, so the kernel's own
// checker answers), and send hand-built Ethernet frames out of an interface. Frames travel as
// hex strings (arguments and results are JSON). Packet sockets need CAP_NET_RAW, which a lab host
// has; nothing here creates a namespace.
import { constants } from "node:os";
import koffi from "koffi";
import { assertInLabHost } from "./guard";
import { openCapture } from "../os/rawsock";
import { type BpfInsn } from "../wire/bpf";

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ATTACH_FILTER = 26;

export class BpfAttachError extends Error {
  constructor(
    /** The errno name: EINVAL when the kernel's checker refuses the program. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BpfAttachError";
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

interface Libc {
  socket: (...a: unknown[]) => number;
  attach: (...a: unknown[]) => number;
  bind: (...a: unknown[]) => number;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number;
  ifindex: (name: string) => number;
  close: (fd: number) => number;
  fprogSize: number;
  sockaddrLlSize: number;
}
let libc: Libc | undefined;
function load() {
  if (libc) return libc;
  const lib = koffi.load("libc.so.6");
  // Anonymous structs: a named koffi type can be declared only once per process.
  const sockFilter = koffi.struct({ code: "uint16_t", jt: "uint8_t", jf: "uint8_t", k: "uint32_t" });
  const sockFprog = koffi.struct({ len: "uint16_t", filter: koffi.pointer(sockFilter) });
  const sockaddrLl = koffi.struct({
    sll_family: "uint16_t",
    sll_protocol: "uint16_be_t",
    sll_ifindex: "int",
    sll_hatype: "uint16_t",
    sll_pkttype: "uint8_t",
    sll_halen: "uint8_t",
    sll_addr: koffi.array("uint8_t", 8),
  });
  libc = {
    socket: lib.func("int socket(int domain, int type, int protocol)"),
    attach: lib.func("setsockopt", "int", ["int", "int", "int", koffi.pointer(sockFprog), "uint32_t"]),
    bind: lib.func("bind", "int", ["int", koffi.pointer(sockaddrLl), "uint32_t"]),
    recv: lib.func("recv", "intptr_t", ["int", "void *", "size_t", "int"]),
    ifindex: lib.func("unsigned int if_nametoindex(const char *name)"),
    close: lib.func("int close(int fd)"),
    fprogSize: koffi.sizeof(sockFprog),
    sockaddrLlSize: koffi.sizeof(sockaddrLl),
  };
  return libc;
}

/** Opens a packet socket (bound to nothing, so no frame ever reaches it), attaches `prog` with
 *  SO_ATTACH_FILTER exactly as given, and closes it again. Returns what the kernel said: a
 *  program it refuses throws a BpfAttachError with the errno (EINVAL). */
export function attachFilter(prog: BpfInsn[]): { attached: true; instructions: number } {
  const c = load();
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw new BpfAttachError(
      ERRNO_NAMES.get(koffi.errno()) ?? "EIO",
      "socket(AF_PACKET, SOCK_RAW) failed: packet sockets need CAP_NET_RAW",
    );
  try {
    if (c.attach(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: prog.length, filter: prog }, c.fprogSize) !== 0) {
      const code = ERRNO_NAMES.get(koffi.errno()) ?? `ERRNO${koffi.errno()}`;
      const why = code === "EINVAL" ? ": the kernel's checker refused the program" : "";
      throw new BpfAttachError(
        code,
        `setsockopt(SO_ATTACH_FILTER) with a program of ${prog.length} instructions failed: ${code}${why}`,
      );
    }
    return { attached: true, instructions: prog.length };
  } finally {
    c.close(fd);
  }
}

const errnoName = () => ERRNO_NAMES.get(koffi.errno()) ?? `ERRNO${koffi.errno()}`;
const ETH_P_ALL = 0x0003;
const MSG_DONTWAIT = 0x40;

/** Several captures on `iface` at once, one packet socket per named filter (null: no filter),
 *  each filter attached before bind so no unfiltered frame slips in. The sockets are read
 *  without blocking (recv with MSG_DONTWAIT every few ms, on the event loop), so any number of
 *  them can run side by side, and `stop()` drains every queue to the last frame. A service. */
export function startCaptures(req: { iface: string; filters: Record<string, BpfInsn[] | null> }) {
  const c = load();
  const ifindex = c.ifindex(req.iface);
  if (!ifindex) throw new BpfAttachError("ENODEV", `no interface ${JSON.stringify(req.iface)} in this host`);
  const socks: { name: string; fd: number; frames: string[] }[] = [];
  const closeAll = () => socks.splice(0).forEach((s) => c.close(s.fd));
  try {
    for (const [name, prog] of Object.entries(req.filters)) {
      const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); // protocol 0: nothing queued before bind
      if (fd < 0)
        throw new BpfAttachError(errnoName(), "socket(AF_PACKET, SOCK_RAW) failed: packet sockets need CAP_NET_RAW");
      socks.push({ name, fd, frames: [] });
      if (prog && c.attach(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: prog.length, filter: prog }, c.fprogSize) !== 0) {
        throw new BpfAttachError(errnoName(), `setsockopt(SO_ATTACH_FILTER) for ${name} failed: ${errnoName()}`);
      }
      const addr = {
        sll_family: AF_PACKET,
        sll_protocol: ETH_P_ALL,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0, 0, 0, 0, 0, 0, 0, 0],
      };
      if (c.bind(fd, addr, c.sockaddrLlSize) !== 0)
        throw new BpfAttachError(errnoName(), `bind to ${req.iface} failed: ${errnoName()}`);
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const buf = Buffer.alloc(262144);
  const drain = () => {
    for (const s of socks) {
      for (let n = c.recv(s.fd, buf, buf.length, MSG_DONTWAIT); n >= 0; n = c.recv(s.fd, buf, buf.length, MSG_DONTWAIT))
        s.frames.push(buf.toString("hex", 0, n));
    }
  };
  const timer = setInterval(drain, 5);
  let result: Promise<Record<string, string[]>> | undefined;
  const stop = (settleMs = 200) =>
    (result ??= (async () => {
      await new Promise((r) => setTimeout(r, settleMs));
      clearInterval(timer);
      drain();
      const out = Object.fromEntries(socks.map((s) => [s.name, s.frames]));
      closeAll();
      return out;
    })());
  return {
    iface: req.iface,
    names: Object.keys(req.filters),
    /** Waits `settleMs` for frames in flight, reads every queue empty, closes: frames (hex) by name. */
    stop,
    close: async () => void (await stop(0)),
  };
}

/** Sends each frame (hex, Ethernet header first) out of `iface` as it is, `gapMs` apart. */
export async function sendFrames(iface: string, frames: string[], gapMs = 20): Promise<{ sent: number }> {
  assertInLabHost("bpf-lab.sendFrames");
  const cap = openCapture({ iface, filter: [{ code: 0x06, jt: 0, jf: 0, k: 0 }] }); // ret #0: sends only, queues nothing
  try {
    for (const hex of frames) {
      cap.send(Buffer.from(hex, "hex"));
      await new Promise((r) => setTimeout(r, gapMs));
    }
    return { sent: frames.length };
  } finally {
    await cap.close();
  }
}
