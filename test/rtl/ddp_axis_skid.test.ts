// ddp_axis_skid: beats leave in order and unchanged (tdata, tkeep, tuser, tlast), one per cycle at full rate,
// never more than two inside (output register + skid), and s_axis_tready is a register: after m_axis_tready
// drops, the input still takes the beat of that cycle (into the skid) and only then stops.
// Golden model: a FIFO of the beats accepted on the input (the module must behave as one, of depth 2).

import { expect } from "vitest";
import { AxiStreamSink, AxiStreamSource, ClockCycles, describeRtl, PAUSE_VARIANTS, RisingEdge, type Rng, setPauses } from "../../tb/index.js";

type Ports =
  | "clk"
  | "s_axis_tdata"
  | "s_axis_tkeep"
  | "s_axis_tuser"
  | "s_axis_tlast"
  | "s_axis_tvalid"
  | "s_axis_tready"
  | "m_axis_tdata"
  | "m_axis_tkeep"
  | "m_axis_tuser"
  | "m_axis_tlast"
  | "m_axis_tvalid"
  | "m_axis_tready";
const PORTS: readonly Ports[] = [
  "clk",
  "s_axis_tdata",
  "s_axis_tkeep",
  "s_axis_tuser",
  "s_axis_tlast",
  "s_axis_tvalid",
  "s_axis_tready",
  "m_axis_tdata",
  "m_axis_tkeep",
  "m_axis_tuser",
  "m_axis_tlast",
  "m_axis_tvalid",
  "m_axis_tready",
];

function randomBits(rng: Rng, width: number): bigint {
  let v = 0n;
  for (let i = 0; i < width; i += 32) v = (v << 32n) | BigInt(rng.u32());
  return v & ((1n << BigInt(width)) - 1n);
}

const FIELDS = ["tdata", "tkeep", "tuser", "tlast"] as const;

/** One beat as a comparable string: data/keep/user/last. */
function beatString(values: readonly bigint[]): string {
  return values.map((v) => v.toString(16)).join("/");
}

const configs = [
  { DATA_W: 64, USER_W: 1 },
  { DATA_W: 128, USER_W: 3 },
];

for (const params of configs) {
  const bytesPerBeat = params.DATA_W / 8;

  describeRtl(`ddp_axis_skid DATA_W=${params.DATA_W} USER_W=${params.USER_W}`, { top: "ddp_axis_skid", params, ports: PORTS }, (rtl) => {
    rtl.test("signal level: random valid and ready, beats in order, at most two inside", async ({ dut, rng }) => {
      const accepted: string[] = [];
      const delivered: string[] = [];
      let offering = false;
      // Outputs are registers, so the values read after an edge are those the next edge samples.
      let sReady = dut.s_axis_tready.value === 1n;
      let mValid = dut.m_axis_tvalid.value === 1n;
      const outputBeat = (): string => beatString(FIELDS.map((f) => dut.signal(`m_axis_${f}`).value));
      let mBeat = outputBeat();
      let sBeat = "";
      const cycles = 600;
      for (let cycle = 0; cycle < cycles + 10; cycle++) {
        const draining = cycle >= cycles;
        // A beat once offered stays offered, unchanged, until taken (AXI-Stream; the RTL asserts it).
        if (!offering && !draining && rng.chance(0.7)) {
          const beat = [randomBits(rng, params.DATA_W), randomBits(rng, bytesPerBeat), randomBits(rng, params.USER_W), rng.chance(0.3) ? 1n : 0n];
          FIELDS.forEach((f, i) => dut.signal(`s_axis_${f}`).setValue(beat[i]!));
          sBeat = beatString(beat);
          offering = true;
        }
        dut.s_axis_tvalid.value = offering;
        const take = draining || rng.chance(0.6);
        dut.m_axis_tready.value = take;
        const sFire = offering && sReady;
        const mFire = mValid && take;
        await RisingEdge(dut.clk);
        if (sFire) {
          accepted.push(sBeat);
          offering = false;
        }
        if (mFire) delivered.push(mBeat);
        expect(accepted.length - delivered.length, `cycle ${cycle}: beats inside`).toBeLessThanOrEqual(2);
        if (!take && mValid && sFire) {
          // The input took a beat in a cycle the output stalled: it went to the skid, so tready is now low.
          expect(dut.s_axis_tready.value, `cycle ${cycle}: tready after filling the skid`).toBe(0n);
        }
        sReady = dut.s_axis_tready.value === 1n;
        mValid = dut.m_axis_tvalid.value === 1n;
        mBeat = outputBeat();
      }
      expect(delivered, "output beats == input beats, in order").toEqual(accepted);
      expect(accepted.length, "enough traffic to mean something").toBeGreaterThan(cycles / 3);
    });

    for (const p of PAUSE_VARIANTS) {
      rtl.test(`random frames, ${p.name}`, async ({ dut, rng }) => {
        const source = new AxiStreamSource(dut, "s_axis");
        const sink = new AxiStreamSink(dut, "m_axis");
        await setPauses(rng, p, { sources: [source], sinks: [sink] });
        const sizes = [...Array.from({ length: 4 * bytesPerBeat }, (_, i) => i + 1), 512, 1500, 9000];
        const frames = [...sizes, ...Array.from({ length: 100 }, () => rng.range(1, 2000))].map((n) => rng.bytes(n));
        await source.send(frames);
        const out = await sink.recvMany(frames.length);
        frames.forEach((f, i) => expect(Buffer.from(out[i]!.tdata).equals(f), `frame ${i} (${f.length} bytes)`).toBe(true));
        await ClockCycles(dut.clk, 10);
        expect(await source.idle(), "source still has frames").toBe(true);
        expect(await sink.empty(), "extra frames out").toBe(true);
      });
    }

    rtl.test("full rate: one beat per cycle, frames back to back", async ({ dut, rng }) => {
      const source = new AxiStreamSource(dut, "s_axis");
      const sink = new AxiStreamSink(dut, "m_axis");
      const frames = Array.from({ length: 200 }, () => rng.bytes(rng.range(1, 1600)));
      await source.send(frames);
      const out = await sink.recvMany(frames.length);
      let beats = 0;
      out.forEach((o, i) => {
        const n = Math.ceil(frames[i]!.length / bytesPerBeat);
        beats += n;
        expect(Buffer.from(o.tdata).equals(frames[i]!), `frame ${i}`).toBe(true);
        expect(o.end! - o.start! + 1, `frame ${i}: cycles for ${n} beats`).toBe(n);
        if (i > 0) expect(o.start!, `frame ${i}: starts right after frame ${i - 1}`).toBe(out[i - 1]!.end! + 1);
      });
      const cycles = out[out.length - 1]!.end! - out[0]!.start! + 1;
      expect(beats / cycles, "beats per cycle").toBe(1);
    });
  });
}
