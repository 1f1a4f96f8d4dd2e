// `npm run lab -- dhcp --server own|dnsmasq [--pcap FILE]`: the DHCP lab from the terminal. Two
// namespaces, a real DORA (plus renewal and release), the capture saved for Wireshark, and tshark's
// reading of it. Exit status 0 only for a complete exchange that tshark dissects cleanly.
import { parseArgs } from "node:util";
import { hasProgram } from "../os/programs";
import { runDhcpLab, startDhcpLab, tsharkDhcp, type DhcpServerKind } from "./dhcp";
import { labAccess } from ".";

const USAGE = "usage: npm run lab -- dhcp --server own|dnsmasq [--pcap FILE]";

function fail(message: string, status = 2): never {
  console.error(`lab: ${message}`);
  process.exit(status);
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { server: { type: "string", default: "own" }, pcap: { type: "string" }, help: { type: "boolean" } },
    });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const { positionals, values } = parsed;
  if (values.help) return console.log(USAGE);
  if (positionals.length !== 1 || positionals[0] !== "dhcp") fail(`the only lab is "dhcp"\n${USAGE}`);
  if (values.server !== "own" && values.server !== "dnsmasq")
    fail(`--server must be "own" or "dnsmasq", not "${values.server}"\n${USAGE}`);
  const access = labAccess();
  if (access.mode === "none") fail(`no lab on this machine: ${access.reason}`, 1);

  const lab = await startDhcpLab();
  process.once("SIGINT", () => void lab.close().then(() => process.exit(130)));
  try {
    const result = await runDhcpLab(lab, { server: values.server as DhcpServerKind, pcap: values.pcap });
    const t = result.transcript;
    for (const m of t.messages)
      console.log(
        `${(m.atMs / 1000).toFixed(3).padStart(7)} s  client ${m.direction.padEnd(8)} ${m.type.padEnd(8)} ${m.peer}` +
          (m.yiaddr && m.yiaddr !== "0.0.0.0" ? `  yiaddr ${m.yiaddr}` : ""),
      );
    console.log(
      `outcome: ${t.outcome}` +
        (t.lease
          ? ` — ${t.lease.ip}/${t.lease.prefix} from ${t.lease.serverId}, ` +
            `renewed: ${t.renewed}, released: ${t.released}`
          : ""),
    );
    console.log(`capture: ${result.pcap.frames} DHCP frames in ${result.pcap.path}`);
    let ok = t.outcome === "bound" && t.renewed && t.released;
    if (hasProgram("tshark")) {
      const seen = await tsharkDhcp(result.pcap.path);
      const dora = ["DISCOVER", "OFFER", "REQUEST", "ACK"].every(
        (type, i) => seen.frames.findIndex((f) => f.type === type) >= i,
      );
      console.log(
        `tshark: ${seen.frames.map((f) => f.type).join(", ")}; complete DORA: ${dora}; malformed: ${seen.malformed}`,
      );
      ok &&= dora && seen.malformed === 0;
    } else {
      console.log("tshark: not installed (apt-get install tshark), so the capture was not checked");
    }
    process.exitCode = ok ? 0 : 1;
  } finally {
    await lab.close();
  }
}

main().catch((e) => fail((e as Error).message, 1));
