// Synthesis figures per RTL module (DESIGN 9): cells and logic depth from the pinned Yosys, generic gates and
// 6-input LUTs. Every module at its default parameters, plus the CRC at the widest bus.

import { rtlModules, synthModule, type SynthResult } from "../scripts/synth.mjs";

const EXTRA: { module: string; params: Record<string, number> }[] = [{ module: "ddp_crc32c", params: { DATA_W: 512 } }];

export async function benchSynth(): Promise<SynthResult[]> {
  const jobs = [...rtlModules().map((module) => ({ module, params: {} })), ...EXTRA];
  const results: SynthResult[] = [];
  console.log("module (params)                       cells  depth   LUT6  LUT6 depth  seconds");
  for (const job of jobs) {
    const r = await synthModule(job.module, job.params);
    results.push(r);
    const label = `${r.module}${Object.keys(r.params).length > 0 ? ` (${Object.entries(r.params).map(([k, v]) => `${k}=${v}`).join(" ")})` : ""}`;
    console.log(
      `${label.padEnd(36)} ${String(r.cells).padStart(6)} ${String(r.depth).padStart(6)} ${String(r.luts).padStart(6)} ${String(r.lutDepth).padStart(11)} ${r.seconds.toFixed(1).padStart(8)}`,
    );
  }
  return results;
}
