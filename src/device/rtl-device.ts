// The offload device as RTL: ddp_top in a Verilator harness, over the co-simulation bridge (src/cosim/). The
// ports are driven by DdpPorts (ddp-ports.ts, the same driver the differential testbench uses): a batch of
// commands or frames is one pipelined round trip. This class adds what the driver above expects of a device:
// every command's completion (async events may share m_evt with them), the ring frame rebuilt at its positions
// from the ring bytes and the CQE's segments (placed bytes read as 0, as ModelDevice gives them), the DMA writes
// applied to host memory, and a DeviceError for anything the RTL got structurally wrong.

import { Harness, type Params } from "../cosim/index.js";
import type { HostMemory } from "../contract/host-memory.js";
import type { OffloadParams } from "../model/offload-model.js";
import type { CommandInput, Event } from "../contract/protocol.js";
import { type AsyncEvent, type CommandBatch, completionsOf, DeviceError, type FrameBatch, type OffloadDevice, ringKeep, splitEvents, type RxResult } from "./device.js";
import { type BatchOut, DdpPorts, type Stamped } from "./ddp-ports.js";
import { isMalformed, type Malformed } from "./rtl-codec.js";

/** Rounds of waiting for the completions of one command batch (async events may arrive in between). */
const COMMAND_ROUNDS = 8;

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
  private readonly cycle0: number;

  private constructor(
    readonly ports: DdpPorts,
    readonly memory: HostMemory,
    private readonly owned: boolean,
  ) {
    this.cycle0 = ports.cycles;
  }

  get harness(): Harness {
    return this.ports.harness;
  }

  get maxSegs(): number {
    return this.ports.maxSegs;
  }

  get dataBytes(): number {
    return this.ports.dataBytes;
  }

  /** Cycles the batches took since the device was attached (for reports). */
  get cycles(): number {
    return this.ports.cycles - this.cycle0;
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
    return new RtlDevice(await DdpPorts.attach(harness), memory, owned);
  }

  async commands(beats: readonly CommandInput[]): Promise<CommandBatch> {
    const want = completionsOf(beats);
    const out: CommandBatch = { completions: [], events: [] };
    if (beats.length === 0) return out;
    const take = (events: Stamped<Event | Malformed>[]) => {
      const got = splitEvents(events.map((e) => this.event(e)));
      out.completions.push(...got.completions);
      out.events.push(...got.events);
    };
    take(this.check(await this.ports.batch({ beats })).events);
    // Async events count towards the batch's wait: receive until every command has its completion.
    for (let round = 1; out.completions.length < want; round++) {
      if (round === COMMAND_ROUNDS) throw new DeviceError(`ddp_top: ${out.completions.length} of ${want} completions`);
      const more = await this.ports.events(want - out.completions.length);
      if (more.stalled && more.events.length === 0) throw new DeviceError(`ddp_top: no progress waiting for ${want - out.completions.length} completions`);
      take(more.events);
    }
    if (out.completions.length !== want) throw new DeviceError(`ddp_top: ${out.completions.length} completions for ${want} commands`);
    return out;
  }

  async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    if (frames.length === 0) return { frames: [], events: await this.drain() };
    const out = this.check(await this.ports.batch({ frames }));
    let placed = 0;
    const results: RxResult[] = out.frames.map((f, i) => {
      if (isMalformed(f.cqe)) throw new DeviceError(`ddp_top CQE of frame ${i}: ${f.cqe.malformed}`);
      const keep = ringKeep(f.input.length, f.cqe);
      const data = new Uint8Array(f.input.length);
      let at = 0;
      for (let k = 0; k < data.length; k++) if (keep[k]) data[k] = f.ring[at++] ?? 0;
      if (at !== f.ring.length) throw new DeviceError(`ddp_top ring frame ${i}: ${f.ring.length} bytes, its CQE leaves ${at} on the ring`);
      placed += f.input.length - at;
      return { ring: { data, keep }, cqe: f.cqe };
    });
    const writes = out.dma.flatMap((d) => (isMalformed(d.value) ? [] : d.value));
    const written = writes.reduce((s, w) => s + w.data.length, 0);
    if (written !== placed) throw new DeviceError(`ddp_top: CQEs report ${placed} placed bytes, DMA carried ${written}`);
    for (const w of writes) this.memory.apply(w);
    return { frames: results, events: this.asyncEvents(out) };
  }

  async drain(): Promise<AsyncEvent[]> {
    return this.asyncEvents(this.check(await this.ports.batch({})));
  }

  async close(): Promise<void> {
    if (this.owned) await this.harness.close();
  }

  /** The batch, if the RTL kept to the contract's structure (counts, DMA per CQE, progress). */
  private check(out: BatchOut): BatchOut {
    const bad = [...out.stalled, ...out.problems];
    if (bad.length > 0) throw new DeviceError(`ddp_top: ${bad.join("; ")}`);
    return out;
  }

  /** The events of a batch without commands: none may be a completion. */
  private asyncEvents(out: BatchOut): AsyncEvent[] {
    const { completions, events } = splitEvents(out.events.map((e) => this.event(e)));
    if (completions.length > 0) throw new DeviceError(`ddp_top: ${completions.length} completions without a command`);
    return events;
  }

  private event(e: Stamped<Event | Malformed>): Event {
    if (isMalformed(e.value)) throw new DeviceError(`ddp_top event at cycle ${e.cycle}: ${e.value.malformed}`);
    return e.value;
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
