// net/happy-eyeballs: RFC 8305 by hand and Node's autoSelectFamily, on loopback where ::1 and
// 127.0.0.1 both answer (IPv6 wins), and where nothing listens on ::1 (the refusal moves on to IPv4).
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dnsServer } from "../../helpers/net/dns";
import { autoSelect, happyEyeballs, interleave } from "../../helpers/net/happy-eyeballs";
import { serve, type Served } from "../../helpers/net/serve";

const teller = () => net.createServer((s) => s.write(`${s.remoteAddress}\n`));

describe("happy eyeballs", () => {
  let dns: Awaited<ReturnType<typeof dnsServer>>;
  let six: Served;
  let four: Served;
  let onlyFour: Served;
  beforeAll(async () => {
    six = await serve(teller(), "::1");
    four = await serve(teller(), "127.0.0.1", six.port);
    onlyFour = await serve(teller(), "127.0.0.1");
    dns = await dnsServer(0, { zone: { "here.test": { A: ["127.0.0.1"], AAAA: ["::1"] } }, address: "127.0.0.1" });
  });
  afterAll(async () => {
    await Promise.all([six.close(), four.close(), onlyFour.close(), dns.close()]);
  });

  it("interleaves the families, IPv6 first (RFC 8305 §4)", () => {
    expect(interleave(["a", "b", "c"], ["1"]).map((t) => t.address)).toEqual(["a", "1", "b", "c"]);
  });

  it("by hand: IPv6 wins when both answer; a refused IPv6 fails over to IPv4 at once", async () => {
    const both = await happyEyeballs("here.test", six.port, { dns: "127.0.0.1", dnsPort: dns.port });
    expect(both.winner).toEqual({ address: "::1", family: 6 });
    expect(both.peer).toBe("::1");
    const refused = await happyEyeballs("here.test", onlyFour.port, { dns: "127.0.0.1", dnsPort: dns.port });
    expect(refused.winner).toEqual({ address: "127.0.0.1", family: 4 });
    const whats = refused.events.filter((e) => e.what !== "query" && e.what !== "answer").map((e) => e.what);
    expect(whats).toEqual(["attempt", "failed", "attempt", "connected"]);
  });

  it("Node's autoSelectFamily: the same outcomes, seen through its attempt events", async () => {
    const both = await autoSelect("here.test", six.port, { dns: "127.0.0.1", dnsPort: dns.port });
    expect(both.winner?.family).toBe(6);
    const refused = await autoSelect("here.test", onlyFour.port, { dns: "127.0.0.1", dnsPort: dns.port });
    expect(refused.winner).toEqual({ address: "127.0.0.1", family: 4 });
    expect(refused.peer).toBe("127.0.0.1");
    expect(refused.events.filter((e) => e.what === "attempt").map((e) => e.family)).toEqual([6, 4]);
  });
});
