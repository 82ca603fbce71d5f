// The loss sweep (public-figures 1.4 netdev 0x16 netem loss; 1.5 blktests nvme/056 thresholds): 128 KiB reads
// with data digests through the whole stack (target -> impaired wire -> offload device -> driver -> TCP -> host
// with DDP), loss and reordering at 0 .. 5 %, MSS 1460 and 9000. Per point: offload ratio in bytes and in data
// packets, resync requests and confirms, drops, and how far the stream runs from a loss to the resumed offload
// (bytes and PDUs). The model back end runs the sweep; the RTL back end runs one point beside it.
// Run alone with `npx tsx bench/resync.ts` (SEED=<n> to reproduce, RTL=0 to skip the RTL point).
//
// Also exports the pieces test/e2e/resync.test.ts uses: RecordingDevice (per-frame CQE record, and a scripted
// hold-back of chosen frames in front of the device, i.e. a wire that loses exactly those frames and
// retransmits them later) and the read loop with the end-to-end invariants.

import { pathToFileURL } from "node:url";
import { type FrameBatch, type OffloadDevice, openDevice, PassThroughDevice } from "../src/device/index.js";
import { HostMemory } from "../src/contract/host-memory.js";
import { Op, STAT_NAMES, Status } from "../src/contract/protocol.js";
import { ParseError } from "../src/net/errors.js";
import { parseFrame } from "../src/net/frame.js";
import { seqDiff } from "../src/net/seq.js";
import { PduType } from "../src/pdu/pdu.js";
import type { SentPdu } from "../src/nvmet/controller.js";
import { closeSession, NAPI_WEIGHT, openSession, type QueuePair, runQueues, type Session, type SessionConfig } from "../src/stack/session.js";
import type { WireImpairments } from "../src/nvmet/wire.js";
import { Rng, seedFromEnv } from "../src/util/rng.js";

// ---------------------------------------------------------------------------------------------------------
// A device wrapper: records each frame's CQE, and may hold chosen frames back (a scripted lossy wire).

export interface FrameInfo {
  /** Source port of the frame (the target's side: 4420 for every queue) and destination port (the host's). */
  dstPort: number;
  seq: number;
  len: number;
}

export interface FrameRecord extends FrameInfo {
  hit: boolean;
  /** Placed bytes as [seq of the first byte, length]. */
  placed: [number, number][];
  resync: number | undefined;
  crcOk: boolean;
}

/** Returns how many frames later a frame should go to the device (a loss with late retransmission), or 0. */
export type HoldPolicy = (f: FrameInfo) => number;

export class RecordingDevice extends PassThroughDevice {
  readonly records: FrameRecord[] = [];
  hold: HoldPolicy | undefined;
  /** Frames the hold policy delayed. */
  held = 0;

  override async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    const infos = frames.map(info);
    // Held frames go out `d` frames later (or at the end of the batch): TCP then sees a gap, then the data.
    let order = frames.map((_, i) => i);
    if (this.hold) {
      const due: { at: number; i: number }[] = [];
      const out: number[] = [];
      frames.forEach((_, i) => {
        const inf = infos[i];
        const d = inf ? this.hold!(inf) : 0;
        if (d > 0) {
          this.held++;
          due.push({ at: i + d, i });
        } else {
          out.push(i);
        }
        for (const x of due.filter((x) => x.at === i)) out.push(x.i);
      });
      for (const x of due.filter((x) => x.at >= frames.length)) out.push(x.i);
      order = out;
    }
    const batch = await this.inner.frames(order.map((i) => frames[i]!));
    batch.frames.forEach((r, k) => {
      const inf = infos[order[k]!];
      if (!inf) return;
      const payloadOffset = frames[order[k]!]!.length - inf.len;
      this.records.push({
        ...inf,
        hit: r.cqe.hit,
        placed: r.cqe.segs.map((s) => [(inf.seq + s.frameOff - payloadOffset) >>> 0, s.len]),
        resync: r.cqe.resync ? r.cqe.resyncSeq : undefined,
        crcOk: r.cqe.crcOk,
      });
    });
    return batch;
  }
}

/** Seq and payload length of a TCP frame from the target (port 4420), else undefined. */
function info(frame: Uint8Array): FrameInfo | undefined {
  try {
    const f = parseFrame(frame);
    if (!f.tcp || f.tcp.srcPort !== 4420 || f.payload.length === 0) return undefined;
    return { dstPort: f.tcp.dstPort, seq: f.tcp.seq, len: f.payload.length };
  } catch (e) {
    if (e instanceof ParseError) return undefined;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reads with the end-to-end invariants.

export interface ReadsResult {
  violations: string[];
  reads: number;
  bytesRead: number;
  host: QueuePair["host"]["counters"];
  stats: Record<string, number>;
}

/**
 * `count` reads of `nlb` blocks per I/O queue (`inFlight` at a time), each checked against the namespace's own
 * contents; then the queues stop and the invariants are checked: the stream TCP delivered equals the wire
 * stream, nothing outside registered buffers changed, setup == teardown, sk-add == sk-del.
 */
export async function runReads(s: Session, o: { seed: number; count: number; nlb: number; inFlight: number }): Promise<ReadsResult> {
  const rng = new Rng(o.seed);
  const violations: string[] = [];
  let reads = 0;
  let bytesRead = 0;
  const ns = s.namespace;
  const perQueue = s.ios.map(async (q, qi) => {
    const r = rng.fork();
    for (let done = 0; done < o.count; ) {
      const n = Math.min(o.inFlight, o.count - done);
      const ops = Array.from({ length: n }, () => r.int(ns.blocks - o.nlb + 1));
      const results = await Promise.all(ops.map((slba) => q.host.read(1, slba, o.nlb)));
      results.forEach((res, k) => {
        const want = ns.read(ops[k]!, o.nlb);
        if (res.status !== 0) violations.push(`queue ${qi + 1}: read at ${ops[k]} status 0x${res.status.toString(16)}`);
        else if (!Buffer.from(res.data).equals(Buffer.from(want))) violations.push(`queue ${qi + 1}: read at ${ops[k]} returned other bytes than the namespace's`);
        reads++;
        bytesRead += want.length;
      });
      done += n;
    }
  });
  await runQueues(s.ios, Promise.all(perQueue));
  for (const q of s.ios) if (q.host.failure) violations.push(`queue ${q.host.cntlid}: ${q.host.failure.message}`);
  const host = s.ios.map((q) => ({ ...q.host.counters })).reduce((sum, c) => {
    for (const k of Object.keys(c) as (keyof typeof c)[]) sum[k] += c[k];
    return sum;
  });
  await runQueues(s.ios, closeSession(s));
  const check = (ok: boolean, what: string): void => {
    if (!ok) violations.push(what);
  };
  s.ios.forEach((q, i) => {
    check(q.stream.equal, `queue ${i + 1}: TCP delivered ${q.stream.deliveredBytes} bytes, the target sent ${q.stream.wireBytes}; first difference at ${q.stream.mismatchAt}`);
    check(q.host.outstanding === 0, `queue ${i + 1}: ${q.host.outstanding} commands outstanding`);
  });
  check(host.bytesCopied + host.bytesPlaced === bytesRead, `copied ${host.bytesCopied} + placed ${host.bytesPlaced} != ${bytesRead}`);
  const d = s.driver!;
  const st = await d.getStats();
  check(st["rx-nvme-tcp-setup"] === st["rx-nvme-tcp-teardown"], `setup ${st["rx-nvme-tcp-setup"]} != teardown ${st["rx-nvme-tcp-teardown"]}`);
  check(st["rx-nvme-tcp-sk-add"] === st["rx-nvme-tcp-sk-del"], `sk-add ${st["rx-nvme-tcp-sk-add"]} != sk-del ${st["rx-nvme-tcp-sk-del"]}`);
  check(d.tagsHeld === 0, `${d.tagsHeld} tags still held`);
  check(st["rx-nvme-tcp-bytes"] === d.rx.placedBytes, `device placed ${st["rx-nvme-tcp-bytes"]}, CQEs say ${d.rx.placedBytes}`);
  const guards = s.memory?.checkGuards() ?? [];
  check(guards.length === 0, `${guards.length} host bytes outside registered buffers changed (first at 0x${guards[0]?.addr.toString(16)})`);
  // The section 7 counters (STATS_GET 11..13) where the device has them.
  const stats: Record<string, number> = { ...st };
  const extra = STAT_NAMES.slice(11);
  const { completions } = await d.device.commands(extra.map((n, tag) => ({ op: Op.STATS_GET, tag, index: STAT_NAMES.indexOf(n) })));
  extra.forEach((n, i) => {
    if (completions[i]?.status === Status.OK) stats[n] = Number(completions[i]!.data);
  });
  return { violations, reads, bytesRead, host, stats };
}

// ---------------------------------------------------------------------------------------------------------
// Offload figures from the frame records and the target's record of what it sent.

export interface Figures {
  /** Placed C2HData bytes / C2HData bytes. */
  bytes: number;
  /** Frames carrying C2HData data that had some placed / all such frames (retransmissions included). */
  packets: number;
  dataPackets: number;
  frames: number;
  /** Runs of unplaced C2HData bytes between placed ones (each loss episode, a data-only gap included). */
  episodes: number;
  /** Per episode: stream bytes from the first unplaced data byte to the next placed byte; C2HData PDUs touched. */
  gapBytes: number[];
  gapPdus: number[];
}

export function figures(q: QueuePair, records: readonly FrameRecord[]): Figures {
  const sent = q.target.sent;
  const isn = sent[0]!.seq; // the ICResp, the first byte of the stream
  const port = q.socket.flow.dstPort;
  const mine = records.filter((r) => r.dstPort === port);
  // Data ranges of every C2HData PDU as stream offsets (the honest target: data right before an optional DDGST).
  const ranges = sent
    .filter((p: SentPdu) => p.type === PduType.C2HData && p.datal !== undefined)
    .map((p) => {
      const start = seqDiff(p.seq, isn) + p.length - p.datal! - (p.ddgst ? 4 : 0);
      return { start, end: start + p.datal! };
    })
    .sort((a, b) => a.start - b.start);
  const total = ranges.reduce((n, r) => n + r.end - r.start, 0);
  const placedRuns: [number, number][] = [];
  let placedBytes = 0;
  let dataPackets = 0;
  let placedPackets = 0;
  for (const r of mine) {
    const fs = seqDiff(r.seq, isn);
    const fe = fs + r.len;
    if (overlaps(ranges, fs, fe)) {
      dataPackets++;
      if (r.placed.length > 0) placedPackets++;
    }
    for (const [seq, len] of r.placed) {
      const at = seqDiff(seq, isn);
      placedRuns.push([at, at + len]);
      placedBytes += len;
    }
  }
  // Unplaced data runs in stream order: walk the data ranges minus the placed intervals.
  placedRuns.sort((a, b) => a[0] - b[0]);
  const gapBytes: number[] = [];
  const gapPdus: number[] = [];
  let k = 0;
  let open: { start: number; pdus: number } | undefined;
  for (const r of ranges) {
    let at = r.start;
    let touched = false;
    while (at < r.end) {
      while (k < placedRuns.length && placedRuns[k]![1] <= at) k++;
      const p = placedRuns[k];
      if (p && p[0] <= at) {
        if (open) {
          gapBytes.push(at - open.start);
          gapPdus.push(open.pdus);
          open = undefined;
        }
        at = Math.min(r.end, p[1]);
        touched = false;
      } else {
        const next = p ? Math.min(p[0], r.end) : r.end;
        if (!open) open = { start: at, pdus: 0 };
        if (!touched) {
          open.pdus++;
          touched = true;
        }
        at = next;
      }
    }
  }
  if (open) {
    gapBytes.push(ranges[ranges.length - 1]!.end - open.start);
    gapPdus.push(open.pdus);
  }
  return { bytes: total === 0 ? 0 : placedBytes / total, packets: dataPackets === 0 ? 0 : placedPackets / dataPackets, dataPackets, frames: mine.length, episodes: gapBytes.length, gapBytes, gapPdus };
}

function overlaps(ranges: readonly { start: number; end: number }[], s: number, e: number): boolean {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.end <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo < ranges.length && ranges[lo]!.start < e;
}

// ---------------------------------------------------------------------------------------------------------
// One point of the sweep.

export interface PointConfig {
  backend: "model" | "rtl";
  mss: number;
  /** Loss and reorder rate (each). */
  rate: number;
  seed: number;
  reads: number;
  inFlight: number;
  /** Extra session settings (digests default: data digest on, header digest off). */
  session?: Partial<Omit<SessionConfig, "seed" | "nic">>;
  impairments?: WireImpairments;
  /**
   * Frames per driver.receive call, with TCP and the host run between calls (the session's napiBudget; default
   * NAPI_WEIGHT = 64). Infinity: one call per target flush, i.e. every response of the reads in flight at once.
   */
  napi?: number;
}

export interface PointResult {
  config: PointConfig;
  figures: Figures;
  reads: ReadsResult;
  resyncRequests: number;
  /** Confirms the host sent (host side) and the device accepted (STATS_GET 11, when the device has it). */
  hostConfirms: number;
  deviceConfirms: number | undefined;
  drops: number;
  wallSeconds: number;
}

export const READ_BYTES = 128 * 1024;

export async function runPoint(c: PointConfig, device?: OffloadDevice): Promise<PointResult> {
  const t0 = performance.now();
  const memory = device?.memory ?? new HostMemory();
  const inner = device ?? (await openDevice(c.backend, memory));
  const rec = new RecordingDevice(inner);
  const impairments = c.impairments ?? (c.rate > 0 ? { loss: c.rate, reorder: c.rate } : undefined);
  const session = await openSession({
    seed: c.seed,
    hdgst: false,
    ddgst: true,
    queueDepth: 32,
    // One 128 KiB block per read: the namespace's own reads are exactly the I/O size.
    blockSize: READ_BYTES,
    blocks: 4096,
    mss: c.mss,
    ...(impairments ? { impairments } : {}),
    ...c.session,
    // 16 SGL entries of 8 KiB: the whole 128 KiB read fits MAX_SGL.
    nic: { device: rec, pageSize: 8192, ...(c.napi !== undefined ? { napiBudget: c.napi } : {}) },
  });
  try {
    const reads = await runReads(session, { seed: c.seed ^ 0x5eed, count: c.reads, nlb: 1, inFlight: c.inFlight });
    const figs = figures(session.io, rec.records);
    return {
      config: c,
      figures: figs,
      reads,
      resyncRequests: reads.stats["rx-nvme-tcp-resync"] ?? 0,
      hostConfirms: reads.host.resyncConfirmed,
      deviceConfirms: reads.stats.resyncConfirms,
      drops: reads.stats["rx-nvme-tcp-drop"] ?? 0,
      wallSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (!device) await inner.close();
  }
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
  /** Retransmission delay of a lost frame, in frames pushed. */
  rtx: string;
  inFlight: number;
  bytes: number;
  packets: number;
  resyncs: number;
  hostConfirms: number;
  deviceConfirms: number | undefined;
  misses: number | undefined;
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

function row(r: PointResult): SweepRow {
  const f = r.figures;
  const c = r.config;
  const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  return {
    backend: c.backend,
    mss: c.mss,
    loss: c.impairments ? (c.impairments.loss ?? 0) : c.rate,
    reorder: c.impairments ? (c.impairments.reorder ?? 0) : c.rate,
    pdu: c.session?.c2hDataSize ?? PDU,
    delivery: (c.napi ?? NAPI_WEIGHT) === Infinity ? "flush" : `napi ${c.napi ?? NAPI_WEIGHT}`,
    rtx: JSON.stringify(c.impairments?.retransmitDelay ?? [3, 8]),
    inFlight: c.inFlight,
    bytes: f.bytes,
    packets: f.packets,
    resyncs: r.resyncRequests,
    hostConfirms: r.hostConfirms,
    deviceConfirms: r.deviceConfirms,
    misses: r.reads.stats.resyncMisses,
    drops: r.drops,
    frames: f.frames,
    episodes: f.episodes,
    meanGapBytes: mean(f.gapBytes),
    maxGapBytes: Math.max(0, ...f.gapBytes),
    meanGapPdus: mean(f.gapPdus),
    ok: r.reads.violations.length === 0,
  };
}

async function point(c: PointConfig, rows: SweepRow[]): Promise<PointResult> {
  const r = await runPoint(c);
  if (r.reads.violations.length > 0) console.log(`${c.backend} mss ${c.mss} rate ${c.rate}: INVARIANTS BROKEN: ${r.reads.violations.join("; ")}`);
  rows.push(row(r));
  return r;
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
        await point({ backend: "model", mss, rate, seed: seed + mss + Math.round(rate * 1e4), reads, inFlight: 16, session: { c2hDataSize: pdu } }, sweep);
  printTable("loss = reorder sweep, model, NAPI batches of 64", sweep);
  const inOrder = sweep.filter((r) => r.loss === 0);
  console.log(`0 % rows equal the in-order result (100 % bytes and packets, no resync, no drop): ${inOrder.every((r) => r.bytes === 1 && r.packets === 1 && r.resyncs === 0 && r.drops === 0) ? "yes" : "NO"}`);

  const diag: SweepRow[] = [];
  const at1 = (extra: Partial<PointConfig>) => point({ backend: "model", mss: 1460, rate: 0.01, seed: seed + 1560, reads, inFlight: 16, ...extra }, diag);
  for (const pdu of [READ_BYTES, PDU]) {
    for (const napi of [Infinity, 64, 16]) await at1({ napi, session: { c2hDataSize: pdu } });
    await at1({ impairments: { loss: 0.01 }, session: { c2hDataSize: pdu } });
  }
  printTable("what the 1 % point depends on (model, MSS 1460): batching, PDU size, loss without reorder", diag);

  const rtlRows: SweepRow[] = [];
  if (options.rtl ?? true) {
    for (const pdu of [READ_BYTES, PDU]) {
      const c: PointConfig = { backend: "rtl", mss: 1460, rate: 0.01, seed: seed + 1560, reads, inFlight: 16, session: { c2hDataSize: pdu } };
      const r = await point(c, rtlRows);
      console.log(`(RTL point ${rtlRows.length}: ${r.wallSeconds.toFixed(1)} s wall)`);
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
      rtx: r.rtx,
      qd: r.inFlight,
      "bytes offl": pct(r.bytes),
      "pkts offl": pct(r.packets),
      "resync req": `${r.resyncs} (${pct(r.resyncs / Math.max(1, r.frames))})`,
      "confirm h/d": `${r.hostConfirms}/${r.deviceConfirms ?? "-"}`,
      miss: r.misses ?? "-",
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
