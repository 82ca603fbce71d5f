// CRC32C wrapper: RFC 3720 B.4 vectors, an independent bitwise reference, and incremental == one-shot.
import { describe, expect, it } from "vitest";
import { crc32c, digestBytes, readDigest, writeDigest } from "../../src/pdu/crc32c.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`crc32c.test seed=${seed} (SEED=${seed} to reproduce)`);

/** Bit-at-a-time CRC32C (reflected polynomial 0x82F63B78), the textbook definition: the test's own oracle. */
function bitwiseCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

describe("crc32c", () => {
  const vectors: [string, Uint8Array, number][] = [
    ["32 x 0x00", new Uint8Array(32), 0x8a9136aa],
    ["32 x 0xFF", new Uint8Array(32).fill(0xff), 0x62a8ab43],
    ["32 incrementing", Uint8Array.from({ length: 32 }, (_, i) => i), 0x46dd794e],
    ["32 decrementing", Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113fdb5c],
    [
      "iSCSI read command (RFC 3720 B.4)",
      hex(`01 c0 00 00 00 00 00 00 00 00 00 00 00 00 00 00
           14 00 00 00 00 00 04 00 00 00 00 14 00 00 00 18
           28 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00`),
      0xd9963a56,
    ],
    ["'123456789'", new TextEncoder().encode("123456789"), 0xe3069283],
  ];
  for (const [name, input, want] of vectors) {
    it(`RFC/standard vector: ${name}`, () => {
      expect(crc32c(input)).toBe(want);
      expect(bitwiseCrc32c(input)).toBe(want);
    });
  }

  it("digest bytes are little-endian on the wire (RFC 3720 lists aa 36 91 8a for 32 x 0x00)", () => {
    expect(Array.from(digestBytes(new Uint8Array(32)))).toEqual([0xaa, 0x36, 0x91, 0x8a]);
    const buf = new Uint8Array(6);
    writeDigest(buf, 1, 0x62a8ab43);
    expect(Array.from(buf)).toEqual([0, 0x43, 0xab, 0xa8, 0x62, 0]);
    expect(readDigest(buf, 1)).toBe(0x62a8ab43);
    expect(() => readDigest(buf, 3)).toThrow(RangeError);
  });

  it("matches the bitwise reference and continues across random splits", () => {
    const rng = new Rng(seed);
    for (let trial = 0; trial < 200; trial++) {
      const data = rng.bytes(rng.int(600));
      const whole = crc32c(data);
      expect(whole).toBe(bitwiseCrc32c(data));
      let crc: number | undefined;
      let at = 0;
      while (at < data.length) {
        const n = Math.min(data.length - at, 1 + rng.int(64));
        crc = crc32c(data.subarray(at, at + n), crc);
        at += n;
      }
      expect(crc ?? crc32c(new Uint8Array(0))).toBe(whole);
    }
  });

  it("honours subarray views (offset into a larger buffer)", () => {
    const big = Uint8Array.from({ length: 100 }, (_, i) => i * 7);
    expect(crc32c(big.subarray(13, 77))).toBe(bitwiseCrc32c(big.slice(13, 77)));
  });
});
