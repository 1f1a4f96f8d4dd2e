// All the layers of a captured frame or packet at once, decode only: a composition of the
// ethernet, ipv4, icmp, udp and tcp codecs, not a format of its own. Each transport layer is read
// inside the IPv4 payload (Ethernet padding is not part of it), and UDP and TCP checksums are
// verified with the addresses of the IPv4 header (RFC 768, RFC 9293 §3.1). Offsets in errors
// count from the start of the buffer.
import { ethernet, ETHERTYPE, type Ethernet } from "./ethernet";
import { icmp, type Icmp } from "./icmp";
import { PROTO, readIpv4, type Ipv4 } from "./ipv4";
import { readTcp, type Tcp } from "./tcp";
import { PacketError } from "./packet-error";
import { readUdp, type Udp } from "./udp";

export interface Layers {
  ethernet?: Ethernet;
  ip?: Ipv4;
  icmp?: Icmp;
  udp?: Udp;
  tcp?: Tcp;
}

/** The layers, with those named in `K` known to be there. */
export type Dissected<K extends keyof Layers> = Layers & Required<Pick<Layers, K>>;

/** Decodes what a capture holds, layer by layer, as far as these codecs know the layers:
 *  `link` "ethernet" for AF_PACKET frames (pcap linktype 1), "ip" for raw IP (linktype 101).
 *  The layers in `need` must be there (a PacketError ERR_PACKET_NO_LAYER says which is missing),
 *  and the result's type says they are: `dissect(reply, "ip", ["ip", "icmp"]).icmp.type`. */
export function dissect<K extends keyof Layers = never>(
  buf: Buffer,
  link: "ethernet" | "ip" = "ip",
  need: K[] = [],
): Dissected<K> {
  const layers = decodeLayers(buf, link);
  const missing = need.find((k) => layers[k] === undefined);
  if (missing !== undefined) {
    const found = Object.keys(layers).join(", ") || "nothing";
    throw new PacketError("ERR_PACKET_NO_LAYER", 0, `no ${missing} layer in this packet (found ${found})`);
  }
  return layers as Dissected<K>; // every layer in `need` was just found to be there
}

function decodeLayers(buf: Buffer, link: "ethernet" | "ip"): Layers {
  const layers: Layers = {};
  let at = 0;
  if (link === "ethernet") {
    layers.ethernet = ethernet.read(buf, 0).value;
    if (layers.ethernet.ethertype !== ETHERTYPE.IPV4) return layers;
    at = 14;
  }
  const { value: ip, bytes } = readIpv4(buf, at, false);
  layers.ip = ip;
  // A fragment holds only part of the transport message: its length and checksum cover the whole.
  if (ip.fragmentOffset !== 0 || ip.mf) return layers;
  const inside = buf.subarray(0, at + bytes); // the IPv4 packet, without what follows it
  const start = at + ip.headerLength;
  if (ip.protocol === PROTO.ICMP) layers.icmp = icmp.read(inside, start).value;
  if (ip.protocol === PROTO.UDP) layers.udp = readUdp(inside, start, ip).value;
  if (ip.protocol === PROTO.TCP) layers.tcp = readTcp(inside, start, ip).value;
  return layers;
}
