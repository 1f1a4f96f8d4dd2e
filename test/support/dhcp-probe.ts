// Functions test/dhcp-lab.test.ts runs inside a lab host through its agent (host.run with this
// file's path), for what the DHCP helpers do not offer.
import dgram from "node:dgram";
import { createDhcpCodec, encode, type DhcpMessageInput } from "../../helpers/wire/dhcp";
import { bindToDevice } from "../../helpers/os/sockopt";

/** Sends one hand-made message from port 68 of `iface` to port 67 (broadcast unless `to`), then
 *  closes the socket, so port 68 is free again for a client. `truncate` drops the end option: a
 *  malformed message, to see what a server does with it. Returns the number of bytes sent. */
export async function sendDhcp(opts: {
  iface: string;
  message: DhcpMessageInput;
  to?: string;
  truncate?: boolean;
}): Promise<number> {
  const socket = dgram.createSocket({ type: "udp4" });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(68, "0.0.0.0", () => (socket.off("error", reject), resolve()));
    });
    bindToDevice(socket, opts.iface);
    socket.setBroadcast(true);
    const bytes = opts.truncate
      ? createDhcpCodec({ minLength: 0 }).encode(opts.message).subarray(0, -1)
      : encode(opts.message);
    await new Promise<void>((resolve, reject) =>
      socket.send(bytes, 67, opts.to ?? "255.255.255.255", (e) => (e ? reject(e) : resolve())),
    );
    return bytes.length;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
