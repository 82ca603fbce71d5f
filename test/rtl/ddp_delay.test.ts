// ddp_delay: every beat leaves exactly LATENCY cycles after it entered when the sink is ready and the verdict
// is there (cycle stamps of an input monitor and of the sink); frames leave in order and unchanged; each
// frame's m_meta_verdict is the verdict sent for it (k-th verdict <-> k-th frame); a frame longer than the
// memory whose verdict is not there passes with m_meta_missing and its late verdict is dropped.
// Golden model: the FIFO itself (frames and verdicts in order), the latency rule of docs/offload-uarch.md.

import { expect } from "vitest";
import {
  AxiStreamMonitor,
  AxiStreamSink,
  AxiStreamSource,
  ClockCycles,
  defineStream,
  describeRtl,
  type Dut,
  type DutMethods,
  PAUSE_VARIANTS,
  randomPauses,
  type Rng,
  setPauses,
} from "../../tb/index.js";

const BYTES = 8;
const VerdictIn = defineStream("verdict", { fields: ["data"] });
const Meta = defineStream("meta", { fields: ["verdict", "missing"] });

/** A verdict value that names its frame, so a pairing error says which frames were swapped. */
function verdictFor(index: number, rng: Rng): bigint {
  return (BigInt(rng.u32()) << 32n) | BigInt(index);
}

interface Bench {
  source: AxiStreamSource;
  inputs: AxiStreamMonitor;
  sink: AxiStreamSink;
  verdicts: InstanceType<typeof VerdictIn.Source>;
  meta: InstanceType<typeof Meta.Monitor>;
}

function bench(dut: DutMethods): Bench {
  return {
    source: new AxiStreamSource(dut, "s_axis"),
    inputs: new AxiStreamMonitor(dut, "s_axis"),
    sink: new AxiStreamSink(dut, "m_axis"),
    verdicts: new VerdictIn.Source(dut, "s_verdict"),
    meta: new Meta.Monitor(dut, "m_meta"),
  };
}

/**
 * Sends frames and their verdicts, receives everything and checks order, content and pairing. With
 * `exactLatency`, also that every frame's first and last beat left exactly `latency` cycles after they
 * entered (the frame's beats leave with the same spacing as they came).
 */
async function runFrames(b: Bench, frames: Uint8Array[], verdicts: bigint[], latency: number, exactLatency: boolean): Promise<void> {
  await b.verdicts.send(verdicts.map((data) => new VerdictIn.Transaction({ data })));
  await b.source.send(frames);
  const out = await b.sink.recvMany(frames.length);
  const seen = await b.inputs.recvMany(frames.length);
  const meta = await b.meta.recvMany(frames.length);
  frames.forEach((frame, i) => {
    const o = out[i]!;
    const s = seen[i]!;
    expect(Buffer.from(o.tdata).equals(frame), `frame ${i} (${frame.length} bytes) changed or out of order`).toBe(true);
    expect(meta[i]!.values, `frame ${i}: verdict`).toEqual({ verdict: verdicts[i]!, missing: 0n });
    expect(meta[i]!.start, `frame ${i}: meta with the first beat`).toBe(o.start);
    if (exactLatency) {
      expect([o.start! - s.start!, o.end! - s.end!], `frame ${i}: latency of first and last beat`).toEqual([latency, latency]);
    } else {
      expect(o.start! - s.start!, `frame ${i}: latency`).toBeGreaterThanOrEqual(latency);
      expect(o.end! - s.end!, `frame ${i}: latency`).toBeGreaterThanOrEqual(latency);
    }
  });
}

async function expectDrained(dut: Dut<"clk">, b: Bench): Promise<void> {
  await ClockCycles(dut.clk, 10);
  expect(await b.inputs.empty(), "input frames not checked").toBe(true);
  expect(await b.sink.empty(), "extra frames out").toBe(true);
  expect(await b.meta.empty(), "extra verdicts out").toBe(true);
}

// ---------------------------------------------------------------------------------------------------------
// A small delay line (DEPTH = LATENCY = 64 beats) for most cases: the same logic, short runs.

const DEPTH = 64;

describeRtl("ddp_delay DEPTH=64", { top: "ddp_delay", params: { DEPTH }, ports: ["clk"] }, (rtl) => {
  /** Frames of at least 60 bytes (the Ethernet minimum) up to the memory size. */
  const frameOf = (rng: Rng): Uint8Array => rng.bytes(rng.chance(0.2) ? rng.range(60, 72) : rng.range(60, DEPTH * BYTES));

  rtl.test("latency is exact at full rate, and with idle input", async ({ dut, rng }) => {
    const b = bench(dut);
    const frames = Array.from({ length: 150 }, () => frameOf(rng));
    const started = dut.sim.cycle;
    await runFrames(b, frames, frames.map((_, i) => verdictFor(i, rng)), DEPTH, true);
    // Line rate: the input took one cycle per beat (the last frame left LATENCY cycles after it entered).
    const beats = frames.reduce((n, f) => n + Math.ceil(f.length / BYTES), 0);
    expect(dut.sim.cycle - started, "cycles for all frames").toBeLessThanOrEqual(beats + DEPTH + 30);
    await b.source.setPauseGenerator(randomPauses(rng, 0.3));
    const more = Array.from({ length: 150 }, () => frameOf(rng));
    await runFrames(b, more, more.map((_, i) => verdictFor(i, rng)), DEPTH, true);
    await expectDrained(dut, b);
  });

  // The standard variants with back-pressure (the test above covers the others), then late verdicts.
  const patterns = [
    ...PAUSE_VARIANTS.filter((v) => v.backpressure > 0).map((v) => ({ ...v, late: 0 })),
    { name: "late verdicts", idle: 0, backpressure: 0, late: 0.95 },
    { name: "late verdicts, idle and back-pressure", idle: 0.3, backpressure: 0.3, late: 0.9 },
  ];
  for (const p of patterns) {
    rtl.test(`order, content and pairing: ${p.name}`, async ({ dut, rng }) => {
      const b = bench(dut);
      await setPauses(rng, p, { sources: [b.source], sinks: [b.sink] });
      if (p.late > 0) await b.verdicts.setPauseGenerator(randomPauses(rng, p.late));
      // Runts too: many one-beat frames make the delay throttle its input (VERDICTS - 2 frames open at most).
      const frames = Array.from({ length: 300 }, () => (rng.chance(0.3) ? rng.bytes(rng.range(1, 16)) : frameOf(rng)));
      await runFrames(b, frames, frames.map((_, i) => verdictFor(i, rng)), DEPTH, false);
      await expectDrained(dut, b);
    });
  }

  rtl.test("a frame longer than the memory passes without its verdict; the late verdict is dropped", async ({ dut, rng }) => {
    const b = bench(dut);
    for (let round = 0; round < 3; round++) {
      const big = rng.bytes(rng.range(DEPTH * BYTES + 1, 3 * DEPTH * BYTES));
      await b.source.send(big);
      const [out] = await b.sink.recvMany(1);
      await b.inputs.recvMany(1);
      expect(Buffer.from(out!.tdata).equals(big), "oversize frame changed").toBe(true);
      const [meta] = await b.meta.recvMany(1);
      expect(meta!.values.missing, "oversize frame: verdict missing").toBe(1n);
      // Its verdict comes after the frame has left; the next frames must pair with their own verdicts.
      await b.verdicts.send(new VerdictIn.Transaction({ data: 0xdeadn }));
      const frames = Array.from({ length: 10 }, () => frameOf(rng));
      await runFrames(b, frames, frames.map((_, i) => verdictFor(i, rng)), DEPTH, false);
    }
    // A frame longer than the memory whose verdict is already there keeps it.
    const big = rng.bytes(2 * DEPTH * BYTES);
    await runFrames(b, [big], [verdictFor(7, rng)], DEPTH, false);
    await expectDrained(dut, b);
  });

  rtl.test("a stalled output fills the memory, then everything drains in order", async ({ dut, rng }) => {
    const b = bench(dut);
    await b.sink.setPauseGenerator([true]);
    const frames = Array.from({ length: 40 }, () => frameOf(rng));
    await b.verdicts.send(frames.map((_, i) => new VerdictIn.Transaction({ data: verdictFor(i, rng) })));
    await b.source.send(frames);
    await ClockCycles(dut.clk, 3 * DEPTH);
    // Input stopped once the memory was full: the source still holds most frames.
    expect(dut.signal("s_axis_tready").value, "tready low when full").toBe(0n);
    expect(await b.source.count(), "frames still queued at the source").toBeGreaterThan(0);
    await b.sink.setPauseGenerator(null);
    const out = await b.sink.recvMany(frames.length);
    const meta = await b.meta.recvMany(frames.length);
    await b.inputs.recvMany(frames.length);
    frames.forEach((f, i) => {
      expect(Buffer.from(out[i]!.tdata).equals(f), `frame ${i}`).toBe(true);
      expect(meta[i]!.values.verdict & 0xffffffffn, `frame ${i}: verdict`).toBe(BigInt(i));
    });
    await expectDrained(dut, b);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The default configuration: 9216-byte frames see the same latency as small ones; longer ones pass unpaired.

describeRtl("ddp_delay default (DEPTH=LATENCY=1160)", { top: "ddp_delay", ports: ["clk"] }, (rtl) => {
  const LATENCY = 1160;
  rtl.test("jumbo and minimum frames, exact latency; oversize frame", async ({ dut, rng }) => {
    const b = bench(dut);
    const frames = Array.from({ length: 12 }, (_, i) => rng.bytes(i % 3 === 0 ? 9216 : rng.range(60, 9216)));
    await runFrames(b, frames, frames.map((_, i) => verdictFor(i, rng)), LATENCY, true);
    const big = rng.bytes(9216 + 1000);
    await b.source.send(big);
    const [meta] = await b.meta.recvMany(1);
    expect(meta!.values.missing, "oversize frame: verdict missing").toBe(1n);
    await b.sink.recvMany(1);
    await b.inputs.recvMany(1);
    await b.verdicts.send(new VerdictIn.Transaction({ data: 1n }));
    const after = Array.from({ length: 5 }, () => rng.bytes(rng.range(60, 1500)));
    await runFrames(b, after, after.map((_, i) => verdictFor(i, rng)), LATENCY, true);
    await expectDrained(dut, b);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Bug B1: a frame longer than MAX_BEATS (here 56 of a 64-beat memory, LATENCY 64) whose verdict is not there
// must not wait at the head until the memory is full: every beat of it, and of the frames around it, leaves
// exactly LATENCY cycles after it entered, and the input is never throttled (each frame's beats enter on
// consecutive cycles: the source never pauses).

describeRtl("ddp_delay MAX_BEATS=56", { top: "ddp_delay", params: { DEPTH, MAX_BEATS: 56 }, ports: ["clk"] }, (rtl) => {
  rtl.test("B1: oversize frames keep the exact latency and never throttle the input", async ({ dut, rng }) => {
    const b = bench(dut);
    for (let round = 0; round < 4; round++) {
      // Frames with their verdicts, then an oversize one without (its verdict comes after it left, as from the
      // parser), right behind them. Sizes around the limit: 57 beats up to several memories.
      const before = Array.from({ length: rng.range(1, 6) }, () => rng.bytes(rng.range(60, 56 * BYTES)));
      const bigBeats = round === 0 ? 57 : round === 1 ? 64 : rng.range(57, 4 * DEPTH);
      const big = rng.bytes(bigBeats * BYTES - rng.int(BYTES));
      await b.verdicts.send(before.map((_, i) => new VerdictIn.Transaction({ data: verdictFor(i, rng) })));
      await b.source.send([...before, big]);
      const out = await b.sink.recvMany(before.length + 1);
      const seen = await b.inputs.recvMany(before.length + 1);
      const meta = await b.meta.recvMany(before.length + 1);
      [...before, big].forEach((f, i) => {
        const label = `round ${round}, frame ${i} (${Math.ceil(f.length / BYTES)} beats)`;
        expect(Buffer.from(out[i]!.tdata).equals(f), `${label}: content`).toBe(true);
        expect([out[i]!.start! - seen[i]!.start!, out[i]!.end! - seen[i]!.end!], `${label}: latency of first and last beat`).toEqual([DEPTH, DEPTH]);
        expect(seen[i]!.end! - seen[i]!.start!, `${label}: input throttled`).toBe(Math.ceil(f.length / BYTES) - 1);
        expect(meta[i]!.values.missing, `${label}: missing`).toBe(i === before.length ? 1n : 0n);
      });
      // The late verdict is dropped; the next frames pair with their own, at the exact latency.
      await b.verdicts.send(new VerdictIn.Transaction({ data: 0xdeadn }));
      const after = Array.from({ length: 5 }, () => rng.bytes(rng.range(60, 56 * BYTES)));
      await runFrames(b, after, after.map((_, i) => verdictFor(i, rng)), DEPTH, true);
    }
    await expectDrained(dut, b);
  });
});
