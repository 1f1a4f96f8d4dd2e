// Runs one side of a DHCP exchange inside a network namespace, for test/dhcp-lab.test.ts:
//   ip netns exec NS node --require tsx/cjs test/support/dhcp-agent.ts '<json>'
// A Node process cannot reliably move its own threads into another namespace, so each side is a
// child process started there. It speaks JSON lines on stdout:
//   {"role":"client","opts":{...}}  → one line {"transcript":...}, then exits
//   {"role":"server","opts":{...}}  → {"ready":{...}}; then on stdin "leases" → {"leases":[...]},
//                                      "close" (or stdin closing) → {"closed":{log,leases}}, exits
//   {"role":"send","opts":{iface,message,to?,truncate?}} → sends one hand-made message from
//                                      port 68, exits
import dgram from "node:dgram";
import { createInterface } from "node:readline";
import { encode } from "../../helpers/dhcp";
import { dhcpClient } from "../../helpers/dhcp-client";
import { startDhcpServer } from "../../helpers/dhcp-server";
import { bindToDevice } from "../../helpers/sockopt";

const say = (v: unknown) => process.stdout.write(JSON.stringify(v) + "\n");

async function main() {
  const { role, opts } = JSON.parse(process.argv[2] ?? "{}");
  if (role === "client") {
    say({ transcript: await dhcpClient(opts) });
  } else if (role === "server") {
    const server = await startDhcpServer(opts);
    say({ ready: { iface: server.iface, serverIp: server.serverIp, port: server.port } });
    let closing = false;
    const close = async () => {
      if (closing) return;
      closing = true;
      say({ closed: await server.close() });
      process.exit(0);
    };
    const lines = createInterface({ input: process.stdin });
    lines.on("line", (line) => (line.trim() === "leases" ? say({ leases: server.leases() }) : line.trim() === "close" ? void close() : undefined));
    lines.on("close", () => void close());
  } else if (role === "send") {
    const socket = dgram.createSocket({ type: "udp4" });
    await new Promise<void>((r) => socket.bind(68, "0.0.0.0", () => r()));
    bindToDevice(socket, opts.iface);
    socket.setBroadcast(true);
    // truncate: drop the end option, to see what the server does with a malformed message
    const bytes = opts.truncate ? encode(opts.message, { minLength: 0 }).subarray(0, -1) : encode(opts.message);
    await new Promise<void>((r, j) => socket.send(bytes, 67, opts.to ?? "255.255.255.255", (e) => (e ? j(e) : r())));
    socket.close();
    say({ sent: true });
  } else throw new Error(`unknown role ${role}`);
}

main().catch((e) => {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
});
