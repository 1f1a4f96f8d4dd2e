// Helpers that broadcast or craft packets refuse to run on the machine's own network.
import { describe, expect, it } from "vitest";
import { dhcpClient } from "../../helpers/net/dhcp-client";
import { startDhcpServer } from "../../helpers/net/dhcp-server";
import { udpSend } from "../../helpers/net/services";
import { assertInLabHost } from "../../helpers/os/netns";

describe("outside a lab host", () => {
  it("refuses with one clear error before anything is sent", async () => {
    expect(() => assertInLabHost("this experiment")).toThrow(/runs only inside a lab host/);
    await expect(dhcpClient({ iface: "lo" })).rejects.toMatchObject({ code: "ERR_NOT_IN_LAB" });
    await expect(
      Promise.resolve().then(() =>
        startDhcpServer({ iface: "eth0", serverIp: "10.0.0.1", poolStart: "10.0.0.10", poolEnd: "10.0.0.20" }),
      ),
    ).rejects.toMatchObject({ code: "ERR_NOT_IN_LAB" });
    await expect(udpSend("255.255.255.255", 9, ["hello"], { broadcast: true })).rejects.toMatchObject({
      code: "ERR_NOT_IN_LAB",
    });
  });
});
