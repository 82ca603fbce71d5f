// `make bench`: every benchmark of the project, one after the other, each printing its own table.
// Simulation figures are exact cycle counts or ratios; software figures are wall-clock rates on this machine.

import { benchCosim } from "./cosim.js";
import { benchE2e } from "./e2e.js";
import { benchNet } from "./net.js";
import { benchNvme } from "./nvme.js";
import { benchOffload } from "./offload.js";
import { benchResync } from "./resync.js";
import { benchSoak } from "./soak.js";
import { benchSynth } from "./synth.js";
import { benchTags } from "./tags.js";
import { benchTx } from "./tx.js";

const sections: [string, () => Promise<unknown>][] = [
  ["Co-simulation bridge", benchCosim],
  ["Offload block line rate and latency (ddp_top, DATA_W 64)", benchOffload],
  ["Tag table at NIC scale (ddp_top defaults): command cycles, fill", benchTags],
  ["Transmit data-digest block line rate and latency (ddp_tx, DATA_W 64)", benchTx],
  ["End to end: target -> wire -> RTL -> driver -> TCP -> host", benchE2e],
  ["Resync: the loss sweep", () => benchResync({ seed: 1 })],
  ["Soak: random differential traffic (make soak), one worker per core", () => benchSoak()],
  ["NVMe/TCP codec and CRC32C (TypeScript)", benchNvme],
  ["Network layer (TypeScript)", benchNet],
  ["Synthesis (Yosys, generic gates and 6-input LUTs)", benchSynth],
];

for (const [title, run] of sections) {
  console.log(`\n=== ${title} ===`);
  await run();
}
