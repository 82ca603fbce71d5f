// Co-simulation bridge benchmark: raw harness speed (bench mode, no ZeroMQ), ZeroMQ round-trip latency, and
// AXI-Stream throughput through the tb_passthrough fixture when driven from TypeScript in batches.
// Run alone with `npx tsx bench/cosim.ts`; bench/run.ts calls benchCosim().

import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Harness } from "../src/cosim/index.js";

const TOP = "tb_passthrough";
const BYTES_PER_BEAT = 8; // the fixture's 64-bit bus
const FRAME_BEATS = 188; // 1504-byte frames, about an Ethernet MTU

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Frames totalling `beats` beats, at most FRAME_BEATS each. */
function batchOfBeats(beats: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let left = beats; left > 0; left -= FRAME_BEATS) frames.push(new Uint8Array(Math.min(left, FRAME_BEATS) * BYTES_PER_BEAT).fill(left & 0xff));
  return frames;
}

export async function benchCosim(): Promise<Record<string, unknown>> {
  const raw = await Harness.bench({ top: TOP, cycles: 2_000_000, binds: ["axis_source:s_axis", "axis_sink:m_axis"] });

  const harness = await Harness.spawn({ top: TOP });
  try {
    // Round trip of a trivial request.
    const samples: number[] = [];
    for (let i = 0; i < 2_200; i++) {
      const t0 = performance.now();
      await harness.status();
      if (i >= 200) samples.push((performance.now() - t0) * 1000); // after a warm-up
    }
    samples.sort((a, b) => a - b);

    // Batches of beats on the transaction path: send the frames, run until the sink holds them all, take them.
    // The three requests are pipelined (the harness serves them in order), so a batch costs one round trip.
    await harness.bind("axis_source", "s_axis", "source");
    await harness.bind("axis_sink", "m_axis", "sink");
    const throughput: Record<string, number> = {};
    for (const beats of [1, 100, 1000]) {
      const frames = batchOfBeats(beats);
      const rounds = Math.max(20, Math.ceil(100_000 / beats));
      const t0 = performance.now();
      for (let r = 0; r < rounds; r++) {
        const [, run, items] = await Promise.all([
          harness.send("source", frames),
          harness.run(10 * beats + 100, [{ received: { sink: frames.length } }]),
          harness.recv("sink"),
        ]);
        if (run.reason !== "done" || items.length !== frames.length) throw new Error(`batch of ${beats} beats did not come through`);
      }
      throughput[`beatsPerSecond_batch${beats}`] = (rounds * beats) / ((performance.now() - t0) / 1000);
    }

    const result = {
      rawCyclesPerSecond: Math.round(raw.cyclesPerSecond),
      rawBeats: raw.beats,
      roundTripMedianUs: Number(percentile(samples, 50).toFixed(1)),
      roundTripP99Us: Number(percentile(samples, 99).toFixed(1)),
      ...Object.fromEntries(Object.entries(throughput).map(([k, v]) => [k, Math.round(v)])),
      cosimToRawRatio: Number(((throughput.beatsPerSecond_batch1000 ?? 0) / raw.cyclesPerSecond).toFixed(4)),
    };
    console.log(`co-simulation bridge (${TOP}, ${BYTES_PER_BEAT * 8}-bit AXI-Stream)`);
    console.table(result);
    return result;
  } finally {
    await harness.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchCosim();
}
