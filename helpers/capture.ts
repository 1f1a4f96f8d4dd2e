// A packet capture that runs until it is closed, written to a pcap file as frames arrive: meant
// to run inside a lab host (`host.run(capture, "startCapture", { iface: "eth0", path })`) while an
// experiment happens, then be read by tshark or Wireshark.
import { LINKTYPE, PcapWriter } from "./pcap";
import { openCapture, type BpfInsn } from "./rawsock";

export interface CaptureSummary {
  path: string;
  frames: number;
}

export async function startCapture(opts: { iface: string; path: string; filter?: BpfInsn[] }) {
  const capture = openCapture({ iface: opts.iface, filter: opts.filter });
  const file = new PcapWriter(opts.path, { linktype: LINKTYPE.ETHERNET });
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const frame = await capture.next(100);
      if (frame) file.write(frame.data, frame.time);
    }
  })();
  return {
    path: opts.path,
    frames: () => file.count,
    /** Stops capturing once frames already queued in the kernel are written; the file is complete. */
    async close(): Promise<CaptureSummary> {
      // Let the last frames of the experiment reach the socket before we stop reading.
      await new Promise((r) => setTimeout(r, 200));
      stopping = true;
      await loop;
      await capture.close();
      file.close();
      return { path: opts.path, frames: file.count };
    },
  };
}
