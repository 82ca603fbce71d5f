// The receive half of a TCP socket: reassembly and in-order delivery of segments.
//
// Generic over the segment type S because the driver delivers skb-like objects whose fragments point into the
// receive ring or into placed buffers; the receiver never looks inside S, it asks `range` where S sits in sequence
// space and `trim` to cut it. For plain bytes use `createByteReceiver`.
//
// Rules (as Linux tcp_data_queue / tcp_data_queue_ofo, minus SACK and windows):
//  - bytes before nextSeq are dropped: a segment entirely before it is a duplicate, one straddling it is trimmed;
//  - a segment after nextSeq is held (out of order); where it overlaps held data, the held data is kept and the
//    new segment is cut into the pieces that fill gaps;
//  - whenever the segment at nextSeq is present, it and every held segment contiguous with it are delivered.
// Sequence numbers wrap mod 2^32; a segment must start less than 2^31 from nextSeq to be read as ahead of it.
// Only payload is handled: SYN/FIN/RST and acknowledgments are the caller's business.

import { seqAdd, seqDiff } from "./seq.js";

export interface SeqRange {
  seq: number;
  length: number;
}

export interface TcpReceiverOptions<S> {
  /** Sequence number of the first byte expected. */
  nextSeq: number;
  /** Where the segment's payload sits in sequence space. */
  range: (seg: S) => SeqRange;
  /** The part of `seg` from byte `from` to byte `to` (offsets within its payload, to exclusive). */
  trim: (seg: S, from: number, to: number) => S;
}

export interface TcpReceiverStats {
  /** Segments dropped whole because every byte was already delivered or already held. */
  duplicateSegments: number;
  /** Bytes dropped because they were already delivered or held (whole duplicates included). */
  duplicateBytes: number;
  /** Segments that arrived ahead of nextSeq and were held. */
  outOfOrderSegments: number;
  deliveredSegments: number;
  deliveredBytes: number;
}

interface Held<S> {
  seq: number;
  length: number;
  seg: S;
}

export class TcpReceiver<S> {
  private next: number;
  /** Out-of-order segments: non-overlapping, sorted by distance from nextSeq, all strictly after it. */
  private held: Held<S>[] = [];
  readonly stats: TcpReceiverStats = { duplicateSegments: 0, duplicateBytes: 0, outOfOrderSegments: 0, deliveredSegments: 0, deliveredBytes: 0 };

  constructor(private readonly opts: TcpReceiverOptions<S>) {
    this.next = opts.nextSeq >>> 0;
  }

  /** Sequence number of the next byte to deliver. */
  get nextSeq(): number {
    return this.next;
  }

  /** Number of segments held out of order. */
  get pending(): number {
    return this.held.length;
  }

  get pendingBytes(): number {
    return this.held.reduce((n, h) => n + h.length, 0);
  }

  /** Takes one segment; returns the segments now deliverable, in order (possibly none). */
  receive(seg: S): S[] {
    const { seq, length } = this.opts.range(seg);
    if (length === 0) return [];
    // Work in offsets relative to nextSeq: plain integers, no wrap, as long as everything is within 2^31.
    let start = seqDiff(seq, this.next);
    const end = start + length;
    if (end <= 0) {
      this.countDuplicate(length, true);
      return [];
    }
    if (start < 0) {
      this.countDuplicate(-start, false);
      seg = this.opts.trim(seg, -start, length);
      start = 0;
    }
    if (start > 0) this.stats.outOfOrderSegments++;
    this.hold(seg, start, end);
    return this.deliver();
  }

  /** Adds the parts of seg, which covers relative offsets [start, end), that are not already held. */
  private hold(seg: S, start: number, end: number): void {
    const pieces: Held<S>[] = [];
    let at = start;
    for (const h of this.held) {
      const hStart = seqDiff(h.seq, this.next);
      const hEnd = hStart + h.length;
      if (hEnd <= at) continue;
      if (hStart >= end) break;
      if (hStart > at) pieces.push(this.piece(seg, at, hStart, start, end));
      at = hEnd;
      if (at >= end) break;
    }
    if (at < end) pieces.push(this.piece(seg, at, end, start, end));
    const kept = pieces.reduce((n, p) => n + p.length, 0);
    if (kept < end - start) this.countDuplicate(end - start - kept, kept === 0);
    if (pieces.length === 0) return;
    this.held.push(...pieces);
    this.held.sort((a, b) => seqDiff(a.seq, this.next) - seqDiff(b.seq, this.next));
  }

  /** The part of seg (covering relative [start, end)) at relative [from, to). */
  private piece(seg: S, from: number, to: number, start: number, end: number): Held<S> {
    const whole = from === start && to === end;
    const cut = whole ? seg : this.opts.trim(seg, from - start, to - start);
    return { seq: seqAdd(this.next, from), length: to - from, seg: cut };
  }

  private deliver(): S[] {
    const out: S[] = [];
    while (this.held.length > 0 && this.held[0]!.seq === this.next) {
      const h = this.held.shift()!;
      out.push(h.seg);
      this.next = seqAdd(this.next, h.length);
      this.stats.deliveredSegments++;
      this.stats.deliveredBytes += h.length;
    }
    return out;
  }

  private countDuplicate(bytes: number, wholeSegment: boolean): void {
    this.stats.duplicateBytes += bytes;
    if (wholeSegment) this.stats.duplicateSegments++;
  }
}

/** A segment of plain bytes, for tests and simple users. */
export interface ByteSegment {
  seq: number;
  data: Uint8Array;
}

/** A TcpReceiver over ByteSegment; trimming makes views (subarray), never copies. */
export function createByteReceiver(nextSeq: number): TcpReceiver<ByteSegment> {
  return new TcpReceiver<ByteSegment>({
    nextSeq,
    range: (s) => ({ seq: s.seq, length: s.data.length }),
    trim: (s, from, to) => ({ seq: seqAdd(s.seq, from), data: s.data.subarray(from, to) }),
  });
}
