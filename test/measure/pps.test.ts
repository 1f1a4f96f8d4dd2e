// measure/pps: a UDP flood between two lab hosts, counted by the receiver, with the receiving
// host's own /proc/net/udp drop counter as the witness (sent = received + dropped).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labAccess, startLab, type Lab } from "../../helpers/lab";
import { udpPacketRateBetween } from "../../helpers/measure/pps";

describe.skipIf(labAccess().mode === "none")("udpPacketRateBetween", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ hosts: { a: {}, b: {} }, links: [{ between: ["a", "b"], subnet: "10.99.7.0/24" }] });
  }, 30_000);
  afterAll(async () => {
    await lab?.close();
  });

  it("floods from one host to the other's address and accounts for every datagram", async () => {
    const r = await udpPacketRateBetween(lab.host("a"), lab.host("b"), lab.address("b"), 64, 0.3);
    expect(r.size).toBe(64);
    expect(r.sent).toBeGreaterThan(0);
    expect(r.received).toBeGreaterThan(0);
    expect(r.received + r.socketDrops).toBeLessThanOrEqual(r.sent);
    expect(r.pps).toBeCloseTo(r.received / 0.3, 6);
  }, 30_000);
});
