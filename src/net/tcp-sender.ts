// One direction of a TCP connection, as a sender: turns a byte stream into MSS-sized segments and their frames.
// No congestion control, no retransmission timer: the impaired wire (src/nvmet/wire.ts) models loss as late
// retransmission of the same frame. Sequence numbers wrap mod 2^32 (seq.ts).

import { buildTcpFrame, type FlowAddress, type TcpOption } from "./frame.js";
import { seqAdd } from "./seq.js";

export interface TcpStreamSenderOptions {
  /** Sequence number of the first payload byte (i.e. ISN + 1 after a SYN). */
  isn: number;
  /** Largest payload per segment, in bytes (options do not count against it here). */
  mss: number;
  /** Acknowledgment number carried by every segment (ACK flag always set). Default 0. */
  ackSeq?: number;
  /** Default 65535. */
  window?: number;
  /** Options put on every data segment (e.g. timestamps). */
  options?: TcpOption[];
  /** IPv4 identification of the first frame; incremented per frame. Default 0. */
  ipId?: number;
}

export interface TcpSegment {
  seq: number;
  /** A view into the bytes given to send() (not a copy). */
  payload: Uint8Array;
  /** Complete Ethernet frame carrying the segment. */
  frame: Uint8Array;
}

export class TcpStreamSender {
  private seq: number;
  private ipId: number;
  /** Acknowledgment number put on the next segments; the caller updates it as the other direction advances. */
  ackSeq: number;

  constructor(
    readonly addr: FlowAddress,
    private readonly opts: TcpStreamSenderOptions,
  ) {
    if (!Number.isInteger(opts.mss) || opts.mss < 1) throw new RangeError(`mss must be a positive integer, got ${opts.mss}`);
    this.seq = opts.isn >>> 0;
    this.ackSeq = (opts.ackSeq ?? 0) >>> 0;
    this.ipId = opts.ipId ?? 0;
  }

  /** Sequence number of the next byte to be sent. */
  get nextSeq(): number {
    return this.seq;
  }

  /**
   * Splits `bytes` into segments of at most `mss` bytes. PSH is set on the last segment of the call unless
   * `psh: false`. An empty `bytes` gives no segments.
   */
  send(bytes: Uint8Array, opts: { psh?: boolean } = {}): TcpSegment[] {
    const segments: TcpSegment[] = [];
    for (let at = 0; at < bytes.length; at += this.opts.mss) {
      const payload = bytes.subarray(at, Math.min(bytes.length, at + this.opts.mss));
      const last = at + payload.length === bytes.length;
      const frame = buildTcpFrame({
        ...this.addr,
        seq: this.seq,
        ack: this.ackSeq,
        flags: { ack: true, psh: last && (opts.psh ?? true) },
        window: this.opts.window ?? 65535,
        options: this.opts.options ?? [],
        payload,
        ipId: this.ipId,
      });
      segments.push({ seq: this.seq, payload, frame });
      this.seq = seqAdd(this.seq, payload.length);
      this.ipId = (this.ipId + 1) & 0xffff;
    }
    return segments;
  }
}
