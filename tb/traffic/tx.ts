// Transmit traffic for ddp_tx (docs/tx-contract.md): host-to-controller PDU streams with placeholder digests,
// cut into TCP frames of random sizes, interleaved over several sockets, with retransmissions (resynced or
// not), sockets that are not offloaded, deletes and re-adds. Shared by test/rtl/ddp_tx.test.ts, the
// differential test and bench.

import { encodePdu, type Pdu } from "../../src/pdu/pdu.js";
import { buildTcpFrame, parseFrame, type FlowAddress } from "../../src/net/frame.js";
import { TxKind, txAdvance, txBoundary, type TxDescriptor, type TxState } from "../../src/model/tx-model.js";
import type { Rng } from "../../src/util/rng.js";
import { concat } from "./target.js";

/** One item of the transmit queue: a command, or a frame with its FRAME descriptor. */
export interface TxItem {
  desc: TxDescriptor;
  frame?: Uint8Array;
  /** A scenario's frame: which socket's bytes it carries, and whether the block must fill their digests. */
  wire?: { socket: number; offset: number; filled: boolean };
}

export interface TxStream {
  /** The PDUs as a host with digest offload queues them: DDGST bytes are placeholders. */
  sent: Uint8Array;
  /** The same PDUs with every digest computed by the encoder (crc32c): what must reach the wire. */
  good: Uint8Array;
}

/** PDUs a host sends: H2CData and CapsuleCmd with in-capsule data (digest on or off), capsules without data, rare TermReqs. */
export function txPduStream(rng: Rng, pdus: number, opts: { maxData?: number; minData?: number } = {}): TxStream {
  const maxData = opts.maxData ?? 300;
  const minData = opts.minData ?? 0;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pdus; i++) {
    const data = rng.bytes(minData === 0 && rng.chance(0.05) ? 0 : rng.range(Math.max(1, minData), maxData + 1));
    const pick = rng.int(20);
    let pdu: Pdu;
    if (pick < 11) pdu = { kind: "H2CData", cccid: rng.int(0x10000), ttag: rng.int(0x10000), datao: rng.int(1 << 20), last: rng.chance(0.5), data };
    else if (pick < 17) pdu = { kind: "CapsuleCmd", sqe: { kind: "Raw", bytes: rng.bytes(64) }, data };
    else if (pick < 19) pdu = { kind: "CapsuleCmd", sqe: { kind: "Raw", bytes: rng.bytes(64) } };
    else pdu = { kind: "H2CTermReq", fes: 1, fei: rng.int(100), errorData: rng.bytes(minData === 0 ? rng.int(40) : 64) };
    // A zero-length H2CData still carries a (zero-length) data section; a Raw capsule without data none.
    parts.push(encodePdu(pdu, { hdgst: rng.chance(0.3), ddgst: rng.chance(0.85), pda: rng.chance(0.2) ? rng.int(4) : 0 }));
  }
  const good = concat(parts);
  const sent = Uint8Array.from(good);
  let at = 0;
  for (const p of parts) {
    // Placeholders: zeros or garbage, as a host that leaves the digest to the NIC may leave any bytes there.
    if ((p[1]! & 0x02) !== 0) sent.set(rng.chance(0.5) ? new Uint8Array(4) : rng.bytes(4), at + p.length - 4);
    at += p.length;
  }
  return { sent, good };
}


/** A socket's flow (host -> controller) with random addressing: IPv4 or IPv6, VLAN or not. */
export function txFlow(rng: Rng, i: number): FlowAddress {
  const v6 = rng.chance(0.3);
  return {
    srcMac: "02:00:00:00:00:01",
    dstMac: "02:00:00:00:00:02",
    ...(rng.chance(0.2) ? { vlan: { vid: 1 + rng.int(4000) } } : {}),
    ipVersion: v6 ? 6 : 4,
    srcIp: v6 ? "fd00::1" : "10.0.0.1",
    dstIp: v6 ? "fd00::2" : "10.0.0.2",
    srcPort: 40000 + i,
    dstPort: 4420,
  };
}

/** A TCP frame carrying `payload` at `seq`, and its FRAME descriptor. */
export function txFrame(flow: FlowAddress, ctx: number, offload: boolean, seq: number, payload: Uint8Array, timestamps: boolean): TxItem {
  const frame = buildTcpFrame({
    ...flow,
    seq: seq >>> 0,
    ack: 1,
    flags: { ack: true, psh: true },
    ...(timestamps ? { options: [{ kind: "nop" }, { kind: "nop" }, { kind: "timestamps", tsval: seq >>> 0, tsecr: 7 }] } : {}),
    payload,
  });
  const hlen = parseFrame(frame).payloadOffset;
  return { desc: { kind: TxKind.FRAME, ctx, offload, hlen, seq: seq >>> 0 }, frame };
}

/** The state a driver hands the device for byte `offset` of a stream that starts at a PDU boundary. */
export function txStateAt(stream: Uint8Array, offset: number): TxState {
  const s = txBoundary();
  txAdvance(s, stream.subarray(0, offset));
  return s;
}

interface Socket {
  ctx: number;
  flow: FlowAddress;
  offload: boolean;
  isn: number;
  stream: TxStream;
  /** Bytes of the stream sent so far. */
  sent: number;
  timestamps: boolean;
}

export interface TxScenarioOptions {
  sockets?: number;
  pdusPerSocket?: number;
  /** Payload bytes per frame: 1 .. maxSegment. */
  maxSegment?: number;
  /** Probability that a frame is followed by a retransmission of earlier bytes. */
  retransmit?: number;
  /** Retransmissions are resynced (before and back) with this probability; the rest go as they are (untouched). */
  resync?: number;
  maxData?: number;
  /** Smallest PDU data (and no zero-length data): wide buses need PDUs that do not share a beat. */
  minData?: number;
  /** Contexts the device has (a socket's ctx is below it). */
  nCtx?: number;
}

export interface TxScenario {
  items: TxItem[];
  /** Per socket: the stream as sent and as it must reach the wire, and its ISN (first payload seq). */
  sockets: { ctx: number; offload: boolean; isn: number; stream: TxStream }[];
}

/**
 * Sockets (most offloaded) whose streams are cut into frames sent in random interleaving, with ADD before the
 * first frame and DEL after the last; retransmissions of earlier bytes, either resynced (RESYNC at their first
 * byte, then RESYNC back to the head) or sent as they are.
 */
export function txScenario(rng: Rng, o: TxScenarioOptions = {}): TxScenario {
  const nCtx = o.nCtx ?? 64;
  const maxSegment = o.maxSegment ?? 200;
  const ctxs = new Set<number>();
  const sockets: Socket[] = Array.from({ length: o.sockets ?? 3 }, (_, i) => {
    let ctx = rng.int(nCtx);
    while (ctxs.has(ctx)) ctx = rng.int(nCtx);
    ctxs.add(ctx);
    return {
      ctx,
      flow: txFlow(rng, i),
      offload: rng.chance(0.8),
      isn: rng.chance(0.3) ? 0xffffffff - rng.int(2000) : rng.int(2 ** 32),
      stream: txPduStream(rng, o.pdusPerSocket ?? 12, { maxData: o.maxData, minData: o.minData }),
      sent: 0,
      timestamps: rng.chance(0.5),
    };
  });
  const items: TxItem[] = [];
  for (const s of sockets) if (s.offload) items.push({ desc: { kind: TxKind.ADD, ctx: s.ctx, seq: s.isn } });
  const live = () => sockets.filter((s) => s.sent < s.stream.sent.length);
  const frame = (si: number, from: number, len: number, filled: boolean): void => {
    const s = sockets[si]!;
    items.push({ ...txFrame(s.flow, s.ctx, s.offload, s.isn + from, s.stream.sent.subarray(from, from + len), s.timestamps), wire: { socket: si, offset: from, filled } });
  };
  for (let open = live(); open.length > 0; open = live()) {
    const s = open[rng.int(open.length)]!;
    const si = sockets.indexOf(s);
    const n = Math.min(rng.range(1, maxSegment + 1), s.stream.sent.length - s.sent);
    frame(si, s.sent, n, s.offload);
    s.sent += n;
    const done = s.sent === s.stream.sent.length;
    if (done && s.offload) items.push({ desc: { kind: TxKind.DEL, ctx: s.ctx } });
    // After a DEL only unresynced retransmissions (segments in flight of a deleted socket): never touched.
    if (rng.chance(o.retransmit ?? 0.15)) {
      const from = rng.int(s.sent);
      const len = Math.min(rng.range(1, maxSegment + 1), s.sent - from);
      const resync = s.offload && !done && rng.chance(o.resync ?? 0.7);
      if (resync) items.push({ desc: { kind: TxKind.RESYNC, ctx: s.ctx, seq: (s.isn + from) >>> 0, state: txStateAt(s.stream.sent, from) } });
      frame(si, from, len, resync);
      if (resync) items.push({ desc: { kind: TxKind.RESYNC, ctx: s.ctx, seq: (s.isn + s.sent) >>> 0, state: txStateAt(s.stream.sent, s.sent) } });
    }
  }
  return { items, sockets: sockets.map((s) => ({ ctx: s.ctx, offload: s.offload, isn: s.isn, stream: s.stream })) };
}
