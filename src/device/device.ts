// The offload device as the driver sees it (docs/offload-contract.md): commands in, completions out; received
// frames in, per frame the ring bytes and the CQE out, with the placed payload already written to host memory
// by DMA; asynchronous events (RESYNC_REQUEST, TEARDOWN_DONE). Two back ends implement it: ModelDevice (the
// reference model in-process) and RtlDevice (ddp_top in Verilator over the co-simulation bridge).
//
// Calls must not overlap (the driver serialises them): a command given after frames() resolved acts on later
// frames only, on both back ends.

import type { HostMemory } from "../contract/host-memory.js";
import { type CommandInput, type Completion, type Cqe, type Event, EventKind, Op, TAG_SETUP_LAST } from "../contract/protocol.js";

/** A device event that is not a command's completion. */
export type AsyncEvent = Exclude<Event, Completion>;

export interface RingFrame {
  /** The frame's bytes at their positions; bytes the device placed (keep 0) read as 0: they are not on the ring. */
  data: Uint8Array;
  keep: Uint8Array;
}

export interface RxResult {
  ring: RingFrame;
  cqe: Cqe;
}

export interface CommandBatch {
  /** One per command, in command order (a TAG_SETUP's beats are one command). */
  completions: Completion[];
  events: AsyncEvent[];
}

export interface FrameBatch {
  /** One per frame, in frame order. */
  frames: RxResult[];
  events: AsyncEvent[];
}

export type DeviceKind = "model" | "rtl";

export interface OffloadDevice {
  readonly kind: DeviceKind;
  /** Where DMA writes land (shared with the driver and the ULP). */
  readonly memory: HostMemory;
  /** Command beats in order; resolves once every command has completed. */
  commands(beats: readonly CommandInput[]): Promise<CommandBatch>;
  /** Frames in order; resolves once every frame has left with its CQE and its DMA writes are in memory. */
  frames(frames: readonly Uint8Array[]): Promise<FrameBatch>;
  /** Lets the device run until its pipeline has drained; the events raised meanwhile. */
  drain(): Promise<AsyncEvent[]>;
  close(): Promise<void>;
}

/** The device broke its contract (wrong counts, malformed records, no answer). */
export class DeviceError extends Error {
  override readonly name = "DeviceError";
}

/** Completions a list of command beats produces: one per beat, except TAG_SETUP beats before the `last` one. */
export function completionsOf(beats: readonly CommandInput[]): number {
  return beats.filter((b) => b.op !== Op.TAG_SETUP || ((b.flags ?? 0) & TAG_SETUP_LAST) !== 0).length;
}

/** Splits the device's event stream into completions and the rest. */
export function splitEvents(events: readonly Event[]): CommandBatch {
  const completions: Completion[] = [];
  const rest: AsyncEvent[] = [];
  for (const e of events) {
    if (e.kind === EventKind.COMPLETION) completions.push(e);
    else rest.push(e);
  }
  return { completions, events: rest };
}

/** The ring frame from the frame's length and its CQE: the placed segments' bytes are off the ring. */
export function ringKeep(length: number, cqe: Cqe): Uint8Array {
  const keep = new Uint8Array(length).fill(1);
  for (const s of cqe.segs) {
    if (s.frameOff + s.len > length) throw new DeviceError(`CQE segment [${s.frameOff}, ${s.frameOff + s.len}) beyond the ${length}-byte frame`);
    keep.fill(0, s.frameOff, s.frameOff + s.len);
  }
  return keep;
}
