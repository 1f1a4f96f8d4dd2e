// The Ethernet II header (IEEE 802.3 §3.2.6, as RFC 894 carries IP over it): destination and
// source MAC, the EtherType, then the payload up to the end of the frame (the frame check
// sequence is not part of what a capture socket sees). No 802.1Q tag is decoded: a VLAN frame is
// one with EtherType 0x8100 and its tag at the start of the payload.
import { macBytes, macText } from "./addr";
import { bytesOf, codec, objectOf, uint } from "./codec";
import { need } from "./packet-error";

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, IPV6: 0x86dd } as const;

export interface Ethernet {
  dst: string;
  src: string;
  ethertype: number;
  /** Everything after the header, to the end of the frame (padding included). */
  payload: Buffer;
}
/** The same four fields: nothing is left for encode to compute. */
export type EthernetInput = Ethernet;

export const ethernet = codec<EthernetInput, Ethernet>({
  plan(v) {
    objectOf(v, "an Ethernet frame");
    const dst = macBytes(v.dst, "dst");
    const src = macBytes(v.src, "src");
    const ethertype = uint(v.ethertype, 16, "ethertype");
    const payload = bytesOf(v.payload, "payload");
    return {
      length: 14 + payload.length,
      write(buf, at) {
        dst.copy(buf, at);
        src.copy(buf, at + 6);
        buf.writeUInt16BE(ethertype, at + 12);
        payload.copy(buf, at + 14);
      },
    };
  },
  read(buf, at) {
    need(buf, at, 14, "an Ethernet header");
    const value = {
      dst: macText(buf, at),
      src: macText(buf, at + 6),
      ethertype: buf.readUInt16BE(at + 12),
      payload: buf.subarray(at + 14),
    };
    return { value, bytes: buf.length - at };
  },
});
