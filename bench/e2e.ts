// End-to-end figures: `ddpsim run` workloads on the RTL (target -> wire -> ddp_top over the bridge -> driver ->
// TCP -> host), per workload: simulated traffic per wall second, offload ratio, software bytes saved, and the
// end-to-end simulation speed (simulated cycles per wall second) as a ratio of the harness's raw speed
// (Harness.bench: ddp_top alone in C++, no ZeroMQ, no software).
// Run alone with `npx tsx bench/e2e.ts` (SEED=<n> to reproduce); bench/run.ts can call benchE2e().

import { pathToFileURL } from "node:url";
import { parseRunArgs } from "../src/cli/run.js";
import { runStack } from "../src/stack/run.js";
import { BFM } from "../src/device/index.js";
import { Harness } from "../src/cosim/index.js";

const WORKLOADS: [string, string[]][] = [
  ["read 128k, ddgst", ["--bs", "128k", "--size", "8m", "--ddgst"]],
  ["read 4k, iodepth 32, hdgst+ddgst", ["--bs", "4k", "--size", "2m", "--iodepth", "32", "--hdgst", "--ddgst"]],
  ["randrw 64k, 2 queues, ddgst", ["--rw", "randrw", "--bs", "64k", "--size", "8m", "--queues", "2", "--ddgst"]],
  ["read 128k, ddgst, 1% loss", ["--bs", "128k", "--size", "4m", "--ddgst", "--loss", "0.01"]],
];

export interface E2eRow {
  workload: string;
  simGbitPerWallSecond: number;
  readGbpsAtClock: number;
  offloadBytes: number;
  offloadPackets: number;
  softwareBytesSaved: number;
  cyclesPerWallSecond: number;
  ratioToRaw: number;
  invariantsHeld: boolean;
}

export async function benchE2e(seed = 1): Promise<E2eRow[]> {
  // Bench mode binds only AXI-Stream BFMs: frames in on s_axis, the ring out on m_axis_rx.
  const raw = await Harness.bench({ top: "ddp_top", cycles: 2_000_000, binds: [BFM.src, BFM.ring] });
  const rows: E2eRow[] = [];
  for (const [name, args] of WORKLOADS) {
    const a = parseRunArgs([...args, "--seed", String(seed), "--no-baseline"]);
    if (a === "help") throw new Error("unreachable: no --help given");
    const r = await runStack(a.options);
    const sim = r.simulation;
    const saved = r.software.savedCopied + r.software.savedCrcd;
    rows.push({
      workload: name,
      simGbitPerWallSecond: ((sim.frameBytesPerCycle ?? 0) * (sim.cycles ?? 0) * 8) / 1e9 / r.wallSeconds,
      readGbpsAtClock: sim.readGbps ?? 0,
      offloadBytes: r.offload.byteRatio,
      offloadPackets: r.offload.packetRatio,
      softwareBytesSaved: saved,
      cyclesPerWallSecond: sim.cyclesPerWallSecond ?? 0,
      ratioToRaw: (sim.cyclesPerWallSecond ?? 0) / raw.cyclesPerSecond,
      invariantsHeld: r.ok,
    });
  }
  console.log(`end to end on ddp_top (DATA_W 64, 250 MHz for Gb/s); raw harness speed ${Math.round(raw.cyclesPerSecond)} cycles/s; seed ${seed}`);
  console.table(
    rows.map((r) => ({
      workload: r.workload,
      "sim Gb / wall s": r.simGbitPerWallSecond.toFixed(4),
      "read Gb/s @250MHz": r.readGbpsAtClock.toFixed(2),
      "offload bytes": `${(100 * r.offloadBytes).toFixed(1)} %`,
      "offload packets": `${(100 * r.offloadPackets).toFixed(1)} %`,
      "sw bytes saved": r.softwareBytesSaved,
      "cycles / wall s": Math.round(r.cyclesPerWallSecond),
      "e2e / raw": r.ratioToRaw.toFixed(4),
      invariants: r.invariantsHeld ? "held" : "FAILED",
    })),
  );
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchE2e(Number(process.env.SEED ?? 1));
}
