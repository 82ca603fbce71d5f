// ddp_crc32c: one CRC32C per frame on m_crc, in frame order, at one beat per cycle; a stalled m_crc stops the
// input without losing a result. Oracles: the RFC 3720 vectors and @node-rs/crc32.

import { crc32c } from "@node-rs/crc32";
import { expect } from "vitest";
import { AxiStreamSource, ClockCycles, defineStream, describeRtl, PAUSE_VARIANTS, RisingEdge, type Dut, type Rng, setPauses } from "../../tb/index.js";

const CrcResult = defineStream("m_crc", { fields: ["value"] });
type CrcSink = InstanceType<typeof CrcResult.Sink>;

const RFC3720_VECTORS: { name: string; bytes: Uint8Array; crc: number }[] = [
  { name: "32 x 0x00", bytes: new Uint8Array(32), crc: 0x8a9136aa },
  { name: "32 x 0xFF", bytes: new Uint8Array(32).fill(0xff), crc: 0x62a8ab43 },
  { name: "0..31", bytes: Uint8Array.from({ length: 32 }, (_, i) => i), crc: 0x46dd794e },
  { name: "31..0", bytes: Uint8Array.from({ length: 32 }, (_, i) => 31 - i), crc: 0x113fdb5c },
  { name: "'123456789'", bytes: new TextEncoder().encode("123456789"), crc: 0xe3069283 },
];

/** Every size from 1 byte to 4 bus widths, then 512, 1500 and 9000 bytes, shuffled; random contents. */
function frameSet(rng: Rng, bytesPerBeat: number): Uint8Array[] {
  const sizes = [...Array.from({ length: 4 * bytesPerBeat }, (_, i) => i + 1), 512, 1500, 9000];
  for (let i = sizes.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return sizes.map((n) => rng.bytes(n));
}

/** Sends the frames in one batch and checks every result against the library, in order. */
async function checkFrames(source: AxiStreamSource, crc: CrcSink, frames: Uint8Array[]): Promise<void> {
  await source.send(frames);
  const results = await crc.recvMany(frames.length);
  frames.forEach((frame, i) => {
    expect(results[i]!.values.value.toString(16), `frame ${i} (${frame.length} bytes)`).toBe(crc32c(frame).toString(16));
  });
}

async function expectDrained(dut: Dut<"clk">, source: AxiStreamSource, crc: CrcSink): Promise<void> {
  await ClockCycles(dut.clk, 10);
  expect(await source.idle(), "source still has frames").toBe(true);
  expect(await crc.empty(), "extra CRC results").toBe(true);
}

for (const dataW of [64, 256]) {
  const bytesPerBeat = dataW / 8;
  const ports = ["clk", "s_axis_tdata", "s_axis_tkeep", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast", "m_crc_valid", "m_crc_ready", "m_crc_value"] as const;

  describeRtl(`ddp_crc32c DATA_W=${dataW}`, { top: "ddp_crc32c", params: { DATA_W: dataW }, ports }, (rtl) => {
    rtl.test("RFC 3720 vectors, signal level", async ({ dut }) => {
      dut.m_crc_ready.value = 1;
      for (const v of RFC3720_VECTORS) {
        let result: bigint | undefined;
        for (let at = 0; at < v.bytes.length; at += bytesPerBeat) {
          const beat = v.bytes.subarray(at, at + bytesPerBeat);
          let word = 0n;
          for (let i = beat.length - 1; i >= 0; i--) word = (word << 8n) | BigInt(beat[i]!);
          dut.s_axis_tdata.value = word;
          dut.s_axis_tkeep.value = (1n << BigInt(beat.length)) - 1n;
          dut.s_axis_tlast.value = at + bytesPerBeat >= v.bytes.length;
          dut.s_axis_tvalid.value = 1;
          do await RisingEdge(dut.clk);
          while (dut.s_axis_tready.value === 0n);
        }
        dut.s_axis_tvalid.value = 0;
        // The result is registered: it appears within a few cycles of the last beat.
        for (let wait = 0; wait < 4 && result === undefined; wait++) {
          if (dut.m_crc_valid.value === 1n) result = dut.m_crc_value.value;
          else await RisingEdge(dut.clk);
        }
        expect(result?.toString(16), v.name).toBe(v.crc.toString(16));
        await RisingEdge(dut.clk);
        expect(dut.m_crc_valid.value, `${v.name}: one result per frame`).toBe(0n);
      }
    });

    for (const p of PAUSE_VARIANTS) {
      rtl.test(`random frames, ${p.name}`, async ({ dut, rng }) => {
        const source = new AxiStreamSource(dut, "s_axis");
        const crc = new CrcResult.Sink(dut, "m_crc");
        await setPauses(rng, p, { sources: [source], sinks: [crc] });
        await checkFrames(source, crc, [...RFC3720_VECTORS.map((v) => v.bytes), ...frameSet(rng, bytesPerBeat)]);
        await expectDrained(dut, source, crc);
      });
    }

    rtl.test("full rate: one beat per cycle, results spaced by their frames' beats", async ({ dut, rng }) => {
      const source = new AxiStreamSource(dut, "s_axis");
      const crc = new CrcResult.Sink(dut, "m_crc");
      const frames = frameSet(rng, bytesPerBeat);
      await source.send(frames);
      const results = await crc.recvMany(frames.length);
      // Back to back, frame i's result comes exactly beats(i) cycles after frame i-1's.
      for (let i = 1; i < frames.length; i++) {
        const beats = Math.ceil(frames[i]!.length / bytesPerBeat);
        expect(results[i]!.start! - results[i - 1]!.start!, `frame ${i} (${frames[i]!.length} bytes)`).toBe(beats);
        expect(results[i]!.values.value, `frame ${i}`).toBe(BigInt(crc32c(frames[i]!)));
      }
      await expectDrained(dut, source, crc);
    });

    rtl.test("a stalled m_crc stops the input and loses no result", async ({ dut, rng }) => {
      const source = new AxiStreamSource(dut, "s_axis");
      const crc = new CrcResult.Sink(dut, "m_crc");
      await crc.setPauseGenerator([true]);
      const frames = Array.from({ length: 20 }, () => rng.bytes(rng.range(1, 3 * bytesPerBeat)));
      await source.send(frames);
      await ClockCycles(dut.clk, 200);
      expect(dut.s_axis_tready.value, "tready low while results wait").toBe(0n);
      expect(await source.count(), "frames held back at the source").toBeGreaterThan(0);
      await crc.setPauseGenerator(null);
      const results = await crc.recvMany(frames.length);
      frames.forEach((f, i) => expect(results[i]!.values.value, `frame ${i}`).toBe(BigInt(crc32c(f))));
      await expectDrained(dut, source, crc);
    });
  });
}
