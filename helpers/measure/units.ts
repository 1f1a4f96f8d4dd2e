// How values are printed: the one list of units. A measured value (it changes from run to run)
// is printed by the measured formatters (`ms`, `bitRate`, ...) in one exact form, which
// fixtures/nbval-sanitize.cfg matches (and only that form; a test holds the file to this list),
// and view/table gives each unit's column a fixed minimum width, so a run with a longer number
// never changes a table's layout. A computed value (a prediction, a configured delay, a model's
// output) is the same on every run and is printed by `computed.*`, with one decimal more: a form
// no rule matches, so replay and nbval compare it exactly.

interface Unit {
  /** What follows the number, after one space. */
  symbol: string;
  /** How many of the base quantity make one of this unit (1e9 bit/s in a Gbit/s). */
  per: number;
  /** Decimals of a measurement; a computed value gets one more. */
  decimals: number;
  /** The widest measurement a column of this unit is made ready for, e.g. "9999.99 ms". */
  width: number;
}

// Both bit-rate units share a width, so a column of bitRate() values keeps its layout when a
// measurement crosses 1 Gbit/s and changes unit.
const RATE_WIDTH = "99999.9 Mbit/s".length;

export const UNITS = {
  ms: { symbol: "ms", per: 1, decimals: 2, width: "9999.99 ms".length },
  gbps: { symbol: "Gbit/s", per: 1e9, decimals: 2, width: RATE_WIDTH },
  mbps: { symbol: "Mbit/s", per: 1e6, decimals: 1, width: RATE_WIDTH },
  kpps: { symbol: "kpps", per: 1000, decimals: 1, width: "9999.9 kpps".length },
  mib: { symbol: "MiB", per: 1048576, decimals: 1, width: "9999.9 MiB".length },
} satisfies Record<string, Unit>;

const format = (unit: Unit, value: number, extra = 0) =>
  `${(value / unit.per).toFixed(unit.decimals + extra)} ${unit.symbol}`;
/** Gbit/s from 1 Gbit/s up, else Mbit/s: the unit chosen by magnitude. */
const rateUnit = (bitsPerSecond: number) => (Math.abs(bitsPerSecond) >= 1e9 ? UNITS.gbps : UNITS.mbps);

/** A measured duration in milliseconds, two decimals: "12.34 ms". */
export const ms = (milliseconds: number) => format(UNITS.ms, milliseconds);
/** A measured data rate from bits per second, in Gbit/s with two decimals. */
export const gbps = (bitsPerSecond: number) => format(UNITS.gbps, bitsPerSecond);
/** A measured data rate from bits per second, in Mbit/s with one decimal (rate-limited lab links). */
export const mbps = (bitsPerSecond: number) => format(UNITS.mbps, bitsPerSecond);
/** A measured data rate in the unit its magnitude calls for: "19.8 Mbit/s", "25.89 Gbit/s". */
export const bitRate = (bitsPerSecond: number) => format(rateUnit(bitsPerSecond), bitsPerSecond);
/** A measured packet rate from packets per second, in thousands per second with one decimal. */
export const kpps = (packetsPerSecond: number) => format(UNITS.kpps, packetsPerSecond);
/** A measured memory size from bytes, in MiB with one decimal. */
export const mib = (bytes: number) => format(UNITS.mib, bytes);

/** The same units for values that do not change from run to run (predictions, configured
 *  values, model outputs): one decimal more than a measurement, "419.430 ms", so that no
 *  sanitizer rule hides them. */
export const computed = {
  ms: (milliseconds: number) => format(UNITS.ms, milliseconds, 1),
  gbps: (bitsPerSecond: number) => format(UNITS.gbps, bitsPerSecond, 1),
  mbps: (bitsPerSecond: number) => format(UNITS.mbps, bitsPerSecond, 1),
  bitRate: (bitsPerSecond: number) => format(rateUnit(bitsPerSecond), bitsPerSecond, 1),
  kpps: (packetsPerSecond: number) => format(UNITS.kpps, packetsPerSecond, 1),
  mib: (bytes: number) => format(UNITS.mib, bytes, 1),
};

const escape = (s: string) => s.replace(/[/]/g, "\\/");
const MEASUREMENTS = Object.values(UNITS).map((u) => ({
  unit: u,
  form: new RegExp(`^\\d+\\.\\d{${u.decimals}} ${escape(u.symbol)}$`),
}));

/** The column width a table cell needs if it is a measurement printed by this module, else 0. */
export function measuredWidth(cell: string): number {
  return MEASUREMENTS.find((m) => m.form.test(cell))?.unit.width ?? 0;
}

const SYMBOLS = [...new Set(Object.values(UNITS).map((u) => escape(u.symbol)))].join("|");
const LAYOUT_WORD = new RegExp(`\\d+\\.\\d+ (?:${SYMBOLS})(?![\\w/])|\\S+`, "g");

/** The words of a text, a measurement ("12.34 ms") kept as one word, each with the width it is
 *  laid out at: a measurement counts as its unit's full width, so text wrapped by these widths
 *  breaks at the same places whatever the numbers were. */
export function layoutWords(text: string): Array<{ word: string; width: number }> {
  const words = text.match(LAYOUT_WORD) ?? [];
  return words.map((word) => ({ word, width: Math.max(word.length, measuredWidth(word)) }));
}
