// Runs a scenario through the reference model and through ddp_top (DdpPorts, src/device) and compares, frame by frame:
//   - ring frame: the bytes kept (tkeep 1) equal the model's; the cleared positions are the CQE's segments
//     (checked against the input: ring = input minus exactly those positions) and equal the model's;
//   - CQE: exactly the model's;
//   - DMA: per frame, address -> value and how often each address was written, exactly the model's; every
//     placed byte is the input byte at its frame offset;
//   - events: completions exactly and in order; TEARDOWN_DONE in order (the RTL may emit them later);
//   - latency: every frame leaves `latency` cycles after it entered (outputs always ready).
// Counters are compared by the scenario itself (a STATS_GET command at the end gives completions with data).
//
// Order of commands and frames. The model applies a command between two frames. In the RTL a command acts
// when it completes, on the frames whose head has not yet left the delay line. So a "cmd" step is a barrier:
// the previous batch has fully left the block (the driver waits for every CQE) before the commands are issued,
// and their completions come before the frames after them are sent. A "race" step is deliberate: its frames
// are queued first and the command is issued `delay` cycles later. Which frames it acts on is then read from
// the cycle stamps (completion cycle vs each frame's passage through the tracker, +-RACE_MARGIN cycles):
// frames clearly before or after are compared exactly with the model run in that order; for a frame the
// command may have hit in its middle, the model is run on both orders (clones of its state) and the branch
// that explains the RTL is kept. For such a mid-frame frame only what the race does not decide is compared
// exactly (hit, ctx, crc_ok, ring = input minus the reported segments, DMA = the input bytes at SGL addresses
// that one of the two orders also writes, each RTL segment inside a segment of one of the orders); the
// counters of the kept branch are then moved by what that frame placed in the RTL beyond the branch.

import { OffloadModel, type FrameResult, type OffloadParams } from "../../src/model/offload-model.js";
import {
  type CommandInput,
  type Cqe,
  type DmaWrite,
  type Event,
  EventKind,
  type Segment,
} from "../../src/contract/protocol.js";
import { type BatchOut, type DdpPorts, type FrameOut, isMalformed, type Malformed } from "../../src/device/index.js";
import type { Scenario, Step } from "./scenario.js";

/** Cycles of uncertainty between a completion's stamp and the cycle the command acted in the tracker. */
export const RACE_MARGIN = 10;
const DEFAULT_FRAMES_PER_BATCH = 256;
const MAX_DETAILS = 100000; // TMPDEBUG 12

export interface Mismatch {
  where: string;
  what: string;
  expected?: unknown;
  got?: unknown;
}

export interface RunReport {
  scenario: string;
  frames: number;
  batches: number;
  cycles: number;
  mismatches: number;
  details: Mismatch[];
  /** Distinct s_axis -> m_axis_rx latencies seen (first beat in -> first beat out). */
  latencies: Set<number>;
  /** Placed bytes and C2HData data bytes are not known here; placed bytes by the RTL: */
  placedBytes: number;
  /** Race batches and how their order was decided. */
  races: string[];
  model: OffloadModel;
  /** The model's events over the whole scenario (completions, TEARDOWN_DONE). */
  expectedEvents: Event[];
}

function keptBytes(r: { data: Uint8Array; keep: Uint8Array }): Uint8Array {
  return r.data.filter((_, i) => r.keep[i] === 1);
}

function hex(b: Uint8Array, max = 48): string {
  return Buffer.from(b.subarray(0, max)).toString("hex") + (b.length > max ? `...(${b.length} bytes)` : "");
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Byte-level view of DMA writes: address -> value (later writes win) and how often each address was written. */
export function dmaBytes(writes: readonly DmaWrite[]): { value: Map<bigint, number>; count: Map<bigint, number> } {
  const value = new Map<bigint, number>();
  const count = new Map<bigint, number>();
  for (const w of writes) {
    w.data.forEach((b, i) => {
      const a = w.addr + BigInt(i);
      value.set(a, b);
      count.set(a, (count.get(a) ?? 0) + 1);
    });
  }
  return { value, count };
}

/** JSON.stringify replacer for bigints and byte arrays. */
export function big(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return `0x${v.toString(16)}`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return v;
}

function json(v: unknown): string {
  return JSON.stringify(v, big);
}

class Collector {
  count = 0;
  readonly details: Mismatch[] = [];
  add(m: Mismatch): void {
    this.count++;
    if (this.details.length < MAX_DETAILS) this.details.push(m);
  }
}

/** RTL-side checks that need no model: ring = input minus the CQE's segments, placed bytes = input bytes. */
export function selfConsistency(f: FrameOut): string[] {
  const out: string[] = [];
  if (isMalformed(f.cqe)) return [`malformed CQE: ${f.cqe.malformed} ${json(f.cqe.raw)}`];
  const keep = new Uint8Array(f.input.length).fill(1);
  for (const s of f.cqe.segs) {
    if (s.len === 0 || s.frameOff + s.len > f.input.length) out.push(`segment ${json(s)} outside the ${f.input.length}-byte frame`);
    for (let i = s.frameOff; i < Math.min(s.frameOff + s.len, f.input.length); i++) {
      if (keep[i] === 0) out.push(`segments overlap at frame offset ${i}`);
      keep[i] = 0;
    }
  }
  const want = f.input.filter((_, i) => keep[i] === 1);
  if (!Buffer.from(want).equals(Buffer.from(f.ring))) {
    out.push(`ring bytes are not the input minus the CQE segments (first difference at kept byte ${firstDiff(want, f.ring)}; ring ${f.ring.length} bytes, expected ${want.length})`);
  }
  const placed = Buffer.concat(f.cqe.segs.map((s) => f.input.subarray(s.frameOff, s.frameOff + s.len)));
  const dma = Buffer.concat(f.dma.map((w) => w.data));
  if (!placed.equals(dma)) out.push(`DMA bytes are not the input bytes of the segments (first difference at ${firstDiff(placed, dma)})`);
  return out;
}

function compareDma(where: string, want: readonly DmaWrite[], got: readonly DmaWrite[], c: Collector): void {
  const w = dmaBytes(want);
  const g = dmaBytes(got);
  const issues: string[] = [];
  for (const [a, v] of w.value) {
    if (!g.value.has(a)) issues.push(`0x${a.toString(16)} not written (expected 0x${v.toString(16)})`);
    else if (g.value.get(a) !== v) issues.push(`0x${a.toString(16)} = 0x${g.value.get(a)!.toString(16)}, expected 0x${v.toString(16)}`);
    else if (g.count.get(a) !== w.count.get(a)) issues.push(`0x${a.toString(16)} written ${g.count.get(a)} times, expected ${w.count.get(a)}`);
  }
  for (const a of g.value.keys()) if (!w.value.has(a)) issues.push(`0x${a.toString(16)} written, expected untouched`);
  if (issues.length > 0) c.add({ where, what: `DMA bytes differ at ${issues.length} addresses`, expected: `${w.value.size} bytes`, got: issues.slice(0, 6) });
}

function compareFrame(where: string, want: FrameResult, got: FrameOut, c: Collector): void {
  for (const p of selfConsistency(got)) c.add({ where, what: p });
  const ring = keptBytes(want.ring);
  if (!Buffer.from(ring).equals(Buffer.from(got.ring))) {
    c.add({ where, what: `ring bytes differ (first at kept byte ${firstDiff(ring, got.ring)})`, expected: hex(ring), got: hex(got.ring) });
  }
  if (json(want.cqe) !== json(got.cqe)) c.add({ where, what: "CQE differs", expected: want.cqe, got: got.cqe });
  compareDma(where, want.dma, got.dma, c);
}

/** What a race may leave undecided in one frame (see the file header). */
function relaxedFrameOk(orders: FrameResult[], got: FrameOut, maxSegs: number): string[] {
  const out = selfConsistency(got);
  if (isMalformed(got.cqe)) return out;
  const cqe = got.cqe;
  if (cqe.segs.length > maxSegs) out.push(`${cqe.segs.length} segments, more than MAX_SEGS`);
  const first = orders[0]!.cqe;
  if (cqe.hit !== first.hit || cqe.ctx !== first.ctx || cqe.resync !== first.resync) out.push(`hit/ctx/resync differ from the model`);
  if (!orders.some((o) => o.cqe.crcOk === cqe.crcOk)) out.push(`crc_ok ${cqe.crcOk} matches no order`);
  const inside = (s: Segment) =>
    orders.some((o) => o.cqe.segs.some((m) => m.cid === s.cid && s.frameOff >= m.frameOff && s.frameOff + s.len <= m.frameOff + m.len && s.bufOff - m.bufOff === s.frameOff - m.frameOff));
  for (const s of cqe.segs) if (!inside(s)) out.push(`segment ${json(s)} is inside no segment of either order`);
  const allowed = new Map<bigint, number>();
  for (const o of orders) for (const [a, v] of dmaBytes(o.dma).value) allowed.set(a, v);
  for (const [a, v] of dmaBytes(got.dma).value) if (allowed.get(a) !== v) out.push(`DMA byte at 0x${a.toString(16)} written by neither order`);
  return out;
}

function placed(r: { cqe: Cqe | Malformed }): number {
  return isMalformed(r.cqe) ? 0 : r.cqe.segs.reduce((n, s) => n + s.len, 0);
}

export interface RunOptions {
  params?: Partial<OffloadParams>;
  /** Check that every frame's latency equals the driver's LIMITS_GET latency (default true). */
  checkLatency?: boolean;
  /** Called after every batch with the RTL's output (security checks). */
  onBatch?: (out: BatchOut, step: Step) => void;
  /** Compare with the model (default true); false runs the RTL only (onBatch does the checking). */
  compare?: boolean;
  /** Frames per round trip (default 256). */
  maxFramesPerBatch?: number;
}

/**
 * Runs the scenario on the model and, when `driver` is given, on the RTL, comparing as it goes. Without a
 * driver only the model runs (for generator checks); `details` then stays empty.
 */
export async function runScenario(sc: Scenario, driver: DdpPorts | undefined, opts: RunOptions = {}): Promise<RunReport> {
  let model = new OffloadModel({ ...opts.params, latency: driver?.latency ?? 0 });
  const c = new Collector();
  const report: RunReport = {
    scenario: sc.name,
    frames: 0,
    batches: 0,
    cycles: 0,
    mismatches: 0,
    details: c.details,
    latencies: new Set(),
    placedBytes: 0,
    races: [],
    model,
    expectedEvents: [],
  };
  const wantEvents: Event[] = report.expectedEvents;
  /** The command of each expected completion, in order (for the report). */
  const completionOf: CommandInput[] = [];
  const noteCommands = (beats: readonly CommandInput[]) => {
    for (const b of beats) if (b.op !== 3 || ((b.flags ?? 0) & 1) === 1) completionOf.push(b);
  };
  const gotEvents: (Event | Malformed)[] = [];
  const t0 = driver?.harness.cycle ?? 0;
  const MAX_FRAMES_PER_BATCH = opts.maxFramesPerBatch ?? DEFAULT_FRAMES_PER_BATCH;

  // Barrier batches: a cmd step and the frames step right after it run as one batch.
  const batches: { beats: CommandInput[]; frames: Uint8Array[]; race?: { delay: number }; note: string; step: Step }[] = [];
  for (let i = 0; i < sc.steps.length; i++) {
    const s = sc.steps[i]!;
    if (s.kind === "race") {
      batches.push({ beats: s.beats, frames: s.frames, race: { delay: s.delay }, note: s.note ?? `step ${i} race`, step: s });
      continue;
    }
    if (s.kind === "cmd") {
      const next = sc.steps[i + 1];
      const frames = next?.kind === "frames" ? next.frames : [];
      if (next?.kind === "frames") i++;
      const chunks = Math.max(1, Math.ceil(frames.length / MAX_FRAMES_PER_BATCH));
      for (let k = 0; k < chunks; k++) {
        batches.push({ beats: k === 0 ? s.beats : [], frames: frames.slice(k * MAX_FRAMES_PER_BATCH, (k + 1) * MAX_FRAMES_PER_BATCH), note: s.note ?? `step ${i}`, step: s });
      }
      continue;
    }
    for (let k = 0; k < s.frames.length; k += MAX_FRAMES_PER_BATCH) {
      batches.push({ beats: [], frames: s.frames.slice(k, k + MAX_FRAMES_PER_BATCH), note: s.note ?? `step ${i}`, step: s });
    }
  }

  let frameNo = 0;
  for (const [bi, b] of batches.entries()) {
    const where = (j: number) => `${sc.name} batch ${bi} (${b.note}) frame ${frameNo + j} (#${j} of the batch)`;
    report.batches++;
    noteCommands(b.beats);
    if (b.race === undefined) {
      for (const beat of b.beats) model.command(beat);
      const events = model.events();
      wantEvents.push(...events);
      const want = b.frames.map((f) => model.frame(f));
      if (driver !== undefined) {
        const teardowns = events.filter((e) => e.kind === EventKind.TEARDOWN_DONE).length;
        const out = await driver.batch({ beats: b.beats, frames: b.frames, extraEvents: teardowns });
        for (const p of out.problems) c.add({ where: `${sc.name} batch ${bi} (${b.note})`, what: p });
        gotEvents.push(...out.events.map((e) => e.value));
        out.frames.forEach((f, j) => {
          if (want[j] && opts.compare !== false) compareFrame(where(j), want[j], f, c);
          report.latencies.add(f.ringStart - f.inStart);
          if (opts.checkLatency !== false && f.ringStart - f.inStart !== driver.latency) {
            c.add({ where: where(j), what: `latency ${f.ringStart - f.inStart} (in ${f.inStart}..${f.inEnd}, ring ${f.ringStart}..${f.ringEnd}, ${f.input.length} bytes, CQE ${json(f.cqe)})` });
          }
          report.placedBytes += placed(f);
        });
        if (b.beats.length > 0 && out.frames.length > 0) {
          // The commands must have completed before the first frame of the batch reached the tracker.
          const lastCompletion = Math.max(...out.events.filter((e) => !isMalformed(e.value) && e.value.kind === EventKind.COMPLETION).map((e) => e.cycle));
          if (lastCompletion > out.frames[0]!.ringStart - RACE_MARGIN) {
            c.add({ where: where(0), what: `commands completed at cycle ${lastCompletion}, too late for the frames after them (ring start ${out.frames[0]!.ringStart})` });
          }
        }
        opts.onBatch?.(out, b.step);
      }
    } else {
      // A race: decide the order from the stamps, branch the model where it is ambiguous.
      if (driver === undefined) {
        for (const f of b.frames) model.frame(f);
        for (const beat of b.beats) model.command(beat);
        wantEvents.push(...model.events());
      } else {
        const out = await driver.batch({ beats: b.beats, frames: b.frames, raceDelay: b.race.delay });
        for (const p of out.problems) c.add({ where: `${sc.name} batch ${bi} (${b.note})`, what: p });
        gotEvents.push(...out.events.map((e) => e.value));
        const done = out.events.find((e) => !isMalformed(e.value) && e.value.kind === EventKind.COMPLETION)?.cycle ?? Infinity;
        const n = out.frames.length;
        // Insertion point ip: the command acts before frame ip.
        let lo = 0;
        while (lo < n && out.frames[lo]!.ringEnd < done - RACE_MARGIN) lo++;
        let hi = lo;
        while (hi < n && out.frames[hi]!.ringStart <= done + RACE_MARGIN) hi++;
        // Frames lo..hi-1 are ambiguous; candidates ip in [lo, hi].
        const branches: { ip: number; m: OffloadModel; res: FrameResult[]; events: Event[]; wide: FrameResult[] }[] = [];
        const play = (m: OffloadModel, ip: number) => {
          const res: FrameResult[] = [];
          for (let j = 0; j < n; j++) {
            if (j === ip) for (const beat of b.beats) m.command(beat);
            res.push(m.frame(b.frames[j]!));
          }
          if (ip === n) for (const beat of b.beats) m.command(beat);
          return res;
        };
        for (let ip = lo; ip <= hi; ip++) {
          const m = model.clone();
          const res = play(m, ip);
          // The same order without the MAX_SEGS cap: a command acting mid-frame can move which PDUs of the
          // frame get the segment slots, so the relaxed check allows any PDU's data.
          const wide = model.clone();
          (wide.params as { maxSegs: number }).maxSegs = Number.MAX_SAFE_INTEGER;
          const wideRes = play(wide, ip);
          branches.push({ ip, m, res, events: m.events(), wide: wideRes });
        }
        if (opts.compare === false) branches.splice(1);
        let best: { ip: number; m: OffloadModel; events: Event[]; bad: Collector; relaxed: number[] } | undefined;
        for (const br of branches) {
          const bad = new Collector();
          const relaxed: number[] = [];
          out.frames.forEach((f, j) => {
            if (opts.compare === false) return;
            const exact = new Collector();
            compareFrame(where(j), br.res[j]!, f, exact);
            if (exact.count === 0) return;
            const ambiguous = j >= lo && j < hi;
            const problems = ambiguous ? relaxedFrameOk(branches.flatMap((x) => [x.res[j]!, x.wide[j]!]), f, driver.maxSegs) : ["not ambiguous"];
            if (problems.length === 0) relaxed.push(j);
            else for (const d of exact.details) bad.add(d);
          });
          if (best === undefined || bad.count < best.bad.count) best = { ip: br.ip, m: br.m, events: br.events, bad, relaxed };
          if (bad.count === 0) break;
        }
        model = best!.m;
        report.model = model;
        for (const j of best!.relaxed) {
          // The RTL placed part of what the chosen order placed (or more): move the counters by the difference.
          const br = branches.find((x) => x.ip === best!.ip)!;
          const extra = placed(out.frames[j]!) - placed(br.res[j]!);
          model.stats.rxNvmeTcpBytes += extra;
          const had = placed(br.res[j]!) > 0 || br.res[j]!.cqe.crcOk;
          const has = placed(out.frames[j]!) > 0 || (!isMalformed(out.frames[j]!.cqe) && out.frames[j]!.cqe.crcOk);
          model.stats.rxNvmeTcpPackets += Number(has) - Number(had);
        }
        for (const d of best!.bad.details) c.add(d);
        c.count += Math.max(0, best!.bad.count - best!.bad.details.length);
        wantEvents.push(...best!.events);
        report.races.push(`${b.note}: completion at ${done}, frames ${lo}..${hi - 1} of ${n} ambiguous, order ip=${best!.ip}${best!.relaxed.length ? `, mid-frame at ${best!.relaxed.join(",")}` : ""}`);
        out.frames.forEach((f, j) => {
          report.latencies.add(f.ringStart - f.inStart);
          if (opts.checkLatency !== false && f.ringStart - f.inStart !== driver.latency) {
            c.add({ where: where(j), what: `latency ${f.ringStart - f.inStart} (in ${f.inStart}..${f.inEnd}, ring ${f.ringStart}..${f.ringEnd}, ${f.input.length} bytes)` });
          }
          report.placedBytes += placed(f);
        });
        opts.onBatch?.(out, b.step);
      }
    }
    frameNo += b.frames.length;
    report.frames += b.frames.length;
  }

  if (driver !== undefined && opts.compare !== false) {
    // Events: per kind, in order within the kind.
    for (const kind of [EventKind.COMPLETION, EventKind.RESYNC_REQUEST, EventKind.TEARDOWN_DONE]) {
      const w = wantEvents.filter((e) => e.kind === kind);
      const g = gotEvents.filter((e) => !isMalformed(e) && e.kind === kind);
      const n = Math.max(w.length, g.length);
      for (let i = 0; i < n; i++) {
        const cmd = kind === EventKind.COMPLETION ? completionOf[i] : undefined;
        const what = cmd === undefined ? "event differs" : `completion differs (command op ${cmd.op} ctx ${cmd.ctx ?? 0} cid ${cmd.cid ?? 0} index ${cmd.index ?? 0})`;
        if (json(w[i]) !== json(g[i])) c.add({ where: `${sc.name} event kind ${kind} #${i}`, what, expected: w[i], got: g[i] });
      }
    }
    for (const e of gotEvents) if (isMalformed(e)) c.add({ where: `${sc.name} events`, what: `malformed event: ${e.malformed}`, got: e.raw });
    // Across kinds: a TEARDOWN_DONE always follows its TAG_TEARDOWN's completion (contract 2).
    const completedCookies = new Set<number>();
    let nCompletion = 0;
    for (const e of gotEvents) {
      if (isMalformed(e)) continue;
      if (e.kind === EventKind.COMPLETION) {
        const cmd = completionOf[nCompletion++];
        if (cmd?.op === 4) completedCookies.add(cmd.cookie ?? 0);
      } else if (e.kind === EventKind.TEARDOWN_DONE && !completedCookies.has(e.cookie)) {
        c.add({ where: `${sc.name} events`, what: `TEARDOWN_DONE cookie ${e.cookie} before its TAG_TEARDOWN's completion` });
      }
    }
  }
  if (driver !== undefined) report.cycles = driver.harness.cycle - t0;
  report.mismatches = c.count;
  return report;
}

/** A printable summary of a report. */
export function describeReport(r: RunReport): string {
  const lines = [
    `${r.scenario}: ${r.frames} frames in ${r.batches} batches, ${r.cycles} cycles, ${r.mismatches} mismatches, latency ${[...r.latencies].join("/")}, RTL placed ${r.placedBytes} bytes`,
    ...r.races.map((x) => `  race ${x}`),
    ...r.details.map((d) => `  ${d.where}: ${d.what}${d.expected === undefined ? "" : `\n    expected ${json(d.expected)}`}${d.got === undefined ? "" : `\n    got      ${json(d.got)}`}`),
  ];
  return lines.join("\n");
}
