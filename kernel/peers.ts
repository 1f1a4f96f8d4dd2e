// The Debian packages the notebooks and the tests run, in one list: each with a program that shows
// it is installed and what it is for. `.ci/run` installs from it; the runner (npm start) names the
// missing ones before it starts, since their cells will print `skipped:` lines instead of results;
// and a cell asks for one with needProgram(program, package) (helpers/os/programs.ts).
//   node --require tsx/cjs kernel/peers.ts            lists the missing packages, exits 1 if any
//   node --require tsx/cjs kernel/peers.ts --install  installs the missing ones with apt-get (root;
//                                                     `npm test` does this first: its pretest)
import { spawnSync } from "node:child_process";

export interface DebianPackage {
  name: string;
  /** A program the package installs, looked up on the PATH (or an absolute path). */
  program: string;
  why: string;
  /** What needs it: the namespace lab, a notebook's peer, or only the tests. */
  for: "lab" | "notebooks" | "tests";
}

export const DEBIAN_PACKAGES: readonly DebianPackage[] = [
  // The machine the notebooks run on
  { name: "iproute2", program: "ip", why: "ip, tc and ss: the namespace lab, notebook 30", for: "lab" },
  { name: "nftables", program: "nft", why: "the lab's loss rules, the firewall and NAT notebooks", for: "lab" },
  { name: "util-linux", program: "setpriv", why: "unshare, nsenter, setpriv: the lab as an ordinary user", for: "lab" },
  // Independent peers of the notebooks
  { name: "tshark", program: "tshark", why: "dissects what the notebooks capture and craft", for: "notebooks" },
  { name: "dnsmasq-base", program: "dnsmasq", why: "an independent DHCP server (43)", for: "notebooks" },
  { name: "busybox", program: "busybox", why: "udhcpc, a second DHCP client for our server", for: "notebooks" },
  { name: "iperf3", program: "iperf3", why: "the reference beside our throughput (73)", for: "notebooks" },
  { name: "nghttp2-client", program: "nghttp", why: "nghttp and h2load (HTTP/2)", for: "notebooks" },
  { name: "ngtcp2-client", program: "gtlsclient", why: "ngtcp2's example QUIC client (HTTP/3)", for: "notebooks" },
  { name: "ngtcp2-server", program: "gtlsserver", why: "ngtcp2's example QUIC server (HTTP/3)", for: "notebooks" },
  { name: "curl", program: "curl", why: "an independent HTTP client", for: "notebooks" },
  { name: "nginx-light", program: "nginx", why: "a reverse proxy and load balancer", for: "notebooks" },
  { name: "openssl", program: "openssl", why: "TLS client and certificate checks", for: "notebooks" },
  { name: "mosquitto", program: "mosquitto", why: "an MQTT broker", for: "notebooks" },
  { name: "mosquitto-clients", program: "mosquitto_sub", why: "MQTT clients", for: "notebooks" },
  { name: "coturn", program: "turnserver", why: "a STUN/TURN server", for: "notebooks" },
  { name: "dante-server", program: "danted", why: "a SOCKS5 proxy", for: "notebooks" },
  { name: "ldnsutils", program: "ldns-verify-zone", why: "DNSSEC zone verification", for: "notebooks" },
  { name: "bind9-utils", program: "dnssec-verify", why: "BIND's DNSSEC verification", for: "notebooks" },
  { name: "unbound", program: "unbound", why: "a validating resolver", for: "notebooks" },
  { name: "nsd", program: "nsd", why: "an authoritative DNS server", for: "notebooks" },
  { name: "bird2", program: "bird", why: "a BGP speaker", for: "notebooks" },
  {
    name: "wireguard-go",
    program: "wireguard-go",
    why: "WireGuard in user space (no kernel module needed)",
    for: "notebooks",
  },
  { name: "wireguard-tools", program: "wg", why: "wg, WireGuard's configuration tool", for: "notebooks" },
  { name: "tayga", program: "tayga", why: "NAT64: IPv6 hosts reach IPv4 ones", for: "notebooks" },
  { name: "radvd", program: "radvd", why: "IPv6 router advertisements", for: "notebooks" },
  { name: "ndisc6", program: "rdisc6", why: "IPv6 neighbour and router discovery tools", for: "notebooks" },
  // Jupyter's own tools, which check the kernel in the tests
  {
    name: "python3-jupyter-client",
    program: "/usr/bin/jupyter-kernel",
    why: "Jupyter's client (kernel tests)",
    for: "tests",
  },
  {
    name: "python3-jupyter-kernel-test",
    program: "/usr/bin/python3",
    why: "Jupyter's kernel test suite",
    for: "tests",
  },
  {
    name: "jupyter-nbconvert",
    program: "/usr/bin/jupyter-nbconvert",
    why: "nbconvert executes the notebooks",
    for: "tests",
  },
  {
    name: "jupyter-server",
    program: "/usr/bin/jupyter-server",
    why: "Jupyter's server, whose kernel API the browser widget test uses",
    for: "tests",
  },
  { name: "chromium", program: "/usr/bin/chromium", why: "the browser of the widget test", for: "tests" },
  // What the real nbval (its source in ../shared/vendor/nbval) runs on: pytest, and the Python
  // libraries it imports
  { name: "python3-pytest", program: "/usr/bin/pytest-3", why: "pytest, which runs nbval (tests)", for: "tests" },
  { name: "python3-nbformat", program: "/usr/bin/python3", why: "nbval reads the notebooks with it", for: "tests" },
  {
    name: "python3-ipykernel",
    program: "/usr/bin/python3",
    why: "nbval imports ipykernel's kernelspec module",
    for: "tests",
  },
];

/** Whether the package is installed: dpkg's word where there is dpkg, else its program's presence. */
export function installed(p: DebianPackage): boolean {
  const dpkg = spawnSync("dpkg-query", ["-W", "-f=${Status}", p.name], { encoding: "utf8" });
  if (!dpkg.error) return dpkg.stdout.includes("install ok installed");
  return spawnSync("sh", ["-c", 'command -v "$1"', "sh", p.program], { stdio: "ignore" }).status === 0;
}

export const missingPackages = (): DebianPackage[] => DEBIAN_PACKAGES.filter((p) => !installed(p));

/** The notebooks whose code names the package's program (for the lab's packages: every lab notebook). */
export function notebooksNeeding(p: DebianPackage, notebooks: ReadonlyMap<string, string>): string[] {
  const uses = p.for === "lab" ? /wirebook\/helpers\/lab\b/ : new RegExp(`\\b${p.program.replace(/[.+]/g, "\\$&")}`);
  return [...notebooks].filter(([, code]) => uses.test(code)).map(([name]) => name);
}

/** One line for the runner: the missing packages, the notebooks each costs, and the command that
 *  installs them; null when nothing the notebooks need is missing. `notebooks`: name -> code. */
export function missingPeersLine(notebooks: ReadonlyMap<string, string>, missing = missingPackages()): string | null {
  const costs = missing
    .filter((p) => p.for !== "tests")
    .map((p) => `${p.name} (${notebooksNeeding(p, notebooks).join(", ") || "no notebook here"})`);
  if (!costs.length) return null;
  const install = "to install: npm run peers -- --install";
  return `peers missing, their cells will print skipped: lines: ${costs.join("; ")}; ${install}`;
}

function main(argv: string[]) {
  const install = argv.includes("--install");
  const unknown = argv.filter((a) => a !== "--install");
  if (unknown.length) {
    console.error(`peers: unknown argument ${unknown[0]} (usage: peers.ts [--install])`);
    return 2;
  }
  const missing = missingPackages();
  if (!missing.length) {
    console.log(`peers: all ${DEBIAN_PACKAGES.length} Debian packages are installed`);
    return 0;
  }
  for (const p of missing) console.log(`missing: ${p.name.padEnd(28)} ${p.why}`);
  if (!install) return 1;
  if (process.getuid?.() !== 0) {
    console.error(`peers: installing needs root: sudo apt-get install ${missing.map((p) => p.name).join(" ")}`);
    return 1;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) => spawnSync("apt-get", args, { stdio: "inherit", env }).status;
  if (apt(["update", "-qq"]) !== 0) return 1;
  const names = missing.map((p) => p.name);
  return apt(["install", "-y", "-qq", "--no-install-recommends", ...names]) === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
