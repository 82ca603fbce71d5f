// An OffloadDevice that forwards everything to another one. Subclasses override what they watch or reshape
// (frames, usually): recording CQEs for a report, holding frames back to play a lossy wire.

import type { CommandInput } from "../contract/protocol.js";
import type { AsyncEvent, CommandBatch, FrameBatch, OffloadDevice } from "./device.js";

export class PassThroughDevice implements OffloadDevice {
  constructor(readonly inner: OffloadDevice) {}

  get kind(): OffloadDevice["kind"] {
    return this.inner.kind;
  }

  get memory(): OffloadDevice["memory"] {
    return this.inner.memory;
  }

  commands(beats: readonly CommandInput[]): Promise<CommandBatch> {
    return this.inner.commands(beats);
  }

  frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    return this.inner.frames(frames);
  }

  drain(): Promise<AsyncEvent[]> {
    return this.inner.drain();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
