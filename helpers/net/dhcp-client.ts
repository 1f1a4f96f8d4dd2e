// A DHCP client (RFC 2131 §4.4) for an interface that has no address yet: DISCOVER, OFFER, REQUEST,
// ACK ("DORA"), with retransmission, then optionally configure the address and default route, renew
// at T1 and release. It returns a JSON transcript of every message, for a notebook to print.
//
// On broadcast without an address: a plain kernel UDP socket is enough here, no raw socket. We
// checked it on Linux 6.18 with a veth pair between two namespaces: a socket bound to 0.0.0.0:68
// and tied to the interface with SO_BINDTODEVICE sends to 255.255.255.255 from source 0.0.0.0, and
// receives the server's broadcast replies, although the interface has no IPv4 address. Without
// SO_BINDTODEVICE the send fails with ENETUNREACH: with no address there is no route to
// 255.255.255.255, and the socket option is what tells the kernel which interface to use. What a
// kernel socket cannot do is receive a reply unicast to the offered address before that address is
// configured (the kernel drops IP packets for addresses that are not its own), so we set the
// broadcast flag and the server broadcasts. Classic clients (dhclient, udhcpc) use raw sockets and
// can do without the flag.
import { execFile } from "node:child_process";
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import {
  CLIENT_PORT,
  decode,
  DhcpError,
  encode,
  randomXid,
  SERVER_PORT,
  summarize,
  type DhcpMessage,
  type DhcpMessageInput,
  type DhcpMessageType,
} from "../wire/dhcp";
import { isIpv4, isMac, maskToPrefix } from "../wire/addr";
import { bindToDevice } from "../os/sockopt";
import { assertInLabHost } from "../os/netns";

const run = promisify(execFile);

export interface DhcpClientOptions {
  iface: string;
  /** the interface's MAC by default (from /sys/class/net) */
  mac?: string;
  hostName?: string;
  /** option 61 as hex; default none, so servers key the lease on chaddr */
  clientId?: string;
  /** ask for this address in the DISCOVER (option 50) */
  requestedIp?: string;
  /** start in INIT-REBOOT: ask to keep this address without a DISCOVER (a laptop back on a
   *  network it knows); on a NAK the client starts over with a DISCOVER, as RFC 2131 says */
  rebootIp?: string;
  /** the first wait for a reply (default 1000 ms); doubled after each retransmission, up to 8 s.
   *  (RFC 2131 §4.1 suggests 4 s with ±1 s jitter; a notebook has less patience.) */
  timeoutMs?: number;
  /** sends of each message before giving up (default 4) */
  attempts?: number;
  /** configure the address, prefix and default route with `ip` in the current namespace */
  apply?: boolean;
  /** renew once: true waits for T1, a number waits that many ms instead (a notebook cannot wait
   *  half an hour). Renewing is a unicast REQUEST to the server, so it needs `apply: true`. */
  renew?: boolean | number;
  /** send a RELEASE at the end (and take the address off the interface if it was applied) */
  release?: boolean;
  /** the first transaction id (default random); a renewal uses the next one */
  xid?: number;
  /** set the broadcast flag (default true; see the note at the top) */
  broadcastFlag?: boolean;
  port?: number;
  serverPort?: number;
}

export interface TranscriptEntry {
  /** milliseconds since the client started */
  atMs: number;
  direction: "sent" | "received";
  peer: string;
  type: DhcpMessageType | "malformed";
  /** in hex, "0x1a2b3c4d" */
  xid?: string;
  broadcast?: boolean;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  /** the options by name (see `summarize` in ./dhcp) */
  options?: Record<string, unknown>;
  error?: string;
  note?: string;
}

export interface ClientLease {
  ip: string;
  prefix: number;
  subnetMask: string;
  serverId: string;
  routers: string[];
  dnsServers: string[];
  domainName?: string;
  /** seconds, as the server gave them (T1, T2 derived when absent) */
  leaseTime: number;
  renewalTime: number;
  rebindingTime: number;
  /** milliseconds since the epoch */
  boundAt: number;
}

export interface DhcpTranscript {
  iface: string;
  mac: string;
  /** bound: a lease; nak: the server refused our REQUEST after its own OFFER; timeout: no server answered */
  outcome: "bound" | "nak" | "timeout";
  messages: TranscriptEntry[];
  lease: ClientLease | null;
  /** the `ip` commands run, when `apply` was given */
  commands: string[];
  renewed: boolean;
  released: boolean;
}

export class DhcpClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DhcpClientError";
  }
}

const PARAMETERS = [1, 3, 6, 15, 28, 51, 54, 58, 59];

export async function dhcpClient(opts: DhcpClientOptions): Promise<DhcpTranscript> {
  if (!opts || !/^[^\s/]{1,15}$/.test(opts.iface ?? ""))
    throw new DhcpClientError("ERR_INVALID_ARG_VALUE", `iface: not an interface name: ${JSON.stringify(opts?.iface)}`);
  const bad = (why: string): never => {
    throw new DhcpClientError("ERR_INVALID_ARG_VALUE", why);
  };
  if (opts.renew && !opts.apply) bad("renew needs apply: true (renewing is a unicast REQUEST from the leased address)");
  if (opts.timeoutMs !== undefined && !(Number.isInteger(opts.timeoutMs) && opts.timeoutMs > 0))
    bad(`timeoutMs must be a positive whole number, not ${opts.timeoutMs}`);
  if (opts.attempts !== undefined && !(Number.isInteger(opts.attempts) && opts.attempts > 0))
    bad(`attempts must be a positive whole number, not ${opts.attempts}`);
  if (typeof opts.renew === "number" && !(opts.renew >= 0)) bad(`renew: milliseconds to wait, not ${opts.renew}`);
  for (const k of ["requestedIp", "rebootIp"] as const)
    if (opts[k] !== undefined && !isIpv4(opts[k])) bad(`${k}: not an IPv4 address: ${JSON.stringify(opts[k])}`);
  if (opts.mac !== undefined && !isMac(opts.mac)) bad(`mac: not an Ethernet address: ${JSON.stringify(opts.mac)}`);
  assertInLabHost("dhcp-client.dhcpClient");
  const mac = opts.mac ?? readFileSync(`/sys/class/net/${opts.iface}/address`, "utf8").trim();
  const timeout = opts.timeoutMs ?? 1000;
  const attempts = opts.attempts ?? 4;
  const serverPort = opts.serverPort ?? SERVER_PORT;
  const started = Date.now();
  const result: DhcpTranscript = {
    iface: opts.iface,
    mac,
    outcome: "timeout",
    messages: [],
    lease: null,
    commands: [],
    renewed: false,
    released: false,
  };
  let xid = opts.xid ?? randomXid();

  const socket = dgram.createSocket({ type: "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(opts.port ?? CLIENT_PORT, "0.0.0.0", () => {
      socket.off("error", reject);
      try {
        bindToDevice(socket, opts.iface); // see the note at the top: this is what makes it work
        socket.setBroadcast(true);
        resolve();
      } catch (e) {
        socket.close();
        reject(e);
      }
    });
  });

  // Replies for us: our xid and our chaddr. Everything else on port 68 (other clients' replies
  // are broadcast too) is ignored, not logged.
  let waiter: ((m: DhcpMessage, peer: string) => boolean) | undefined;
  socket.on("message", (bytes, from) => {
    const peer = `${from.address}:${from.port}`;
    let m: DhcpMessage;
    try {
      m = decode(bytes);
    } catch (e) {
      if (!(e instanceof DhcpError)) throw e;
      result.messages.push({
        atMs: Date.now() - started,
        direction: "received",
        peer,
        type: "malformed",
        error: e.message,
      });
      return;
    }
    if (m.op !== "BOOTREPLY" || m.xid !== xid || m.chaddr !== mac.toLowerCase()) return;
    if (!waiter?.(m, peer)) result.messages.push({ ...entry("received", peer, m), note: "not expected now: ignored" });
  });

  const entry = (direction: TranscriptEntry["direction"], peer: string, m: DhcpMessage): TranscriptEntry => {
    const { chaddr, ...brief } = summarize(m) as Omit<TranscriptEntry, "atMs" | "direction" | "peer"> & {
      chaddr: string;
    };
    void chaddr; // always ours: the transcript says it once, as `mac`
    return { atMs: Date.now() - started, direction, peer, ...brief };
  };
  const send = (msg: DhcpMessageInput, address: string, note?: string) =>
    new Promise<void>((resolve, reject) => {
      const bytes = encode(msg);
      socket.send(bytes, serverPort, address, (err) => {
        if (err)
          return reject(
            new DhcpClientError(
              "ERR_DHCP_SEND",
              `sending ${msg.options.messageType} to ${address} failed: ${err.message}`,
            ),
          );
        result.messages.push({
          ...entry("sent", `${address}:${serverPort}`, decode(bytes)),
          ...(note ? { note } : {}),
        });
        resolve();
      });
    });
  const request = (
    type: DhcpMessageType,
    fields: Partial<DhcpMessageInput>,
    options: DhcpMessageInput["options"] | object,
  ): DhcpMessageInput => ({
    xid,
    chaddr: mac,
    broadcast: opts.broadcastFlag ?? true,
    secs: Math.min(0xffff, Math.floor((Date.now() - started) / 1000)),
    ...fields,
    options: {
      messageType: type,
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
      ...(opts.hostName ? { hostName: opts.hostName } : {}),
      ...options,
    },
  });
  /** Sends, waits for a reply of one of `types`, resends with a doubled wait; null after `attempts`. */
  async function exchange(
    make: () => DhcpMessageInput,
    address: string,
    types: DhcpMessageType[],
  ): Promise<DhcpMessage | null> {
    let wait = timeout;
    let waited = 0;
    for (let i = 0; i < attempts; i++) {
      const got = new Promise<DhcpMessage | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), wait);
        waiter = (m, peer) => {
          if (!types.includes(m.options.messageType!)) return false;
          result.messages.push(entry("received", peer, m));
          clearTimeout(timer);
          resolve(m);
          return true;
        };
      });
      await send(make(), address, i > 0 ? `retransmission ${i}, after ${waited} ms without a reply` : undefined);
      const m = await got;
      waiter = undefined;
      if (m) return m;
      waited = wait;
      wait = Math.min(wait * 2, 8000);
    }
    return null;
  }

  const leaseFrom = (ack: DhcpMessage, fallbackServer: string): ClientLease => {
    const o = ack.options;
    const leaseTime = o.leaseTime ?? 0;
    const subnetMask = o.subnetMask ?? "255.255.255.0";
    return {
      ip: ack.yiaddr,
      prefix: maskToPrefix(subnetMask),
      subnetMask,
      serverId: o.serverId ?? fallbackServer,
      routers: o.routers ?? [],
      dnsServers: o.dnsServers ?? [],
      ...(o.domainName ? { domainName: o.domainName } : {}),
      leaseTime,
      renewalTime: o.renewalTime ?? Math.floor(leaseTime / 2),
      rebindingTime: o.rebindingTime ?? Math.floor((leaseTime * 7) / 8),
      boundAt: Date.now(),
    };
  };
  const ip = async (...args: string[]) => {
    result.commands.push(`ip ${args.join(" ")}`);
    await run("ip", args);
  };
  const lifetime = (l: ClientLease) =>
    l.leaseTime ? ["valid_lft", String(l.leaseTime), "preferred_lft", String(l.leaseTime)] : [];

  try {
    let ack: DhcpMessage | null = null;
    if (opts.rebootIp) {
      const reply = await exchange(
        () => request("REQUEST", {}, { requestedIp: opts.rebootIp, parameterRequestList: PARAMETERS }),
        "255.255.255.255",
        ["ACK", "NAK"],
      );
      if (reply?.options.messageType === "ACK") ack = reply;
      xid = (xid + 1) >>> 0; // a NAK, or silence: start over in INIT with a new transaction
    }
    if (!ack) {
      const discover = () =>
        request(
          "DISCOVER",
          {},
          { ...(opts.requestedIp ? { requestedIp: opts.requestedIp } : {}), parameterRequestList: PARAMETERS },
        );
      const offer = await exchange(discover, "255.255.255.255", ["OFFER"]);
      if (!offer) return result;
      // still broadcast: the REQUEST also tells the servers whose offers we did not take
      const selecting = () =>
        request(
          "REQUEST",
          {},
          { requestedIp: offer.yiaddr, serverId: offer.options.serverId, parameterRequestList: PARAMETERS },
        );
      const reply = await exchange(selecting, "255.255.255.255", ["ACK", "NAK"]);
      if (!reply) return result;
      if (reply.options.messageType === "NAK") {
        result.outcome = "nak"; // after its own OFFER: the server changed its mind; a caller may start over
        return result;
      }
      ack = reply;
    }
    result.outcome = "bound";
    let lease = (result.lease = leaseFrom(ack, ack.options.serverId ?? "0.0.0.0"));

    if (opts.apply) {
      await ip("addr", "add", `${lease.ip}/${lease.prefix}`, "broadcast", "+", "dev", opts.iface, ...lifetime(lease));
      if (lease.routers[0]) await ip("route", "add", "default", "via", lease.routers[0], "dev", opts.iface);
    }

    if (opts.renew) {
      const wait = typeof opts.renew === "number" ? opts.renew : lease.renewalTime * 1000;
      await new Promise((r) => setTimeout(r, wait));
      xid = (xid + 1) >>> 0;
      // RENEWING: from our address straight to the server, ciaddr set, no server id or option 50
      const renewing = () =>
        request("REQUEST", { ciaddr: lease.ip, broadcast: false }, { parameterRequestList: PARAMETERS });
      const reply = await exchange(renewing, lease.serverId, ["ACK", "NAK"]);
      if (reply?.options.messageType === "ACK") {
        lease = result.lease = leaseFrom(reply, lease.serverId);
        result.renewed = true;
        await ip(
          "addr",
          "replace",
          `${lease.ip}/${lease.prefix}`,
          "broadcast",
          "+",
          "dev",
          opts.iface,
          ...lifetime(lease),
        );
      }
    }

    if (opts.release) {
      xid = (xid + 1) >>> 0;
      // RELEASE gets no answer. It should be unicast to the server; without our address
      // configured there is no route to it, so then it goes out as a broadcast from 0.0.0.0.
      const to = opts.apply ? lease.serverId : "255.255.255.255";
      await send(
        request("RELEASE", { ciaddr: lease.ip, broadcast: false }, { serverId: lease.serverId }),
        to,
        opts.apply ? undefined : "broadcast: no address configured to unicast from",
      );
      result.released = true;
      // The default route goes with the address.
      if (opts.apply) await ip("addr", "del", `${lease.ip}/${lease.prefix}`, "dev", opts.iface);
    }
    return result;
  } finally {
    waiter = undefined;
    await new Promise<void>((r) => socket.close(() => r()));
  }
}
