// fast-check arbitraries for the packet layers, shared by their fuzz tests and dissect's.
import fc from "fast-check";
import { icmp, type IcmpInput } from "../../helpers/wire/icmp";
import { ipv4, type Ipv4Input } from "../../helpers/wire/ipv4";
import { TCP_OPTION, type TcpInput, type TcpOption } from "../../helpers/wire/tcp";
import { type UdpInput } from "../../helpers/wire/udp";
import { bytes, ipv4Address, u16, u32, u8 } from "./fuzz";

export const ipv4Arb = (payload: fc.Arbitrary<Buffer> = bytes(200)): fc.Arbitrary<Ipv4Input> =>
  fc.record(
    {
      dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }),
      id: u16,
      df: fc.boolean(),
      mf: fc.boolean(),
      fragmentOffset: fc.integer({ min: 0, max: 8191 }).map((n) => n * 8),
      ttl: u8,
      protocol: u8,
      src: ipv4Address,
      dst: ipv4Address,
      options: fc.integer({ min: 0, max: 10 }).chain((words) => bytes(words * 4, words * 4)),
      payload,
    },
    { requiredKeys: ["protocol", "src", "dst", "payload"] },
  );

/** An original datagram for an ICMP error to quote: a real IPv4 header and at least 8 bytes. */
const original = ipv4Arb(bytes(60, 8)).map((v) => ipv4.encode(v));

export const icmpArb: fc.Arbitrary<IcmpInput> = fc.oneof(
  fc.record(
    {
      kind: fc.constantFrom("echo-request" as const, "echo-reply" as const),
      id: u16,
      seq: u16,
      data: bytes(100),
      code: u8,
    },
    { requiredKeys: ["kind", "id", "seq"] },
  ),
  fc
    .record(
      { code: u8, nextHopMtu: u16, original, quoteAll: fc.boolean() },
      { requiredKeys: ["code", "nextHopMtu", "original"] },
    )
    .map(({ code, nextHopMtu, ...rest }) => ({
      kind: "destination-unreachable" as const,
      code,
      ...(code === 4 ? { nextHopMtu } : {}), // decode reads an MTU for code 4 only
      ...rest,
    })),
  fc.record(
    { kind: fc.constant("time-exceeded" as const), code: u8, original, quoteAll: fc.boolean() },
    { requiredKeys: ["kind", "code", "original"] },
  ),
  fc.record(
    {
      kind: fc.constant("other" as const),
      type: u8.filter((t) => ![0, 3, 8, 11].includes(t)),
      code: u8,
      rest: bytes(4, 4),
      body: bytes(100),
    },
    { requiredKeys: ["kind", "type", "code"] },
  ),
);

/** Both addresses or neither, and sometimes a checksum of 0: none sent. */
const transportEnds = fc.oneof(
  fc.constant({}),
  fc.record({ src: ipv4Address, dst: ipv4Address }),
  fc.record({ src: ipv4Address, dst: ipv4Address, checksum: fc.constant(0) }),
  fc.record({ checksum: u16 }),
);

export const udpArb: fc.Arbitrary<UdpInput> = fc
  .tuple(fc.record({ srcPort: u16, dstPort: u16, payload: bytes(200) }), transportEnds)
  .map(([v, ends]) => ({ ...v, ...ends }));

const tcpOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.constant({ kind: TCP_OPTION.NOP, data: Buffer.alloc(0) }),
  fc.record({ kind: fc.integer({ min: 2, max: 255 }), data: bytes(10) }),
);
export const tcpArb: fc.Arbitrary<TcpInput> = fc
  .tuple(
    fc.record(
      {
        srcPort: u16,
        dstPort: u16,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        urgent: u16,
        options: fc
          .array(tcpOption, { maxLength: 8 })
          .filter((os) => os.reduce((n, o) => n + (o.kind === 1 ? 1 : 2 + o.data.length), 0) <= 40),
        payload: bytes(200),
      },
      { requiredKeys: ["srcPort", "dstPort"] },
    ),
    transportEnds.filter((e) => !("checksum" in e && e.checksum === 0 && "src" in e)),
  )
  .map(([v, ends]) => ({ ...v, ...ends }));

/** What an ICMP message decodes to, in the fields encode takes. */
export function icmpExpected(v: IcmpInput) {
  switch (v.kind) {
    case "destination-unreachable":
    case "time-exceeded": {
      const cut = (v.original[0] & 0x0f) * 4 + 8;
      const quoted = v.quoteAll ? v.original : v.original.subarray(0, cut);
      return {
        kind: v.kind,
        code: v.code,
        ...(v.kind === "destination-unreachable" && v.code === 4 ? { nextHopMtu: v.nextHopMtu } : {}),
        original: quoted,
        quoteAll: quoted.length > cut,
      };
    }
    case "other":
      return {
        kind: v.kind,
        type: v.type,
        code: v.code,
        rest: v.rest ?? Buffer.alloc(4),
        body: v.body ?? Buffer.alloc(0),
      };
    default:
      return { kind: v.kind, id: v.id, seq: v.seq, data: v.data ?? Buffer.alloc(0), code: v.code ?? 0 };
  }
}

/** The same fields of a decoded message. */
export function icmpSeen(d: ReturnType<typeof icmp.decode>) {
  const { type, checksum, checksumOk, ...rest } = d;
  if (!checksumOk) throw new Error(`checksum 0x${checksum.toString(16)} does not verify`);
  if ("quote" in rest) {
    const { quote, ...fields } = rest;
    if (!quote.first8.equals(fields.original.subarray(quote.ip.headerLength, quote.ip.headerLength + 8)))
      throw new Error("the quote's first 8 bytes are not the original's");
    return fields;
  }
  return d.kind === "other" ? { ...rest, type } : rest;
}
