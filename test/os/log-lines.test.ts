// helpers/os/log-lines.ts: a program's lines kept as they come, tidied, split across chunks, and a
// wait for lines that come late, which says how many came when they do not.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { logLines } from "../../helpers/os/log-lines";

describe("logLines", () => {
  it("waits for lines a program writes later, counts them, and starts from a line", async () => {
    const script = "printf '1: start\\n2: par'; sleep 0.3; printf 'tial\\n3: late\\n'; sleep 0.2; echo '4: later'";
    const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
    const log = logLines(child, child.stdout, "sh", (l) => l.replace(/^\d+: /, ""));
    expect(await log.logged(/^late$/)).toEqual(["late"]);
    expect(log.lines()).toEqual(["start", "partial", "late"]);
    expect(await log.logged(/^la/, { from: 2, count: 2 })).toEqual(["late", "later"]);
  });
  it("says how many lines came, when they do not come in time or the program has ended", async () => {
    const child = spawn("sh", ["-c", "echo one; sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    const log = logLines(child, child.stdout, "sh");
    await expect(log.logged(/one|two/, { count: 2, timeoutMs: 300 })).rejects.toThrow(
      "sh logged 1 of 2 lines matching /one|two/ in 300 ms",
    );
    child.kill();
    await new Promise((r) => child.once("exit", r));
    const started = Date.now();
    await expect(log.logged(/two/, { timeoutMs: 4000 })).rejects.toThrow("sh logged 0 of 1 lines");
    expect(Date.now() - started).toBeLessThan(3000); // it did not wait for the timeout
  });
});
