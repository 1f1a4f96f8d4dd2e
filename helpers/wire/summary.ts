// One line per Ethernet frame, in the spirit of `tcpdump -n`: the protocol's own summary (ARP, IPv4
// with UDP, TCP flags and MSS, ICMP echo and errors, fragments), after the MACs for ARP, whose
// subject they are, or for every frame with `link` (as `tcpdump -e`). What is random per packet or
// connection (IP identification, TCP sequence numbers and timestamps) is left out, so the same
// traffic gives the same lines. Pure: it decodes with wire/packet.
import { dissect, ETHERTYPE, ipv4Text, macText, PROTO, TCP_FLAGS, type Layers } from "./packet";

export interface SummaryOptions {
  /** Ports to print as "ephemeral" (a client's port the kernel picked). */
  ephemeral?: (port: number) => boolean;
  /** Print the Ethernet source and destination before every frame, not only before ARP. */
  link?: boolean;
}

const TCP_LETTERS: [number, string][] = [
  [TCP_FLAGS.SYN, "S"],
  [TCP_FLAGS.FIN, "F"],
  [TCP_FLAGS.PSH, "P"],
  [TCP_FLAGS.RST, "R"],
  [TCP_FLAGS.URG, "U"],
  [TCP_FLAGS.ECE, "E"],
  [TCP_FLAGS.CWR, "W"],
];

/** One line for an Ethernet frame, in the spirit of `tcpdump -n`: the protocol's own summary,
 *  after the MACs for ARP or with `link`. What is random per packet or connection (IP
 *  identification, TCP sequence numbers and timestamps) is left out, so the same traffic gives
 *  the same lines. */
export function summarize(frame: Buffer, opts: SummaryOptions = {}): string {
  const l = dissect(frame, "ethernet");
  const eth = l.ethernet!;
  const arp = eth.ethertype === ETHERTYPE.ARP;
  const link = opts.link || arp ? `${eth.src} > ${eth.dst}, ` : "";
  const port = (p: number) => (opts.ephemeral?.(p) ? "ephemeral" : String(p));
  if (arp) return `${link}ARP, ${arpLine(eth.payload)}`;
  if (!l.ip) return `${link}ethertype 0x${eth.ethertype.toString(16).padStart(4, "0")}, length ${frame.length}`;
  return `${link}IPv4, ${ipLine(l, port)}`;
}

function arpLine(p: Buffer): string {
  if (p.length < 28) return `length ${p.length}`;
  const op = p.readUInt16BE(6);
  if (op === 1) return `Request who-has ${ipv4Text(p, 24)} tell ${ipv4Text(p, 14)}`;
  if (op === 2) return `Reply ${ipv4Text(p, 14)} is-at ${macText(p, 8)}`;
  return `op ${op}`;
}

function ipLine(l: Layers, port: (p: number) => string): string {
  const ip = l.ip!;
  // The identification is drawn per packet (random from run to run): not printed.
  const frag = ip.mf || ip.fragmentOffset ? ` frag offset ${ip.fragmentOffset}${ip.mf ? " +MF" : ""}` : "";
  const head = `ttl ${ip.ttl}${ip.df ? " DF" : ""}${frag}, `;
  if (l.udp) {
    const u = l.udp;
    return `${head}${ip.src}.${port(u.srcPort)} > ${ip.dst}.${port(u.dstPort)}: UDP, length ${u.payload.length}`;
  }
  if (l.tcp) {
    const t = l.tcp;
    const letters =
      TCP_LETTERS.filter(([bit]) => t.flags & bit)
        .map(([, c]) => c)
        .join("") + (t.flags & TCP_FLAGS.ACK ? "." : "");
    const mss = t.options.find((o) => o.kind === 2 && o.data.length === 2);
    const mssText = mss ? `, mss ${mss.data.readUInt16BE(0)}` : "";
    const ends = `${ip.src}.${port(t.srcPort)} > ${ip.dst}.${port(t.dstPort)}`;
    return `${head}${ends}: Flags [${letters}]${mssText}, length ${t.payload.length}`;
  }
  if (l.icmp) {
    const m = l.icmp;
    const what =
      m.kind === "echo-request" || m.kind === "echo-reply"
        ? `echo ${m.kind === "echo-request" ? "request" : "reply"}, id ${m.id}, seq ${m.seq}, ` +
          `length ${8 + m.data.length}`
        : m.kind === "destination-unreachable"
          ? `unreachable code ${m.code}${m.nextHopMtu !== undefined ? ` (need to frag, mtu ${m.nextHopMtu})` : ""}, ` +
            `quoting ${m.quote.ip.src} > ${m.quote.ip.dst} length ${m.quote.ip.totalLength}`
          : `type ${m.type} code ${m.code}`;
    return `${head}${ip.src} > ${ip.dst}: ICMP ${what}`;
  }
  const name =
    ip.protocol === PROTO.UDP
      ? "UDP"
      : ip.protocol === PROTO.TCP
        ? "TCP"
        : ip.protocol === PROTO.ICMP
          ? "ICMP"
          : `proto ${ip.protocol}`;
  return `${head}${ip.src} > ${ip.dst}: ${name} fragment, length ${ip.payload.length}`;
}
