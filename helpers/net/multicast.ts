// IPv4 multicast on Ethernet: the MAC address a group is sent to (RFC 1112 §6.4: 01:00:5e plus
// the group's low 23 bits, so 32 groups share each MAC). Joining groups and sending with
// SO_BROADCAST, IP_MULTICAST_IF and IP_MULTICAST_TTL are net/services' udpServer and udpSend; the
// kernel's list of memberships is os/procnet's igmpGroups.

import { ipv4Bytes, isIpv4 } from "../wire/addr";

/** The Ethernet address an IPv4 group is sent to: 01:00:5e plus the group's low 23 bits. */
export function multicastMac(group: string): string {
  const o = isIpv4(group) ? [...ipv4Bytes(group)] : [];
  if (o.length !== 4 || o[0] < 224 || o[0] > 239) throw new RangeError(`${group} is not an IPv4 multicast address`);
  return [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]].map((b) => b.toString(16).padStart(2, "0")).join(":");
}
