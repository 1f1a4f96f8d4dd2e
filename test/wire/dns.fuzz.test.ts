// Fuzzing helpers/wire/dns.ts: generated messages (names of any bytes, shared suffixes so that
// compression has work to do, every record data codec and raw types) round-trip through both the
// compressing and the uncompressed codec, and dns-packet reads the uncompressed bytes as the same
// questions; damaged messages, pointer loops among them, decode or fail with a DnsFormatError.
import dnsPacket from "dns-packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ipv6Text } from "../../helpers/wire/addr";
import {
  CLASSES,
  DnsFormatError,
  flagsFromNumber,
  flagsToNumber,
  message,
  TYPES,
  uncompressed,
  type Message,
  type Question,
  type ResourceRecord,
} from "../../helpers/wire/dns";
import { bytes, check, corrupted, decodesOrFails, ipv4Address, roundTrip, RUNS, same, u16, u32 } from "./fuzz";

/** A label's bytes in presentation form, written here independently of the codec. */
const presentation = (label: Uint8Array) =>
  Array.from(label, (b) =>
    b === 0x2e || b === 0x5c
      ? "\\" + String.fromCharCode(b)
      : b >= 0x21 && b <= 0x7e
        ? String.fromCharCode(b)
        : "\\" + String(b).padStart(3, "0"),
  ).join("");
type Labels = Uint8Array[];
const wireLength = (n: Labels) => n.reduce((sum, l) => sum + 1 + l.length, 1);
const text = (n: Labels) => (n.length ? n.map(presentation).join(".") : ".");

const label = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((s) => Uint8Array.from(Buffer.from(s))),
  fc.uint8Array({ minLength: 1, maxLength: 63 }),
);
const labels: fc.Arbitrary<Labels> = fc.array(label, { maxLength: 4 }).filter((n) => wireLength(n) <= 255);

const NUMBERED_TYPES = new Set(Object.values(TYPES));
const NUMBERED_CLASSES = new Set(Object.values(CLASSES));
const rawType = fc.oneof(
  fc.constantFrom("SOA", "MX", "TXT", "OPT", "ANY"),
  u16.filter((n) => !NUMBERED_TYPES.has(n)).map((n) => `TYPE${n}`),
);
const cls = fc.option(
  fc.oneof(
    fc.constantFrom("IN", "CH", "HS", "ANY"),
    u16.filter((n) => !NUMBERED_CLASSES.has(n)).map((n) => `CLASS${n}`),
  ),
  { nil: undefined },
);

/** A message whose names come from a small pool, or a label in front of a pooled name. */
const messageArb: fc.Arbitrary<Message> = fc.array(labels, { minLength: 1, maxLength: 3 }).chain((pool) => {
  const nameArb = fc
    .oneof(
      fc.constantFrom(...pool),
      fc.tuple(label, fc.constantFrom(...pool)).map(([l, n]) => [l, ...n]),
    )
    .filter((n) => wireLength(n) <= 255)
    .map(text);
  const question: fc.Arbitrary<Question> = fc.record(
    { name: nameArb, type: fc.oneof(fc.constantFrom(...Object.keys(TYPES)), rawType), class: cls },
    { requiredKeys: ["name", "type"] },
  );
  const data = fc.oneof(
    fc.record({ type: fc.constant("A"), data: ipv4Address }),
    fc.record({ type: fc.constant("AAAA"), data: bytes(16, 16).map((b) => ipv6Text(b)) }),
    fc.record({ type: fc.constantFrom("CNAME", "NS", "PTR"), data: nameArb }),
    fc.record({ type: rawType, data: bytes(40) }),
  );
  const record: fc.Arbitrary<ResourceRecord> = fc
    .tuple(fc.record({ name: nameArb, class: cls, ttl: fc.option(u32, { nil: undefined }) }), data)
    .map(([head, d]) => ({ ...head, ...d }));
  return fc.record(
    {
      id: u16,
      flags: u16.map((n) => flagsFromNumber(n)),
      questions: fc.array(question, { maxLength: 3 }),
      answers: fc.array(record, { maxLength: 5 }),
      authorities: fc.array(record, { maxLength: 2 }),
      additionals: fc.array(record, { maxLength: 2 }),
    },
    { requiredKeys: ["id", "flags", "questions"] },
  );
});

/** What decode gives back: every section, full flags, class and TTL filled in. */
const expected = (m: Message) => {
  const rr = (r: ResourceRecord) => ({ ...r, class: r.class ?? "IN", ttl: r.ttl ?? 0 });
  return {
    id: m.id,
    flags: flagsFromNumber(flagsToNumber(m.flags)),
    questions: m.questions.map((q) => ({ ...q, class: q.class ?? "IN" })),
    answers: (m.answers ?? []).map(rr),
    authorities: (m.authorities ?? []).map(rr),
    additionals: (m.additionals ?? []).map(rr),
  };
};

describe("dns, fuzzed", () => {
  it(`round-trips ${RUNS} generated messages, compressed and not; dns-packet reads the same header`, () => {
    let shorter = 0;
    const cases = check(messageArb, (m) => {
      const full = roundTrip(uncompressed, m, expected);
      const compressed = roundTrip(message, m, expected);
      if (compressed.length < full.length) shorter++;
      // dns-packet parses the data of types it knows, so it is shown the header and questions only
      const theirs = dnsPacket.decode(uncompressed.encode({ ...m, answers: [], authorities: [], additionals: [] }));
      const bits = flagsToNumber(m.flags);
      same(
        {
          id: theirs.id,
          response: theirs.type === "response",
          flags: theirs.flags,
          questions: theirs.questions?.length,
        },
        { id: m.id, response: bits >= 0x8000, flags: bits & 0x7fff, questions: m.questions.length },
        "what dns-packet reads",
      );
    });
    expect(cases).toBe(RUNS);
    expect(shorter).toBeGreaterThan(RUNS / 4); // the pool makes names repeat: compression is exercised
  });
  it(`decodes ${RUNS} damaged messages (pointer loops among them) or fails with a DnsFormatError`, () => {
    const valid = fc.tuple(messageArb, fc.boolean()).map(([m, c]) => (c ? message : uncompressed).encode(m));
    const cases = check(corrupted(valid, 300), (b) =>
      decodesOrFails(message.decode, DnsFormatError, b, () => message.decode.bytes),
    );
    expect(cases).toBe(RUNS);
  });
});
