// The one list of Debian packages (kernel/peers.ts): every package a cell asks for is on it, the
// list agrees with dpkg, and the runner's line names exactly the missing ones.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEBIAN_PACKAGES, installed, missingPeersLine } from "../../kernel/peers";
import { root, runTs } from "../support/process";

/** Every needProgram("program", "package") in the notebooks and helpers. */
function askedFor(): Array<[string, string, string]> {
  const files = [
    ...readdirSync(join(root, "notebooks")).map((f) => join("notebooks", f)),
    ...readdirSync(join(root, "helpers"), { recursive: true, encoding: "utf8" }).map((f) => join("helpers", f)),
  ].filter((f) => /\.(ipynb|ts)$/.test(f));
  const found: Array<[string, string, string]> = [];
  for (const f of files) {
    const text = readFileSync(join(root, f), "utf8").replace(/\\"/g, '"');
    for (const m of text.matchAll(/needProgram\("([^"]+)", "([^"]+)"\)/g)) found.push([f, m[1], m[2]]);
  }
  return found;
}

describe("the Debian packages", () => {
  it("are listed once each, with a program and a reason", () => {
    const names = DEBIAN_PACKAGES.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of DEBIAN_PACKAGES) {
      expect(p.program, p.name).toMatch(/^[\w./+-]+$/);
      expect(p.why.length, p.name).toBeGreaterThan(5);
    }
  });

  it("include every package a cell asks for with needProgram", () => {
    const names = new Set(DEBIAN_PACKAGES.map((p) => p.name));
    expect(askedFor().length).toBeGreaterThan(3); // the scan finds the calls (helpers/os/tshark.ts among them)
    for (const [file, program, pkg] of askedFor()) expect(names.has(pkg), `${file}: ${program} from ${pkg}`).toBe(true);
  });

  it("agree with dpkg about what is installed", () => {
    const dpkg = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Status}\\n"], { encoding: "utf8" });
    const yes = new Set(
      dpkg.stdout
        .split("\n")
        .filter((l) => l.endsWith("install ok installed"))
        .map((l) => l.split(" ")[0].split(":")[0]),
    );
    for (const p of DEBIAN_PACKAGES) expect(installed(p), p.name).toBe(yes.has(p.name));
  });

  it("the runner's line names the missing packages, the notebooks each costs, and the command", () => {
    const notebooks = new Map([
      ["43-dhcp", 'const seen = await tsharkDhcp(pcap);\nawait runDhcpLab(lab, { server: "dnsmasq" });'],
      ["66-firewall", 'import { startLab } from "wirebook/helpers/lab";\nneedProgram("nft", "nftables");'],
      ["72-capture", 'import { startLab } from "wirebook/helpers/lab";\nconsole.log(tshark(file, "-q"));'],
      ["31-latency", "const rtt = await measure();"],
    ]);
    const pkg = (name: string) => DEBIAN_PACKAGES.filter((p) => p.name === name);
    expect(missingPeersLine(notebooks, [])).toBeNull();
    expect(missingPeersLine(notebooks, pkg("jupyter-nbconvert"))).toBeNull(); // only the tests need it
    expect(missingPeersLine(notebooks, [...pkg("tshark"), ...pkg("nftables"), ...pkg("bird2")])).toBe(
      "peers missing, their cells will print skipped: lines: tshark (43-dhcp, 72-capture); " +
        "nftables (66-firewall, 72-capture); bird2 (no notebook here); to install: npm run peers -- --install",
    );
  });

  it("the command line refuses an unknown argument with one line (exit 2)", async () => {
    const r = await runTs("kernel/peers.ts", ["--frobnicate"], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("peers: unknown argument --frobnicate (usage: peers.ts [--install])");
  });
});
