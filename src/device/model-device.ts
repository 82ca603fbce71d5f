// The offload device over the reference model (src/model/), in-process: no cycles, every call answers at once.

import type { z } from "zod";
import type { HostMemory } from "../contract/host-memory.js";
import { OffloadModel, type OffloadParamsSchema } from "../model/offload-model.js";
import type { CommandInput } from "../contract/protocol.js";
import { type AsyncEvent, type CommandBatch, completionsOf, DeviceError, type FrameBatch, type OffloadDevice, splitEvents } from "./device.js";

export class ModelDevice implements OffloadDevice {
  readonly kind = "model";
  readonly model: OffloadModel;

  constructor(
    readonly memory: HostMemory,
    params: z.input<typeof OffloadParamsSchema> = {},
  ) {
    this.model = new OffloadModel(params);
  }

  async commands(beats: readonly CommandInput[]): Promise<CommandBatch> {
    for (const b of beats) this.model.command(b);
    const out = splitEvents(this.model.events());
    const want = completionsOf(beats);
    if (out.completions.length !== want) throw new DeviceError(`model: ${out.completions.length} completions for ${want} commands`);
    return out;
  }

  async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    const results = frames.map((f) => {
      const r = this.model.frame(f);
      for (const w of r.dma) this.memory.apply(w);
      // The ring as the RTL's sink delivers it: placed bytes are not there (zero).
      const keep = r.ring.keep;
      const data = r.ring.data.map((b, i) => (keep[i] ? b : 0));
      return { ring: { data, keep }, cqe: r.cqe };
    });
    return { frames: results, events: await this.drain() };
  }

  async drain(): Promise<AsyncEvent[]> {
    const { completions, events } = splitEvents(this.model.events());
    if (completions.length > 0) throw new DeviceError(`model: ${completions.length} completions without a command`);
    return events;
  }

  async close(): Promise<void> {}
}
