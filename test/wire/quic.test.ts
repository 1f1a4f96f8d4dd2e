// helpers/wire/quic.ts against the RFCs' own examples (fixtures/quic-rfc9001-appendix-a.json,
// which notebook 36 reads too): RFC 9000 A.1's varints, RFC 9001 A.1's keys, A.2's client
// Initial sealed to the RFC's bytes, A.3's server Initial opened to the RFC's ServerHello.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as quic from "../../helpers/wire/quic";

const v = JSON.parse(readFileSync(join(__dirname, "../../fixtures/quic-rfc9001-appendix-a.json"), "utf8"));
const hex = (s: string) => Buffer.from(s, "hex");
const dcid = hex(v.dcid);

describe("quic, RFC 9000 A.1 and RFC 9001 Appendix A", () => {
  it("reads and writes the varint examples", () => {
    for (const x of v.varints) {
      expect(quic.varintBig.decode(hex(x.hex)).toString()).toBe(x.value);
      expect(quic.varintBig.decode.bytes).toBe(x.hex.length / 2);
    }
    expect(quic.varint.encode(494878333).toString("hex")).toBe("9d7f3e7d");
    expect(quic.varintBig.encode(151288809941952652n).toString("hex")).toBe("c2197c5eff14e88c");
    expect(quic.varintOf(37, 2).toString("hex")).toBe("4025");
    expect(() => quic.varint.decode(hex("c2197c5eff14e88c"))).toThrow(quic.QuicError);
  });
  it("derives A.1's keys", () => {
    const k = quic.initialKeys(dcid);
    expect(k.initialSecret.toString("hex")).toBe(v.a1.initialSecret);
    for (const side of ["client", "server"] as const)
      for (const f of ["secret", "key", "iv", "hp"] as const) expect(k[side][f].toString("hex")).toBe(v.a1[side][f]);
  });
  it("seals A.2's client Initial and opens it again", () => {
    const payload = Buffer.alloc(v.a2.payloadLength);
    hex(v.a2.payloadPrefix).copy(payload);
    const keys = quic.initialKeys(dcid).client;
    const s = quic.seal({ keys, dcid, scid: Buffer.alloc(0), packetNumber: 2, pnLength: 4, payload });
    expect(s.header.toString("hex")).toBe(v.a2.unprotectedHeader);
    expect(s.sample.toString("hex")).toBe(v.a2.sample);
    expect(s.mask.toString("hex")).toBe(v.a2.mask);
    expect(s.packet.length).toBe(v.a2.packetLength);
    expect(s.packet.subarray(0, 32).toString("hex")).toBe(v.a2.packetPrefix);
    expect(s.packet.subarray(-48).toString("hex")).toBe(v.a2.packetSuffix);
    const o = quic.open(s.packet, keys);
    expect(o.packetNumber).toBe(2);
    expect(o.payload.equals(payload)).toBe(true);
    const [crypto, padding] = quic.frames(o.payload);
    expect(crypto).toMatchObject({ type: "CRYPTO", offset: 0 });
    expect(padding).toEqual({ type: "PADDING", length: v.a2.payloadLength - 245 });
  });
  it("seals A.3's server Initial to the RFC's bytes and opens it to its ServerHello", () => {
    const keys = quic.initialKeys(dcid).server;
    const s = quic.seal({
      keys,
      dcid: Buffer.alloc(0),
      scid: hex(v.a3.scid),
      packetNumber: 1,
      pnLength: 2,
      payload: hex(v.a3.payload),
    });
    expect(s.header.toString("hex")).toBe(v.a3.unprotectedHeader);
    expect(s.packet.toString("hex")).toBe(v.a3.packet);
    const o = quic.open(hex(v.a3.packet), keys);
    expect(o.payload.toString("hex")).toBe(v.a3.payload);
    const list = quic.frames(o.payload);
    expect(list[0]).toEqual({ type: "ACK", largest: 0, delay: 0, firstRange: 0, ranges: [] });
    expect(quic.cryptoStream(list)[0]).toBe(2); // ServerHello
    const tampered = hex(v.a3.packet);
    tampered[40] ^= 1;
    expect(() => quic.open(tampered, keys)).toThrow(/ERR_QUIC_DECRYPT/);
  });
});
