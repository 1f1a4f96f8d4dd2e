// helpers/measure/units is the one list of units: every measured formatter's output is matched by
// exactly one rule of fixtures/nbval-sanitize.cfg, every measured-unit rule there belongs to a unit
// of this list, and no rule matches what the computed formatters print (they are compared exactly).
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadSanitizeConfig, sanitize } from "../../kernel/replay/sanitize";
import * as units from "../../helpers/measure/units";

const rules = loadSanitizeConfig(join(__dirname, "..", "..", "fixtures", "nbval-sanitize.cfg"));
const matching = (text: string) => rules.filter((r) => new RegExp(r.regex.source).test(text)).map((r) => r.section);
const value = fc.double({ min: 0, max: 1e12, noNaN: true });
const measured = { ms: units.ms, gbps: units.gbps, mbps: units.mbps, kpps: units.kpps, mib: units.mib };

describe("units", () => {
  for (const [name, unit] of Object.entries(units.UNITS)) {
    const format = measured[name as keyof typeof measured];
    const exact = units.computed[name as keyof typeof units.computed];
    it(`${name}() prints "${unit.symbol}" with ${unit.decimals} decimals, computed.${name}() one more`, () => {
      expect(format(1234.5678 * unit.per)).toBe(`${(1234.5678).toFixed(unit.decimals)} ${unit.symbol}`);
      expect(exact(1234.5678 * unit.per)).toBe(`${(1234.5678).toFixed(unit.decimals + 1)} ${unit.symbol}`);
    });

    it(`exactly one rule sanitizes ${name}(), with its padding; none touches computed.${name}()`, () => {
      fc.assert(
        fc.property(value, fc.nat(12), (v, pad) => {
          const m = `x ${" ".repeat(pad)}${format(v * unit.per)} y`;
          expect(matching(m)).toHaveLength(1);
          expect(sanitize(m, rules)).toMatch(/^x<[^>\d]+> y$/);
          const c = `x ${" ".repeat(pad)}${exact(v * unit.per)} y`;
          expect(sanitize(c, rules)).toBe(c);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it("every rule for a measured number belongs to a unit of the list", () => {
    const escape = (s: string) => s.replace(/[/]/g, "\\/");
    const symbols = Object.values(units.UNITS).map((u) => escape(u.symbol));
    const measuring = rules.filter((r) => /\\d\+\\\.\\d/.test(r.regex.source));
    for (const r of measuring)
      expect(
        symbols.some((s) => r.regex.source.includes(` ${s}`)),
        r.section,
      ).toBe(true);
    // One rule for both bit-rate units, one for each other unit.
    expect(measuring).toHaveLength(symbols.length - 1);
  });

  it("bitRate() chooses the unit by magnitude, and either form is the same token to the sanitizer", () => {
    expect(units.bitRate(20e6)).toBe("20.0 Mbit/s");
    expect(units.bitRate(999.9e6)).toBe("999.9 Mbit/s");
    expect(units.bitRate(25.891e9)).toBe("25.89 Gbit/s");
    expect(units.computed.bitRate(20e6)).toBe("20.00 Mbit/s");
    expect(units.computed.bitRate(2e9)).toBe("2.000 Gbit/s");
    expect(sanitize(units.bitRate(999e6), rules)).toBe(sanitize(units.bitRate(1.2e9), rules));
  });

  it("a measurement's column is made ready for its widest value; a computed one is not padded", () => {
    expect(units.measuredWidth(units.ms(3.1))).toBe("9999.99 ms".length);
    expect(units.measuredWidth(units.mbps(19.2e6))).toBe("99999.9 Mbit/s".length);
    expect(units.measuredWidth(units.gbps(19.2e9))).toBe(units.measuredWidth(units.mbps(19.2e6)));
    expect(units.measuredWidth(units.computed.ms(3.1))).toBe(0);
    expect(units.measuredWidth("3.1 apples")).toBe(0);
  });
});
