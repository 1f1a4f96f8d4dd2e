// helpers/lab/bird.ts: birdc's `show protocols` and `show route all` (BIRD 2.0.12's layout, as
// notebook 44 sees it) parsed without their timestamps.
import { describe, expect, it } from "vitest";
import { parseProtocols, parseRoutes } from "../../helpers/lab/bird";

describe("birdc output", () => {
  it("show protocols", () => {
    const text = [
      "Name       Proto      Table      State  Since         Info",
      "device1    Device     ---        up     00:27:47.263  ",
      "a1         BGP        ---        up     00:27:48.323  Established   ",
      "bad1       BGP        ---        start  00:28:48.401  Idle          BGP Error: Bad peer AS",
    ].join("\n");
    expect(parseProtocols(text)).toEqual([
      { name: "device1", proto: "Device", state: "up", info: "" },
      { name: "a1", proto: "BGP", state: "up", info: "Established" },
      { name: "bad1", proto: "BGP", state: "start", info: "Idle BGP Error: Bad peer AS" },
    ]);
  });
  it("show route all: every route, the best marked", () => {
    const text = [
      "Table master4:",
      "10.77.0.0/24         unicast [a1 00:27:48.351] * (100) [AS65001i]",
      "\tvia 10.44.1.2 on eth0",
      "\tType: BGP univ",
      "\tBGP.as_path: 65001",
      "                     unicast [b1 00:27:48.366] (100) [AS65100i]",
      "\tvia 10.44.2.2 on eth1",
      "10.200.0.0/24        blackhole [static1 00:27:47.263] * (200)",
      "\tType: static univ",
    ].join("\n");
    expect(parseRoutes(text)).toEqual([
      {
        prefix: "10.77.0.0/24",
        from: "a1",
        best: true,
        preference: 100,
        info: "AS65001i",
        via: "via 10.44.1.2 on eth0",
      },
      {
        prefix: "10.77.0.0/24",
        from: "b1",
        best: false,
        preference: 100,
        info: "AS65100i",
        via: "via 10.44.2.2 on eth1",
      },
      { prefix: "10.200.0.0/24", from: "static1", best: true, preference: 200, info: "", via: "" },
    ]);
  });
});
