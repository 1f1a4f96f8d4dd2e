// An anti-replay window (the sliding bitmap of RFC 4303 §3.4.3 and RFC 6479, as WireGuard keeps
// one per session): a receiver accepts each message counter at most once, and counters older
// than the window's size behind the highest seen are refused, however they look. Pure: `check`
// only asks; `update`, called once the message has authenticated, records it.
export type ReplayVerdict = "ok" | "replay" | "too-old";

export class ReplayWindow {
  private highest = -1n;
  private bits = 0n; // bit i: counter (highest - i) was seen

  constructor(readonly size = 64) {
    if (!Number.isInteger(size) || size < 1 || size > 4096) throw new RangeError("size must be 1..4096");
  }

  /** Would `counter` be accepted? */
  check(counter: bigint): ReplayVerdict {
    if (counter > this.highest) return "ok";
    const behind = this.highest - counter;
    if (behind >= BigInt(this.size)) return "too-old";
    return (this.bits >> behind) & 1n ? "replay" : "ok";
  }

  /** Records an authenticated `counter`; returns what check() said. */
  update(counter: bigint): ReplayVerdict {
    const verdict = this.check(counter);
    if (verdict !== "ok") return verdict;
    const mask = (1n << BigInt(this.size)) - 1n;
    if (counter > this.highest) {
      const shift = counter - this.highest;
      this.bits = shift >= BigInt(this.size) ? 1n : ((this.bits << shift) | 1n) & mask;
      this.highest = counter;
    } else this.bits |= 1n << (this.highest - counter);
    return "ok";
  }
}
