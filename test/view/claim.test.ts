// helpers/view/claim: silent when a claim holds, one ClaimFailed naming it (and its evidence) when not.
import { describe, expect, it } from "vitest";
import { CellSkipped } from "../../kernel/runtime";
import { attempt, claim, claimEqual, ClaimFailed, failureOf } from "../../helpers/view/claim";

describe("claim", () => {
  it("is silent when the claim holds", () => {
    expect(() => claim("two is more than one", 2 > 1)).not.toThrow();
    expect(() => claimEqual("the same rows", [{ a: 1 }], [{ a: 1 }])).not.toThrow();
  });

  it("fails with the statement and the evidence when it does not", () => {
    expect(() => claim("one is more than two", 1 > 2, { one: 1, two: 2 })).toThrow(ClaimFailed);
    try {
      claim("one is more than two", 1 > 2, { one: 1, two: 2 });
    } catch (e) {
      expect(e).toMatchObject({ name: "ClaimFailed", code: "ERR_CLAIM_FAILED", statement: "one is more than two" });
      expect(String((e as Error).message)).toMatch(
        /^this claim does not hold: one is more than two\n\{ one: 1, two: 2 \}$/,
      );
    }
    expect(() => claimEqual("the same rows", [{ a: 1 }], [{ a: 2 }])).toThrow(/actual: \[ \{ a: 1 \} \]/);
    expect(() => claim("", true)).toThrow(TypeError);
  });

  it("narrows the type it asserts", () => {
    const reply: string | null = [null, "pong"][1];
    claim("a reply came", reply !== null);
    expect(reply.toUpperCase()).toBe("PONG"); // no `!` needed: the claim narrowed it
  });
});

describe("attempt", () => {
  it("hands back the value, or what went wrong as data", async () => {
    expect(attempt(() => 42)).toEqual({ ok: true, value: 42 });
    const refused = Object.assign(new Error("nope"), { code: "ECONNREFUSED" });
    expect(
      attempt(() => {
        throw refused;
      }),
    ).toEqual({ ok: false, name: "Error", code: "ECONNREFUSED", message: "nope" });
    expect(await attempt(async () => "later")).toEqual({ ok: true, value: "later" });
    expect(await attempt(() => Promise.reject(new RangeError("too big")))).toEqual({
      ok: false,
      name: "RangeError",
      message: "too big",
    });
    expect(failureOf("a string")).toEqual({ name: "string", message: "a string" });
  });

  it("lets a documented skip through: it skips the cell, it is not an outcome", async () => {
    const skip = new CellSkipped("this cell needs a lab");
    expect(() =>
      attempt(() => {
        throw skip;
      }),
    ).toThrow(skip);
    await expect(attempt(() => Promise.reject(skip))).rejects.toBe(skip);
  });
});
