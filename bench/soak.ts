// The soak's speed: soak scenarios (tb/traffic/soak.ts, the traffic of `make soak`) on one harness in this
// process, which is what one worker of `make soak` does on one core: frames per second per core, and what
// 10^6 frames take on every core of this machine.
// Run alone with `npx tsx bench/soak.ts`; bench/run.ts calls benchSoak().

import { availableParallelism } from "node:os";
import { pathToFileURL } from "node:url";
import { Harness } from "../src/cosim/index.js";
import { addCounts, countsClean, runSoakCase, scenarioSeed, soakCase, zeroCounts } from "../tb/traffic/soak.js";

export async function benchSoak(seed = 1, minFrames = 5_000): Promise<{ frames: number; framesPerSecond: number }> {
  const harness = await Harness.spawn({ top: "ddp_top" });
  try {
    let frames = 0;
    let counts = zeroCounts();
    let scenarios = 0;
    const t0 = performance.now();
    while (frames < minFrames) {
      const r = await runSoakCase(harness, soakCase(scenarioSeed(seed, scenarios++)));
      frames += r.frames;
      counts = addCounts(counts, r);
    }
    const seconds = (performance.now() - t0) / 1000;
    const framesPerSecond = frames / seconds;
    const cores = availableParallelism();
    console.table([
      {
        scenarios,
        frames,
        seconds: seconds.toFixed(1),
        "frames/s per core": framesPerSecond.toFixed(0),
        [`10^6 frames on ${cores} cores`]: `${(1e6 / (framesPerSecond * cores) / 60).toFixed(1)} min`,
        "all counts 0": countsClean(counts),
      },
    ]);
    return { frames, framesPerSecond };
  } finally {
    await harness.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchSoak(Number(process.env.SEED ?? 1));
}
