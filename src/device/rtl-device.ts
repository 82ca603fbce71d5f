// The offload device as RTL: ddp_top in a Verilator harness, over the co-simulation bridge (src/cosim/). Every
// port group is bound to a harness BFM; a batch of commands or frames is one pipelined round trip (the harness
// serves requests in order):
//
//   commands: send s_cmd beats -> run until their completions are on m_evt -> recv m_evt
//   frames:   send s_axis frames -> run until one CQE and one ring frame per frame -> a few tail cycles (the
//             batch's DMA writes leave) -> recv ring, CQEs, DMA, events
//
// The ring sink keeps only bytes whose tkeep is set; the CQE's segments say which positions were placed, which
// rebuilds the frame at its positions (placed bytes read as 0, as ModelDevice gives them).

import { Harness, type Params, type UntilCondition } from "../cosim/index.js";
import type { HostMemory } from "../contract/host-memory.js";
import type { OffloadParams } from "../model/offload-model.js";
import { type CommandInput, type DmaWrite, type Event } from "../contract/protocol.js";
import {
  type AsyncEvent,
  type CommandBatch,
  completionsOf,
  DeviceError,
  type FrameBatch,
  type OffloadDevice,
  ringKeep,
  splitEvents,
  type RxResult,
} from "./device.js";
import { CMD_FIELDS, cqeFields, decodeCqe, decodeDma, decodeEvent, DMA_FIELDS, encodeCommand, EVT_FIELDS, isMalformed, Layout } from "./rtl-codec.js";

/** BFM names as tb/ddp uses them (kind:prefix), so both can drive one harness. */
export const BFM = {
  src: "axis_source:s_axis",
  ring: "axis_sink:m_axis_rx",
  cmd: "vr_source:s_cmd",
  evt: "vr_sink:m_evt",
  cqe: "vr_sink:m_cqe",
  dma: "vr_sink:m_dma",
} as const;

/** Cycles after the last CQE so that the batch's DMA writes have all left (and a teardown's drain is over). */
const TAIL_CYCLES = 32;
/** Cycles a batch of commands may take (ddp_cmd answers in a few cycles per beat). */
const COMMAND_CYCLES = 2_000;

/** ddp_top parameter names of the model's parameters. */
const RTL_PARAM: Partial<Record<keyof OffloadParams, string>> = {
  nCtx: "N_CTX",
  nTags: "N_TAGS",
  maxSgl: "MAX_SGL",
  maxSegs: "MAX_SEGS",
  maxFrame: "MAX_FRAME",
  ioThreshold: "IO_THRESHOLD",
};

export interface RtlDeviceOptions {
  /** Model-style parameters, given to ddp_top as its parameters (omitted ones keep the RTL defaults). */
  params?: Partial<OffloadParams>;
  /** Attach to a running harness (of ddp_top) instead of spawning one; close() then leaves it running. */
  endpoint?: string;
  requestTimeoutMs?: number;
}

export class RtlDevice implements OffloadDevice {
  readonly kind = "rtl";
  readonly maxSegs: number;
  readonly dataBytes: number;
  private readonly cmdLayout: Layout;
  private readonly evtLayout: Layout;
  private readonly cqeLayout: Layout;
  private readonly dmaLayout: Layout;
  /** Cycles the last batches took (for reports). */
  cycles = 0;

  private constructor(
    readonly harness: Harness,
    readonly memory: HostMemory,
    private readonly owned: boolean,
  ) {
    let segs = 0;
    while (harness.ports.some((p) => p.name === `m_cqe_seg${segs}_cid`)) segs++;
    this.maxSegs = segs;
    this.dataBytes = harness.port("s_axis_tdata").width / 8;
    this.cmdLayout = new Layout("s_cmd", CMD_FIELDS.map(([p]) => p), harness);
    this.evtLayout = new Layout("m_evt", EVT_FIELDS, harness);
    this.cqeLayout = new Layout("m_cqe", cqeFields(segs), harness);
    this.dmaLayout = new Layout("m_dma", DMA_FIELDS, harness);
  }

  /** Spawns (building if needed) or connects to the ddp_top harness, then attaches (close() ends a spawned one). */
  static async open(memory: HostMemory, options: RtlDeviceOptions = {}): Promise<RtlDevice> {
    const timeout = options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs };
    const spawned = options.endpoint === undefined;
    const harness = spawned
      ? await Harness.spawn({ top: "ddp_top", params: rtlParams(options.params ?? {}), ...timeout })
      : await Harness.connect(options.endpoint!, timeout);
    try {
      return await RtlDevice.attach(harness, memory, spawned);
    } catch (e) {
      if (spawned) await harness.close();
      throw e;
    }
  }

  /**
   * A device on a harness of ddp_top that the caller keeps (close() leaves it running unless `owned`): resets
   * the RTL (a fresh device: empty tables, counters at 0) and binds the BFMs (again a no-op on the same Harness).
   */
  static async attach(harness: Harness, memory: HostMemory, owned = false): Promise<RtlDevice> {
    await harness.reset();
    const d = new RtlDevice(harness, memory, owned);
    await Promise.all([
      harness.bind("axis_source", "s_axis", BFM.src),
      harness.bind("axis_sink", "m_axis_rx", BFM.ring),
      harness.bind("vr_source", "s_cmd", BFM.cmd, [...d.cmdLayout.fields]),
      harness.bind("vr_sink", "m_evt", BFM.evt, [...d.evtLayout.fields]),
      harness.bind("vr_sink", "m_cqe", BFM.cqe, [...d.cqeLayout.fields]),
      harness.bind("vr_sink", "m_dma", BFM.dma, [...d.dmaLayout.fields]),
    ]);
    await Promise.all(Object.values(BFM).map((n) => harness.pause(n, "")));
    return d;
  }

  async commands(beats: readonly CommandInput[]): Promise<CommandBatch> {
    const want = completionsOf(beats);
    const h = this.harness;
    const out: CommandBatch = { completions: [], events: [] };
    const sent = beats.length > 0 ? h.send(BFM.cmd, beats.map((b) => encodeCommand(this.cmdLayout, b))) : Promise.resolve(0);
    // Async events share m_evt with completions: receive until every command has its completion.
    for (let round = 0; out.completions.length < want; round++) {
      if (round === 8) throw new DeviceError(`ddp_top: ${out.completions.length} of ${want} completions`);
      const [, , items] = await Promise.all([sent, this.run(4 * beats.length + COMMAND_CYCLES, [{ received: { [BFM.evt]: want - out.completions.length } }]), h.recv(BFM.evt)]);
      const got = splitEvents(items.map((it) => this.event(it.data)));
      out.completions.push(...got.completions);
      out.events.push(...got.events);
    }
    if (out.completions.length !== want) throw new DeviceError(`ddp_top: ${out.completions.length} completions for ${want} commands`);
    return out;
  }

  async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    if (frames.length === 0) return { frames: [], events: await this.drain() };
    const h = this.harness;
    const beats = frames.reduce((n, f) => n + Math.ceil(f.length / this.dataBytes), 0);
    // Generous: the delay line's latency (about MAX_FRAME / bytes per beat) plus every beat several times.
    const limit = 4 * beats + 40_000;
    const n = frames.length;
    const [, , , , ring, cqes, dma, evt] = await Promise.all([
      h.send(BFM.src, frames.map((f) => Uint8Array.from(f))),
      this.run(limit, [{ received: { [BFM.cqe]: n } }]),
      this.run(limit, [{ received: { [BFM.ring]: n } }]),
      this.run(TAIL_CYCLES),
      h.recv(BFM.ring),
      h.recv(BFM.cqe),
      h.recv(BFM.dma),
      h.recv(BFM.evt),
    ]);
    if (ring.length !== n || cqes.length !== n) throw new DeviceError(`ddp_top: ${ring.length} ring frames and ${cqes.length} CQEs for ${n} frames`);

    const writes: DmaWrite[] = [];
    for (const it of dma) {
      const w = decodeDma(this.dmaLayout.unpack(it.data), this.dataBytes);
      if (isMalformed(w)) throw new DeviceError(`ddp_top DMA at cycle ${it.start}: ${w.malformed}`);
      writes.push(...w);
    }
    let placed = 0;
    const results: RxResult[] = frames.map((input, i) => {
      const cqe = decodeCqe(this.cqeLayout.unpack(cqes[i]!.data), this.maxSegs);
      if (isMalformed(cqe)) throw new DeviceError(`ddp_top CQE of frame ${i}: ${cqe.malformed}`);
      const keep = ringKeep(input.length, cqe);
      const compact = ring[i]!.data;
      const data = new Uint8Array(input.length);
      let at = 0;
      for (let k = 0; k < data.length; k++) if (keep[k]) data[k] = compact[at++] ?? 0;
      if (at !== compact.length) throw new DeviceError(`ddp_top ring frame ${i}: ${compact.length} bytes, its CQE leaves ${at} on the ring`);
      placed += input.length - at;
      return { ring: { data, keep }, cqe };
    });
    const written = writes.reduce((s, w) => s + w.data.length, 0);
    if (written !== placed) throw new DeviceError(`ddp_top: CQEs report ${placed} placed bytes, DMA carried ${written}`);
    for (const w of writes) this.memory.apply(w);
    const events = splitEvents(evt.map((it) => this.event(it.data)));
    if (events.completions.length > 0) throw new DeviceError(`ddp_top: ${events.completions.length} completions without a command`);
    return { frames: results, events: events.events };
  }

  async drain(): Promise<AsyncEvent[]> {
    const [, items] = await Promise.all([this.run(TAIL_CYCLES), this.harness.recv(BFM.evt)]);
    const { completions, events } = splitEvents(items.map((it) => this.event(it.data)));
    if (completions.length > 0) throw new DeviceError(`ddp_top: ${completions.length} completions without a command`);
    return events;
  }

  async close(): Promise<void> {
    if (this.owned) await this.harness.close();
  }

  private event(data: Uint8Array): Event {
    const e = decodeEvent(this.evtLayout.unpack(data));
    if (isMalformed(e)) throw new DeviceError(`ddp_top event: ${e.malformed}`);
    return e;
  }

  private async run(maxCycles: number, until?: UntilCondition[]): Promise<void> {
    const r = await this.harness.run(maxCycles, until);
    this.cycles += r.cycles;
    if (r.reason === "limit" && until !== undefined) throw new DeviceError(`ddp_top: no progress within ${maxCycles} cycles (${JSON.stringify(until)})`);
  }
}

function rtlParams(p: Partial<OffloadParams>): Params {
  const out: Params = {};
  for (const [k, name] of Object.entries(RTL_PARAM)) {
    const v = p[k as keyof OffloadParams];
    if (v !== undefined && name !== undefined) out[name] = v;
  }
  return out;
}
