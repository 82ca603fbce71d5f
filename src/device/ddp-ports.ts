// The one driver of ddp_top's ports, used by RtlDevice (the software's back end) and by the differential and
// security testbench (tb/traffic/compare.ts). It binds every port group to a harness BFM and runs a batch of
// command beats and frames in one pipelined round trip (the harness serves requests in order):
//
//   send s_cmd beats -> run until their completions -> send frames -> run until one CQE, one ring frame and
//   one input-monitor frame per frame -> the events the batch expects -> TAIL_CYCLES (DMA drain) -> recv all
//
// or, for a deliberate race, frames first and the command beats `raceDelay` cycles later, without waiting.
// What comes back is decoded with the port codecs (rtl-codec.ts) into the contract's schemas, with cycle
// stamps, and the DMA stream is split per frame (it leaves in frame order; each frame's share is the total
// length of its CQE segments). Nothing is thrown for a misbehaving RTL: malformed records stay in the result
// and structural problems are listed, so a test can report them; RtlDevice turns them into DeviceErrors.

import type { Harness, UntilCondition } from "../cosim/index.js";
import { type CommandInput, type Cqe, type DmaWrite, type Event, EventKind, Limit, Op } from "../contract/protocol.js";
import { completionsOf } from "./device.js";
import {
  CMD_FIELDS,
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
} from "./rtl-codec.js";

/** The harness BFM of each port group (name = kind:prefix, as tb/ names its proxies, so its reset clears them). */
export const BFM = {
  src: "axis_source:s_axis",
  mon: "axis_monitor:s_axis",
  ring: "axis_sink:m_axis_rx",
  cmd: "vr_source:s_cmd",
  evt: "vr_sink:m_evt",
  cqe: "vr_sink:m_cqe",
  dma: "vr_sink:m_dma",
} as const;
export type PortGroup = keyof typeof BFM;

/** Cycles after the last CQE and ring frame, so that the batch's DMA writes have all left (and a teardown's drain is over). */
export const TAIL_CYCLES = 32;
/**
 * Cycles a batch of commands may take: 4 per beat, 32 per command (a tag-table command runs PROBE, COMMIT and
 * INSERT, about 20 cycles), and this many more (a no-progress guard; the wait ends at the completions).
 */
const COMMAND_CYCLES = 2_000;
const CYCLES_PER_COMMAND = 32;
/**
 * Cycles a CTX_DEL may take per tag slot: its scan reads a row of 4 slots per cycle, and each entry it frees
 * returns up to MAX_SGL / 8 pool chunks, one per cycle (a no-progress guard; the wait ends at the completion).
 */
const CTX_DEL_CYCLES_PER_TAG = 24;
/** The first batch after a reset also waits out the tag table's clearing sweep, whose size is not known yet. */
const RESET_SWEEP_CYCLES = 1 << 20;
/** Cycles a batch of frames may take beyond 4 per input beat and twice the latency (a no-progress guard). */
const FRAME_CYCLES = 40_000;
/** First tag of the driver's own commands (callers use tags below it). */
const OWN_TAGS = 0xc000;

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
  /** Waits that ended at their cycle limit instead of their condition (no progress). */
  stalled: string[];
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
  /** Wait for the commands' completions and extraEvents before sending the frames (default true; ignored with raceDelay). */
  waitCommands?: boolean;
}

export class DdpPorts {
  readonly maxSegs: number;
  readonly dataBytes: number;
  private readonly cmdLayout: Layout;
  private readonly evtLayout: Layout;
  private readonly cqeLayout: Layout;
  private readonly dmaLayout: Layout;
  private nextTag = OWN_TAGS;
  /** s_axis -> m_axis_rx latency in cycles (LIMITS_GET 7) and tag slots (LIMITS_GET 5), read by attach(). */
  latency = 0;
  nTags = 0;
  /** Cycles run through this driver so far. */
  cycles = 0;

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

  /**
   * Binds the BFMs of a ddp_top harness (binding again is a no-op), turns every pause pattern off (outputs
   * always ready, inputs never idle; pause() sets patterns) and reads the latency. Call after a reset.
   */
  static async attach(harness: Harness): Promise<DdpPorts> {
    const d = new DdpPorts(harness);
    await Promise.all([
      harness.bind("axis_source", "s_axis", BFM.src),
      harness.bind("axis_monitor", "s_axis", BFM.mon),
      harness.bind("axis_sink", "m_axis_rx", BFM.ring),
      harness.bind("vr_source", "s_cmd", BFM.cmd, [...d.cmdLayout.fields]),
      harness.bind("vr_sink", "m_evt", BFM.evt, [...d.evtLayout.fields]),
      harness.bind("vr_sink", "m_cqe", BFM.cqe, [...d.cqeLayout.fields]),
      harness.bind("vr_sink", "m_dma", BFM.dma, [...d.dmaLayout.fields]),
    ]);
    await Promise.all(Object.values(BFM).map((n) => harness.pause(n, "")));
    const done = await d.commands([Limit.latency, Limit.nTags].map((index) => ({ op: Op.LIMITS_GET, tag: d.tag(), index })));
    const value = (e: Stamped<Event | Malformed> | undefined): number =>
      e !== undefined && !isMalformed(e.value) && e.value.kind === EventKind.COMPLETION && e.value.status === 0 ? Number(e.value.data) : 0;
    d.latency = value(done[0]);
    d.nTags = value(done[1]);
    return d;
  }

  /** A fresh command tag for the driver's own commands (0xc000 and up). */
  tag(): number {
    this.nextTag = this.nextTag === 0xffff ? OWN_TAGS : this.nextTag + 1;
    return this.nextTag;
  }

  /** Pause pattern (string of 0/1, 1 = pause, repeated) for one port group; "" = never. */
  pause(group: PortGroup, pattern: string): Promise<void> {
    return this.harness.pause(BFM[group], pattern);
  }

  /** Runs commands alone; the events of the batch (completions and anything else m_evt carried meanwhile). */
  async commands(beats: readonly CommandInput[], extraEvents = 0): Promise<Stamped<Event | Malformed>[]> {
    return (await this.batch({ beats, extraEvents })).events;
  }

  /** Runs until `count` more events have arrived on m_evt (or the cycle limit) and takes them. */
  async events(count: number): Promise<{ events: Stamped<Event | Malformed>[]; stalled: boolean }> {
    const limit = 4 * count + COMMAND_CYCLES;
    const [r, items] = await Promise.all([this.harness.run(limit, [{ received: { [BFM.evt]: count } }]), this.harness.recv(BFM.evt)]);
    this.cycles += r.cycles;
    return { events: items.map((it) => ({ value: decodeEvent(this.evtLayout.unpack(it.data)), cycle: it.start })), stalled: r.reason === "limit" };
  }

  /** One pipelined round trip: see the file header. */
  async batch(spec: BatchSpec): Promise<BatchOut> {
    const h = this.harness;
    const beats = spec.beats ?? [];
    const frames = spec.frames ?? [];
    const k = completionsOf(beats);
    const events = k + (spec.extraEvents ?? 0);
    const beatsIn = frames.reduce((n, f) => n + Math.ceil(f.length / this.dataBytes), 0);
    const frameLimit = 4 * beatsIn + 2 * this.latency + FRAME_CYCLES;
    const ctxDels = beats.filter((b) => b.op === Op.CTX_DEL).length;
    const commandLimit = 4 * beats.length + CYCLES_PER_COMMAND * k + COMMAND_CYCLES + ctxDels * CTX_DEL_CYCLES_PER_TAG * this.nTags + (this.nTags === 0 ? RESET_SWEEP_CYCLES : 0);
    const cmdPayloads = beats.map((b) => encodeCommand(this.cmdLayout, b));
    const framePayloads = frames.map((f) => Uint8Array.from(f));
    const reqs: Promise<unknown>[] = [];
    const stalled: string[] = [];
    const cycle0 = h.cycle;
    const run = (max: number, until?: UntilCondition[]) =>
      reqs.push(
        h.run(max, until).then((r) => {
          this.cycles += r.cycles;
          if (r.reason === "limit" && until !== undefined) stalled.push(`no progress within ${max} cycles (${JSON.stringify(until)})`);
        }),
      );

    if (spec.raceDelay !== undefined) {
      if (framePayloads.length > 0) reqs.push(h.send(BFM.src, framePayloads));
      run(spec.raceDelay);
      if (cmdPayloads.length > 0) reqs.push(h.send(BFM.cmd, cmdPayloads));
    } else {
      if (cmdPayloads.length > 0) reqs.push(h.send(BFM.cmd, cmdPayloads));
      // Every event the commands bring (TEARDOWN_DONEs come between later completions) before the frames.
      if (k > 0 && spec.waitCommands !== false) run(commandLimit, [{ received: { [BFM.evt]: events } }]);
      if (framePayloads.length > 0) reqs.push(h.send(BFM.src, framePayloads));
    }
    if (frames.length > 0) {
      run(frameLimit, [{ received: { [BFM.cqe]: frames.length } }]);
      run(frameLimit, [{ received: { [BFM.ring]: frames.length } }]);
      run(frameLimit, [{ received: { [BFM.mon]: frames.length } }]);
    }
    if (events > 0) run(commandLimit, [{ received: { [BFM.evt]: events } }]);
    // The tail lets the DMA writes of the frames leave; a batch of commands alone has none (and an empty batch
    // is a drain: it runs the tail too).
    if (frames.length > 0 || beats.length === 0) run(TAIL_CYCLES);
    const recvs = [BFM.mon, BFM.ring, BFM.cqe, BFM.dma, BFM.evt].map((n) => h.recv(n));
    // Awaited together: when the harness dies, every request rejects, and none may be left unhandled.
    const [[mon, ring, cqe, dma, evt]] = await Promise.all([Promise.all(recvs), Promise.all(reqs)]);

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
    return { frames: out, events: eventsOut, dma: dmaOut, problems, stalled, cycles: [cycle0, h.cycle] };
  }
}
