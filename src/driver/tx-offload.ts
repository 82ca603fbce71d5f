// The driver's transmit half of the data-digest offload (docs/tx-contract.md section 3): turns the frames the
// stack sends into the device's transmit queue. Per offloaded socket it keeps, like kTLS's record list, the bytes
// sent and not yet acknowledged and the PDU state at the acknowledged point; a frame whose first payload byte is
// not the byte the device expects (a retransmission, or the first new frame after one) is preceded by a RESYNC
// with the state at that byte, computed from that checkpoint.

import { parseFrame } from "../net/frame.js";
import { cloneTxState, TxKind, txAdvance, txBoundary, type TxState } from "../model/tx-model.js";
import type { TxDevice, TxQueueItem } from "../device/tx-device.js";

interface TxSocket {
  /** State at `base` (the oldest unacknowledged byte). */
  checkpoint: TxState;
  base: number;
  /** Bytes from `base` on, as sent. */
  kept: Uint8Array;
  /** The sequence number the device expects next. */
  devSeq: number;
}

export interface TxOffloadStats {
  "tx-nvme-tcp-sk-add": number;
  "tx-nvme-tcp-sk-del": number;
  /** Stream bytes the driver walked (CRC'd when data) to compute resync states. */
  "tx-nvme-tcp-resync-bytes": number;
}

/** Serial-number distance b - a (mod 2^32), as a signed 32-bit number. */
function seqDiff(a: number, b: number): number {
  return ((b - a) | 0);
}

export class TxDigestOffload {
  private readonly sockets = new Map<number, TxSocket>();
  private queue: TxQueueItem[] = [];
  readonly stats: TxOffloadStats = { "tx-nvme-tcp-sk-add": 0, "tx-nvme-tcp-sk-del": 0, "tx-nvme-tcp-resync-bytes": 0 };

  constructor(private readonly dev: TxDevice) {}

  /** The socket's next byte (write_seq) is a PDU's first byte. */
  skAdd(ctx: number, writeSeq: number): void {
    this.sockets.set(ctx, { checkpoint: txBoundary(), base: writeSeq >>> 0, kept: new Uint8Array(0), devSeq: writeSeq >>> 0 });
    this.queue.push({ desc: { kind: TxKind.ADD, ctx, seq: writeSeq >>> 0 } });
    this.stats["tx-nvme-tcp-sk-add"]++;
  }

  skDel(ctx: number): void {
    if (!this.sockets.delete(ctx)) return;
    this.queue.push({ desc: { kind: TxKind.DEL, ctx } });
    this.stats["tx-nvme-tcp-sk-del"]++;
  }

  /** The peer acknowledged every byte before `seq`: the checkpoint moves there. */
  ack(ctx: number, seq: number): void {
    const s = this.sockets.get(ctx);
    if (!s) return;
    const n = Math.min(Math.max(seqDiff(s.base, seq), 0), s.kept.length);
    txAdvance(s.checkpoint, s.kept.subarray(0, n));
    s.kept = s.kept.slice(n);
    s.base = (s.base + n) >>> 0;
  }

  /** Queues one frame of socket `ctx` (undefined: not offloaded), with a RESYNC before it when it needs one. */
  xmit(ctx: number | undefined, frame: Uint8Array): void {
    const s = ctx === undefined ? undefined : this.sockets.get(ctx);
    const f = parseFrame(frame);
    if (!s || !f.tcp) {
      this.queue.push({ desc: { kind: TxKind.FRAME, ctx: ctx ?? 0, offload: false, hlen: f.payloadOffset, seq: f.tcp?.seq ?? 0 }, frame });
      return;
    }
    const seq = f.tcp.seq >>> 0;
    const at = seqDiff(s.base, seq);
    // New bytes extend the kept stream; bytes before the checkpoint cannot be described: sent untouched.
    if (at < 0 || at > s.kept.length) {
      this.queue.push({ desc: { kind: TxKind.FRAME, ctx: ctx!, offload: false, hlen: f.payloadOffset, seq }, frame });
      return;
    }
    const end = at + f.payload.length;
    if (end > s.kept.length) {
      const kept = new Uint8Array(end);
      kept.set(s.kept);
      kept.set(f.payload.subarray(s.kept.length - at), s.kept.length);
      s.kept = kept;
    }
    if (seq !== s.devSeq) {
      const state = cloneTxState(s.checkpoint);
      txAdvance(state, s.kept.subarray(0, at));
      this.stats["tx-nvme-tcp-resync-bytes"] += at;
      this.queue.push({ desc: { kind: TxKind.RESYNC, ctx: ctx!, seq, state } });
    }
    this.queue.push({ desc: { kind: TxKind.FRAME, ctx: ctx!, offload: true, hlen: f.payloadOffset, seq }, frame });
    s.devSeq = (seq + f.payload.length) >>> 0;
  }

  /** Sends the queue to the device; the frames as they left, in order. */
  async flush(): Promise<Uint8Array[]> {
    const items = this.queue;
    this.queue = [];
    return this.dev.send(items);
  }
}
