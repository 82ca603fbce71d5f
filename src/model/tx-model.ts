// Reference model of the transmit data-digest block (docs/tx-contract.md), transaction level: descriptors and
// whole frames in, frames out. It walks each tracked frame's payload as a byte stream (no lanes, no beats);
// the digest is crc32c (@node-rs/crc32) of the PDU's data, continued across frames from the CRC value so far.

import { crc32c } from "@node-rs/crc32";
import type { UlpDdpTxStats } from "../contract/ulp-ddp.js";

export const TxKind = { FRAME: 0, ADD: 1, DEL: 2, RESYNC: 3 } as const;
export const TxRegion = { HDR: 0, SKIP: 1, DATA: 2, DGST: 3, LOST: 4 } as const;
export type TxRegionValue = (typeof TxRegion)[keyof typeof TxRegion];

/** F_DDGST in a PDU's flags. */
const F_DDGST = 0x02;
/** The smallest plen / pdo a header may declare (contract section 2). */
const MIN_PDU = 24;

/** A context's position in its PDU stream: what RESYNC hands the device (contract section 3). */
export interface TxState {
  region: TxRegionValue;
  /** Bytes left in the region, the current byte included. */
  rem: number;
  /** The current PDU declares a data digest. */
  dg: boolean;
  /** Its data length (plen - pdo - 4). */
  dlen: number;
  /** CRC32C value of the PDU's data bytes so far (0 before any). */
  crc: number;
  /** The 8-byte common header (bytes before the current one, in HDR). */
  hdr: Uint8Array;
}

export type TxDescriptor =
  | { kind: typeof TxKind.FRAME; ctx: number; offload: boolean; hlen: number; seq: number }
  | { kind: typeof TxKind.ADD; ctx: number; seq: number }
  | { kind: typeof TxKind.DEL; ctx: number }
  | { kind: typeof TxKind.RESYNC; ctx: number; seq: number; state: TxState };

export type TxStats = UlpDdpTxStats;

/** The state at a PDU boundary (ADD, or a resync at a header's first byte). */
export function txBoundary(): TxState {
  return { region: TxRegion.HDR, rem: 8, dg: false, dlen: 0, crc: 0, hdr: new Uint8Array(8) };
}

/** Something a walk over the stream reports: a digest byte at `at` (its value), a header that failed. */
export interface TxWalkEvents {
  digestByte?(at: number, value: number): void;
  digestDone?(): void;
  badHeader?(): void;
}

/**
 * Advances `s` over `bytes` (the next bytes of the stream, in order), in place. Used by the model on each
 * tracked frame's payload and by the driver to compute the state a RESYNC hands the device.
 */
export function txAdvance(s: TxState, bytes: Uint8Array, ev: TxWalkEvents = {}): void {
  let i = 0;
  while (i < bytes.length) {
    if (s.region === TxRegion.LOST) return;
    const n = Math.min(s.rem, bytes.length - i);
    if (s.region === TxRegion.HDR) s.hdr.set(bytes.subarray(i, i + n), 8 - s.rem);
    else if (s.region === TxRegion.DATA) s.crc = crc32c(bytes.subarray(i, i + n), s.crc);
    else if (s.region === TxRegion.DGST && ev.digestByte) {
      for (let k = 0; k < n; k++) ev.digestByte(i + k, (s.crc >>> (8 * (4 - s.rem + k))) & 0xff);
    }
    s.rem -= n;
    i += n;
    if (s.rem === 0) endRegion(s, ev);
  }
}

function endRegion(s: TxState, ev: TxWalkEvents): void {
  switch (s.region) {
    case TxRegion.HDR: {
      const view = new DataView(s.hdr.buffer, s.hdr.byteOffset, 8);
      const dg = (s.hdr[1]! & F_DDGST) !== 0;
      const pdo = s.hdr[3]!;
      const plen = view.getUint32(4, true);
      if (plen < MIN_PDU || (dg && (pdo < MIN_PDU || plen < pdo + 4))) {
        s.region = TxRegion.LOST;
        ev.badHeader?.();
        return;
      }
      s.dg = dg;
      s.dlen = dg ? plen - pdo - 4 : 0;
      s.region = TxRegion.SKIP;
      s.rem = (dg ? pdo : plen) - 8;
      return;
    }
    case TxRegion.SKIP:
      s.crc = 0;
      if (!s.dg) [s.region, s.rem] = [TxRegion.HDR, 8];
      else if (s.dlen === 0) [s.region, s.rem] = [TxRegion.DGST, 4];
      else [s.region, s.rem] = [TxRegion.DATA, s.dlen];
      return;
    case TxRegion.DATA:
      [s.region, s.rem] = [TxRegion.DGST, 4];
      return;
    default:
      ev.digestDone?.();
      [s.region, s.rem] = [TxRegion.HDR, 8];
  }
}

/** A RESYNC that names an impossible position leaves the context LOST (as the RTL does). */
function sanitize(s: TxState): TxState {
  const bad = (s.region === TxRegion.HDR && s.rem > 8) || (s.region === TxRegion.DGST && s.rem > 4) || s.region > TxRegion.LOST;
  return { ...s, region: bad ? TxRegion.LOST : s.region, hdr: Uint8Array.from(s.hdr) };
}

export function cloneTxState(s: TxState): TxState {
  return { ...s, hdr: Uint8Array.from(s.hdr) };
}

export class TxModel {
  private readonly ctx = new Map<number, { seq: number; state: TxState }>();
  readonly stats: TxStats = { packets: 0, bytes: 0, ddgst: 0, ooo: 0, resync: 0, badHdr: 0 };

  constructor(readonly nCtx: number) {}

  /** A command descriptor. */
  command(d: Exclude<TxDescriptor, { kind: typeof TxKind.FRAME }>): void {
    if (d.ctx >= this.nCtx) return;
    if (d.kind === TxKind.ADD) this.ctx.set(d.ctx, { seq: d.seq >>> 0, state: txBoundary() });
    else if (d.kind === TxKind.DEL) this.ctx.delete(d.ctx);
    else if (this.ctx.has(d.ctx)) {
      this.ctx.set(d.ctx, { seq: d.seq >>> 0, state: sanitize(d.state) });
      this.stats.resync++;
    }
  }

  /** A frame with its FRAME descriptor: the frame as it leaves the block (the TCP checksum as it came). */
  frame(d: Extract<TxDescriptor, { kind: typeof TxKind.FRAME }>, frame: Uint8Array): Uint8Array {
    const out = Uint8Array.from(frame);
    const c = d.offload && d.ctx < this.nCtx ? this.ctx.get(d.ctx) : undefined;
    if (!c || c.state.region === TxRegion.LOST) return out;
    if ((d.seq >>> 0) !== c.seq) {
      this.stats.ooo++;
      return out;
    }
    const payloadAt = Math.min(d.hlen, frame.length);
    const payload = frame.subarray(payloadAt);
    txAdvance(c.state, payload, {
      digestByte: (at, value) => (out[payloadAt + at] = value),
      digestDone: () => this.stats.ddgst++,
      badHeader: () => this.stats.badHdr++,
    });
    c.seq = (c.seq + payload.length) >>> 0;
    this.stats.packets++;
    this.stats.bytes += payload.length;
    return out;
  }
}
