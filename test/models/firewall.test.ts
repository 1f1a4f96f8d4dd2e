// helpers/firewall: the first-match evaluator, shadowed rules, the nftables text and the counter
// parser. The same rules against the kernel, probe by probe, run in notebook 66.
import { describe, expect, it } from "vitest";
import {
  evaluate,
  matches,
  nftRule,
  parseCounters,
  shadowed,
  toNft,
  validate,
  type Rule,
} from "../../helpers/models/firewall";

const rules: Rule[] = [
  { name: "replies", ctState: ["established", "related"], action: "accept" },
  { name: "ssh-admin", proto: "tcp", saddr: "10.66.0.2", dport: 22, action: "accept" },
  { name: "ssh-others", proto: "tcp", dport: 22, action: "drop" },
  { name: "lan-dns", proto: "udp", saddr: "10.66.0.0/24", dport: 53, action: "accept" },
  { name: "block-8000s", proto: "tcp", dport: [8000, 8999], action: "reject" },
  { name: "web-alt", proto: "tcp", dport: 8080, action: "accept" },
];

describe("firewall model", () => {
  it("lets the first matching rule decide, and the policy when none matches", () => {
    expect(evaluate(rules, "drop", { proto: "tcp", saddr: "10.66.0.2", dport: 22 })).toEqual({
      action: "accept",
      rule: "ssh-admin",
    });
    expect(evaluate(rules, "drop", { proto: "tcp", saddr: "10.66.0.3", dport: 22 })).toEqual({
      action: "drop",
      rule: "ssh-others",
    });
    expect(evaluate(rules, "drop", { proto: "tcp", saddr: "10.66.0.3", dport: 8080 })).toEqual({
      action: "reject",
      rule: "block-8000s",
    });
    expect(evaluate(rules, "drop", { proto: "tcp", saddr: "10.66.0.3", dport: 22, ctState: "established" })).toEqual({
      action: "accept",
      rule: "replies",
    });
    expect(evaluate(rules, "drop", { proto: "udp", saddr: "10.66.1.3", dport: 53 })).toEqual({
      action: "drop",
      rule: null,
    });
    expect(evaluate(rules, "accept", { proto: "udp", saddr: "10.66.0.9", dport: 9 })).toEqual({
      action: "accept",
      rule: null,
    });
  });

  it("matches subnets, port ranges and protocols at their edges", () => {
    const r: Rule = { name: "x", proto: "udp", saddr: "10.66.0.128/25", dport: [100, 200], action: "accept" };
    expect(matches(r, { proto: "udp", saddr: "10.66.0.128", dport: 100 })).toBe(true);
    expect(matches(r, { proto: "udp", saddr: "10.66.0.255", dport: 200 })).toBe(true);
    expect(matches(r, { proto: "udp", saddr: "10.66.0.127", dport: 150 })).toBe(false);
    expect(matches(r, { proto: "udp", saddr: "10.66.0.200", dport: 201 })).toBe(false);
    expect(matches(r, { proto: "tcp", saddr: "10.66.0.200", dport: 150 })).toBe(false);
  });

  it("finds rules that an earlier rule covers completely", () => {
    expect(shadowed(rules)).toEqual([{ rule: "web-alt", by: "block-8000s", conflict: true }]);
    const narrowFirst: Rule[] = [
      { name: "one", proto: "udp", saddr: "10.66.0.5", dport: 53, action: "accept" },
      { name: "all", proto: "udp", saddr: "10.66.0.0/24", dport: 53, action: "accept" },
      { name: "again", proto: "udp", saddr: "10.66.0.7", dport: 53, action: "accept" },
    ];
    expect(shadowed(narrowFirst)).toEqual([{ rule: "again", by: "all", conflict: false }]);
    // a rule limited to some states does not cover one for all states
    expect(shadowed([rules[0], { name: "any", action: "drop" }])).toEqual([]);
  });

  it("refuses malformed rules with one clear error", () => {
    const bad = (r: Partial<Rule>) => () => validate([{ name: "r", action: "accept", ...r } as Rule]);
    expect(bad({ dport: 22 })).toThrow(
      expect.objectContaining({ code: "ERR_FW_RULE", message: expect.stringContaining("needs a protocol") }),
    );
    expect(bad({ proto: "tcp", dport: [9, 2] })).toThrow(expect.objectContaining({ code: "ERR_FW_RULE" }));
    expect(bad({ saddr: "10.0.0.0/33" })).toThrow(expect.objectContaining({ code: "ERR_FW_RULE" }));
    expect(bad({ action: "allow" as never })).toThrow(expect.objectContaining({ code: "ERR_FW_RULE" }));
    expect(bad({ name: "two words" })).toThrow(expect.objectContaining({ code: "ERR_FW_RULE" }));
    expect(() => validate([rules[1], rules[1]])).toThrow(/used twice/);
  });
});

describe("firewall nftables text", () => {
  it("writes each rule with a counter and its name, TCP rejects as resets", () => {
    expect(nftRule(rules[0])).toBe('ct state established,related counter accept comment "replies"');
    expect(nftRule(rules[1])).toBe('ip saddr 10.66.0.2 tcp dport 22 counter accept comment "ssh-admin"');
    expect(nftRule(rules[4])).toBe('tcp dport 8000-8999 counter reject with tcp reset comment "block-8000s"');
    expect(nftRule({ name: "u", proto: "udp", action: "reject" })).toBe('meta l4proto udp counter reject comment "u"');
    const script = toNft(rules, { policy: "drop", table: "t" });
    expect(script.split("\n").slice(0, 5)).toEqual([
      "table inet t {}",
      "delete table inet t",
      "table inet t {",
      "  chain input {",
      "    type filter hook input priority filter; policy drop;",
    ]);
    expect(script).toContain('    counter comment "policy"\n  }\n}\n');
  });

  it("reads the counters back from nft list", () => {
    const listing = [
      "table inet fw {",
      "\tchain input {",
      "\t\ttype filter hook input priority filter; policy drop;",
      '\t\tct state established,related counter packets 5 bytes 260 accept comment "replies"',
      '\t\ttcp dport 8000-8999 counter packets 2 bytes 120 reject with tcp reset comment "block-8000s"',
      "\t\ttcp dport 9 drop",
      '\t\tcounter packets 0 bytes 0 comment "policy"',
      "\t}",
      "}",
    ].join("\n");
    expect(parseCounters(listing)).toEqual([
      { rule: "replies", packets: 5, bytes: 260 },
      { rule: "block-8000s", packets: 2, bytes: 120 },
      { rule: "policy", packets: 0, bytes: 0 },
    ]);
  });
});
