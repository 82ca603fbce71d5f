// Line-rate measurement of ddp_top (bench/offload.ts and the CI check in ddp_top.diff.test.ts): one flow, its
// buffers registered, then every frame of a traffic mix queued at once with always-ready outputs. From the
// BFM cycle stamps: input beats accepted per cycle over the span of the input (first beat of the first frame
// to last beat of the last), and the latency of every frame (first beat in -> first beat out). The run is
// also a differential run against the model (mismatches reported), and gives the offload ratio.

import { Rng } from "../../src/util/rng.js";
import type { BatchOut, DdpPorts } from "../../src/device/index.js";
import { runScenario } from "./compare.js";
import { Gen, resyncTraffic } from "./generators.js";
import { type Burst, dataBytes, flowAddress, TargetFlow } from "./target.js";

export const MIXES = ["64-byte frames", "jumbo frames", "small PDUs per packet", "mixed"] as const;
export type Mix = (typeof MIXES)[number];

export interface LineRateResult {
  mix: Mix;
  frames: number;
  beatsIn: number;
  cycles: number;
  beatsPerCycle: number;
  /** Distinct latencies seen, in cycles. */
  latencies: number[];
  placedBytes: number;
  c2hDataBytes: number;
  offloadRatio: number;
  mismatches: number;
}

interface MixShape {
  /** Payload bytes per frame (inclusive range). */
  payload: [number, number];
  c2hDataSize: number;
  /** Bytes of reads. */
  bytes: number;
  hdgst: boolean;
  ddgst: boolean;
}

const SHAPES: Record<Mix, MixShape> = {
  // 14 + 20 + 20 header bytes + 10 payload bytes = 64 bytes, 8 beats.
  "64-byte frames": { payload: [10, 10], c2hDataSize: 4096, bytes: 24 * 512, hdgst: false, ddgst: false },
  "jumbo frames": { payload: [8960, 8960], c2hDataSize: 8192, bytes: 640 * 512, hdgst: false, ddgst: true },
  "small PDUs per packet": { payload: [8000, 8960], c2hDataSize: 32, bytes: 512 * 512, hdgst: true, ddgst: true },
  mixed: { payload: [1, 8960], c2hDataSize: 1024, bytes: 384 * 512, hdgst: true, ddgst: true },
};

export async function lineRate(d: DdpPorts, mix: Mix, seed: number): Promise<LineRateResult> {
  const shape = SHAPES[mix];
  const rng = new Rng(seed);
  const g = new Gen(rng, `line rate: ${mix}`);
  const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(9, "v4"), hdgst: shape.hdgst, ddgst: shape.ddgst, isn: rng.u32(), c2hDataSize: shape.c2hDataSize });
  g.b.cmd(flow.ctxAdd(0, g.tag()));
  const cids: number[] = [];
  for (let left = shape.bytes, cid = rng.int(0x1000); left > 0; cid++) {
    const nlb = Math.min(left / 512, 64);
    g.b.cmd(g.setup(0, cid, nlb * 512));
    flow.read(cid, g.nextSlba(nlb), nlb);
    cids.push(cid);
    left -= nlb * 512;
  }
  const burst: Burst = flow.burst();
  const cuts: number[] = [];
  for (let at = rng.range(...shape.payload); at < burst.stream.length; at += rng.range(...shape.payload)) cuts.push(at);
  const frames = flow.cut(burst.stream, burst.seq, cuts);
  g.b.frames(frames, mix);
  g.b.cmd(cids.map((cid) => g.teardown(0, cid)));
  g.b.cmd(g.ctxDel(0));

  let out: BatchOut | undefined;
  const report = await runScenario(g.b.build(), d, {
    maxFramesPerBatch: Infinity,
    onBatch: (b) => {
      if (b.frames.length === frames.length) out = b;
    },
  });
  if (out === undefined) throw new Error(`${mix}: the frames batch did not run`);
  const f = out.frames;
  const beatsIn = frames.reduce((n, x) => n + Math.ceil(x.length / d.dataBytes), 0);
  // Input span: the monitor stamps the first and last beat of each input frame.
  const cycles = f[f.length - 1]!.inEnd - f[0]!.inStart + 1;
  const c2h = dataBytes(burst);
  return {
    mix,
    frames: frames.length,
    beatsIn,
    cycles,
    beatsPerCycle: Number((beatsIn / cycles).toFixed(4)),
    latencies: [...new Set(f.map((x) => x.ringStart - x.inStart))].sort((a, b) => a - b),
    placedBytes: report.placedBytes,
    c2hDataBytes: c2h,
    offloadRatio: c2h === 0 ? 0 : report.placedBytes / c2h,
    mismatches: report.mismatches,
  };
}

export interface ImpairedRatio {
  frames: number;
  placedBytes: number;
  c2hDataBytes: number;
  offloadRatio: number;
  resyncRequests: number;
  resyncConfirms: number;
  searches: number;
  mismatches: number;
}

/**
 * Offload ratio under loss, reordering and duplicates, with the host confirming resync candidates (the
 * closed-loop resync generator): placed bytes / C2HData data bytes, and the resync counters.
 */
export async function impairedRatio(d: DdpPorts, seed: number): Promise<ImpairedRatio> {
  const { scenario, gen } = resyncTraffic(seed, 16);
  const r = await runScenario(scenario, d);
  const stats = r.model.stats as Record<string, number | undefined>;
  return {
    frames: r.frames,
    placedBytes: r.placedBytes,
    c2hDataBytes: gen.c2hDataBytes,
    offloadRatio: gen.c2hDataBytes === 0 ? 0 : r.placedBytes / gen.c2hDataBytes,
    resyncRequests: stats.rxNvmeTcpResync ?? 0,
    resyncConfirms: stats.resyncConfirms ?? 0,
    searches: stats.searches ?? 0,
    mismatches: r.mismatches,
  };
}
