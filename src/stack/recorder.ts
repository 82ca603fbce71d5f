// The device as the stack sees it, recorded: an OffloadDevice that passes everything to the real one and keeps,
// per received TCP frame with payload, what the offload figures and invariants need and the device does not
// count: the frame's flow, its payload's sequence range, and what its CQE says (hit, placed segments as sequence
// ranges, crc_ok, a resync request). Frame sizes are counted for every frame. Frames are read from the device's
// results (their headers are intact on the ring), so a wrapper inside that reorders frames is recorded right.

import type { FrameBatch } from "../device/device.js";
import { PassThroughDevice } from "../device/pass-through.js";
import { ParseError } from "../net/errors.js";
import { flowKey, parseFrame } from "../net/frame.js";
import { seqAdd } from "../net/seq.js";

export interface FrameRecord {
  /** flowKey of the frame (src = the sender, i.e. the target). */
  flow: string;
  /** Sequence number of the first payload byte, and the payload length. */
  seq: number;
  len: number;
  hit: boolean;
  /** Placed segments as [seq of the first byte, length]. */
  placed: [number, number][];
  crcOk: boolean;
  /** The seq of a resync request the CQE carried. */
  resync: number | undefined;
}

export class FrameRecorder extends PassThroughDevice {
  readonly records: FrameRecord[] = [];
  frameBytes = 0;
  frameCount = 0;

  override async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    const batch = await this.inner.frames(frames);
    for (const { ring, cqe } of batch.frames) {
      this.frameBytes += ring.data.length;
      this.frameCount++;
      let parsed;
      try {
        parsed = parseFrame(ring.data);
      } catch (e) {
        if (e instanceof ParseError) continue;
        throw e;
      }
      const flow = flowKey(parsed);
      if (!parsed.tcp || flow === undefined || parsed.payload.length === 0) continue;
      const seq = parsed.tcp.seq;
      this.records.push({
        flow,
        seq,
        len: parsed.payload.length,
        hit: cqe.hit,
        placed: cqe.segs.map((s) => [seqAdd(seq, s.frameOff - parsed.payloadOffset), s.len]),
        crcOk: cqe.crcOk,
        resync: cqe.resync ? cqe.resyncSeq : undefined,
      });
    }
    return batch;
  }
}
