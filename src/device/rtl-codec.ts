// Port-level encoding of ddp_top's side channels (docs/offload-contract.md sections 1-3, 6): command beats
// from `CommandSchema` values into the `s_cmd_*` payload of the harness vr_source, and `m_evt_*`, `m_cqe_*`,
// `m_dma_*` payloads back into the model's zod schemas. Widths come from the harness's port table, so a
// port that changes width is picked up (and a value that does not fit is an error, not a silent truncation).
// Malformed records are returned, not thrown, so a differential test can report them; RtlDevice throws.

import { z } from "zod";
import type { Harness } from "../cosim/index.js";
import {
  type Command,
  type CommandInput,
  CommandSchema,
  type Cqe,
  CqeSchema,
  type DmaWrite,
  type Event,
  EventSchema,
} from "../contract/protocol.js";

/** `s_cmd_*` fields in payload order, with the CommandSchema key each one carries. */
export const CMD_FIELDS = [
  ["op", "op"],
  ["tag", "tag"],
  ["ctx", "ctx"],
  ["cid", "cid"],
  ["ipv6", "ipv6"],
  ["src_ip", "srcIp"],
  ["dst_ip", "dstIp"],
  ["src_port", "srcPort"],
  ["dst_port", "dstPort"],
  ["seq", "seq"],
  ["flags", "flags"],
  ["cpda", "cpda"],
  ["addr", "addr"],
  ["len", "len"],
  ["cookie", "cookie"],
  ["index", "index"],
] as const satisfies readonly (readonly [string, keyof Command])[];

export const EVT_FIELDS = ["kind", "tag", "status", "ctx", "seq", "cookie", "data"] as const;
export const DMA_FIELDS = ["addr0", "len0", "addr1", "len1", "data"] as const;

/** `m_cqe_*` fields for `maxSegs` segment slots. */
export function cqeFields(maxSegs: number): string[] {
  const segs = Array.from({ length: maxSegs }, (_, i) => [`seg${i}_cid`, `seg${i}_buf_off`, `seg${i}_frame_off`, `seg${i}_len`]).flat();
  return ["hit", "ctx", "crc_ok", "nseg", ...segs, "resync", "resync_seq"];
}

/** Packs and unpacks one valid/ready payload: fields in order, each little-endian in ceil(width/8) bytes. */
export class Layout {
  readonly widths: number[];
  readonly size: number;

  constructor(
    readonly prefix: string,
    readonly fields: readonly string[],
    harness: Harness,
  ) {
    this.widths = fields.map((f) => harness.port(`${prefix}_${f}`).width);
    this.size = this.widths.reduce((n, w) => n + Math.ceil(w / 8), 0);
  }

  pack(values: Readonly<Record<string, bigint>>): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    this.fields.forEach((f, i) => {
      const bits = this.widths[i]!;
      let v = values[f] ?? 0n;
      if (v < 0n || v >> BigInt(bits) !== 0n) throw new RangeError(`${this.prefix}_${f}: ${v} does not fit in ${bits} bits`);
      for (let b = 0; b < Math.ceil(bits / 8); b++, v >>= 8n) out[at++] = Number(v & 0xffn);
    });
    return out;
  }

  unpack(data: Uint8Array): Record<string, bigint> {
    if (data.length !== this.size) throw new RangeError(`${this.prefix}: payload of ${data.length} bytes, expected ${this.size}`);
    const out: Record<string, bigint> = {};
    let at = 0;
    this.fields.forEach((f, i) => {
      const n = Math.ceil(this.widths[i]! / 8);
      let v = 0n;
      for (let b = n - 1; b >= 0; b--) v = (v << 8n) | BigInt(data[at + b]!);
      out[f] = v;
      at += n;
    });
    return out;
  }
}

/** One command beat as the `s_cmd_*` payload. */
export function encodeCommand(layout: Layout, input: CommandInput): Uint8Array {
  const cmd = CommandSchema.parse(input);
  const values: Record<string, bigint> = {};
  for (const [port, key] of CMD_FIELDS) {
    const v = cmd[key];
    values[port] = typeof v === "boolean" ? (v ? 1n : 0n) : BigInt(v);
  }
  return layout.pack(values);
}

/** A record the RTL produced that does not fit the contract's schema (kept, so the test can report it). */
export interface Malformed {
  malformed: string;
  raw: Record<string, string>;
}

function rawHex(v: Record<string, bigint>): Record<string, string> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, `0x${x.toString(16)}`]));
}

const num = (v: bigint | undefined): number => Number(v ?? 0n);

/** Fields an event of each kind must leave 0 (contract section 1: completion fields, TEARDOWN_DONE, RESYNC_REQUEST). */
const EVENT_ZERO_FIELDS: Record<number, readonly string[]> = {
  1: ["seq", "cookie"],
  2: ["tag", "status", "cookie", "data"],
  3: ["tag", "status", "ctx", "seq", "data"],
};

/** `m_evt_*` -> EventSchema (each kind keeps only its meaningful fields; the others must be 0). */
export function decodeEvent(v: Record<string, bigint>): Event | Malformed {
  const nonZero = (EVENT_ZERO_FIELDS[num(v.kind)] ?? []).filter((f) => (v[f] ?? 0n) !== 0n);
  if (nonZero.length > 0) return { malformed: `event kind ${v.kind} with non-zero ${nonZero.join(", ")}`, raw: rawHex(v) };
  const r = EventSchema.safeParse({
    kind: num(v.kind),
    tag: num(v.tag),
    status: num(v.status),
    ctx: num(v.ctx),
    seq: num(v.seq),
    cookie: num(v.cookie),
    data: v.data ?? 0n,
  });
  return r.success ? r.data : { malformed: z.prettifyError(r.error), raw: rawHex(v) };
}

/** `m_cqe_*` -> CqeSchema (`segs` = the first `nseg` slots; slots beyond nseg are not part of the CQE). */
export function decodeCqe(v: Record<string, bigint>, maxSegs: number): Cqe | Malformed {
  const nseg = num(v.nseg);
  if (nseg > maxSegs) return { malformed: `nseg ${nseg} > ${maxSegs} segment slots`, raw: rawHex(v) };
  // Slots at and above nseg are all 0 (contract section 3).
  const stale = Object.keys(v).filter((f) => /^seg(\d+)_/.test(f) && Number(/^seg(\d+)_/.exec(f)![1]) >= nseg && v[f] !== 0n);
  if (stale.length > 0) return { malformed: `segment slots beyond nseg ${nseg} not 0: ${stale.join(", ")}`, raw: rawHex(v) };
  const segs = Array.from({ length: nseg }, (_, i) => ({
    cid: num(v[`seg${i}_cid`]),
    bufOff: num(v[`seg${i}_buf_off`]),
    frameOff: num(v[`seg${i}_frame_off`]),
    len: num(v[`seg${i}_len`]),
  }));
  const r = CqeSchema.safeParse({
    hit: v.hit === 1n,
    ctx: num(v.ctx),
    crcOk: v.crc_ok === 1n,
    nseg,
    segs,
    resync: v.resync === 1n,
    resyncSeq: num(v.resync_seq),
  });
  return r.success ? r.data : { malformed: z.prettifyError(r.error), raw: rawHex(v) };
}

/** `m_dma_*` -> the (one or two) writes of the beat: the first len0 bytes of data to addr0, the next len1 to addr1. */
export function decodeDma(v: Record<string, bigint>, dataBytes: number): DmaWrite[] | Malformed {
  const len0 = num(v.len0);
  const len1 = num(v.len1);
  if (len0 + len1 > dataBytes || len0 + len1 === 0) return { malformed: `len0 ${len0} + len1 ${len1} outside 1..${dataBytes}`, raw: rawHex(v) };
  const bytes = new Uint8Array(dataBytes);
  let d = v.data ?? 0n;
  for (let i = 0; i < dataBytes; i++, d >>= 8n) bytes[i] = Number(d & 0xffn);
  const out: DmaWrite[] = [];
  if (len0 > 0) out.push({ addr: v.addr0 ?? 0n, data: bytes.slice(0, len0) });
  if (len1 > 0) out.push({ addr: v.addr1 ?? 0n, data: bytes.slice(len0, len0 + len1) });
  return out;
}

export function isMalformed(x: unknown): x is Malformed {
  return typeof x === "object" && x !== null && "malformed" in x;
}
