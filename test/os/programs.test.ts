// helpers/os/programs: a peer that is there is found; a missing one is a documented skip naming its package.
import { describe, expect, it } from "vitest";
import { isCellSkipped } from "../../kernel/runtime";
import { hasProgram, needProgram } from "../../helpers/os/programs";

describe("programs", () => {
  it("finds a program on the PATH, and not one that is missing", () => {
    expect(hasProgram("sh")).toBe(true);
    expect(hasProgram("wirebook-no-such-program")).toBe(false);
    expect(() => hasProgram("rm -rf /")).toThrow(RangeError);
  });

  it("skips the cell with one line naming the Debian package", () => {
    expect(() => needProgram("sh", "dash")).not.toThrow();
    try {
      needProgram("wirebook-no-such-program", "wirebook-peer");
      expect.unreachable();
    } catch (e) {
      expect(isCellSkipped(e)).toBe(true);
      expect((e as Error).message).toBe(
        "this cell needs wirebook-no-such-program, which is not installed: apt-get install wirebook-peer",
      );
    }
  });
});
