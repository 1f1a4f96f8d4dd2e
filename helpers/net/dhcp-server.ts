// A small DHCP server (RFC 2131 §4.3) for one interface: an address pool, leases that expire,
// OFFER / ACK / NAK, and RELEASE and DECLINE. The decisions live in `createDhcpResponder`, a pure
// function of (message, time) with no sockets, so each rule can be tested on its own; the server
// wraps it in a UDP socket on port 67 tied to one interface.
//
// Everything it returns is plain JSON: the server is meant to run in a child process inside a
// network namespace that prints its log and leases back to the notebook.
import dgram from "node:dgram";
import * as dhcp from "../wire/dhcp";
import { intToIpv4 as intToIp, ipv4ToInt as ipToInt, prefixToMask } from "../wire/addr";
import { bindToDevice } from "../os/sockopt";
import { assertInLabHost } from "../os/netns";

export interface DhcpServerOptions {
  /** the interface to serve, and only that one */
  iface: string;
  /** this server's address on `iface`: the server identifier (option 54) */
  serverIp: string;
  /** the subnet's prefix length (default 24) */
  prefix?: number;
  /** first and last address handed out (inside the subnet; the server's own is skipped) */
  poolStart: string;
  poolEnd: string;
  router?: string;
  dnsServers?: string[];
  domainName?: string;
  /** seconds (default 3600); T1 and T2 default to 1/2 and 7/8 of it, as RFC 2131 §4.4.5 says */
  leaseTime?: number;
  renewalTime?: number;
  rebindingTime?: number;
  /** how long an offered address is held for the client that was offered it (default 60 s) */
  offerHoldMs?: number;
  /** how long a declined address stays out of the pool (default: one lease time) */
  declineHoldMs?: number;
  /** ports, for experiments that must not use the real ones (default 67 and 68) */
  port?: number;
  clientPort?: number;
}

export interface Lease {
  ip: string;
  /** "id:<hex>" from the client identifier (61) if the client sent one, else "mac:<chaddr>" */
  client: string;
  chaddr: string;
  hostName?: string;
  /** offered: held for a client's REQUEST; bound: ACKed; declined: a client saw it in use */
  state: "offered" | "bound" | "declined";
  /** milliseconds since the epoch */
  expiresAt: number;
}

/** Where a reply goes, and why there (RFC 2131 §4.1). */
export interface Delivery {
  address: string;
  port: number;
  how: "broadcast" | "unicast";
  why: string;
}

/** What the server did with one message: a reply and where it goes, or silence; `note` says why. */
export interface Decision {
  reply?: dhcp.DhcpMessageInput;
  to?: Delivery;
  note: string;
}

export interface ExchangeRecord {
  /** milliseconds since the server started */
  atMs: number;
  direction: "in" | "out";
  /** "address:port" it came from or went to */
  peer: string;
  message?: Record<string, unknown>;
  /** a message that could not be decoded */
  error?: { code: string; offset: number; reason: string; message: string };
  how?: "broadcast" | "unicast";
  note?: string;
}

const invalid = (message: string): never => {
  throw Object.assign(new RangeError(message), { code: "ERR_INVALID_ARG_VALUE" });
};

export interface DhcpResponder {
  handle(msg: dhcp.DhcpMessage, now: number): Decision;
  leases(now: number): Lease[];
}

/** The server's rules without a socket. Validates the configuration once, here. */
export function createDhcpResponder(opts: DhcpServerOptions): DhcpResponder {
  const prefix = opts.prefix ?? 24;
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30) invalid(`prefix must be 1..30, not ${prefix}`);
  const mask = ipToInt(prefixToMask(prefix));
  const server = ipToInt(opts.serverIp);
  const net = (server & mask) >>> 0;
  const inSubnet = (ip: string) => (ipToInt(ip) & mask) >>> 0 === net;
  const [first, last] = [ipToInt(opts.poolStart), ipToInt(opts.poolEnd)];
  if (first > last) invalid(`pool ${opts.poolStart}..${opts.poolEnd} is empty`);
  if (!inSubnet(opts.poolStart) || !inSubnet(opts.poolEnd))
    invalid(`pool ${opts.poolStart}..${opts.poolEnd} is not inside ${intToIp(net)}/${prefix}`);
  const leaseTime = opts.leaseTime ?? 3600;
  if (!Number.isInteger(leaseTime) || leaseTime < 1)
    invalid(`leaseTime must be a whole number of seconds, not ${leaseTime}`);
  const t1 = opts.renewalTime ?? Math.floor(leaseTime / 2);
  const t2 = opts.rebindingTime ?? Math.floor((leaseTime * 7) / 8);
  const offerHold = opts.offerHoldMs ?? 60_000;
  const declineHold = opts.declineHoldMs ?? leaseTime * 1000;
  const clientPort = opts.clientPort ?? dhcp.CLIENT_PORT;
  const serverId = opts.serverIp;

  const byIp = new Map<string, Lease>();
  const prune = (now: number) => {
    for (const [ip, l] of byIp) if (l.expiresAt <= now) byIp.delete(ip);
  };
  const keyOf = (m: dhcp.DhcpMessage) => (m.options.clientId ? `id:${m.options.clientId}` : `mac:${m.chaddr}`);
  const leaseOf = (client: string) => [...byIp.values()].find((l) => l.client === client && l.state !== "declined");
  const inPool = (ip: string) => ipToInt(ip) >= first && ipToInt(ip) <= last && ip !== serverId;
  const free = (ip: string, client: string) => inPool(ip) && (!byIp.has(ip) || byIp.get(ip)!.client === client);
  const firstFree = (client: string) => {
    for (let n = first; n <= last; n++) if (free(intToIp(n), client)) return intToIp(n);
    return undefined;
  };

  const config = () => ({
    subnetMask: intToIp(mask),
    ...(opts.router ? { routers: [opts.router] } : {}),
    ...(opts.dnsServers?.length ? { dnsServers: opts.dnsServers } : {}),
    ...(opts.domainName ? { domainName: opts.domainName } : {}),
  });
  const reply = (
    req: dhcp.DhcpMessage,
    type: dhcp.DhcpMessageType,
    yiaddr: string,
    extra: dhcp.DhcpMessageInput["options"] | object = {},
  ): dhcp.DhcpMessageInput => ({
    op: "BOOTREPLY",
    htype: req.htype,
    hlen: req.hlen,
    xid: req.xid,
    broadcast: req.broadcast,
    giaddr: req.giaddr,
    chaddr: req.chaddr,
    // Table 3 of RFC 2131: an ACK repeats the client's ciaddr, an OFFER or NAK has none
    ciaddr: type === "ACK" ? req.ciaddr : "0.0.0.0",
    yiaddr,
    options: {
      messageType: type,
      serverId,
      ...(req.options.clientId ? { clientId: req.options.clientId } : {}),
      ...extra,
    },
  });
  const withLease = () => ({ leaseTime, renewalTime: t1, rebindingTime: t2, ...config() });

  // RFC 2131 §4.1, "If the 'giaddr' field is zero and the 'ciaddr' field is nonzero, ..."
  const deliver = (req: dhcp.DhcpMessage, type: dhcp.DhcpMessageType): Delivery => {
    const bcast = (why: string): Delivery => ({ address: "255.255.255.255", port: clientPort, how: "broadcast", why });
    if (type === "NAK") return bcast("a NAK is always broadcast: the client's address may be wrong");
    if (req.ciaddr !== "0.0.0.0")
      return {
        address: req.ciaddr,
        port: clientPort,
        how: "unicast",
        why: "the client has an address (ciaddr) and can receive unicast",
      };
    if (req.broadcast) return bcast("the client set the broadcast flag");
    // The RFC would unicast to yiaddr at chaddr, which needs an ARP entry for an address the client
    // does not own yet: a raw socket can do that, a kernel UDP socket cannot. Broadcast reaches it too.
    return bcast("no broadcast flag: unicast to yiaddr needs a raw socket, so broadcast instead");
  };
  const answer = (req: dhcp.DhcpMessage, msg: dhcp.DhcpMessageInput, note: string): Decision => ({
    reply: msg,
    to: deliver(req, msg.options.messageType!),
    note,
  });
  const nak = (req: dhcp.DhcpMessage, why: string): Decision =>
    answer(req, reply(req, "NAK", "0.0.0.0", { message: why }), `NAK: ${why}`);
  const bind = (req: dhcp.DhcpMessage, client: string, ip: string, now: number) => {
    byIp.set(ip, {
      ip,
      client,
      chaddr: req.chaddr,
      ...(req.options.hostName ? { hostName: req.options.hostName } : {}),
      state: "bound",
      expiresAt: now + leaseTime * 1000,
    });
    return answer(req, reply(req, "ACK", ip, withLease()), `ACK ${ip} for ${leaseTime} s`);
  };

  function handle(req: dhcp.DhcpMessage, now: number): Decision {
    prune(now);
    if (req.op !== "BOOTREQUEST") return { note: "ignored: a BOOTREPLY (another server's answer)" };
    if (req.giaddr !== "0.0.0.0")
      return { note: `ignored: relayed by ${req.giaddr}; this server does not answer relays` };
    const type = req.options.messageType;
    const client = keyOf(req);
    const mine = leaseOf(client);
    const asked = req.options.requestedIp;

    switch (type) {
      case "DISCOVER": {
        const ip = mine?.ip ?? (asked && free(asked, client) ? asked : firstFree(client));
        if (!ip) return { note: "no reply: the pool is exhausted" };
        if (!mine || mine.state === "offered")
          byIp.set(ip, { ip, client, chaddr: req.chaddr, state: "offered", expiresAt: now + offerHold });
        return answer(
          req,
          reply(req, "OFFER", ip, withLease()),
          `OFFER ${ip}${mine ? " (the address this client already holds)" : ""}`,
        );
      }
      case "REQUEST": {
        const sid = req.options.serverId;
        if (sid !== undefined) {
          // SELECTING: the client names the server whose offer it took
          if (sid !== serverId) {
            if (mine?.state === "offered") byIp.delete(mine.ip);
            return { note: `no reply: the client chose server ${sid}; our offer is withdrawn (RFC 2131 §4.3.2)` };
          }
          if (!asked) return nak(req, "REQUEST without a requested address (option 50)");
          if (!mine || mine.ip !== asked) return nak(req, `${asked} was not offered to this client`);
          return bind(req, client, asked, now);
        }
        if (asked && req.ciaddr === "0.0.0.0") {
          // INIT-REBOOT: a client that remembers an address asks to keep it
          if (!inSubnet(asked)) return nak(req, `${asked} is not on this network (${intToIp(net)}/${prefix})`);
          if (!mine)
            return { note: `no reply: no record of this client, so another server may own ${asked} (RFC 2131 §4.3.2)` };
          if (mine.ip !== asked) return nak(req, `this client's address is ${mine.ip}, not ${asked}`);
          return bind(req, client, asked, now);
        }
        if (req.ciaddr !== "0.0.0.0") {
          // RENEWING (unicast to us) or REBINDING (broadcast): extend the lease on ciaddr
          if (mine && mine.ip === req.ciaddr && mine.state === "bound") return bind(req, client, mine.ip, now);
          if (inSubnet(req.ciaddr)) return nak(req, `no lease on ${req.ciaddr} for this client`);
          return { note: `no reply: ${req.ciaddr} is not on this network` };
        }
        return { note: "ignored: a REQUEST with neither server id, requested address nor ciaddr" };
      }
      case "DECLINE": {
        const ip = asked ?? "";
        const l = byIp.get(ip);
        if (!l || l.client !== client)
          return { note: `ignored: DECLINE of ${ip || "no address"}, not leased to this client` };
        byIp.set(ip, { ...l, state: "declined", client: "declined", expiresAt: now + declineHold });
        return {
          note: `${ip} declined (in use by someone else): out of the pool for ${Math.round(declineHold / 1000)} s`,
        };
      }
      case "RELEASE": {
        const l = byIp.get(req.ciaddr);
        if (!l || l.client !== client || l.state !== "bound")
          return { note: `ignored: RELEASE of ${req.ciaddr}, not bound to this client` };
        byIp.delete(req.ciaddr);
        return { note: `${req.ciaddr} released` };
      }
      case "INFORM":
        // a client with an address configured by hand asks only for the other settings: no lease
        if (req.ciaddr === "0.0.0.0") return { note: "ignored: INFORM without ciaddr" };
        return answer(
          req,
          reply(req, "ACK", "0.0.0.0", config()),
          `ACK to INFORM from ${req.ciaddr} (settings, no lease)`,
        );
      default:
        return { note: `ignored: ${type} is a server's message` };
    }
  }

  return {
    handle,
    leases(now) {
      prune(now);
      return [...byIp.values()].sort((a, b) => ipToInt(a.ip) - ipToInt(b.ip)).map((l) => ({ ...l }));
    },
  };
}

export interface DhcpServerHandle {
  iface: string;
  serverIp: string;
  port: number;
  /** current leases (expired ones dropped) */
  leases(): Lease[];
  /** stops listening; the log of every message in and out, and the leases at that moment */
  close(): Promise<{ log: ExchangeRecord[]; leases: Lease[] }>;
}

/** Listens on UDP port 67 of `iface` only (SO_BINDTODEVICE: root) and answers from the pool.
 *  Call it inside a network namespace the notebook made, never on a real LAN. */
export function startDhcpServer(opts: DhcpServerOptions): Promise<DhcpServerHandle> {
  assertInLabHost("dhcp-server.startDhcpServer");
  const responder = createDhcpResponder(opts);
  const port = opts.port ?? dhcp.SERVER_PORT;
  const started = Date.now();
  const log: ExchangeRecord[] = [];
  const pending = new Set<Promise<void>>();
  const socket = dgram.createSocket({ type: "udp4" });

  socket.on("message", (bytes, from) => {
    const atMs = Date.now() - started;
    const peer = `${from.address}:${from.port}`;
    let msg: dhcp.DhcpMessage;
    try {
      msg = dhcp.decode(bytes);
    } catch (e) {
      if (!(e instanceof dhcp.DhcpError)) throw e;
      log.push({
        atMs,
        direction: "in",
        peer,
        error: { code: e.code, offset: e.offset, reason: e.reason, message: e.message },
        note: "dropped",
      });
      return;
    }
    const decision = responder.handle(msg, Date.now());
    log.push({ atMs, direction: "in", peer, message: dhcp.summarize(msg), note: decision.note });
    if (!decision.reply || !decision.to) return;
    const out = dhcp.encode(decision.reply);
    const to = decision.to;
    const sent = new Promise<void>((resolve) =>
      socket.send(out, to.port, to.address, (err) => {
        log.push({
          atMs: Date.now() - started,
          direction: "out",
          peer: `${to.address}:${to.port}`,
          message: dhcp.summarize(dhcp.decode(out)),
          how: to.how,
          note: err ? `send failed: ${err.message}` : to.why,
        });
        resolve();
      }),
    );
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
  });

  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    // 0.0.0.0, not serverIp: a DISCOVER is addressed to 255.255.255.255, which a socket bound to
    // a unicast address would never see.
    socket.bind(port, "0.0.0.0", () => {
      try {
        bindToDevice(socket, opts.iface);
        socket.setBroadcast(true);
      } catch (e) {
        socket.close();
        return reject(e);
      }
      socket.off("error", reject);
      let closed: Promise<{ log: ExchangeRecord[]; leases: Lease[] }> | undefined;
      resolve({
        iface: opts.iface,
        serverIp: opts.serverIp,
        port: (socket.address() as { port: number }).port,
        leases: () => responder.leases(Date.now()),
        close: () =>
          (closed ??= (async () => {
            await Promise.all(pending);
            await new Promise<void>((done) => socket.close(() => done()));
            return { log, leases: responder.leases(Date.now()) };
          })()),
      });
    });
  });
}
