// The loss sweep (public-figures 1.4 netdev 0x16 netem loss; 1.5 blktests nvme/056 thresholds): 128 KiB reads
// with data digests through the whole stack (src/stack/run.ts: target -> impaired wire -> offload device -> driver
// -> TCP -> host with DDP), loss and reordering at 0 .. 5 %, MSS 1460 and 9000. Per point: offload ratio in bytes
// and in data packets, resync requests and confirms, drops, and how far the stream runs from a loss to the resumed
// offload (bytes and PDUs), all from the run's report. The model back end runs the sweep; the RTL back end runs
// one point beside it.
// Run alone with `npx tsx bench/resync.ts` (SEED=<n> to reproduce, RTL=0 to skip the RTL point).

import { pathToFileURL } from "node:url";
import { type RunOptions, RUN_DEFAULTS, runStack } from "../src/stack/run.js";
import type { RunReport } from "../src/stack/report.js";
import { seedFromEnv } from "../src/util/rng.js";

/** Linux's NAPI weight, the session's default receive batch. */
const NAPI_WEIGHT = 64;
/** A receive batch as large as a target flush: every response of the reads in flight at once. */
const WHOLE_FLUSH = Number.MAX_SAFE_INTEGER;

export interface PointConfig {
  backend: "model" | "rtl";
  mss: number;
  /** Loss and reorder rate (each), unless `impairments` says otherwise. */
  rate: number;
  seed: number;
  reads: number;
  inFlight: number;
  pdu: number;
  impairments?: Partial<RunOptions["impairments"]>;
  /** Frames per driver receive call (default NAPI_WEIGHT); WHOLE_FLUSH: one call per target flush. */
  napi?: number;
}

export const READ_BYTES = 128 * 1024;

export async function runPoint(c: PointConfig): Promise<RunReport> {
  return runStack({
    ...RUN_DEFAULTS,
    seed: c.seed,
    backend: c.backend,
    rw: "randread",
    bs: READ_BYTES,
    ios: c.reads,
    iodepth: c.inFlight,
    ddgst: true,
    pduSize: c.pdu,
    mss: c.mss,
    impairments: { ...RUN_DEFAULTS.impairments, ...(c.impairments ?? { loss: c.rate, reorder: c.rate }) },
    napiBudget: c.napi ?? NAPI_WEIGHT,
    baseline: false,
  });
}

// ---------------------------------------------------------------------------------------------------------
// The sweep.

export interface SweepRow {
  backend: string;
  mss: number;
  loss: number;
  reorder: number;
  pdu: number;
  delivery: string;
  inFlight: number;
  bytes: number;
  packets: number;
  resyncs: number;
  hostConfirms: number;
  deviceConfirms: number;
  misses: number;
  drops: number;
  frames: number;
  episodes: number;
  meanGapBytes: number;
  maxGapBytes: number;
  meanGapPdus: number;
  ok: boolean;
}

const RATES = [0, 0.001, 0.003, 0.007, 0.01, 0.02, 0.05];
const MSS = [1460, 9000];
/** NVMe/TCP targets cut reads into C2HData PDUs; the session's default (and SPDK-like small PDUs) is 4 KiB. */
const PDU = 4096;

function row(c: PointConfig, r: RunReport): SweepRow {
  const o = r.offload;
  return {
    backend: c.backend,
    mss: c.mss,
    loss: r.workload.loss,
    reorder: r.workload.reorder,
    pdu: c.pdu,
    delivery: (c.napi ?? NAPI_WEIGHT) === WHOLE_FLUSH ? "flush" : `napi ${c.napi ?? NAPI_WEIGHT}`,
    inFlight: c.inFlight,
    bytes: o.byteRatio,
    packets: o.packetRatio,
    resyncs: o.resyncRequests,
    hostConfirms: o.resyncsConfirmed,
    deviceConfirms: r.hardware.resync_confirms ?? 0,
    misses: r.hardware.resync_misses ?? 0,
    drops: r.stats["rx-nvme-tcp-drop"],
    frames: o.frames,
    episodes: o.lossEpisodes,
    meanGapBytes: o.lossToResume.meanBytes,
    maxGapBytes: o.lossToResume.maxBytes,
    meanGapPdus: o.lossToResume.meanPdus,
    ok: r.ok,
  };
}

async function point(c: PointConfig, rows: SweepRow[]): Promise<number> {
  const t0 = performance.now();
  const r = await runPoint(c);
  const broken = r.invariants.filter((i) => !i.ok);
  if (broken.length > 0) console.log(`${c.backend} mss ${c.mss} rate ${c.rate}: INVARIANTS BROKEN: ${broken.map((i) => `${i.name}: ${i.detail}`).join("; ")}`);
  rows.push(row(c, r));
  return (performance.now() - t0) / 1000;
}

/**
 * The sweep: model back end, MSS 1460 and 9000, loss = reorder = 0 .. 5 %, frames handed to the driver in NAPI
 * batches of 64 (Linux's weight). The target sends each 128 KiB read as one C2HData PDU, as Linux's nvmet and
 * SPDK do, then as 4 KiB PDUs (many headers to lose: the hard case). Then what the 1 % point depends on
 * (batching, reorder), and the RTL at MSS 1460 / 1 % beside the model.
 */
export async function benchResync(options: { seed?: number; rtl?: boolean; reads?: number } = {}): Promise<SweepRow[]> {
  const seed = options.seed ?? seedFromEnv();
  const reads = options.reads ?? 48;
  const t0 = performance.now();
  console.log(`resync loss sweep: ${reads} reads of 128 KiB (16 in flight), data digest on; seed ${seed} (SEED=${seed} to reproduce)`);
  const sweep: SweepRow[] = [];
  for (const pdu of [READ_BYTES, PDU])
    for (const mss of MSS)
      for (const rate of RATES)
        await point({ backend: "model", mss, rate, seed: seed + mss + Math.round(rate * 1e4), reads, inFlight: 16, pdu }, sweep);
  printTable("loss = reorder sweep, model, NAPI batches of 64", sweep);
  const inOrder = sweep.filter((r) => r.loss === 0);
  console.log(`0 % rows equal the in-order result (100 % bytes and packets, no resync, no drop): ${inOrder.every((r) => r.bytes === 1 && r.packets === 1 && r.resyncs === 0 && r.drops === 0) ? "yes" : "NO"}`);

  const diag: SweepRow[] = [];
  const at1 = (extra: Partial<PointConfig> & { pdu: number }) => point({ backend: "model", mss: 1460, rate: 0.01, seed: seed + 1560, reads, inFlight: 16, ...extra }, diag);
  for (const pdu of [READ_BYTES, PDU]) {
    for (const napi of [WHOLE_FLUSH, 64, 16]) await at1({ napi, pdu });
    await at1({ impairments: { loss: 0.01 }, pdu });
  }
  printTable("what the 1 % point depends on (model, MSS 1460): batching, PDU size, loss without reorder", diag);

  const rtlRows: SweepRow[] = [];
  if (options.rtl ?? true) {
    for (const pdu of [READ_BYTES, PDU]) {
      const c: PointConfig = { backend: "rtl", mss: 1460, rate: 0.01, seed: seed + 1560, reads, inFlight: 16, pdu };
      const wall = await point(c, rtlRows);
      console.log(`(RTL point ${rtlRows.length}: ${wall.toFixed(1)} s wall)`);
      await point({ ...c, backend: "model" }, rtlRows);
    }
    printTable("RTL (ddp_top) beside the model, same seed and workload (frame order may differ with device timing)", rtlRows);
  }
  console.log(`bench/resync: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  return [...sweep, ...diag, ...rtlRows];
}

export function printTable(title: string, rows: readonly SweepRow[]): void {
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      dev: r.backend,
      mss: r.mss,
      loss: pct(r.loss),
      reord: pct(r.reorder),
      pdu: r.pdu,
      batch: r.delivery,
      qd: r.inFlight,
      "bytes offl": pct(r.bytes),
      "pkts offl": pct(r.packets),
      "resync req": `${r.resyncs} (${pct(r.resyncs / Math.max(1, r.frames))})`,
      "confirm h/d": `${r.hostConfirms}/${r.deviceConfirms}`,
      miss: r.misses,
      drops: `${r.drops} (${pct(r.drops / Math.max(1, r.frames))})`,
      "loss->resume B mean/max": `${Math.round(r.meanGapBytes)}/${r.maxGapBytes}`,
      PDUs: r.meanGapPdus.toFixed(1),
      nvme056: r.bytes >= 0.9 && r.packets >= 0.95 && r.resyncs / Math.max(1, r.frames) < 0.05 && r.drops / Math.max(1, r.frames) < 0.05 ? "pass" : "FAIL",
      inv: r.ok ? "ok" : "BROKEN",
    })),
  );
  console.log("public figures: blktests nvme/056 (no loss injected) wants >= 90 % of bytes and >= 95 % of packets offloaded, resyncs and drops each < 5 % of packets;");
  console.log("netdev 0x16 (netem loss, 512K reads, DDP+CRC vs SW Gb/s): 0 % 149/61, 0.3 % 110/56, 0.7 % 64/42, 1 % 40/32 (no offload ratio published).");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await benchResync({ rtl: process.env.RTL !== "0" });
}
