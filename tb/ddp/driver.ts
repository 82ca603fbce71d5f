// A co-simulation driver for `ddp_top`: binds every port group with the harness BFMs, and runs a batch of
// command beats and frames in one pipelined round trip (the harness serves requests in order):
//
//   send s_cmd beats -> run until their completions -> send frames -> run until one CQE and one ring frame per
//   frame -> a few tail cycles (DMA drain) -> recv everything
//
// or, for a deliberate race, frames first and the command beats `raceDelay` cycles later, without waiting.
// What comes back is decoded into the model's zod schemas, with cycle stamps, and the DMA stream is split per
// frame (it leaves in frame order; each frame's share is the total length of its CQE segments).

import type { Harness, UntilCondition } from "../../src/cosim/index.js";
import type { HostMemory } from "../../src/contract/host-memory.js";
import {
  type CommandInput,
  type Cqe,
  type DmaWrite,
  type Event,
  EventKind,
  Op,
  STAT_NAMES,
  type Stats,
} from "../../src/contract/protocol.js";
import {
  CMD_FIELDS,
  completionsOf,
  cqeFields,
  decodeCqe,
  decodeDma,
  decodeEvent,
  DMA_FIELDS,
  encodeCommand,
  EVT_FIELDS,
  isMalformed,
  Layout,
  type Malformed,
} from "../../src/device/index.js";

/** BFM names as tb/ (kind:prefix), so describeRtl's per-test reset finds and clears them. */
const BFM = {
  src: "axis_source:s_axis",
  mon: "axis_monitor:s_axis",
  ring: "axis_sink:m_axis_rx",
  cmd: "vr_source:s_cmd",
  evt: "vr_sink:m_evt",
  cqe: "vr_sink:m_cqe",
  dma: "vr_sink:m_dma",
} as const;

/** Cycles after the last CQE and ring frame, so that the DMA writes of the batch have all left. */
const TAIL_CYCLES = 16;

export interface Stamped<T> {
  value: T;
  cycle: number;
}

export interface FrameOut {
  input: Uint8Array;
  /** Cycle of the frame's first beat on s_axis (input monitor). */
  inStart: number;
  /** Cycle of its last beat on s_axis. */
  inEnd: number;
  /** Ring bytes with tkeep set, in lane order. */
  ring: Uint8Array;
  ringStart: number;
  ringEnd: number;
  cqe: Cqe | Malformed;
  cqeCycle: number;
  /** The frame's share of the DMA stream. */
  dma: DmaWrite[];
}

export interface BatchOut {
  frames: FrameOut[];
  events: Stamped<Event | Malformed>[];
  /** Every DMA write of the batch, in order. */
  dma: Stamped<DmaWrite[] | Malformed>[];
  /** Anything structurally wrong (counts, unattributable DMA); empty when the batch is clean. */
  problems: string[];
  /** First and last cycle of the batch. */
  cycles: [number, number];
}

export interface BatchSpec {
  beats?: readonly CommandInput[];
  frames?: readonly Uint8Array[];
  /** Race: frames first, then the beats this many cycles later, nothing waited for in between. */
  raceDelay?: number;
  /** Events expected in this batch beyond one completion per command (TEARDOWN_DONE). */
  extraEvents?: number;
  /** Wait for the commands' completions before sending the frames (default true; ignored with raceDelay). */
  waitCommands?: boolean;
}

export class DdpDriver {
  readonly maxSegs: number;
  readonly dataBytes: number;
  private readonly cmdLayout: Layout;
  private readonly evtLayout: Layout;
  private readonly cqeLayout: Layout;
  private readonly dmaLayout: Layout;
  private nextTag = 0xc000;
  /** LIMITS_GET 7, read by attach(). */
  latency = 0;
  /** STATS_GET answers index 11 (resync_confirms, contract section 7): the RTL implements resync. */
  hasResyncStats = false;

  private constructor(readonly harness: Harness) {
    let segs = 0;
    while (harness.ports.some((p) => p.name === `m_cqe_seg${segs}_cid`)) segs++;
    this.maxSegs = segs;
    this.dataBytes = harness.port("s_axis_tdata").width / 8;
    this.cmdLayout = new Layout("s_cmd", CMD_FIELDS.map(([p]) => p), harness);
    this.evtLayout = new Layout("m_evt", EVT_FIELDS, harness);
    this.cqeLayout = new Layout("m_cqe", cqeFields(segs), harness);
    this.dmaLayout = new Layout("m_dma", DMA_FIELDS, harness);
  }

  /** Binds the BFMs (binding again is a no-op) and reads the latency. Call after a reset. */
  static async attach(harness: Harness): Promise<DdpDriver> {
    const d = new DdpDriver(harness);
    await Promise.all([
      harness.bind("axis_source", "s_axis", BFM.src),
      harness.bind("axis_monitor", "s_axis", BFM.mon),
      harness.bind("axis_sink", "m_axis_rx", BFM.ring),
      harness.bind("vr_source", "s_cmd", BFM.cmd, [...d.cmdLayout.fields]),
      harness.bind("vr_sink", "m_evt", BFM.evt, [...d.evtLayout.fields]),
      harness.bind("vr_sink", "m_cqe", BFM.cqe, [...d.cqeLayout.fields]),
      harness.bind("vr_sink", "m_dma", BFM.dma, [...d.dmaLayout.fields]),
    ]);
    // Always-ready outputs, no input pauses (a test may set patterns itself through pause()).
    await Promise.all(Object.values(BFM).map((n) => harness.pause(n, "")));
    const [done, resync] = await d.commands([{ op: Op.LIMITS_GET, tag: d.tag(), index: 7 }, { op: Op.STATS_GET, tag: d.tag(), index: 11 }]);
    d.latency = done !== undefined && !isMalformed(done.value) && done.value.kind === EventKind.COMPLETION ? Number(done.value.data) : 0;
    d.hasResyncStats = resync !== undefined && !isMalformed(resync.value) && resync.value.kind === EventKind.COMPLETION && resync.value.status === 0;
    return d;
  }

  /** A fresh command tag for the driver's own commands (the tests use tags below 0xc000). */
  tag(): number {
    this.nextTag = this.nextTag === 0xffff ? 0xc000 : this.nextTag + 1;
    return this.nextTag;
  }

  /** Pause pattern (string of 0/1, 1 = pause) for one of the groups; "" = never. */
  pause(group: keyof typeof BFM, pattern: string): Promise<void> {
    return this.harness.pause(BFM[group], pattern);
  }

  /** Runs commands alone and returns the events of the batch. */
  async commands(beats: readonly CommandInput[], extraEvents = 0): Promise<Stamped<Event | Malformed>[]> {
    return (await this.batch({ beats, extraEvents })).events;
  }

  /** STATS_GET of every counter the model names (those the RTL refuses with BAD_ARG are left out). */
  async stats(): Promise<Partial<Stats> | string> {
    const events = await this.commands(STAT_NAMES.map((_, index) => ({ op: Op.STATS_GET, tag: this.tag(), index })));
    const out: Partial<Stats> = {};
    for (const [i, name] of STAT_NAMES.entries()) {
      const e = events[i]?.value;
      if (e !== undefined && !isMalformed(e) && e.kind === EventKind.COMPLETION && e.status === 9 && i >= 11) continue;
      if (e === undefined || isMalformed(e) || e.kind !== EventKind.COMPLETION || e.status !== 0) return `STATS_GET ${i}: ${JSON.stringify(e, big)}`;
      out[name] = Number(e.data);
    }
    return out;
  }

  /** One pipelined round trip: see the file header. */
  async batch(spec: BatchSpec): Promise<BatchOut> {
    const h = this.harness;
    const beats = spec.beats ?? [];
    const frames = spec.frames ?? [];
    const k = completionsOf(beats);
    const events = k + (spec.extraEvents ?? 0);
    const beatsIn = frames.reduce((n, f) => n + Math.ceil(f.length / this.dataBytes), 0);
    const frameLimit = 4 * beatsIn + 2 * this.latency + 20_000;
    const cmdPayloads = beats.map((b) => encodeCommand(this.cmdLayout, b));
    const framePayloads = frames.map((f) => Uint8Array.from(f));
    const reqs: Promise<unknown>[] = [];
    const cycle0 = h.cycle;
    const run = (max: number, until?: UntilCondition[]) => reqs.push(h.run(max, until));

    const race = spec.raceDelay !== undefined;
    if (race) {
      if (framePayloads.length > 0) reqs.push(h.send(BFM.src, framePayloads));
      run(spec.raceDelay!);
      if (cmdPayloads.length > 0) reqs.push(h.send(BFM.cmd, cmdPayloads));
    } else {
      if (cmdPayloads.length > 0) reqs.push(h.send(BFM.cmd, cmdPayloads));
      if (k > 0 && spec.waitCommands !== false) run(4 * beats.length + 2_000, [{ received: { [BFM.evt]: k } }]);
      if (framePayloads.length > 0) reqs.push(h.send(BFM.src, framePayloads));
    }
    if (frames.length > 0) {
      run(frameLimit, [{ received: { [BFM.cqe]: frames.length } }]);
      run(frameLimit, [{ received: { [BFM.ring]: frames.length } }]);
      run(frameLimit, [{ received: { [BFM.mon]: frames.length } }]);
    }
    if (events > 0) run(4 * beats.length + 2_000, [{ received: { [BFM.evt]: events } }]);
    run(TAIL_CYCLES);
    const recvs = [BFM.mon, BFM.ring, BFM.cqe, BFM.dma, BFM.evt].map((n) => h.recv(n));
    const [mon, ring, cqe, dma, evt] = await Promise.all(recvs);
    await Promise.all(reqs);

    const problems: string[] = [];
    const count = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${what}: ${got} items, expected ${want}`);
    };
    count("input monitor", mon!.length, frames.length);
    count("ring frames", ring!.length, frames.length);
    count("CQEs", cqe!.length, frames.length);

    const eventsOut = evt!.map((it) => ({ value: decodeEvent(this.evtLayout.unpack(it.data)), cycle: it.start }));
    const dmaOut = dma!.map((it) => ({ value: decodeDma(this.dmaLayout.unpack(it.data), this.dataBytes), cycle: it.start }));
    const cqes = cqe!.map((it) => ({ value: decodeCqe(this.cqeLayout.unpack(it.data), this.maxSegs), cycle: it.start }));

    // The DMA stream split per frame by the lengths its CQE reports.
    const queue: DmaWrite[] = [];
    for (const d of dmaOut) {
      if (isMalformed(d.value)) problems.push(`DMA at cycle ${d.cycle}: ${d.value.malformed}`);
      else queue.push(...d.value);
    }
    const out: FrameOut[] = frames.map((input, i) => {
      const c = cqes[i]?.value ?? { malformed: "no CQE", raw: {} };
      const want = isMalformed(c) ? 0 : c.segs.reduce((n, s) => n + s.len, 0);
      const mine: DmaWrite[] = [];
      let got = 0;
      while (got < want && queue.length > 0) {
        const w = queue.shift()!;
        if (got + w.data.length > want) {
          problems.push(`frame ${i}: a DMA write of ${w.data.length} bytes crosses the end of the frame's ${want} placed bytes`);
          mine.push({ addr: w.addr, data: w.data.slice(0, want - got) });
          queue.unshift({ addr: w.addr + BigInt(want - got), data: w.data.slice(want - got) });
          got = want;
          break;
        }
        mine.push(w);
        got += w.data.length;
      }
      if (got < want) problems.push(`frame ${i}: CQE reports ${want} placed bytes, DMA carried ${got}`);
      return {
        input,
        inStart: mon![i]?.start ?? -1,
        inEnd: mon![i]?.end ?? -1,
        ring: new Uint8Array(ring![i]?.data ?? new Uint8Array(0)),
        ringStart: ring![i]?.start ?? -1,
        ringEnd: ring![i]?.end ?? -1,
        cqe: c,
        cqeCycle: cqes[i]?.cycle ?? -1,
        dma: mine,
      };
    });
    const left = queue.reduce((n, w) => n + w.data.length, 0);
    if (left > 0) problems.push(`${left} DMA bytes beyond what the batch's CQEs report`);
    return { frames: out, events: eventsOut, dma: dmaOut, problems, cycles: [cycle0, h.cycle] };
  }
}

/** Applies DMA writes to host memory. */
export function applyDma(mem: HostMemory, writes: readonly DmaWrite[]): void {
  for (const w of writes) mem.apply(w);
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
