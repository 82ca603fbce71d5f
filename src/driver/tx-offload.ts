// The driver's transmit half of the data-digest offload (docs/tx-contract.md section 3): turns the frames the
// stack sends into the device's transmit queue. Per offloaded socket it keeps, like kTLS's record list, the bytes
// sent from the first PDU not wholly acknowledged on (`base` is always a PDU's first byte); a frame whose first
// payload byte is not the byte the device expects (a retransmission, or the first new frame after one) is
// preceded by a RESYNC with the state at that byte. Acks and resyncs find PDU boundaries from the headers' plen
// alone; the only CRC the driver computes is over the data of the PDU a resync lands in, before that byte.

import { parseFrame } from "../net/frame.js";
import { TxKind, txAdvance, txBoundary, TxRegion, type TxStats } from "../model/tx-model.js";

/** The NVMe/TCP common header: type, flags, hlen, pdo, plen. */
const COMMON_HEADER = 8;
import type { TxDevice, TxQueueItem } from "../device/tx-device.js";

interface TxSocket {
  /** Sequence number of the first byte of the oldest PDU not wholly acknowledged. */
  base: number;
  /** Bytes from `base` on, as sent. */
  kept: Uint8Array;
  /** The sequence number the device expects next. */
  devSeq: number;
}

export interface TxOffloadStats {
  "tx-nvme-tcp-sk-add": number;
  "tx-nvme-tcp-sk-del": number;
  /** Stream bytes the driver walked (CRC'd when data) to compute resync states: at most one PDU per resync. */
  "tx-nvme-tcp-resync-bytes": number;
}

/** Serial-number distance b - a (mod 2^32), as a signed 32-bit number. */
function seqDiff(a: number, b: number): number {
  return ((b - a) | 0);
}

/**
 * Offset of the first byte of the PDU that holds byte `at` of `stream` (which starts with a PDU), found from
 * the headers' plen alone. It stops at a header that is incomplete or that the device would refuse (the walk
 * from there turns LOST, as the device does).
 */
function pduStartAt(stream: Uint8Array, at: number): number {
  let p = 0;
  while (p + COMMON_HEADER <= stream.length) {
    const probe = txBoundary();
    txAdvance(probe, stream.subarray(p, p + COMMON_HEADER));
    if (probe.region === TxRegion.LOST) return p;
    const plen = new DataView(stream.buffer, stream.byteOffset + p).getUint32(4, true);
    if (p + plen > at) return p;
    p += plen;
  }
  return p;
}

export class TxDigestOffload {
  private readonly sockets = new Map<number, TxSocket>();
  private queue: TxQueueItem[] = [];
  readonly stats: TxOffloadStats = { "tx-nvme-tcp-sk-add": 0, "tx-nvme-tcp-sk-del": 0, "tx-nvme-tcp-resync-bytes": 0 };

  constructor(private readonly dev: TxDevice) {}

  /** The socket's next byte (write_seq) is a PDU's first byte. */
  skAdd(ctx: number, writeSeq: number): void {
    this.sockets.set(ctx, { base: writeSeq >>> 0, kept: new Uint8Array(0), devSeq: writeSeq >>> 0 });
    this.queue.push({ desc: { kind: TxKind.ADD, ctx, seq: writeSeq >>> 0 } });
    this.stats["tx-nvme-tcp-sk-add"]++;
  }

  skDel(ctx: number): void {
    if (!this.sockets.delete(ctx)) return;
    this.queue.push({ desc: { kind: TxKind.DEL, ctx } });
    this.stats["tx-nvme-tcp-sk-del"]++;
  }

  /** The peer acknowledged every byte before `seq`: the PDUs wholly before it are dropped. */
  ack(ctx: number, seq: number): void {
    const s = this.sockets.get(ctx);
    if (!s) return;
    const n = pduStartAt(s.kept, Math.min(Math.max(seqDiff(s.base, seq), 0), s.kept.length));
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
      const start = pduStartAt(s.kept, at);
      const state = txBoundary();
      txAdvance(state, s.kept.subarray(start, at));
      this.stats["tx-nvme-tcp-resync-bytes"] += at - start;
      this.queue.push({ desc: { kind: TxKind.RESYNC, ctx: ctx!, seq, state } });
    }
    this.queue.push({ desc: { kind: TxKind.FRAME, ctx: ctx!, offload: true, hlen: f.payloadOffset, seq }, frame });
    s.devSeq = (seq + f.payload.length) >>> 0;
  }

  /** The device's counters. */
  deviceStats(): Promise<TxStats> {
    return this.dev.stats();
  }

  /** Sends the queue to the device; the frames as they left, in order. */
  async flush(): Promise<Uint8Array[]> {
    const items = this.queue;
    this.queue = [];
    return this.dev.send(items);
  }
}
