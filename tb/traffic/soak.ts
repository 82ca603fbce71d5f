// The soak: seeded random differential traffic for ddp_top, one scenario per seed, each drawn from every kind the
// generators make (clean and impaired wires, command races, malicious targets, bit flips, corrupted and
// overflowing PDU headers, hand-built PDU streams, header splits, full tables, caps toggling, resync, frames
// around MAX_FRAME, back-pressure on every port). Each scenario runs on the RTL against the model (compare.ts)
// and is checked on the RTL alone (Integrity): writes outside registered buffers, frames dropped, reordered or
// modified. A scenario depends on its seed only, so the seed of a failure reproduces it alone.
// scripts/soak.ts spreads scenarios over worker processes; bench/soak.ts measures the speed.

import { z } from "zod";
import type { Harness } from "../../src/cosim/index.js";
import { type BatchOut, DdpPorts, type FrameOut, isMalformed, type PortGroup } from "../../src/device/index.js";
import { EventKind, type SglEntry, sglSlices } from "../../src/contract/protocol.js";
import { LIES } from "../../src/nvmet/controller.js";
import { Rng } from "../../src/util/rng.js";
import { randomPauseString } from "../pauses.js";
import { describeReport, runScenario } from "./compare.js";
import {
  aroundMaxFrame,
  capsToggle,
  corruptedHeaders,
  fullTables,
  type Gen,
  headerSplits,
  overflowHeaders,
  pduStreams,
  randomTraffic,
  type RandomTrafficOptions,
  resyncTraffic,
  type TagRecord,
} from "./generators.js";
import type { Scenario } from "./scenario.js";

const Count = z.number().int().nonnegative();

/** What a soak counts; every one of them must stay 0. */
export const SoakCountsSchema = z.strictObject({
  /** Differences between the RTL and the model (compare.ts). */
  mismatches: Count,
  /** DMA bytes outside the buffer registered for their (ctx, cid), or into a buffer after its TEARDOWN_DONE. */
  outsideWrites: Count,
  dropped: Count,
  reordered: Count,
  modified: Count,
});
export type SoakCounts = z.infer<typeof SoakCountsSchema>;
export const COUNT_NAMES: Record<keyof SoakCounts, string> = {
  mismatches: "mismatches (RTL against the model)",
  outsideWrites: "writes outside registered buffers",
  dropped: "frames dropped",
  reordered: "frames reordered",
  modified: "frames modified",
};

export function zeroCounts(): SoakCounts {
  return { mismatches: 0, outsideWrites: 0, dropped: 0, reordered: 0, modified: 0 };
}

const COUNT_KEYS = Object.keys(COUNT_NAMES) as (keyof SoakCounts)[];

export function addCounts(a: SoakCounts, b: SoakCounts): SoakCounts {
  const out = { ...a };
  for (const k of COUNT_KEYS) out[k] += b[k];
  return out;
}

/** Whether every count is 0 (of counts, or of a result that carries them). */
export function countsClean(c: SoakCounts): boolean {
  return COUNT_KEYS.every((k) => c[k] === 0);
}

const MAX_DETAILS = 8;

// ---------------------------------------------------------------- the checks that need no model

interface Piece {
  addr: bigint;
  len: number;
}

/** Contiguous runs of address pieces, adjacent ones merged (two placements are equal if their runs are). */
function runsOf(pieces: readonly Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last !== undefined && last.addr + BigInt(last.len) === p.addr) last.len += p.len;
    else if (p.len > 0) out.push({ ...p });
  }
  return out;
}

/** The addresses of bytes [off, off + len) of a buffer made of `sgl`, as runs (empty if they do not fit it). */
function sglRuns(sgl: readonly SglEntry[], off: number, len: number): Piece[] {
  const pieces = sglSlices(sgl, off, len);
  return pieces.reduce((n, p) => n + p.len, 0) === len ? runsOf(pieces) : [];
}

const sameRuns = (a: readonly Piece[], b: readonly Piece[]): boolean => a.length === b.length && a.every((p, i) => p.addr === b[i]!.addr && p.len === b[i]!.len);

/**
 * The checks of DESIGN 4.3.4 / 4.4 on the RTL's output alone, batch after batch: one ring frame per input frame,
 * in order, whose ring bytes plus placed bytes rebuild the input exactly; every placed segment written to the
 * SGL addresses of a buffer registered for its (ctx, cid), at its buffer offset; no DMA write into a buffer
 * after the TEARDOWN_DONE that released it; and, at the end, no guard byte or unregistered address written.
 */
export class Integrity {
  readonly counts: Pick<SoakCounts, "outsideWrites" | "dropped" | "reordered" | "modified"> = { outsideWrites: 0, dropped: 0, reordered: 0, modified: 0 };
  readonly details: string[] = [];
  private readonly released: { rec: TagRecord; cycle: number; cookie: number }[] = [];

  constructor(private readonly gen: Gen) {}

  private note(what: keyof Integrity["counts"], detail: string): void {
    this.counts[what]++;
    if (this.details.length < MAX_DETAILS) this.details.push(detail);
  }

  batch(out: BatchOut): void {
    for (const e of out.events) {
      if (isMalformed(e.value) || e.value.kind !== EventKind.TEARDOWN_DONE) continue;
      const rec = this.gen.cookies.get(e.value.cookie);
      if (rec !== undefined) this.released.push({ rec, cycle: e.cycle, cookie: e.value.cookie });
    }
    for (const d of out.dma) {
      if (isMalformed(d.value)) continue;
      for (const w of d.value) {
        this.gen.mem.apply(w);
        for (const t of this.released) {
          if (d.cycle <= t.cycle) continue;
          const hit = t.rec.sgl.some((e) => w.addr < e.addr + BigInt(e.len) && e.addr < w.addr + BigInt(w.data.length));
          if (hit) this.note("outsideWrites", `DMA write at cycle ${d.cycle} to 0x${w.addr.toString(16)}, in the buffer of (ctx ${t.rec.ctx}, cid ${t.rec.cid}) after its TEARDOWN_DONE (cookie ${t.cookie}) at cycle ${t.cycle}`);
        }
      }
    }
    out.frames.forEach((f, i) => this.frame(f, i, out.frames));
  }

  private frame(f: FrameOut, i: number, batch: readonly FrameOut[]): void {
    const at = `frame ${i} of the batch at cycle ${f.inStart}`;
    if (f.ringStart < 0) return this.note("dropped", `${at}: no ring frame`);
    if (isMalformed(f.cqe)) return this.note("modified", `${at}: malformed CQE (${f.cqe.malformed})`);
    const rebuilt = new Uint8Array(f.input.length);
    const placed = new Uint8Array(f.input.length);
    const dma = Buffer.concat(f.dma.map((w) => w.data));
    let fromDma = 0;
    let w = 0; // the write, and the offset in it, where the next segment's bytes start
    let inWrite = 0;
    for (const s of f.cqe.segs) {
      // Where this segment's bytes went: its share of the DMA writes, as address runs.
      const pieces: Piece[] = [];
      for (let need = s.len; need > 0 && w < f.dma.length; ) {
        const write = f.dma[w]!;
        const n = Math.min(need, write.data.length - inWrite);
        pieces.push({ addr: write.addr + BigInt(inWrite), len: n });
        need -= n;
        inWrite += n;
        if (inWrite === write.data.length) [w, inWrite] = [w + 1, 0];
      }
      const cqe = f.cqe;
      const runs = runsOf(pieces);
      const owned = this.gen.allTags.some((t) => t.ctx === cqe.ctx && t.cid === s.cid && sameRuns(runs, sglRuns(t.sgl, s.bufOff, s.len)));
      if (!owned) this.note("outsideWrites", `${at}: segment ${JSON.stringify(s)} of ctx ${cqe.ctx} written outside its buffer (first address 0x${runs[0]?.addr.toString(16)})`);
      const end = Math.min(s.frameOff + s.len, f.input.length);
      rebuilt.set(dma.subarray(fromDma, fromDma + (end - s.frameOff)), s.frameOff);
      placed.fill(1, s.frameOff, end);
      fromDma += s.len;
    }
    let r = 0;
    for (let p = 0; p < f.input.length; p++) if (!placed[p]) rebuilt[p] = f.ring[r++] ?? 0;
    if (r === f.ring.length && Buffer.from(rebuilt).equals(Buffer.from(f.input))) return;
    const other = batch.findIndex((g, j) => j !== i && g.input.length === rebuilt.length && Buffer.from(g.input).equals(Buffer.from(rebuilt)));
    if (other >= 0) this.note("reordered", `${at}: ring + placed bytes rebuild frame ${other} of the batch`);
    else this.note("modified", `${at}: ring (${f.ring.length} bytes) + placed bytes do not rebuild the ${f.input.length}-byte input`);
  }

  /** Guard bytes and addresses no buffer covers, once all writes are in. */
  finish(): void {
    for (const v of this.gen.mem.checkGuards()) this.note("outsideWrites", `host memory 0x${v.addr.toString(16)} written (${v.expected === undefined ? "no buffer there" : "a guard byte"})`);
  }
}

// ---------------------------------------------------------------- the scenario of a seed

export const SOAK_KINDS = [
  "clean",
  "impaired",
  "malicious",
  "bit flips",
  "back-pressure",
  "corrupted headers",
  "overflowing headers",
  "PDU streams",
  "header splits",
  "full tables",
  "caps toggling",
  "resync",
  "around MAX_FRAME",
] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

/** How often each kind comes (the random-traffic kinds carry most frames). */
const WEIGHTS: Record<SoakKind, number> = {
  clean: 4,
  impaired: 4,
  malicious: 4,
  "bit flips": 1,
  "back-pressure": 2,
  "corrupted headers": 1,
  "overflowing headers": 0.5,
  "PDU streams": 1,
  "header splits": 1,
  "full tables": 0.5,
  "caps toggling": 0.5,
  resync: 1,
  "around MAX_FRAME": 0.5,
};

export interface SoakCase {
  seed: number;
  kind: SoakKind;
  scenario: Scenario;
  gen: Gen;
  /** Pause patterns per port group (back-pressure kind only: no races then, latency not checked). */
  pauses?: Partial<Record<PortGroup, string>>;
}

/** The seed of scenario `index` of a soak with seed `seed`. */
export function scenarioSeed(seed: number, index: number): number {
  return new Rng((seed + Math.imul(index, 0x9e3779b9)) >>> 0).u32();
}

function pickKind(rng: Rng): SoakKind {
  const total = SOAK_KINDS.reduce((n, k) => n + WEIGHTS[k], 0);
  let x = rng.float() * total;
  for (const k of SOAK_KINDS) if ((x -= WEIGHTS[k]) < 0) return k;
  return SOAK_KINDS[0];
}

/** The kind of the soak scenario of a seed (its first draw). */
export function soakKind(seed: number): SoakKind {
  return pickKind(new Rng(seed));
}

/** The soak scenario of a seed: its kind and every option are drawn from the seed alone. */
export function soakCase(seed: number): SoakCase {
  const rng = new Rng(seed);
  const kind = pickKind(rng);
  const s = rng.u32();
  const name = `soak ${kind} (seed ${seed})`;
  const rate = (max: number) => rng.float() * max;
  const base = (): RandomTrafficOptions => ({
    rounds: rng.range(15, 35),
    flows: rng.range(1, 4),
    payload: [1, rng.pick([1460, 3000, 8900])],
    c2hDataSize: [rng.pick([1, 16, 256]), rng.pick([1024, 4096, 8192])],
    nlb: [1, rng.pick([8, 16, 32])],
    readsPerRound: [1, rng.range(2, 5)],
    badCommands: rate(0.4),
    noise: rng.range(0, 3),
    reAdd: rate(0.8),
    wrap: rng.chance(0.3),
  });
  const impair = () => ({ loss: rate(0.05), reorder: rate(0.05), duplicate: rate(0.05), corrupt: rate(0.05) });
  const traffic = (o: RandomTrafficOptions) => ({ seed, kind, ...randomTraffic(s, name, o) });
  switch (kind) {
    case "clean":
      return traffic({ ...base(), races: rate(0.6), oversize: rng.chance(0.5), tcpOptions: rng.chance(0.5), variants: rate(0.15) });
    case "impaired":
      return traffic({ ...base(), races: rate(0.4), impair: impair() });
    case "malicious": {
      // Every lie at once with random digests, or one lie with both digests on (so that it can be told).
      const one = rng.chance(0.5) ? rng.pick(LIES) : undefined;
      const lies = { lies: 0.3 + rate(0.5), ...(one === undefined ? {} : { lieKinds: [one], hdgst: true, ddgst: true }) };
      return traffic({ ...base(), ...lies, races: rate(0.3), ...(rng.chance(0.5) ? { impair: impair() } : {}) });
    }
    case "bit flips":
      return traffic({ ...base(), flipAnywhere: rate(0.15), races: rate(0.2) });
    case "back-pressure": {
      const pause = (n: number, p: number) => randomPauseString(rng, p, n);
      const pauses = { src: pause(31, rate(0.3)), cmd: pause(17, rate(0.4)), ring: pause(37, rate(0.4)), dma: pause(23, rate(0.6)), cqe: pause(29, rate(0.4)), evt: pause(13, rate(0.4)) };
      return { ...traffic({ ...base(), impair: impair() }), pauses };
    }
    case "corrupted headers":
      return { seed, kind, ...corruptedHeaders(s, rng.range(8, 25)) };
    case "overflowing headers":
      return { seed, kind, ...overflowHeaders(s) };
    case "PDU streams":
      return { seed, kind, ...pduStreams(s, rng.range(15, 40)) };
    case "header splits":
      return { seed, kind, ...headerSplits(s, rng.chance(0.5), rng.chance(0.5), rng.chance(0.5)) };
    case "full tables":
      return { seed, kind, ...fullTables(s) };
    case "caps toggling":
      return { seed, kind, ...capsToggle(s) };
    case "resync":
      return { seed, kind, ...resyncTraffic(s, rng.range(6, 16)) };
    case "around MAX_FRAME":
      return { seed, kind, ...aroundMaxFrame(s) };
  }
}

/** One scenario's outcome (also what a soak worker sends its parent). */
export const SoakResultSchema = SoakCountsSchema.extend({
  seed: z.number().int().nonnegative(),
  kind: z.enum(SOAK_KINDS),
  frames: Count,
  cycles: Count,
  /** What went wrong, when anything did (empty otherwise). */
  details: z.array(z.string()),
});
export type SoakResult = z.infer<typeof SoakResultSchema>;

/** Runs one soak scenario on a ddp_top harness (reset first) and counts what went wrong. */
export async function runSoakCase(harness: Harness, c: SoakCase): Promise<SoakResult> {
  await harness.reset({ cycles: 4, bfms: true });
  const driver = await DdpPorts.attach(harness);
  if (c.pauses !== undefined) await Promise.all(Object.entries(c.pauses).map(([group, p]) => driver.pause(group as PortGroup, p)));
  const integrity = new Integrity(c.gen);
  const report = await runScenario(c.scenario, driver, { onBatch: (out) => integrity.batch(out), ...(c.pauses === undefined ? {} : { checkLatency: false }) });
  integrity.finish();
  const counts = { mismatches: report.mismatches, ...integrity.counts };
  const details = countsClean(counts) ? [] : [...(report.mismatches > 0 ? [describeReport(report)] : []), ...integrity.details];
  return { seed: c.seed, kind: c.kind, frames: report.frames, cycles: report.cycles, ...counts, details };
}
