// helpers/wire/fragment: the fragment arithmetic of RFC 791, pure (notebook 50 and
// test/os/capture.test.ts hold it against a real router's fragments).
import { describe, expect, it } from "vitest";
import { fragment, refragment } from "../../helpers/wire/fragment";

describe("fragment arithmetic", () => {
  it("cuts at multiples of 8, MF on all but the last, offsets as bytes and as the /8 field", () => {
    expect(fragment(3008, 1500).map((f) => [f.offset, f.offsetField, f.length, f.mf, f.totalLength])).toEqual([
      [0, 0, 1480, true, 1500],
      [1480, 185, 1480, true, 1500],
      [2960, 370, 48, false, 68],
    ]);
    // (1006 − 20) = 986 rounds down to 984
    expect(fragment(2000, 1006).map((f) => f.length)).toEqual([984, 984, 32]);
    expect(fragment(1480, 1500)).toEqual([{ offset: 0, offsetField: 0, length: 1480, mf: false, totalLength: 1500 }]);
    expect(fragment(100, 576, { headerLength: 24 })[0].totalLength).toBe(124);
  });

  it("refragments: pieces continue from the fragment's offset and keep its MF", () => {
    expect(refragment(fragment(3008, 1500), 1280).map((f) => [f.offset, f.length, f.mf])).toEqual([
      [0, 1256, true],
      [1256, 224, true],
      [1480, 1256, true],
      [2736, 224, true],
      [2960, 48, false],
    ]);
  });

  it("rejects what cannot be cut", () => {
    expect(() => fragment(100, 27)).toThrow(/no room/);
    expect(() => fragment(-1, 1500)).toThrow(RangeError);
    expect(() => fragment(100, 1500, { start: 4 })).toThrow(/multiple of 8/);
  });
});
