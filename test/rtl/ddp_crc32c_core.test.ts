// ddp_crc32c_core: crc_out = the CRC32C register after the first `count` bytes of `data`, from crc_in.
// Oracles: the RFC 3720 vectors and @node-rs/crc32. The core works on the raw register (no final xor), so
// register R corresponds to the CRC value ~R: expected crc_out = ~crc32c(bytes, ~crc_in).
// Signal level only (the core is combinational): poke the inputs, one edge, read crc_out.

import { crc32c } from "@node-rs/crc32";
import { expect } from "vitest";
import { describeRtl, RisingEdge, type Dut } from "../../tb/index.js";

type Ports = "clk" | "crc_in" | "data" | "count" | "crc_out";

const RFC3720_VECTORS: { name: string; bytes: Uint8Array; crc: number }[] = [
  { name: "32 x 0x00", bytes: new Uint8Array(32), crc: 0x8a9136aa },
  { name: "32 x 0xFF", bytes: new Uint8Array(32).fill(0xff), crc: 0x62a8ab43 },
  { name: "0..31", bytes: Uint8Array.from({ length: 32 }, (_, i) => i), crc: 0x46dd794e },
  { name: "31..0", bytes: Uint8Array.from({ length: 32 }, (_, i) => 31 - i), crc: 0x113fdb5c },
  { name: "'123456789'", bytes: new TextEncoder().encode("123456789"), crc: 0xe3069283 },
];

/** Little-endian: byte i of `bytes` in lane i. */
function toWord(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** One evaluation of the core. */
async function update(dut: Dut<Ports>, crcIn: number, word: Uint8Array, count: number): Promise<number> {
  dut.crc_in.value = crcIn;
  dut.data.value = toWord(word);
  dut.count.value = count;
  await RisingEdge(dut.clk);
  return Number(dut.crc_out.value);
}

for (const dataW of [64, 512]) {
  const bytesPerWord = dataW / 8;
  const ports = ["clk", "crc_in", "data", "count", "crc_out"] as const;

  describeRtl(`ddp_crc32c_core DATA_W=${dataW}`, { top: "ddp_crc32c_core", params: { DATA_W: dataW }, ports }, (rtl) => {
    rtl.test("RFC 3720 vectors, word by word", async ({ dut }) => {
      for (const v of RFC3720_VECTORS) {
        let reg = 0xffffffff;
        for (let at = 0; at < v.bytes.length; at += bytesPerWord) {
          const chunk = v.bytes.subarray(at, at + bytesPerWord);
          const word = new Uint8Array(bytesPerWord);
          word.set(chunk);
          reg = await update(dut, reg, word, chunk.length);
        }
        expect((~reg >>> 0).toString(16), v.name).toBe(v.crc.toString(16));
      }
    });

    rtl.test("random register, data and count (lanes above count hold garbage)", async ({ dut, rng }) => {
      for (let i = 0; i < 300; i++) {
        const crcIn = rng.u32();
        const word = rng.bytes(bytesPerWord);
        // Every count, the edges 0 and KEEP_W more often.
        const count = rng.chance(0.2) ? rng.pick([0, bytesPerWord]) : rng.range(0, bytesPerWord);
        const expected = ~crc32c(word.subarray(0, count), ~crcIn >>> 0) >>> 0;
        const got = await update(dut, crcIn, word, count);
        expect(got.toString(16), `crc_in=${crcIn.toString(16)} count=${count} data=${Buffer.from(word).toString("hex")}`).toBe(
          expected.toString(16),
        );
      }
    });
  });
}
