// `make demo`: builds ddp_crc32c, co-simulates a few hundred random frames through it over ZeroMQ and checks
// every CRC32C against @node-rs/crc32. Prints frames, bytes, cycles, beats per cycle and mismatches; exits 1
// on any mismatch. SEED=<n> reproduces a run, DATA_W=<bits> picks the bus width (default 64).

import { crc32c } from "@node-rs/crc32";
import { Harness } from "../cosim/index.js";
import { Rng, seedFromEnv } from "../util/rng.js";

const FRAMES = 400;
const MAX_CYCLES = 1_000_000;

async function main(): Promise<number> {
  const dataW = Number(process.env.DATA_W ?? 64);
  const bytesPerBeat = dataW / 8;
  const seed = seedFromEnv();
  const rng = new Rng(seed);
  console.log(`ddp_crc32c DATA_W=${dataW}, SEED=${seed}: building and starting the harness...`);

  const harness = await Harness.spawn({ top: "ddp_crc32c", params: { DATA_W: dataW } });
  try {
    await harness.reset();
    await harness.bind("axis_source", "s_axis", "frames");
    await harness.bind("axis_monitor", "s_axis", "beats_in");
    await harness.bind("vr_sink", "m_crc", "crc", ["value"]);

    // Ethernet-like sizes: mostly small and MTU frames, some jumbo ones.
    const frames = Array.from({ length: FRAMES }, () => rng.bytes(rng.chance(0.05) ? rng.range(1501, 9000) : rng.range(1, 1500)));
    await harness.send("frames", frames);
    const run = await harness.run(MAX_CYCLES, [{ received: { crc: frames.length } }]);
    if (run.reason !== "done") throw new Error(`only part of the results arrived within ${MAX_CYCLES} cycles`);

    const results = await harness.recv("crc");
    const inputs = await harness.recv("beats_in");
    let mismatches = 0;
    frames.forEach((frame, i) => {
      const got = results[i]?.data.readUInt32LE(0);
      const expected = crc32c(frame);
      if (got !== expected) {
        mismatches++;
        if (mismatches <= 5) console.log(`  frame ${i} (${frame.length} bytes): RTL ${got?.toString(16)}, @node-rs/crc32 ${expected.toString(16)}`);
      }
    });

    const bytes = frames.reduce((n, f) => n + f.length, 0);
    const beats = frames.reduce((n, f) => n + Math.ceil(f.length / bytesPerBeat), 0);
    const first = inputs[0]?.start ?? 0;
    const last = inputs[inputs.length - 1]?.end ?? 0;
    const cycles = last - first + 1;
    console.log(`frames      ${frames.length}`);
    console.log(`bytes       ${bytes}`);
    console.log(`cycles      ${cycles} (first to last input beat; ${run.cycles} simulated in all)`);
    console.log(`beats/cycle ${(beats / cycles).toFixed(3)}`);
    console.log(`mismatches: ${mismatches}${results.length === frames.length ? "" : ` (${results.length} results for ${frames.length} frames)`}`);
    return mismatches === 0 && results.length === frames.length ? 0 : 1;
  } finally {
    await harness.close();
  }
}

process.exitCode = await main();
