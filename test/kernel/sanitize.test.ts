// nbval's sanitizer file: Python configparser syntax, Python `re` patterns and replacements.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSanitizeConfig, parseSanitizeConfig, sanitize, SanitizeConfigError } from "../../kernel/replay/sanitize";

const root = join(__dirname, "..", "..");
const apply = (cfg: string, text: string) => sanitize(text, parseSanitizeConfig(cfg));

/** The error a config raises, so its class and message can both be checked. */
function errorOf(cfg: string, file?: string): SanitizeConfigError {
  try {
    parseSanitizeConfig(cfg, file);
  } catch (e) {
    expect(e).toBeInstanceOf(SanitizeConfigError);
    return e as SanitizeConfigError;
  }
  throw new Error("expected a SanitizeConfigError, but the config parsed");
}

describe("parseSanitizeConfig: the configparser format", () => {
  it("reads sections in file order with regex and replace", () => {
    const rules = parseSanitizeConfig(
      ["[first]", "regex: a+", "replace: A", "", "[second]", "regex: b", "replace: B", ""].join("\n"),
    );
    expect(rules.map((r) => r.section)).toEqual(["first", "second"]);
    expect(rules[0].regex.source).toBe("a+");
    expect(rules[0].replace).toBe("A");
    expect(sanitize("aaab", rules)).toBe("AB");
  });

  it("accepts `=` as well as `:`, any spaces around them, and upper-case keys", () => {
    expect(apply("[r]\nregex = \\d+\nreplace = N\n", "x 12 y")).toBe("x N y");
    expect(apply("[r]\nregex=\\d+\nreplace=N\n", "x 12 y")).toBe("x N y");
    expect(apply("[r]\nREGEX: \\d+\nReplace: N\n", "x 12 y")).toBe("x N y");
  });

  it("strips leading and trailing spaces from values, as configparser does", () => {
    // nbval gets "\d+" and "N" here: configparser strips values; the sanitizer must not keep the spaces.
    expect(apply("[r]\nregex:    \\d+   \nreplace:    N   \n", "x 12 y")).toBe("x N y");
  });

  it("a missing replace means the empty string", () => {
    expect(apply("[r]\nregex: \\s*secret\n", "top secret")).toBe("top");
  });

  it("skips # and ; comment lines and blank lines, also with CRLF line ends", () => {
    const cfg = [
      "# a comment",
      "; another",
      "",
      "[r]",
      "# inside a section",
      "regex: x",
      "; between keys",
      "replace: y",
      "",
    ].join("\r\n");
    const rules = parseSanitizeConfig(cfg);
    expect(rules).toHaveLength(1);
    expect(sanitize("xx", rules)).toBe("yy");
  });

  it("does not treat # inside a value as a comment (no inline comments in configparser's default)", () => {
    expect(apply("[r]\nregex: #\\d+\nreplace: #N\n", "issue #42")).toBe("issue #N");
  });

  it("joins indented continuation lines to the value with a newline", () => {
    const rules = parseSanitizeConfig("[r]\nregex: first\n    second\nreplace: X\n");
    expect(rules[0].regex.source).toBe("first\\nsecond");
    expect(sanitize("a first\nsecond b", rules)).toBe("a X b");
    // A comment line does not end the value.
    expect(parseSanitizeConfig("[r]\nregex: one\n# note\n  two\n")[0].regex.source).toBe("one\\ntwo");
  });

  it("an empty file has no rules", () => {
    expect(parseSanitizeConfig("")).toEqual([]);
    expect(parseSanitizeConfig("# only comments\n\n")).toEqual([]);
  });
});

describe("Python regular expressions", () => {
  it("turns named groups (?P<name>...) and (?P=name) into JavaScript's", () => {
    const rules = parseSanitizeConfig("[r]\nregex: (?P<word>\\w+)-(?P=word)\nreplace: <\\g<word>x2>\n");
    expect(sanitize("ha-ha and no-go", rules)).toBe("<hax2> and no-go");
  });

  it("supports numbered backreferences \\1, \\g<1> and \\g<0> in the replacement", () => {
    expect(apply("[r]\nregex: (\\w+)@(\\w+)\nreplace: \\2 at \\1\n", "me@host")).toBe("host at me");
    expect(apply("[r]\nregex: (\\d+)\nreplace: \\g<1>0\n", "port 8")).toBe("port 80");
    expect(apply("[r]\nregex: \\d+\nreplace: [\\g<0>]\n", "port 8")).toBe("port [8]");
    expect(apply("[r]\nregex: (?P<n>\\d+)ms\nreplace: \\g<n> ms\n", "12ms")).toBe("12 ms");
  });

  it("keeps $ literal in the replacement and reads Python escapes (\\\\, \\n, \\t)", () => {
    expect(apply("[r]\nregex: (\\d+)\nreplace: $1 $& $$\n", "5")).toBe("$1 $& $$");
    expect(apply("[r]\nregex: (\\d+)\nreplace: \\\\1\n", "5")).toBe("\\1"); // an escaped backslash, then "1"
    expect(apply("[r]\nregex: ,\nreplace: \\n\\t\n", "a,b")).toBe("a\n\tb");
  });

  it("replaces every match, not just the first", () => {
    expect(apply("[r]\nregex: \\d\nreplace: #\n", "1a2b3")).toBe("#a#b#");
  });

  it("understands \\A, \\Z and inline flags", () => {
    expect(apply("[r]\nregex: \\Aab\nreplace: X\n", "abab")).toBe("Xab");
    expect(apply("[r]\nregex: ab\\Z\nreplace: X\n", "abab")).toBe("abX");
    expect(apply("[r]\nregex: (?i)hello\nreplace: hi\n", "HeLLo there")).toBe("hi there");
    expect(apply("[r]\nregex: (?m)^\\d+\nreplace: N\n", "1 a\n22 b")).toBe("N a\nN b");
    expect(apply("[r]\nregex: (?s)a.b\nreplace: X\n", "a\nb")).toBe("X");
  });

  it("$ also matches before a final newline, as in Python (outputs end with a newline)", () => {
    expect(apply("[r]\nregex: took \\d+ ms$\nreplace: took <t>\n", "took 12 ms\n")).toBe("took <t>\n");
    expect(apply("[r]\nregex: took \\d+ ms$\nreplace: took <t>\n", "took 12 ms\nmore\n")).toBe("took 12 ms\nmore\n");
    // Inside a character class $ is an ordinary character.
    expect(apply("[r]\nregex: [$]\\d+\nreplace: <price>\n", "costs $30")).toBe("costs <price>");
  });
});

describe("config errors", () => {
  it("a section without regex names file, line and section", () => {
    const e = errorOf("[good]\nregex: a\n\n[bad]\nreplace: x\n", "rules.cfg");
    expect(e.message).toContain("rules.cfg:4");
    expect(e.message).toContain("bad");
    expect(e.message).toMatch(/regex/);
    expect(e.message.split("\n")).toHaveLength(1);
  });

  it("an invalid regex names file, line and section", () => {
    const e = errorOf("[ok]\nregex: a\n[broken]\nregex: (unclosed\nreplace: x\n", "rules.cfg");
    expect(e.message).toMatch(/^rules\.cfg:[34]\b/);
    expect(e.message).toContain("broken");
  });

  it("a key outside any section, or a line that is not key: value, names the line", () => {
    expect(errorOf("regex: a\n", "rules.cfg").message).toMatch(/^rules\.cfg:1\b/);
    expect(errorOf("[r]\nregex: a\njust words\n", "rules.cfg").message).toMatch(/^rules\.cfg:3\b/);
  });

  it("loadSanitizeConfig reports the path it was given", () => {
    const dir = mkdtempSync(join(tmpdir(), "wb-sanitize-"));
    const file = join(dir, "broken.cfg");
    writeFileSync(file, "[r]\nreplace: x\n");
    expect(() => loadSanitizeConfig(file)).toThrow(SanitizeConfigError);
    expect(() => loadSanitizeConfig(file)).toThrow(`${file}:1`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("sanitize", () => {
  it("applies the rules in file order, each to the result of the previous", () => {
    const cfg = "[one]\nregex: a\nreplace: b\n[two]\nregex: b\nreplace: c\n";
    expect(apply(cfg, "a")).toBe("c");
    const reversed = "[two]\nregex: b\nreplace: c\n[one]\nregex: a\nreplace: b\n";
    expect(apply(reversed, "a")).toBe("b");
  });

  it("is repeatable: the global regexes carry no state between calls", () => {
    const rules = parseSanitizeConfig("[r]\nregex: \\d+\nreplace: N\n");
    for (let i = 0; i < 3; i++) expect(sanitize("a 1 b 22", rules)).toBe("a N b N");
    rules[0].regex.exec("a 7"); // leaves lastIndex > 0 on the global regex
    expect(sanitize("x 3", rules)).toBe("x N");
  });

  it("with no rules returns the text unchanged", () => {
    expect(sanitize("12.34 ms", [])).toBe("12.34 ms");
  });
});

describe("fixtures/nbval-sanitize.cfg", () => {
  const rules = loadSanitizeConfig(join(root, "fixtures", "nbval-sanitize.cfg"));
  const clean = (s: string) => sanitize(s, rules);

  it("loads the documented rules", () => {
    expect(rules.map((r) => r.section)).toEqual([
      "duration-ms",
      "size-mib",
      "loopback-port",
      "chart-measured-mark",
      "rate-bits",
      "rate-kpps",
    ]);
  });

  it("duration-ms: two decimals and ' ms', with the alignment spaces before it, nothing else", () => {
    expect(clean("12.34 ms")).toBe("<ms>");
    expect(clean("round trip 0.05 ms, then 1234.50 ms\n")).toBe("round trip<ms>, then<ms>\n");
    // A right-aligned table column pads shorter numbers with spaces: the padding goes with the number.
    expect(clean("| rtt   |    1.25 ms |\n| total |  123.40 ms |")).toBe("| rtt   |<ms> |\n| total |<ms> |");
    for (const keep of [
      "1234 ms",
      "   1234 ms",
      "12.3 ms",
      "12.345 ms",
      "v1.20 msg",
      "1.20 msg",
      "12.34ms",
      "12.34 s",
      "x12.34 ms",
      "12.34\tms",
    ]) {
      expect(clean(keep), keep).toBe(keep);
    }
  });

  it("size-mib: one decimal and ' MiB', with the alignment spaces before it, nothing else", () => {
    expect(clean("12.3 MiB")).toBe("<MiB>");
    expect(clean("rss   512.0 MiB\n")).toBe("rss<MiB>\n");
    for (const keep of ["12 MiB", "  12 MiB", "12.34 MiB", "12.3 MB", "12.3 MiBps", "12.3 mib"])
      expect(clean(keep), keep).toBe(keep);
  });

  it("loopback-port: 127.0.0.1 with a 2-5 digit port, nothing else", () => {
    expect(clean("listening on 127.0.0.1:54321\n")).toBe("listening on 127.0.0.1:<port>\n");
    expect(clean("127.0.0.1:80 -> 127.0.0.1:40000")).toBe("127.0.0.1:<port> -> 127.0.0.1:<port>");
    for (const keep of [
      "127.0.0.1:8",
      "127.0.0.1:123456",
      "0.0.0.0:8080",
      "127.0.0.10:5000",
      "127.0.0.2:5000",
      "127.0.0.1",
    ]) {
      expect(clean(keep), keep).toBe(keep);
    }
  });

  it("chart-measured-mark: the label and geometry of marks described as measured, nothing else", () => {
    const mark = (role: string, extra = "") =>
      `<path aria-label="t: 0.25; Mbit/s: 19.8" role="graphics-symbol" aria-roledescription="${role}"${extra} ` +
      `d="M60,210.3L120,210.1" stroke="#f58518"/>`;
    expect(clean(mark("measured line"))).toBe(
      '<path aria-label="<datum>" role="graphics-symbol" aria-roledescription="measured line" d="<geometry>" ' +
        'stroke="#f58518"/>',
    );
    expect(clean(mark("measured point", ' transform="translate(8,16)"'))).toContain('d="<geometry>"');
    // A model's marks, and a computed layer's in a measured chart, are compared as drawn.
    for (const keep of [mark("line mark"), mark("bar"), mark("unmeasured line")]) expect(clean(keep)).toBe(keep);
  });

  it("rate-bits: Gbit/s with two decimals and Mbit/s with one, as one token", () => {
    expect(clean("iperf3   25.89 Gbit/s\n")).toBe("iperf3<bit/s>\n");
    expect(clean("through the cap: 19.2 Mbit/s")).toBe("through the cap:<bit/s>");
    for (const keep of ["20 Mbit/s", "20.00 Mbit/s", "2.000 Gbit/s", "2.5 Gbit/s", "19.2 Mbit/sec", "19.2 MB/s"])
      expect(clean(keep), keep).toBe(keep);
  });

  it("rules do not touch each other's text", () => {
    const line = "127.0.0.1:5000 answered in 1.25 ms using 3.5 MiB";
    expect(clean(line)).toBe("127.0.0.1:<port> answered in<ms> using<MiB>");
  });
});
