// Synthesis figures per RTL module (DESIGN 9): cells, RAM bits and logic depth from the pinned Yosys, generic
// gates and 6-input LUTs. Every module at its default parameters, plus the CRC at the widest bus.

import { rtlModules, synthModule, synthTable, type SynthResult } from "../scripts/synth.mjs";

const EXTRA: { module: string; params: Record<string, number> }[] = [{ module: "ddp_crc32c", params: { DATA_W: 512 } }];

export async function benchSynth(): Promise<SynthResult[]> {
  const jobs = [...rtlModules().map((module) => ({ module, params: {} })), ...EXTRA];
  const results: SynthResult[] = [];
  for (const job of jobs) results.push(await synthModule(job.module, job.params));
  console.log(synthTable(results));
  return results;
}
