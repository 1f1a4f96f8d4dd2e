// IPv4 fragmentation arithmetic (RFC 791 §2.3 and §3.2): how a datagram too big for a link is
// cut into fragments — every fragment but the last carries the largest multiple of 8 payload bytes
// that fits, offsets count in units of 8 — and how a router cuts a fragment again for a smaller
// link (every piece has MF set but the last piece of the last fragment). Pure; notebook 50 checks
// it against the kernel.

export interface Fragment {
  /** Where this fragment's data starts in the original payload, in bytes (a multiple of 8). */
  offset: number;
  /** The same, as the 13-bit header field carries it: offset / 8. */
  offsetField: number;
  /** Payload bytes in this fragment. */
  length: number;
  /** More fragments: set on every fragment but the one that ends the original payload. */
  mf: boolean;
  /** The fragment's IPv4 total length (header + data). */
  totalLength: number;
}

/** How a packet with `payloadLength` bytes after a `headerLength`-byte IPv4 header is cut for a
 *  link of `mtu`: every fragment but the last carries the largest multiple of 8 that fits. Pass
 *  `start`/`mf` to cut a fragment again (a router on a smaller link): offsets continue from
 *  `start`, and the pieces of a fragment with MF set all keep MF. */
export function fragment(
  payloadLength: number,
  mtu: number,
  opts: { headerLength?: number; start?: number; mf?: boolean } = {},
): Fragment[] {
  const header = opts.headerLength ?? 20;
  const start = opts.start ?? 0;
  if (!Number.isInteger(payloadLength) || payloadLength < 0)
    throw new RangeError(`payloadLength must be a non-negative integer, got ${payloadLength}`);
  if (!Number.isInteger(mtu) || mtu < header + 8)
    throw new RangeError(`an MTU of ${mtu} leaves no room for 8 data bytes after a ${header}-byte header`);
  if (start % 8 !== 0) throw new RangeError(`a fragment starts at a multiple of 8, got ${start}`);
  if (header + payloadLength <= mtu)
    return [
      {
        offset: start,
        offsetField: start / 8,
        length: payloadLength,
        mf: !!opts.mf,
        totalLength: header + payloadLength,
      },
    ];
  const per = Math.floor((mtu - header) / 8) * 8;
  const out: Fragment[] = [];
  for (let done = 0; done < payloadLength; done += per) {
    const length = Math.min(per, payloadLength - done);
    const last = done + length === payloadLength;
    out.push({
      offset: start + done,
      offsetField: (start + done) / 8,
      length,
      mf: last ? !!opts.mf : true,
      totalLength: header + length,
    });
  }
  return out;
}

/** Cuts each fragment again where it does not fit `mtu`, as a router does with DF clear. */
export function refragment(fragments: Fragment[], mtu: number, headerLength = 20): Fragment[] {
  return fragments.flatMap((f) => fragment(f.length, mtu, { headerLength, start: f.offset, mf: f.mf }));
}
