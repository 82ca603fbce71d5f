// Offload block line rate: drives ddp_top with always-ready outputs and measures, from the BFM cycle stamps,
// input beats accepted per cycle and the latency in cycles (first beat in -> first beat out, which must be the
// same number for every frame), for several traffic mixes; plus the offload ratio (placed bytes / C2HData data
// bytes) and the differential mismatches against the model on the same run (must be 0).
// Run alone with `npx tsx bench/offload.ts`; bench/run.ts can call benchOffload().

import { pathToFileURL } from "node:url";
import { Harness } from "../src/cosim/index.js";
import { DdpPorts } from "../src/device/index.js";
import { impairedRatio, lineRate, type LineRateResult, MIXES } from "../tb/traffic/line-rate.js";

export async function benchOffload(seed = 1): Promise<LineRateResult[]> {
  const harness = await Harness.spawn({ top: "ddp_top" });
  try {
    const rows: LineRateResult[] = [];
    for (const mix of MIXES) {
      await harness.reset({ cycles: 4, bfms: true });
      const d = await DdpPorts.attach(harness);
      rows.push(await lineRate(d, mix, seed));
    }
    console.log("ddp_top line rate (DATA_W 64, outputs always ready; cycles from the BFM stamps)");
    console.table(
      rows.map((r) => ({
        mix: r.mix,
        frames: r.frames,
        "beats in": r.beatsIn,
        cycles: r.cycles,
        "beats/cycle": r.beatsPerCycle.toFixed(2),
        "latency (cycles)": r.latencies.join(" / "),
        "offload ratio": `${(100 * r.offloadRatio).toFixed(1)} %`,
        "placed bytes": r.placedBytes,
        "C2HData bytes": r.c2hDataBytes,
        "model mismatches": r.mismatches,
      })),
    );
    await harness.reset({ cycles: 4, bfms: true });
    const im = await impairedRatio(await DdpPorts.attach(harness), seed);
    console.log("offload ratio under loss 6 %, reorder 2 %, duplicates 2 % (host confirms resync candidates)");
    console.table([
      {
        frames: im.frames,
        "placed bytes": im.placedBytes,
        "C2HData bytes": im.c2hDataBytes,
        "offload ratio": `${(100 * im.offloadRatio).toFixed(1)} %`,
        searches: im.searches,
        "resync requests": im.resyncRequests,
        confirms: im.resyncConfirms,
        "model mismatches": im.mismatches,
      },
    ]);
    const bad = rows.filter((r) => r.beatsPerCycle !== 1 || r.latencies.length !== 1 || r.mismatches !== 0);
    if (bad.length > 0) console.log(`NOT at line rate / constant latency / model-equal: ${bad.map((r) => r.mix).join(", ")}`);
    return rows;
  } finally {
    await harness.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchOffload(Number(process.env.SEED ?? 1));
}
