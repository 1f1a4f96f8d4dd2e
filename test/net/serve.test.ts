// net/serve: port 0 by default, and a given port for the second address of a dual-stack service.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { serve } from "../../helpers/net/serve";

describe("serve", () => {
  it("listens on ::1 at port 0, then on 127.0.0.1 at the same port", async () => {
    const tell = () => net.createServer((s) => s.end(`${s.localAddress} ${s.remoteFamily}`));
    const six = await serve(tell(), "::1");
    const four = await serve(tell(), "127.0.0.1", six.port);
    try {
      expect(four.port).toBe(six.port);
      const read = (host: string) =>
        new Promise<string>((resolve) => {
          let text = "";
          net
            .connect(six.port, host)
            .on("data", (d) => (text += d))
            .on("end", () => resolve(text));
        });
      expect(await read("::1")).toBe("::1 IPv6");
      expect(await read("127.0.0.1")).toBe("127.0.0.1 IPv4");
    } finally {
      await Promise.all([six.close(), four.close()]);
    }
  });
});
