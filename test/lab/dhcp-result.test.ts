// helpers/lab/dhcp.ts: runDhcpLab's result says which log serverLog holds when the call names the
// server (our server's records, or dnsmasq's lines), so a notebook reads it without a cast. These
// are type checks: `npm run typecheck` fails if they do not hold, and vitest runs them as no-ops.
import { describe, expectTypeOf, it } from "vitest";
import type { Lab } from "../../helpers/lab";
import { runDhcpLab, type DhcpLabResult, type DhcpServerKind } from "../../helpers/lab/dhcp";
import type * as server from "../../helpers/net/dhcp-server";

// Never called: only their types are looked at.
const own = (lab: Lab) => runDhcpLab(lab, { server: "own" });
const dnsmasq = (lab: Lab) => runDhcpLab(lab, { server: "dnsmasq", renewAfterMs: 500 });
const either = (lab: Lab, kind: DhcpServerKind) => runDhcpLab(lab, { server: kind });

describe("runDhcpLab's result type", () => {
  it("holds our server's records when the call asks for our server", () => {
    expectTypeOf(own).returns.resolves.toHaveProperty("serverLog").toEqualTypeOf<server.ExchangeRecord[]>();
    expectTypeOf(own).returns.resolves.toHaveProperty("server").toEqualTypeOf<"own">();
  });

  it("holds dnsmasq's lines when the call asks for dnsmasq", () => {
    expectTypeOf(dnsmasq).returns.resolves.toHaveProperty("serverLog").toEqualTypeOf<string[]>();
  });

  it("stays the general result when the server is only known at run time", () => {
    expectTypeOf(either).returns.resolves.toEqualTypeOf<DhcpLabResult>();
  });
});
