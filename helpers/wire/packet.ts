// The packet layers in one import, for notebooks that use several of them: re-exports only. Each
// format lives in its own module (checksum.ts, ethernet.ts, ipv4.ts, icmp.ts, udp.ts, tcp.ts,
// dissect.ts, addresses in addr.ts); import from there when one is all you need.
export { ipv4Bytes, ipv4Text, macBytes, macText } from "./addr";
export { checksum, type PseudoHeader } from "./checksum";
export { dissect, type Layers } from "./dissect";
export { ethernet, ETHERTYPE, type Ethernet, type EthernetInput } from "./ethernet";
export {
  ICMP_TYPE,
  icmp,
  isIcmpError,
  UNREACH,
  type Icmp,
  type IcmpError,
  type IcmpInput,
  type IcmpQuote,
} from "./icmp";
export { ipv4, PROTO, type Ipv4, type Ipv4Input } from "./ipv4";
export { PacketError, type PacketErrorCode } from "./packet-error";
export { tcp, TCP_FLAGS, TCP_OPTION, type Tcp, type TcpInput, type TcpOption } from "./tcp";
export { udp, type Udp, type UdpInput } from "./udp";
