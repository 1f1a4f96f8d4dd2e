// A packet filter, twice: a first-match rule model (an ordered list of rules, each a few match
// fields and an action; the first rule that matches decides, the chain's policy decides when none
// does), the same rules written out as an nftables chain, and a parser for the per-rule counters of
// `nft list`. Pure: notebook 66 checks it against real nftables rules in a lab, probing with
// net/portscan's `probe`.
//
// The model looks at the first packet of a flow, as a firewall's rules do: later packets of an
// accepted connection are matched by a `ct state established,related accept` rule, which the model
// expresses with `ctState`.
import * as net from "node:net";

import { ipv4ToInt as toNumber } from "../wire/addr";

export type Action = "accept" | "drop" | "reject";
export type Proto = "tcp" | "udp";
export type CtState = "new" | "established" | "related";

export interface Rule {
  /** Shown in tables, and the rule's nftables comment (letters, digits and -). */
  name: string;
  proto?: Proto;
  /** One address, or a subnet: "10.66.0.2", "10.66.0.0/24". */
  saddr?: string;
  /** One port or an inclusive range [low, high]; needs `proto`. */
  dport?: number | [number, number];
  /** Connection-tracking states the rule matches (all, when absent). */
  ctState?: CtState[];
  action: Action;
}

export interface Packet {
  proto: Proto;
  saddr: string;
  dport: number;
  /** "new" unless given: the first packet of a flow. */
  ctState?: CtState;
}

export interface Verdict {
  action: Action;
  /** The rule that decided, or null when the policy did. */
  rule: string | null;
}

export class FirewallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "FirewallError";
  }
}

/** "10.66.0.0/24" → [first, last] address as numbers; a plain address is a /32. */
function cidrRange(cidr: string): [number, number] {
  const [ip, len = "32"] = cidr.split("/");
  const bits = Number(len);
  if (!net.isIPv4(ip) || !/^\d+$/.test(len) || bits > 32)
    throw new FirewallError("ERR_FW_RULE", `"${cidr}" is not an IPv4 address or subnet`);
  const size = 2 ** (32 - bits);
  const first = Math.floor(toNumber(ip) / size) * size;
  return [first, first + size - 1];
}

const portRange = (p: number | [number, number]): [number, number] => (typeof p === "number" ? [p, p] : p);

/** Checks a rule set once, at the edge: a clear error instead of a rule that silently never matches. */
export function validate(rules: Rule[]): void {
  const names = new Set<string>();
  for (const r of rules) {
    const bad = (why: string) => new FirewallError("ERR_FW_RULE", `rule "${r.name}": ${why}`);
    if (!/^[A-Za-z0-9-]+$/.test(r.name ?? "")) throw bad("a name needs letters, digits or -");
    if (names.has(r.name)) throw bad("the name is used twice");
    names.add(r.name);
    if (!["accept", "drop", "reject"].includes(r.action)) throw bad(`unknown action "${r.action}"`);
    if (r.proto !== undefined && r.proto !== "tcp" && r.proto !== "udp") throw bad(`unknown protocol "${r.proto}"`);
    if (r.saddr !== undefined) cidrRange(r.saddr);
    if (r.dport !== undefined) {
      if (!r.proto) throw bad("a port match needs a protocol");
      const [lo, hi] = portRange(r.dport);
      if (!(Number.isInteger(lo) && Number.isInteger(hi) && 1 <= lo && lo <= hi && hi <= 65535))
        throw bad("ports must be within 1..65535, low ≤ high");
    }
    if (r.ctState && (!r.ctState.length || r.ctState.some((s) => !["new", "established", "related"].includes(s))))
      throw bad("ctState: new, established or related");
  }
}

/** Does `rule` match `packet`? Every field the rule gives must match; absent fields match all. */
export function matches(rule: Rule, packet: Packet): boolean {
  if (rule.proto && rule.proto !== packet.proto) return false;
  if (rule.saddr) {
    const [lo, hi] = cidrRange(rule.saddr);
    const a = toNumber(packet.saddr);
    if (a < lo || a > hi) return false;
  }
  if (rule.dport !== undefined) {
    const [lo, hi] = portRange(rule.dport);
    if (packet.dport < lo || packet.dport > hi) return false;
  }
  if (rule.ctState && !rule.ctState.includes(packet.ctState ?? "new")) return false;
  return true;
}

/** First match wins; no match: the policy. */
export function evaluate(rules: Rule[], policy: "accept" | "drop", packet: Packet): Verdict {
  for (const rule of rules) if (matches(rule, packet)) return { action: rule.action, rule: rule.name };
  return { action: policy, rule: null };
}

/** True when every packet `inner` matches is also matched by `outer`. */
function covers(outer: Rule, inner: Rule): boolean {
  if (outer.proto && outer.proto !== inner.proto) return false;
  if (outer.saddr) {
    if (!inner.saddr) return false;
    const [olo, ohi] = cidrRange(outer.saddr);
    const [ilo, ihi] = cidrRange(inner.saddr);
    if (ilo < olo || ihi > ohi) return false;
  }
  if (outer.dport !== undefined) {
    if (inner.dport === undefined) return false;
    const [olo, ohi] = portRange(outer.dport);
    const [ilo, ihi] = portRange(inner.dport);
    if (ilo < olo || ihi > ohi) return false;
  }
  if (outer.ctState) {
    if (!inner.ctState || inner.ctState.some((s) => !outer.ctState!.includes(s))) return false;
  }
  return true;
}

/** Rules that can never decide anything, because an earlier rule matches every packet they do. */
export function shadowed(rules: Rule[]): Array<{ rule: string; by: string; conflict: boolean }> {
  validate(rules);
  const out: Array<{ rule: string; by: string; conflict: boolean }> = [];
  rules.forEach((r, j) => {
    const by = rules.slice(0, j).find((earlier) => covers(earlier, r));
    if (by) out.push({ rule: r.name, by: by.name, conflict: by.action !== r.action });
  });
  return out;
}

/** One rule as nftables syntax, with a counter and its name as the comment. */
export function nftRule(rule: Rule): string {
  const parts: string[] = [];
  if (rule.ctState) parts.push(`ct state ${rule.ctState.join(",")}`);
  if (rule.saddr) parts.push(`ip saddr ${rule.saddr}`);
  if (rule.dport !== undefined) {
    const [lo, hi] = portRange(rule.dport);
    parts.push(`${rule.proto} dport ${lo === hi ? lo : `${lo}-${hi}`}`);
  } else if (rule.proto) parts.push(`meta l4proto ${rule.proto}`);
  parts.push("counter");
  // A TCP connection is refused with a reset; anything else with ICMP port unreachable.
  parts.push(rule.action === "reject" ? (rule.proto === "tcp" ? "reject with tcp reset" : "reject") : rule.action);
  parts.push(`comment "${rule.name}"`);
  return parts.join(" ");
}

export interface NftOptions {
  /** The table's name, in family inet (default "fw"). */
  table?: string;
  policy: "accept" | "drop";
}

/**
 * The rules as a script for `nft -f -`: an input chain in its own table, which the script first
 * deletes (so loading it again replaces it, with fresh counters), each rule with a counter, and
 * a last rule with only a counter, named "policy": it counts what falls through to the policy.
 */
export function toNft(rules: Rule[], opts: NftOptions): string {
  validate(rules);
  const t = opts.table ?? "fw";
  return [
    `table inet ${t} {}`,
    `delete table inet ${t}`,
    `table inet ${t} {`,
    "  chain input {",
    `    type filter hook input priority filter; policy ${opts.policy};`,
    ...rules.map((r) => `    ${nftRule(r)}`),
    '    counter comment "policy"',
    "  }",
    "}",
    "",
  ].join("\n");
}

export interface Counter {
  /** The rule's comment: its name in the model, or "policy". */
  rule: string;
  packets: number;
  bytes: number;
}

/** The counters of every commented rule in `nft list ruleset` / `nft list table` output. */
export function parseCounters(text: string): Counter[] {
  const out: Counter[] = [];
  for (const line of text.split("\n")) {
    const counter = /\bcounter packets (\d+) bytes (\d+)/.exec(line);
    const comment = /\bcomment "([^"]*)"/.exec(line);
    if (counter && comment) out.push({ rule: comment[1], packets: Number(counter[1]), bytes: Number(counter[2]) });
  }
  return out;
}
