import { describe, expect, it } from "vitest";
import { ipv4ToBytes, ipv6ToBytes, ipv6ToString, macToBytes, macToString } from "../../src/net/addr.js";
import { checksumOf, sumVerifies, sumWords } from "../../src/net/checksum.js";

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s/g, "").match(/../g)!, (b) => parseInt(b, 16));

describe("internet checksum", () => {
  it("matches the worked IPv4 header example (checksum 0xb861)", () => {
    const header = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
    expect(checksumOf(sumWords(header))).toBe(0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    expect(sumVerifies(sumWords(header))).toBe(true);
  });

  it("matches the RFC 1071 section 3 example sum (0xddf2) and pads odd lengths with zero", () => {
    expect(sumWords(hex("0001 f203 f4f5 f6f7")) % 0xffff).toBe(0xddf2);
    expect(sumWords(hex("ab"))).toBe(0xab00);
  });
});

describe("addresses", () => {
  it("prints IPv6 in RFC 5952 form", () => {
    const cases: [string, string][] = [
      ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of equal runs
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed
      ["0:0:0:0:0:0:0:0", "::"],
      ["::1", "::1"],
      ["fe80::", "fe80::"],
      ["::ffff:192.0.2.1", "::ffff:c000:201"],
    ];
    for (const [input, canonical] of cases) expect(ipv6ToString(ipv6ToBytes(input))).toBe(canonical);
  });

  it("rejects malformed text", () => {
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:2:3:4:5:6:7::8"]) {
      expect(() => ipv6ToBytes(bad), bad).toThrow(RangeError);
    }
    for (const bad of ["1.2.3", "256.1.1.1", "1.2.3.4.5", "a.b.c.d"]) expect(() => ipv4ToBytes(bad), bad).toThrow(RangeError);
    expect(() => macToBytes("00:11:22:33:44")).toThrow(RangeError);
  });

  it("round-trips MAC addresses in lowercase", () => {
    expect(macToString(macToBytes("02:AB:cd:00:01:ff"))).toBe("02:ab:cd:00:01:ff");
  });
});
