// The descriptor port of ddp_tx (docs/tx-contract.md section 1): one TxDescriptor as the fields of `s_desc_*`.

import { TxKind, type TxDescriptor } from "../model/tx-model.js";

/** The fields of `s_desc_*`, in the order the harness's vr_source is bound with. */
export const TX_DESC_FIELDS = ["kind", "ctx", "offload", "hlen", "seq", "region", "rem", "dg", "dlen", "crc", "hdr"] as const;
export type TxDescField = (typeof TX_DESC_FIELDS)[number];

export function txDescFields(d: TxDescriptor): Record<TxDescField, bigint> {
  const f: Record<TxDescField, bigint> = { kind: BigInt(d.kind), ctx: BigInt(d.ctx), offload: 0n, hlen: 0n, seq: 0n, region: 0n, rem: 0n, dg: 0n, dlen: 0n, crc: 0n, hdr: 0n };
  if (d.kind === TxKind.FRAME) Object.assign(f, { offload: d.offload ? 1n : 0n, hlen: BigInt(d.hlen), seq: BigInt(d.seq >>> 0) });
  else if (d.kind === TxKind.ADD) f.seq = BigInt(d.seq >>> 0);
  else if (d.kind === TxKind.RESYNC) {
    const s = d.state;
    let hdr = 0n;
    for (let i = 7; i >= 0; i--) hdr = (hdr << 8n) | BigInt(s.hdr[i] ?? 0);
    Object.assign(f, { seq: BigInt(d.seq >>> 0), region: BigInt(s.region), rem: BigInt(s.rem >>> 0), dg: s.dg ? 1n : 0n, dlen: BigInt(s.dlen >>> 0), crc: BigInt(s.crc >>> 0), hdr });
  }
  return f;
}

/** The vr_source payload of a descriptor: each field little-endian in its port's bytes (`widths`, in field order). */
export function encodeTxDesc(d: TxDescriptor, widths: readonly number[]): Uint8Array {
  const f = txDescFields(d);
  const out = new Uint8Array(widths.reduce((n, w) => n + w, 0));
  let at = 0;
  TX_DESC_FIELDS.forEach((name, i) => {
    let v = f[name];
    for (let b = 0; b < widths[i]!; b++, v >>= 8n) out[at++] = Number(v & 0xffn);
  });
  return out;
}
