// ddp_hash: hash = CRC32C of the key's bytes, little-endian, at several key widths. Oracles: @node-rs/crc32 over
// the bytes (an independent library) and src/contract/hash.ts keyHash (what the model uses), which must agree.
// Signal level only (the module is combinational): poke the key, one edge, read the hash.

import { crc32c as nativeCrc32c } from "@node-rs/crc32";
import { expect } from "vitest";
import { describeRtl, RisingEdge } from "../../tb/index.js";
import { keyHash } from "../../src/contract/hash.js";

/** Little-endian: byte i of the key in bits 8i+7..8i. */
function keyBytes(key: bigint, bits: number): Uint8Array {
  return Uint8Array.from({ length: bits / 8 }, (_, i) => Number((key >> BigInt(8 * i)) & 0xffn));
}

function randomKey(bytes: Uint8Array): bigint {
  return bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
}

// 8: one byte; 32: the tag key; 72: the check value of '123456789'; 296: the flow key.
for (const keyW of [8, 32, 72, 296]) {
  describeRtl(`ddp_hash KEY_W=${keyW}`, { top: "ddp_hash", params: { KEY_W: keyW }, ports: ["clk", "key", "hash"] }, (rtl) => {
    rtl.test("random keys against crc32c of the little-endian bytes", async ({ dut, rng }) => {
      const all = (1n << BigInt(keyW)) - 1n;
      // The edges (all zeros, all ones, one byte set at either end) and random keys.
      const keys = [0n, all, 0x80n, 1n << BigInt(keyW - 1), ...Array.from({ length: 200 }, () => randomKey(rng.bytes(keyW / 8)))];
      for (const key of keys) {
        dut.key.value = key;
        await RisingEdge(dut.clk);
        const expected = nativeCrc32c(Buffer.from(keyBytes(key, keyW))) >>> 0;
        const label = `key=0x${key.toString(16)}`;
        expect(Number(dut.hash.value).toString(16), label).toBe(expected.toString(16));
        expect(keyHash(key, keyW).toString(16), label).toBe(expected.toString(16));
      }
    });

    if (keyW === 72) {
      rtl.test("the crc32c check value: '123456789' is 0xe3069283", async ({ dut }) => {
        dut.key.value = randomKey(new TextEncoder().encode("123456789"));
        await RisingEdge(dut.clk);
        expect(Number(dut.hash.value).toString(16)).toBe("e3069283");
      });
    }
  });
}
