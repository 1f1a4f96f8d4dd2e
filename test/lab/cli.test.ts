// `npm run lab -- dhcp`: a complete DORA with each server, saved to a pcap that tshark dissects
// (read here with tshark directly, not through our own parsing), and one clear error for bad input.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { labAccess } from "../../helpers/lab";
import { tsharkDhcp } from "../../helpers/lab/dhcp";
import { root, run } from "../support/process";

const work = mkdtempSync(join(tmpdir(), "wirebook-lab-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cli = (...args: string[]) =>
  run(process.execPath, ["--require", "tsx/cjs", "helpers/lab/cli.ts", ...args], { cwd: root, timeoutMs: 60_000 });
const whyNot =
  labAccess().mode === "none"
    ? "no lab on this machine"
    : spawnSync("tshark", ["--version"]).status !== 0
      ? "tshark is not installed"
      : spawnSync("dnsmasq", ["--version"]).status !== 0
        ? "dnsmasq is not installed"
        : undefined;

describe.skipIf(!!whyNot)(`npm run lab -- dhcp${whyNot ? ` (skipped: ${whyNot})` : ""}`, () => {
  it.each(["own", "dnsmasq"])(
    "--server %s: a complete DORA, renewal and release that tshark dissects cleanly",
    async (server) => {
      const pcap = join(work, `${server}.pcap`);
      const r = await cli("dhcp", "--server", server, "--pcap", pcap);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/outcome: bound — 10\.0\.0\.\d+\/24 from 10\.0\.0\.1, renewed: true, released: true/);
      const read = await tsharkDhcp(pcap);
      // DISCOVER, OFFER, REQUEST, ACK; the renewal REQUEST and ACK (unicast); RELEASE.
      expect(read.frames.map((f) => f.type)).toEqual([
        "DISCOVER",
        "OFFER",
        "REQUEST",
        "ACK",
        "REQUEST",
        "ACK",
        "RELEASE",
      ]);
      expect(read.frames[0]).toEqual({
        type: "DISCOVER",
        src: "0.0.0.0",
        dst: "255.255.255.255",
        mac: "02:00:00:00:01:02",
      });
      expect(read.warnings).toBe(0);
    },
  );

  it("rejects bad arguments with one line and exit status 2", async () => {
    for (const args of [["dhcp", "--server", "isc"], ["ping"], ["dhcp", "--nonsense"]]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toMatch(/^lab: /);
      expect(r.stdout).toBe("");
    }
  });
});
