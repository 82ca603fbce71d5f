// An OffloadDevice that passes everything to another one and keeps, per received frame, what the run report
// needs and the device does not count: the frame's size, its flow and TCP payload range, and whether the
// device placed any of it. Frames that do not parse as TCP are counted in bytes only.

import type { FrameBatch } from "../device/device.js";
import { PassThroughDevice } from "../device/pass-through.js";
import { ParseError } from "../net/errors.js";
import { flowKey, parseFrame } from "../net/frame.js";

export interface FrameRecord {
  flow: string;
  seq: number;
  payload: number;
  placed: boolean;
}

export class CountingDevice extends PassThroughDevice {
  readonly records: FrameRecord[] = [];
  frameBytes = 0;
  frameCount = 0;

  override async frames(frames: readonly Uint8Array[]): Promise<FrameBatch> {
    const batch = await this.inner.frames(frames);
    frames.forEach((f, i) => {
      this.frameBytes += f.length;
      this.frameCount++;
      let parsed;
      try {
        parsed = parseFrame(f);
      } catch (e) {
        if (e instanceof ParseError) return;
        throw e;
      }
      const flow = flowKey(parsed);
      if (!parsed.tcp || flow === undefined || parsed.payload.length === 0) return;
      this.records.push({ flow, seq: parsed.tcp.seq, payload: parsed.payload.length, placed: (batch.frames[i]?.cqe.nseg ?? 0) > 0 });
    });
    return batch;
  }
}
