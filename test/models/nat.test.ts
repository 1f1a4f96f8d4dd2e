// helpers/nat: the translation-table model (port kept or moved, per-remote uniqueness, replies,
// strangers, forwards, idle timeouts) and the conntrack parser. The real NAT runs in notebook 42.
import { describe, expect, it } from "vitest";
import { NatTable, splitEndpoint } from "../../helpers/models/nat";

describe("nat model", () => {
  it("keeps the inside port unless the same remote already sees it, then takes the next free one", () => {
    const t = new NatTable({ publicAddress: "10.0.0.1" });
    expect(t.outbound("tcp", "192.168.1.2:5000", "10.0.0.2:80", 0)).toEqual({
      public: "10.0.0.1:5000",
      created: true,
      kept: true,
    });
    expect(t.outbound("tcp", "192.168.1.3:5000", "10.0.0.2:80", 0)).toEqual({
      public: "10.0.0.1:5001",
      created: true,
      kept: false,
    });
    expect(t.outbound("tcp", "192.168.1.4:5000", "10.0.0.2:80", 0).public).toBe("10.0.0.1:5002");
    // another remote or another protocol: no collision
    expect(t.outbound("tcp", "192.168.1.3:5000", "10.0.0.2:443", 0).public).toBe("10.0.0.1:5000");
    expect(t.outbound("udp", "192.168.1.3:5000", "10.0.0.2:80", 0).public).toBe("10.0.0.1:5000");
    // the same flow again reuses its mapping
    expect(t.outbound("tcp", "192.168.1.3:5000", "10.0.0.2:80", 1)).toEqual({
      public: "10.0.0.1:5001",
      created: false,
      kept: false,
    });
  });

  it("wraps around the port range and reports exhaustion", () => {
    const t = new NatTable({ publicAddress: "10.0.0.1", ports: [7000, 7001] });
    expect(t.outbound("udp", "192.168.1.2:7001", "10.0.0.2:53", 0).public).toBe("10.0.0.1:7001");
    expect(t.outbound("udp", "192.168.1.3:7001", "10.0.0.2:53", 0).public).toBe("10.0.0.1:7000");
    expect(() => t.outbound("udp", "192.168.1.4:7001", "10.0.0.2:53", 0)).toThrow(
      expect.objectContaining({ code: "ERR_NAT_EXHAUSTED" }),
    );
  });

  it("delivers replies from the mapped remote only, and port forwards", () => {
    const t = new NatTable({ publicAddress: "10.0.0.1" });
    t.outbound("tcp", "192.168.1.2:5000", "10.0.0.2:80", 0);
    expect(t.inbound("tcp", "10.0.0.2:80", 5000, 1)).toEqual({ inside: "192.168.1.2:5000", why: "reply to a mapping" });
    expect(t.inbound("tcp", "10.0.0.9:80", 5000, 1)).toEqual({ inside: null, why: "no mapping" });
    expect(t.inbound("udp", "10.0.0.2:80", 5000, 1).inside).toBeNull();
    t.forward("tcp", 8080, "192.168.1.2:80");
    expect(t.inbound("tcp", "10.0.0.9:4000", 8080, 1)).toEqual({ inside: "192.168.1.2:80", why: "port forward" });
  });

  it("expires idle mappings, and every packet restarts the timer", () => {
    const t = new NatTable({ publicAddress: "10.0.0.1", timeouts: { udp: 30 } });
    t.outbound("udp", "192.168.1.2:5000", "10.0.0.2:53", 0);
    t.outbound("udp", "192.168.1.3:5000", "10.0.0.2:53", 0);
    expect(t.inbound("udp", "10.0.0.2:53", 5001, 20).inside).toBe("192.168.1.3:5000");
    expect(t.expire(31).map((m) => m.inside)).toEqual(["192.168.1.2:5000"]);
    expect(t.rows(31)).toEqual([
      {
        proto: "udp",
        inside: "192.168.1.3:5000",
        remote: "10.0.0.2:53",
        public: "10.0.0.1:5001",
        "idle s": 11,
        "expires in s": 19,
      },
    ]);
    expect(t.timeouts.tcp).toBe(432000);
  });

  it("rejects malformed endpoints and options", () => {
    expect(splitEndpoint("192.168.1.2:80")).toEqual(["192.168.1.2", 80]);
    for (const bad of ["192.168.1.2", "192.168.1.256:80", "host:80", "10.0.0.1:0", "10.0.0.1:70000"]) {
      expect(() => splitEndpoint(bad)).toThrow(expect.objectContaining({ code: "ERR_NAT_ENDPOINT" }));
    }
    expect(() => new NatTable({ publicAddress: "nope" })).toThrow(expect.objectContaining({ code: "ERR_NAT_OPTIONS" }));
    expect(() => new NatTable({ publicAddress: "10.0.0.1", ports: [9, 2] })).toThrow(
      expect.objectContaining({ code: "ERR_NAT_OPTIONS" }),
    );
  });
});
