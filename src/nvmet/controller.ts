// NVMe/TCP controller (target) emulator: serves RAM namespaces over one queue per TCP connection.
//
// Host -> controller traffic arrives as a byte stream (receive); controller -> host traffic leaves as Ethernet
// frames (flush), cut at a configurable MSS with a configurable initial sequence number. Responses are held
// until flush(), which may interleave the PDUs of different commands (seeded) while keeping each command's own
// PDUs in order. Every PDU sent is recorded in `sent` with what the target meant it to be, so tests (and tshark)
// can be checked against intent. A malicious mode makes the next C2HData PDU carry one chosen lie.

import { crc32c, writeDigest } from "../pdu/crc32c.js";
import { PduFramer, type FramedPdu } from "../pdu/framer.js";
import { encodePdu, type Pdu, PduFlags, type PduLies } from "../pdu/pdu.js";
import {
  type Cqe,
  cqeStatus,
  decodeConnectData,
  SglId,
  type Sqe,
  sqeCid,
  StatusCodeType,
} from "../pdu/sqe.js";
import type { FlowAddress } from "../net/frame.js";
import { type TcpSegment, TcpStreamSender } from "../net/tcp-sender.js";
import type { Rng } from "../util/rng.js";
import type { RamNamespace } from "./namespace.js";

/** NVMe generic status codes the target returns. */
export const Status = {
  success: 0,
  invalidOpcode: cqeStatus(StatusCodeType.Generic, 0x01),
  invalidField: cqeStatus(StatusCodeType.Generic, 0x02),
  invalidNamespace: cqeStatus(StatusCodeType.Generic, 0x0b),
  sglLengthInvalid: cqeStatus(StatusCodeType.Generic, 0x0f),
  lbaOutOfRange: cqeStatus(StatusCodeType.Generic, 0x80),
  /** Data transfer error: a write whose data digest did not match. */
  dataTransferError: cqeStatus(StatusCodeType.Generic, 0x04),
  /** Fabrics Connect: invalid parameters (command specific SC 0x82). */
  connectInvalidParameters: cqeStatus(StatusCodeType.CommandSpecific, 0x82),
} as const;

/** The lies a malicious target can tell in a C2HData PDU (public-figures section 6; DESIGN 4.4). */
export const LIES = [
  "datao-beyond-transfer",
  "unknown-cid",
  "hlen-255-with-hdgst",
  "plen-below-pdo",
  "datal-plen-mismatch",
  "pdo-misaligned",
  "wrong-digest-flags",
  "bad-ddgst",
  "bad-hdgst",
] as const;
export type Lie = (typeof LIES)[number];

/** Subsystem-wide: namespaces and the controller ids handed out by admin Connects. */
export interface SubsystemConfig {
  subnqn: string;
  namespaces: RamNamespace[];
}

export class NvmeSubsystem {
  private readonly namespaces = new Map<number, RamNamespace>();
  private readonly cntlids = new Set<number>();
  private nextCntlid = 1;

  constructor(readonly config: SubsystemConfig) {
    for (const ns of config.namespaces) this.namespaces.set(ns.nsid, ns);
  }

  namespace(nsid: number): RamNamespace | undefined {
    return this.namespaces.get(nsid);
  }

  allocateCntlid(): number {
    const id = this.nextCntlid++;
    this.cntlids.add(id);
    return id;
  }

  hasCntlid(id: number): boolean {
    return this.cntlids.has(id);
  }
}

export interface QueueConfig {
  /** Controller -> host direction of the connection (the target's side). */
  addr: FlowAddress;
  /** Sequence number of the first byte the target sends (choose near 2^32 to test wrap). */
  isn: number;
  mss: number;
  /** Largest data per C2HData PDU; reads are split into PDUs of this size. */
  c2hDataSize: number;
  /** Put SUCCESS on the last C2HData of a successful read and send no CapsuleResp. */
  successFlag?: boolean;
  /** Interleave the PDUs of different commands at flush (seeded by `rng`). */
  reorder?: boolean;
  /** Offer digests only if the host asks and these allow (default true: accept what the host asks). */
  allowHdgst?: boolean;
  allowDdgst?: boolean;
  /** ICResp maxh2cdata (default 8192) and cpda (default 0). */
  maxh2cdata?: number;
  cpda?: number;
  rng: Rng;
}

/** One PDU as the target meant it. */
export interface SentPdu {
  /** Sequence number of the PDU's first byte. */
  seq: number;
  length: number;
  type: number;
  flags: number;
  cid?: number;
  datao?: number;
  datal?: number;
  hdgst: boolean;
  ddgst: boolean;
  /** The lie this PDU carries, if any. */
  lie?: Lie;
}

interface PendingPdu {
  pdu: Pdu;
  /** Transfer length of the command, for lies about data ranges. */
  transferLength?: number;
}

/** A write waiting for its H2CData. */
interface PendingWrite {
  cid: number;
  ns: RamNamespace;
  slba: number;
  buffer: Uint8Array;
  received: number;
  /** An H2CData PDU of it failed its data digest. */
  badDigest: boolean;
}

export class TargetQueue {
  /** Every PDU sent, in stream order. */
  readonly sent: SentPdu[] = [];
  /** Negotiated digests (after the ICReq). */
  digests = { hdgst: false, ddgst: false };
  /** Controller id of the queue, after Connect. */
  cntlid: number | undefined;
  qid: number | undefined;
  /**
   * PDUs from the host whose data digest did not match (verified in software, always). nvmet fails the command
   * (nvmet_req_uninit) and tears the queue down; here the command fails with dataTransferError and the queue stays.
   */
  ddgstErrors = 0;

  private readonly framer: PduFramer;
  private readonly sender: TcpStreamSender;
  /** Per command, the response PDUs not yet flushed (a Map keeps arrival order). */
  private readonly pending = new Map<number, PendingPdu[]>();
  private readonly writes = new Map<number, PendingWrite>();
  private readonly lies: Lie[] = [];
  private nextTtag = 0;
  private sqHead = 0;

  constructor(
    private readonly subsystem: NvmeSubsystem,
    private readonly config: QueueConfig,
  ) {
    this.framer = new PduFramer({ direction: "H2C", hdgst: false, ddgst: false, pda: config.cpda ?? 0, adoptIcDigests: false });
    this.sender = new TcpStreamSender(config.addr, { isn: config.isn, mss: config.mss });
  }

  /** Sequence number of the next byte the target will send. */
  get nextSeq(): number {
    return this.sender.nextSeq;
  }

  /** The acknowledgment number put on the target's segments (the host's next sequence number). */
  set ackSeq(seq: number) {
    this.sender.ackSeq = seq;
  }

  /** Makes the next C2HData PDUs carry these lies, one each, in order. */
  lie(...lies: Lie[]): void {
    for (const l of lies) {
      if (l === "bad-ddgst" && !this.digests.ddgst) throw new Error("bad-ddgst needs data digests negotiated");
      if (l === "bad-hdgst" && !this.digests.hdgst) throw new Error("bad-hdgst needs header digests negotiated");
    }
    this.lies.push(...lies);
  }

  /** True when responses wait for flush(). */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Host -> controller bytes. The host side is never impaired, so a malformed PDU is a bug and throws. */
  receive(bytes: Uint8Array): void {
    for (const framed of this.framer.push(bytes)) this.handle(framed);
  }

  /** Encodes every pending response (interleaved across commands when `reorder`) and cuts it into frames. */
  flush(): TcpSegment[] {
    const order = this.emissionOrder();
    const parts: Uint8Array[] = [];
    let seq = this.sender.nextSeq;
    for (const p of order) {
      const { bytes, record } = this.encode(p, seq);
      parts.push(bytes);
      this.sent.push(record);
      seq = (seq + bytes.length) >>> 0;
    }
    this.pending.clear();
    const total = parts.reduce((n, b) => n + b.length, 0);
    const stream = new Uint8Array(total);
    let at = 0;
    for (const b of parts) {
      stream.set(b, at);
      at += b.length;
    }
    return this.sender.send(stream);
  }

  private emissionOrder(): PendingPdu[] {
    const queues = [...this.pending.values()].map((q) => [...q]);
    const out: PendingPdu[] = [];
    if (!this.config.reorder) return queues.flat();
    // A seeded random merge: each step takes the next PDU of a random command, so commands interleave and
    // complete in any order while each command's PDUs stay in order.
    let live = queues.filter((q) => q.length > 0);
    while (live.length > 0) {
      const q = this.config.rng.pick(live);
      out.push(q.shift()!);
      live = live.filter((x) => x.length > 0);
    }
    return out;
  }

  private queueResponse(cid: number, p: PendingPdu): void {
    const list = this.pending.get(cid);
    if (list) list.push(p);
    else this.pending.set(cid, [p]);
  }

  private respond(cid: number, status: number, result = 0n): void {
    this.sqHead = (this.sqHead + 1) & 0xffff;
    const cqe: Cqe = { result, sqHead: this.sqHead, sqId: this.qid ?? 0, cid, status };
    this.queueResponse(cid, { pdu: { kind: "CapsuleResp", cqe } });
  }

  // ---- commands ----

  private handle(framed: FramedPdu): void {
    const pdu = framed.pdu;
    switch (pdu.kind) {
      case "ICReq": {
        this.digests = { hdgst: pdu.hdgstEnable && (this.config.allowHdgst ?? true), ddgst: pdu.ddgstEnable && (this.config.allowDdgst ?? true) };
        this.framer.setDigests(this.digests);
        // The ICResp itself carries no digests and goes out ahead of everything else.
        this.queueResponse(-1, {
          pdu: { kind: "ICResp", pfv: 0, cpda: this.config.cpda ?? 0, hdgstEnable: this.digests.hdgst, ddgstEnable: this.digests.ddgst, maxh2cdata: this.config.maxh2cdata ?? 8192 },
        });
        return;
      }
      case "CapsuleCmd":
        if (framed.ddgstOk === false) {
          this.ddgstErrors++;
          return this.respond(sqeCid(pdu.sqe), Status.dataTransferError);
        }
        this.command(pdu.sqe, pdu.data);
        return;
      case "H2CData":
        if (framed.ddgstOk === false) this.ddgstErrors++;
        this.h2cData(pdu.cccid, pdu.datao, pdu.data, framed.ddgstOk !== false);
        return;
      case "H2CTermReq":
        throw new Error(`host sent H2CTermReq fes ${pdu.fes}`);
      default:
        throw new Error(`unexpected ${pdu.kind} from the host`);
    }
  }

  private command(sqe: Sqe, data: Uint8Array | undefined): void {
    const cid = sqeCid(sqe);
    if (this.cntlid === undefined && sqe.kind !== "Connect") return this.respond(cid, Status.invalidOpcode);
    switch (sqe.kind) {
      case "Connect":
        return this.connect(cid, sqe.qid, data);
      case "Read":
      case "Write": {
        const ns = this.subsystem.namespace(sqe.nsid);
        if (!ns) return this.respond(cid, Status.invalidNamespace);
        const slba = Number(sqe.slba);
        const nlb = sqe.nlb + 1;
        if (!ns.inRange(slba, nlb)) return this.respond(cid, Status.lbaOutOfRange);
        const length = nlb * ns.blockSize;
        if (sqe.sgl.length !== length) return this.respond(cid, Status.sglLengthInvalid);
        if (sqe.kind === "Read") return this.read(cid, ns.read(slba, nlb));
        if (sqe.sgl.id === SglId.InCapsule) {
          if (data?.length !== length) return this.respond(cid, Status.sglLengthInvalid);
          ns.write(slba, data);
          return this.respond(cid, Status.success);
        }
        this.writes.set(cid, { cid, ns, slba, buffer: new Uint8Array(length), received: 0, badDigest: false });
        // One R2T for the whole transfer, as Linux nvmet does; the host splits it by maxh2cdata.
        this.queueResponse(cid, { pdu: { kind: "R2T", cccid: cid, ttag: this.nextTtag++ & 0xffff, r2to: 0, r2tl: length } });
        return;
      }
      default:
        return this.respond(cid, Status.invalidOpcode);
    }
  }

  private connect(cid: number, qid: number, data: Uint8Array | undefined): void {
    if (!data) return this.respond(cid, Status.connectInvalidParameters);
    const connectData = decodeConnectData(data);
    if (connectData.subnqn !== this.subsystem.config.subnqn) return this.respond(cid, Status.connectInvalidParameters);
    if (qid === 0) this.cntlid = this.subsystem.allocateCntlid();
    else if (this.subsystem.hasCntlid(connectData.cntlid)) this.cntlid = connectData.cntlid;
    else return this.respond(cid, Status.connectInvalidParameters);
    this.qid = qid;
    this.respond(cid, Status.success, BigInt(this.cntlid));
  }

  private read(cid: number, data: Uint8Array): void {
    const size = this.config.c2hDataSize;
    for (let at = 0; at < data.length; at += size) {
      const last = at + size >= data.length;
      const pdu: Pdu = { kind: "C2HData", cccid: cid, datao: at, last, success: last && (this.config.successFlag ?? false), data: data.subarray(at, at + size) };
      this.queueResponse(cid, { pdu, transferLength: data.length });
    }
    if (!this.config.successFlag) this.respond(cid, Status.success);
  }

  private h2cData(cid: number, datao: number, data: Uint8Array, digestOk: boolean): void {
    const w = this.writes.get(cid);
    if (!w || datao + data.length > w.buffer.length) throw new Error(`H2CData for cid 0x${cid.toString(16)} at [${datao}, ${datao + data.length}) matches no write`);
    w.buffer.set(data, datao);
    w.received += data.length;
    w.badDigest ||= !digestOk;
    if (w.received < w.buffer.length) return;
    this.writes.delete(cid);
    if (w.badDigest) return this.respond(cid, Status.dataTransferError);
    w.ns.write(w.slba, w.buffer);
    this.respond(cid, Status.success);
  }

  // ---- encoding, honest or not ----

  private encode(p: PendingPdu, seq: number): { bytes: Uint8Array; record: SentPdu } {
    const pdu = p.pdu;
    const lie = pdu.kind === "C2HData" ? this.lies.shift() : undefined;
    const bytes = lie === undefined ? encodePdu(pdu, this.digests) : this.encodeLie(lie, pdu as Extract<Pdu, { kind: "C2HData" }>, p.transferLength ?? 0);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const record: SentPdu = {
      seq,
      length: bytes.length,
      type: bytes[0]!,
      flags: bytes[1]!,
      hdgst: (bytes[1]! & PduFlags.HDGST) !== 0,
      ddgst: (bytes[1]! & PduFlags.DDGST) !== 0,
    };
    if (pdu.kind === "C2HData" || pdu.kind === "R2T") Object.assign(record, { cid: v.getUint16(8, true) });
    if (pdu.kind === "C2HData") Object.assign(record, { datao: v.getUint32(12, true), datal: v.getUint32(16, true) });
    if (pdu.kind === "CapsuleResp") record.cid = pdu.cqe.cid;
    if (lie !== undefined) record.lie = lie;
    return { bytes, record };
  }

  /** A C2HData PDU that is honest except for `lie`; digests are computed over the lie (except digest lies). */
  private encodeLie(lie: Lie, pdu: Extract<Pdu, { kind: "C2HData" }>, transferLength: number): Uint8Array {
    const honest = encodePdu(pdu, this.digests);
    const flags = honest[1]!;
    const pdo = honest[3]!;
    const withLies = (lies: PduLies, changed: Pdu = pdu): Uint8Array => encodePdu(changed, { ...this.digests, lies });
    switch (lie) {
      case "datao-beyond-transfer":
        // Ends one block beyond the command's buffer: the write a NIC must refuse to place.
        return encodePdu({ ...pdu, datao: transferLength - pdu.data.length + 512 }, this.digests);
      case "unknown-cid":
        return encodePdu({ ...pdu, cccid: this.unusedCid() }, this.digests);
      case "hlen-255-with-hdgst":
        return withLies({ hlen: 255, flags: flags | PduFlags.HDGST });
      case "plen-below-pdo":
        return withLies({ plen: pdo - 4 });
      case "datal-plen-mismatch":
        return withLies({ datal: pdu.data.length + 4 });
      case "pdo-misaligned":
        return this.misalignedPdo(honest);
      case "wrong-digest-flags":
        return withLies({ flags: flags ^ PduFlags.DDGST });
      case "bad-ddgst":
        return withLies({ corruptDdgst: true });
      case "bad-hdgst":
        return withLies({ corruptHdgst: true });
    }
  }

  /** Inserts 2 pad bytes before the data and moves pdo and plen accordingly: consistent, but not 4-aligned. */
  private misalignedPdo(honest: Uint8Array): Uint8Array {
    const pad = 2;
    const pdo = honest[3]!;
    const out = new Uint8Array(honest.length + pad);
    out.set(honest.subarray(0, pdo));
    out.set(honest.subarray(pdo), pdo + pad);
    out[3] = pdo + pad;
    new DataView(out.buffer).setUint32(4, out.length, true);
    if (this.digests.hdgst) writeDigest(out, 24, crc32c(out.subarray(0, 24)));
    return out;
  }

  /** A command id with no command outstanding on this queue. */
  private unusedCid(): number {
    let cid = 0x0fff;
    while (this.pending.has(cid) || this.writes.has(cid)) cid = (cid - 1) & 0xffff;
    return cid;
  }
}
