// helpers/measure/units is the one list of units: every formatter's output is matched by exactly
// one rule of fixtures/nbval-sanitize.cfg, whose regex is written from the unit's symbol and
// decimals, and every measured-unit rule there belongs to a unit of this list.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSanitizeConfig } from "../../kernel/replay/sanitize";
import * as units from "../../helpers/measure/units";

const rules = loadSanitizeConfig(join(__dirname, "..", "..", "fixtures", "nbval-sanitize.cfg"));
const escape = (s: string) => s.replace(/[/]/g, "\\/");
/** The rule a unit needs: optional padding, digits, exactly its decimals, its symbol. */
const patternOf = (u: (typeof units.UNITS)[keyof typeof units.UNITS]) =>
  `[ ]*\\b\\d+\\.${"\\d".repeat(u.decimals)} ${escape(u.symbol)}\\b`;

describe("units", () => {
  for (const [name, unit] of Object.entries(units.UNITS)) {
    it(`${name}() prints "${unit.symbol}" with ${unit.decimals} decimals; one rule covers exactly that`, () => {
      const format = units[name as keyof typeof units.UNITS];
      const printed = format(1234.5678 * unit.per);
      expect(printed).toBe(`${(1234.5678).toFixed(unit.decimals)} ${unit.symbol}`);
      const matching = rules.filter((r) => new RegExp(r.regex.source).test(`x ${printed} y`));
      expect(matching.map((r) => r.section)).toHaveLength(1);
      const [rule] = matching;
      expect(rule.regex.source).toBe(patternOf(unit));
      // one decimal more or less is a different form: not sanitized
      expect(rule.regex.test(` ${(1234.5678).toFixed(unit.decimals + 1)} ${unit.symbol}`)).toBe(false);
      rule.regex.lastIndex = 0;
    });
  }

  it("every rule for a measured number belongs to a unit of the list", () => {
    const symbols = Object.values(units.UNITS).map((u) => escape(u.symbol));
    const measuring = rules.filter((r) => /\\d\+\\\.\\d/.test(r.regex.source));
    for (const r of measuring)
      expect(
        symbols.some((s) => r.regex.source.includes(` ${s}\\b`)),
        r.section,
      ).toBe(true);
    expect(measuring).toHaveLength(symbols.length);
  });

  it("a measurement's column is made ready for its widest value", () => {
    expect(units.measuredWidth(units.ms(3.1))).toBe("9999.99 ms".length);
    expect(units.measuredWidth(units.mbps(19.2e6))).toBe("99999.9 Mbit/s".length);
    expect(units.measuredWidth("3.1 apples")).toBe(0);
  });
});
