// Offload figures of a run, from what the target sent (its record of C2HData PDUs) and what the device did with
// each frame (FrameRecorder): the share of C2HData data bytes placed and of data-carrying frames with placed
// bytes, the runs of unplaced data between placed data (each loss episode, with its length in stream bytes and
// C2HData PDUs), and the data bytes that stayed on the ring only because a frame had used all of its MAX_SEGS
// segment slots (a documented limit, reported as a figure, not an error).

import { flowKeyOf } from "../net/frame.js";
import { seqDiff } from "../net/seq.js";
import type { SentPdu } from "../nvmet/controller.js";
import { PduType } from "../pdu/pdu.js";
import type { FrameRecord } from "./recorder.js";
import type { Session } from "./session.js";

/** One direction of a connection: the sender's record and the frames of its flow. */
export interface FlowRecord {
  sent: readonly SentPdu[];
  records: readonly FrameRecord[];
}

export interface OffloadFigures {
  /** Placed C2HData data bytes / C2HData data bytes (retransmitted bytes counted once). */
  bytes: number;
  c2hDataBytes: number;
  placedBytes: number;
  /** Frames carrying C2HData data that had some placed / all such frames (retransmissions included). */
  packets: number;
  dataPackets: number;
  placedPackets: number;
  frames: number;
  /** Runs of unplaced C2HData bytes between placed ones: per run, its stream bytes and the PDUs it touched. */
  episodes: number;
  gapBytes: number[];
  gapPdus: number[];
  /** Data bytes left on the ring by frames whose CQE used every one of the device's MAX_SEGS slots. */
  segLimitedBytes: number;
  /** Every flow's frames reached the device in stream order, each starting where the one before ended. */
  inOrder: boolean;
}

interface Range {
  start: number;
  end: number;
}

/** Stream offsets (from the first byte sent) of every C2HData PDU's data, in stream order. */
function dataRanges(sent: readonly SentPdu[]): Range[] {
  const isn = sent[0]!.seq;
  return sent
    .filter((p) => p.type === PduType.C2HData && p.datal !== undefined)
    .map((p) => {
      const start = seqDiff(p.seq, isn) + p.length - p.datal! - (p.ddgst ? 4 : 0);
      return { start, end: start + p.datal! };
    })
    .sort((a, b) => a.start - b.start);
}

/** Bytes of [s, e) inside the ranges. */
function overlap(ranges: readonly Range[], s: number, e: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.end <= s) lo = mid + 1;
    else hi = mid;
  }
  let n = 0;
  for (let i = lo; i < ranges.length && ranges[i]!.start < e; i++) n += Math.min(e, ranges[i]!.end) - Math.max(s, ranges[i]!.start);
  return n;
}

export function offloadFigures(flows: readonly FlowRecord[], maxSegs: number): OffloadFigures {
  const f: OffloadFigures = { bytes: 0, c2hDataBytes: 0, placedBytes: 0, packets: 0, dataPackets: 0, placedPackets: 0, frames: 0, episodes: 0, gapBytes: [], gapPdus: [], segLimitedBytes: 0, inOrder: true };
  for (const flow of flows) {
    if (flow.sent.length === 0) continue;
    const isn = flow.sent[0]!.seq;
    const ranges = dataRanges(flow.sent);
    f.c2hDataBytes += ranges.reduce((n, r) => n + r.end - r.start, 0);
    const placedRuns: [number, number][] = [];
    let next: number | undefined;
    for (const r of flow.records) {
      f.frames++;
      const fs = seqDiff(r.seq, isn);
      if (next !== undefined && fs !== next) f.inOrder = false;
      next = fs + r.len;
      const data = overlap(ranges, fs, fs + r.len);
      const placed = r.placed.reduce((n, [, len]) => n + len, 0);
      if (data > 0) {
        f.dataPackets++;
        if (placed > 0) f.placedPackets++;
      }
      if (r.placed.length >= maxSegs) f.segLimitedBytes += data - placed;
      for (const [seq, len] of r.placed) {
        const at = seqDiff(seq, isn);
        placedRuns.push([at, at + len]);
        f.placedBytes += len;
      }
    }
    gaps(ranges, placedRuns, f);
  }
  f.bytes = f.c2hDataBytes === 0 ? 0 : f.placedBytes / f.c2hDataBytes;
  f.packets = f.dataPackets === 0 ? 0 : f.placedPackets / f.dataPackets;
  f.episodes = f.gapBytes.length;
  return f;
}

/** Unplaced data runs in stream order: the data ranges minus the placed intervals. */
function gaps(ranges: readonly Range[], placedRuns: [number, number][], f: OffloadFigures): void {
  placedRuns.sort((a, b) => a[0] - b[0]);
  let k = 0;
  let open: { start: number; pdus: number } | undefined;
  for (const r of ranges) {
    let at = r.start;
    let touched = false;
    while (at < r.end) {
      while (k < placedRuns.length && placedRuns[k]![1] <= at) k++;
      const p = placedRuns[k];
      if (p && p[0] <= at) {
        if (open) {
          f.gapBytes.push(at - open.start);
          f.gapPdus.push(open.pdus);
          open = undefined;
        }
        at = Math.min(r.end, p[1]);
        touched = false;
      } else {
        if (!open) open = { start: at, pdus: 0 };
        if (!touched) {
          open.pdus++;
          touched = true;
        }
        at = p ? Math.min(p[0], r.end) : r.end;
      }
    }
  }
  if (open) {
    f.gapBytes.push(ranges[ranges.length - 1]!.end - open.start);
    f.gapPdus.push(open.pdus);
  }
}

/** The figures of a session's I/O queues (controller -> host direction), from its recorder. */
export function sessionFigures(s: Session): OffloadFigures {
  const records = s.recorder?.records ?? [];
  const flows = s.ios.map((q) => {
    const key = flowKeyOf(q.socket.flow);
    return { sent: q.target.sent, records: records.filter((r) => r.flow === key) };
  });
  return offloadFigures(flows, s.driver?.hw.maxSegs ?? Infinity);
}
