import { describe, expect, it } from "vitest";
import {
  forwarded,
  ForwardedError,
  formatForwarded,
  node,
  parseForwarded,
  parseNode,
} from "../../helpers/wire/forwarded";

const pairs = (text: string) => parseForwarded(text).map((e) => e.map((p) => `${p.name}=${p.value}`).join(";"));

describe("Forwarded (RFC 7239)", () => {
  it("reads the RFC's own examples (§4, §6.3, §7.1, §7.4)", () => {
    expect(pairs('for="_gazonk"')).toEqual(["for=_gazonk"]);
    expect(pairs('For="[2001:db8:cafe::17]:4711"')).toEqual(["for=[2001:db8:cafe::17]:4711"]);
    expect(pairs("for=192.0.2.60;proto=http;by=203.0.113.43")).toEqual(["for=192.0.2.60;proto=http;by=203.0.113.43"]);
    expect(pairs("for=192.0.2.43, for=198.51.100.17")).toEqual(["for=192.0.2.43", "for=198.51.100.17"]);
    expect(pairs('for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown')).toEqual([
      "for=192.0.2.43",
      "for=[2001:db8:cafe::17]",
      "for=unknown",
    ]);
    expect(pairs('for=192.0.2.43, for="[2001:db8:cafe::17]"')).toHaveLength(2);
  });

  it("writes IPv6 nodes quoted and tokens bare", () => {
    const text = formatForwarded([
      [
        { name: "for", value: node("2001:db8:cafe::17", 4711) },
        { name: "proto", value: "https" },
      ],
      [
        { name: "for", value: node("192.0.2.43") },
        { name: "host", value: 'say "hi"\\' },
      ],
    ]);
    expect(text).toBe('for="[2001:db8:cafe::17]:4711";proto=https, for=192.0.2.43;host="say \\"hi\\"\\\\"');
    expect(parseForwarded(text)[1][1].value).toBe('say "hi"\\');
    expect(parseNode("[2001:db8:cafe::17]:4711")).toEqual({ address: "2001:db8:cafe::17", port: 4711 });
    expect(parseNode("192.0.2.43")).toEqual({ address: "192.0.2.43" });
    expect(parseNode("unknown")).toEqual({ address: "unknown" });
  });

  it("accepts empty list elements, refuses what the grammar does not allow", () => {
    expect(pairs(" , for=a;;proto=http; ,")).toEqual(["for=a;proto=http"]);
    const code = (text: string) => {
      try {
        parseForwarded(text);
      } catch (e) {
        expect(e).toBeInstanceOf(ForwardedError);
        return (e as ForwardedError).code;
      }
      return "ok";
    };
    expect(code("")).toBe("ERR_FORWARDED_EMPTY");
    expect(code("for")).toBe("ERR_FORWARDED_EQUALS");
    expect(code("for=")).toBe("ERR_FORWARDED_TOKEN");
    expect(code('for="abc')).toBe("ERR_FORWARDED_QUOTE");
    expect(code("for=a;for=b")).toBe("ERR_FORWARDED_DUPLICATE");
    expect(code("for=a b")).toBe("ERR_FORWARDED_SEPARATOR");
    expect(code('for="\x01"')).toBe("ERR_FORWARDED_CHAR");
    expect(code("for = a")).toBe("ERR_FORWARDED_EQUALS");
    expect(() => forwarded.encode([])).toThrow(RangeError);
    expect(() => forwarded.encode([[{ name: "f r", value: "x" }]])).toThrow(RangeError);
  });
});
