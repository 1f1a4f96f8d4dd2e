// How measured values are printed: the one list of units. Each formatter prints a measurement in
// one exact form, which fixtures/nbval-sanitize.cfg matches (and only that form; a test holds the
// file to this list), and view/table gives each unit's column a fixed minimum width, so a run with
// a longer number never changes a table's layout.

interface Unit {
  /** What follows the number, after one space. */
  symbol: string;
  /** How many of the base quantity make one of this unit (1e9 bit/s in a Gbit/s). */
  per: number;
  decimals: number;
  /** The widest value a column of this unit is made ready for, e.g. "9999.99 ms". */
  width: number;
}

export const UNITS = {
  ms: { symbol: "ms", per: 1, decimals: 2, width: "9999.99 ms".length },
  gbps: { symbol: "Gbit/s", per: 1e9, decimals: 2, width: "999.99 Gbit/s".length },
  mbps: { symbol: "Mbit/s", per: 1e6, decimals: 1, width: "99999.9 Mbit/s".length },
  kpps: { symbol: "kpps", per: 1000, decimals: 1, width: "9999.9 kpps".length },
  mib: { symbol: "MiB", per: 1048576, decimals: 1, width: "9999.9 MiB".length },
} satisfies Record<string, Unit>;

const format = (unit: Unit, value: number) => `${(value / unit.per).toFixed(unit.decimals)} ${unit.symbol}`;

/** A duration in milliseconds, two decimals: "12.34 ms". */
export const ms = (milliseconds: number) => format(UNITS.ms, milliseconds);
/** A data rate from bits per second, in Gbit/s with two decimals. */
export const gbps = (bitsPerSecond: number) => format(UNITS.gbps, bitsPerSecond);
/** A data rate from bits per second, in Mbit/s with one decimal (rate-limited lab links). */
export const mbps = (bitsPerSecond: number) => format(UNITS.mbps, bitsPerSecond);
/** A packet rate from packets per second, in thousands per second with one decimal. */
export const kpps = (packetsPerSecond: number) => format(UNITS.kpps, packetsPerSecond);
/** A memory size from bytes, in MiB with one decimal. */
export const mib = (bytes: number) => format(UNITS.mib, bytes);

const escape = (s: string) => s.replace(/[/]/g, "\\/");
const ANY_MEASUREMENT = new RegExp(
  `^\\d+\\.\\d+ (${Object.values(UNITS)
    .map((u) => escape(u.symbol))
    .join("|")})$`,
);

/** The column width a table cell needs if it is a measurement printed by this module, else 0. */
export function measuredWidth(cell: string): number {
  const symbol = ANY_MEASUREMENT.exec(cell)?.[1];
  return Object.values(UNITS).find((u) => u.symbol === symbol)?.width ?? 0;
}
