// Transaction-level reference model of the offload block `ddp_top` (docs/offload-contract.md): the same
// commands and frames in, the same ring frames, CQEs, DMA bytes, events and counters out, with no cycles.
// It is the scoreboard of the RTL differential tests and the device the software stack runs on without a
// simulator.
//
// Timing differences the comparison must allow for (the model has no pipeline):
// - Commands take effect between frames: a command given after frame(f) returned acts on later frames only.
// - TEARDOWN_DONE is queued right after the teardown's completion; the RTL may emit it later (once its pipeline
//   has drained). Compare events by kind, and in order within each kind, not their interleaving with frames.
//
// Choices where the contract leaves room are named constants or single functions below (search "Reading:").

import { z } from "zod";
import { ParseError } from "../net/errors.js";
import { type ParsedFrame, parseFrame } from "../net/frame.js";
import { seqAdd, seqDiff } from "../net/seq.js";
import { crc32c, DIGEST_LENGTH, readDigest } from "../pdu/crc32c.js";
import { c2hHeaderValid, HEADER_LENGTH, PduType } from "../pdu/pdu.js";
import {
  Cap,
  CAPS_HW,
  type Command,
  type CommandInput,
  CommandSchema,
  type Cqe,
  CtxFlags,
  type DmaWrite,
  type Event,
  EventKind,
  ipField,
  Limit,
  Op,
  type Segment,
  sglSlices,
  STAT_NAMES,
  type Stats,
  Status,
  type StatusCode,
  TAG_SETUP_LAST,
} from "../contract/protocol.js";
import { POOL_CHUNK, type TagEntry, TagTable } from "./tag-table.js";

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

export const OffloadParamsSchema = z.object({
  nCtx: z.number().int().min(1).max(256).default(8),
  /** Tag table slots (contract section 8): a power of two. */
  nTags: z.number().int().min(16).max(65536).refine(isPowerOfTwo, "a power of two").default(16384),
  /** Pages per buffer: a power of two and a multiple of the pool's chunk. */
  maxSgl: z.number().int().min(POOL_CHUNK).max(4096).refine(isPowerOfTwo, "a power of two").default(128),
  /** SGL page size in bytes. */
  page: z.number().int().min(64).max(2 ** 20).refine(isPowerOfTwo, "a power of two").default(4096),
  /** Pages of all buffers at once; default 16 per tag slot. */
  poolPages: z.number().int().min(2 * POOL_CHUNK).multipleOf(POOL_CHUNK).optional(),
  /** CQE `nseg` is 3 bits wide. */
  maxSegs: z.number().int().min(1).max(7).default(4),
  dataW: z.number().int().min(8).multipleOf(8).default(64),
  /** Frame offsets in the CQE are 16 bits wide. */
  maxFrame: z.number().int().min(64).max(65535).default(9216),
  ioThreshold: z.number().int().min(0).default(0),
  /** The RTL's fixed latency in cycles (LIMITS_GET 7); the model has none, so pass the RTL's constant. */
  latency: z.number().int().min(0).default(0),
  /** Section 7: bytes the stream may advance past a resync candidate without a confirm before it is dropped (at least 32). */
  resyncTimeout: z.number().int().min(32).max(2 ** 31 - 1).default(1048576),
});
export type OffloadParams = z.infer<typeof OffloadParamsSchema>;

export interface FrameResult {
  /** The frame as it leaves on `m_axis_rx`: same bytes, `keep[i]` 0 for a placed byte, else 1. */
  ring: { data: Uint8Array; keep: Uint8Array };
  cqe: Cqe;
  dma: DmaWrite[];
}

/** Where the tracker is inside the stream: a PDU region, or SEARCH (scanning for a header, section 7). */
type Phase = "HEADER" | "PAD" | "DATA" | "DDGST" | "SEARCH";
/** Tracker states as the contract names them: WAIT_CONFIRM while a resync candidate is followed (section 7). */
export type TrackState = Phase | "WAIT_CONFIRM";

/** Resync details of a context (for tests and debugging). */
export interface ResyncState {
  /** The PDU region followed, or SEARCH. */
  phase: Phase;
  /** WAIT_CONFIRM: the candidate header's seq (its type byte) and whether the host confirmed it. */
  candidate: { seq: number; confirmed: boolean } | undefined;
  /** SEARCH: seq of the first byte not yet ruled out as a header start, and how many bytes from there are kept. */
  scanSeq: number;
  window: number;
}


// Reading: a frame longer than MAX_FRAME has no verdict; it counts as `oversize` and also as `passthrough`.
const OVERSIZE_COUNTS_AS_PASSTHROUGH = true;
// Reading: nvme-tcp and nvme-tcp-ddgst-rx are both active after reset.
const CAPS_AT_RESET = CAPS_HW;

interface Context {
  index: number;
  key: string;
  hdgst: boolean;
  ddgst: boolean;
  cpda: number;
  /** Expected seq of the next payload byte. */
  exp: number;
  state: Phase;
  hdr: Uint8Array;
  hdrCnt: number;
  /** Bytes left in the PAD / DATA / DDGST region. */
  left: number;
  type: number;
  pdo: number;
  plen: number;
  cid: number;
  datao: number;
  datal: number;
  /** PDU data offset of the next data byte. */
  dataOff: number;
  /** Finished CRC32C of the data bytes so far (crc32c() continues from a finished value). */
  crc: number;
  crcValid: boolean;
  digest: Uint8Array;
  /** The tag entry this PDU's data is placed through, when the placement decision said yes. */
  tag: TagEntry | undefined;
  /** SEARCH: the in-order bytes from `scanSeq` on that may still start a header (at most 23 between frames). */
  win: Uint8Array;
  winLen: number;
  scanSeq: number;
  /** WAIT_CONFIRM (any phase but SEARCH): the candidate being followed without placing. */
  cand: { seq: number; confirmed: boolean } | undefined;
}

/** What one frame accumulates while its payload is walked. */
interface FrameWork {
  bytes: Uint8Array;
  payloadOffset: number;
  keep: Uint8Array;
  cqe: Cqe;
  segs: Segment[];
  dma: DmaWrite[];
  crcOk: boolean;
  placed: number;
}

export class OffloadModel {
  readonly params: OffloadParams;
  /** Hardware counters (STATS_GET reads the same values). */
  readonly stats: Stats;
  caps: number = CAPS_AT_RESET;

  private readonly contexts: (Context | undefined)[];
  /** The tag table; a PDU keeps the entry it hit, so a re-setup of the CID is a new entry. */
  private readonly tags: TagTable;
  private readonly eventQueue: Event[] = [];
  /** TAG_SETUP beats received before the `last` one. */
  private setupBeats: Command[] = [];

  constructor(params: z.input<typeof OffloadParamsSchema> = {}) {
    this.params = OffloadParamsSchema.parse(params);
    this.contexts = new Array<Context | undefined>(this.params.nCtx).fill(undefined);
    const { nTags, maxSgl, page } = this.params;
    this.tags = new TagTable({ nTags, maxSgl, page, poolPages: this.poolPages });
    this.stats = Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as Stats;
  }

  /**
   * A deep copy of the state (Maps and shared tag entries keep their identity structure), for a what-if run
   * (the differential test plays a race both ways).
   */
  clone(): OffloadModel {
    const copy = Object.create(OffloadModel.prototype) as OffloadModel;
    Object.assign(copy, structuredClone({ ...this }));
    Object.setPrototypeOf(copy.tags, TagTable.prototype);
    return copy;
  }

  /** POOL_PAGES: the parameter, else 16 pages per tag slot. */
  get poolPages(): number {
    return this.params.poolPages ?? 16 * this.params.nTags;
  }

  /** Drains the events produced so far, in the order the device produced them. */
  events(): Event[] {
    return this.eventQueue.splice(0);
  }

  /** Tracker state of a context (for tests and debugging); undefined when the context is unused. */
  trackState(ctx: number): { state: TrackState; exp: number } | undefined {
    const c = this.contexts[ctx];
    return c && { state: c.cand ? "WAIT_CONFIRM" : c.state, exp: c.exp };
  }

  /** Resync details of a context (section 7); undefined when the context is unused. */
  resyncState(ctx: number): ResyncState | undefined {
    const c = this.contexts[ctx];
    return c && { phase: c.state, candidate: c.cand && { ...c.cand }, scanSeq: c.scanSeq, window: c.winLen };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Commands

  /** One `s_cmd_*` beat. */
  command(input: CommandInput): void {
    const cmd = CommandSchema.parse(input);
    switch (cmd.op) {
      case Op.CTX_ADD:
        return this.complete(cmd, this.ctxAdd(cmd));
      case Op.CTX_DEL:
        return this.complete(cmd, this.ctxDel(cmd));
      case Op.TAG_SETUP:
        this.setupBeats.push(cmd);
        if (cmd.flags & TAG_SETUP_LAST) {
          const beats = this.setupBeats;
          this.setupBeats = [];
          this.complete(cmd, this.tagSetup(beats));
        }
        return;
      case Op.TAG_TEARDOWN:
        return this.tagTeardown(cmd);
      case Op.RESYNC: {
        const status = this.ctxStatus(cmd.ctx);
        if (status === Status.OK) this.confirm(this.contexts[cmd.ctx]!, cmd.seq);
        return this.complete(cmd, status);
      }
      case Op.CAPS_GET:
        return this.complete(cmd, Status.OK, this.capsData());
      case Op.CAPS_SET: {
        const wanted = cmd.index & 3;
        const mask = (cmd.index >> 4) & 3;
        this.caps = ((this.caps & ~mask) | (wanted & mask)) & CAPS_HW;
        return this.complete(cmd, Status.OK, this.capsData());
      }
      case Op.LIMITS_GET: {
        const v = this.limit(cmd.index);
        return v === undefined ? this.complete(cmd, Status.BAD_ARG) : this.complete(cmd, Status.OK, BigInt(v));
      }
      case Op.STATS_GET: {
        const name = STAT_NAMES[cmd.index];
        return name === undefined ? this.complete(cmd, Status.BAD_ARG) : this.complete(cmd, Status.OK, BigInt(this.stats[name]));
      }
      default:
        return this.complete(cmd, Status.BAD_OP);
    }
  }

  private complete(cmd: Command, status: StatusCode, data = 0n): void {
    // Reading: a completion echoes the command's ctx field, whatever the op.
    this.eventQueue.push({ kind: EventKind.COMPLETION, tag: cmd.tag, status, ctx: cmd.ctx, data });
  }

  /** Reading: for CTX_DEL and RESYNC an out-of-range ctx is BAD_CTX, an unused one NOT_FOUND. */
  private ctxStatus(ctx: number): StatusCode {
    if (ctx >= this.params.nCtx) return Status.BAD_CTX;
    return this.contexts[ctx] ? Status.OK : Status.NOT_FOUND;
  }

  private capsData(): bigint {
    return BigInt((CAPS_HW << 8) | this.caps);
  }

  private limit(index: number): number | undefined {
    const p = this.params;
    const values: Record<number, number> = {
      [Limit.maxDdpSglLen]: p.maxSgl,
      [Limit.ioThreshold]: p.ioThreshold,
      [Limit.fullCcidRange]: 1,
      [Limit.tls]: 0,
      [Limit.nCtx]: p.nCtx,
      [Limit.nTags]: p.nTags,
      [Limit.maxSegs]: p.maxSegs,
      [Limit.latency]: p.latency,
      [Limit.maxFrame]: p.maxFrame,
      [Limit.page]: p.page,
      [Limit.poolPages]: this.poolPages,
    };
    return values[index];
  }

  private ctxAdd(cmd: Command): StatusCode {
    if (cmd.ctx >= this.params.nCtx) return Status.BAD_CTX;
    if (this.contexts[cmd.ctx]) return Status.EXISTS;
    const key = flowKeyOf(cmd.ipv6 ? 6 : 4, cmd.srcIp, cmd.dstIp, cmd.srcPort, cmd.dstPort);
    if (this.contexts.some((c) => c?.key === key)) return Status.EXISTS;
    if (!(this.caps & Cap.NVME_TCP)) return Status.DISABLED;
    const c: Context = {
      index: cmd.ctx,
      key,
      hdgst: (cmd.flags & CtxFlags.HDGST) !== 0,
      ddgst: (cmd.flags & CtxFlags.DDGST) !== 0,
      cpda: cmd.cpda,
      exp: cmd.seq,
      state: "HEADER",
      hdr: new Uint8Array(HEADER_LENGTH + DIGEST_LENGTH),
      hdrCnt: 0,
      left: 0,
      type: 0,
      pdo: 0,
      plen: 0,
      cid: 0,
      datao: 0,
      datal: 0,
      dataOff: 0,
      crc: 0,
      crcValid: true,
      digest: new Uint8Array(DIGEST_LENGTH),
      tag: undefined,
      win: new Uint8Array(HEADER_LENGTH),
      winLen: 0,
      scanSeq: cmd.seq,
      cand: undefined,
    };
    this.contexts[cmd.ctx] = c;
    return Status.OK;
  }

  private ctxDel(cmd: Command): StatusCode {
    const status = this.ctxStatus(cmd.ctx);
    if (status !== Status.OK) return status;
    this.tags.deleteContext(cmd.ctx);
    this.contexts[cmd.ctx] = undefined;
    return Status.OK;
  }

  /** The beats of one TAG_SETUP, `last` included: the tag table checks them in the contract's order. */
  private tagSetup(beats: Command[]): StatusCode {
    const last = beats[beats.length - 1]!;
    const ctxOk = last.ctx < this.params.nCtx && this.contexts[last.ctx] !== undefined;
    const status = this.tags.setup(last.ctx, last.cid, beats.map((b) => ({ addr: b.addr, len: b.len })), ctxOk);
    this.stats.tagCollisions = this.tags.collisions;
    this.stats.poolExhausted = this.tags.poolExhausted;
    return status;
  }

  private tagTeardown(cmd: Command): void {
    // Reading: an out-of-range ctx is NOT_FOUND (its low bits never name another context's entry).
    const t = cmd.ctx < this.params.nCtx ? this.tags.teardown(cmd.ctx, cmd.cid) : undefined;
    if (!t) return this.complete(cmd, Status.NOT_FOUND);
    this.complete(cmd, Status.OK);
    // No pipeline: every DMA write that used the entry has already left.
    this.eventQueue.push({ kind: EventKind.TEARDOWN_DONE, cookie: cmd.cookie });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Frames

  frame(bytes: Uint8Array): FrameResult {
    const keep = new Uint8Array(bytes.length).fill(1);
    const cqe: Cqe = { hit: false, ctx: 0, crcOk: false, nseg: 0, segs: [], resync: false, resyncSeq: 0 };
    const result: FrameResult = { ring: { data: bytes.slice(), keep }, cqe, dma: [] };
    if (bytes.length > this.params.maxFrame) {
      this.stats.oversize++;
      if (OVERSIZE_COUNTS_AS_PASSTHROUGH) this.stats.passthrough++;
      return result;
    }
    const f = verdictOk(bytes);
    if (!f) {
      this.stats.passthrough++;
      return result;
    }
    const c = this.lookup(f);
    if (!c) return result;
    cqe.hit = true;
    cqe.ctx = c.index;
    // Section 7: a candidate confirmed inside a C2HData PDU's PAD, DATA or DDGST resumes at this frame's first byte.
    if (c.cand?.confirmed && c.type === PduType.C2HData && (c.state === "PAD" || c.state === "DATA" || c.state === "DDGST")) this.resumeInPdu(c);

    const w: FrameWork = {
      bytes,
      payloadOffset: f.payloadOffset,
      keep,
      cqe,
      segs: cqe.segs,
      dma: result.dma,
      crcOk: (this.caps & Cap.NVME_TCP_DDGST_RX) !== 0 && c.ddgst,
      placed: 0,
    };
    const p = f.tcp.seq;
    const n = f.payload.length;
    const ahead = seqDiff(p, c.exp);
    // Section 7: no crc_ok while searching or waiting for a confirm.
    if (c.state === "SEARCH" || c.cand) w.crcOk = false;
    // Reading: ooo_packets and retransmits count frames with payload of a context that follows PDU framing
    // (tracking or WAIT_CONFIRM, rules 2, 4, 5), not of a context in SEARCH.
    const framing = c.state !== "SEARCH";
    if (n === 0) {
      // Rule 1: nothing changes.
    } else if (ahead < 0) {
      // Rule 2: a retransmission (entirely old, or starting before exp). Also in SEARCH and WAIT_CONFIRM.
      if (framing) this.stats.retransmits++;
      w.crcOk = false;
    } else {
      if (ahead > 0) {
        if (framing) this.stats.oooPackets++;
        if (c.state === "SEARCH") {
          // Reading: a gap while searching restarts the scan at p (no counter: the context is already in SEARCH).
          this.startScan(c, p);
        } else if (c.state === "DATA" && ahead <= c.left) {
          // Rule 4: only data was lost; the PDU's digest can no longer be checked. Section 7: also while
          // waiting, the candidate survives (a boundary reached here is handled by track()'s atBoundary).
          c.crcValid = false;
          c.left -= ahead;
          c.dataOff += ahead;
          this.nextRegion(c);
        } else if (c.cand) {
          // Section 7: any other gap while waiting is a miss.
          this.stats.resyncMisses++;
          c.cand = undefined;
          this.startScan(c, p);
        } else {
          this.enterSearch(c, w); // rule 5
          this.startScan(c, p);
        }
      }
      this.track(c, f.payload, w, p);
      c.exp = seqAdd(p, n);
    }

    cqe.crcOk = w.crcOk;
    cqe.nseg = w.segs.length;
    if (w.placed > 0 || w.crcOk) this.stats.rxNvmeTcpPackets++;
    this.stats.rxNvmeTcpBytes += w.placed;
    return result;
  }

  private lookup(f: OkFrame): Context | undefined {
    const v = f.ip.version;
    const key = flowKeyOf(v, ipField(v, f.ip.src), ipField(v, f.ip.dst), f.tcp.srcPort, f.tcp.dstPort);
    return this.contexts.find((c) => c?.key === key);
  }

  /**
   * A normally tracking context loses offload (rule 5 or a failed header check). Reading: `drop` counts the
   * frame in which the context enters SEARCH, not every later frame; a candidate dropped while waiting (miss,
   * gap, timeout) counts in resync_misses / resync_timeouts only, not in drop or searches.
   */
  private enterSearch(c: Context, w: FrameWork): void {
    c.tag = undefined;
    w.crcOk = false;
    this.stats.rxNvmeTcpDrop++;
    this.stats.searches++;
  }

  /** SEARCH from `seq` on, with no bytes before it in the window. */
  private startScan(c: Context, seq: number): void {
    c.state = "SEARCH";
    c.tag = undefined;
    c.cand = undefined;
    c.hdrCnt = 0;
    c.winLen = 0;
    c.scanSeq = seq;
  }

  /** RESYNC {ctx, seq}: confirms the candidate when it is `seq`; anything else is ignored. */
  private confirm(c: Context, seq: number): void {
    // Reading: a repeated confirm of an already confirmed candidate is ignored (counted once).
    if (!c.cand || c.cand.confirmed || c.cand.seq !== seq) return;
    c.cand.confirmed = true;
    this.stats.resyncConfirms++;
    // Exactly at a boundary (between frames, the next PDU starting at the next frame's first byte): that PDU is offloaded.
    if (c.state === "HEADER" && c.hdrCnt === 0) this.atBoundary(c, c.exp);
  }

  /**
   * Section 7: normal tracking from the middle of the confirmed candidate's C2HData PDU. Placement is decided as
   * at a header (the tag table as it is now); the PDU's earlier bytes were never checked, so its digest is not.
   */
  private resumeInPdu(c: Context): void {
    c.cand = undefined;
    c.crcValid = false;
    c.tag = this.placementTag(c);
  }

  /** WAIT_CONFIRM at a PDU boundary (the next header starts at `seq`): resume if confirmed, else maybe time out. */
  private atBoundary(c: Context, seq: number): void {
    const cand = c.cand;
    if (!cand) return;
    if (cand.confirmed) {
      c.cand = undefined; // normal tracking from this header on
    } else if (seqDiff(seq, cand.seq) > this.params.resyncTimeout) {
      this.stats.resyncTimeouts++;
      this.startScan(c, seq);
    }
  }

  /** In-order payload from its first byte (seq `p`): regions, header checks, placement, digests, and the scan. */
  private track(c: Context, payload: Uint8Array, w: FrameWork, p: number): void {
    const n = payload.length;
    let i = 0;
    for (;;) {
      if (c.cand && c.state === "HEADER" && c.hdrCnt === 0) this.atBoundary(c, seqAdd(p, i));
      if (i >= n) return;
      if (c.state === "SEARCH" || c.cand) w.crcOk = false;
      switch (c.state) {
        case "SEARCH":
          i = this.scan(c, payload, i, p, w);
          break;
        case "HEADER": {
          c.hdr[c.hdrCnt++] = payload[i++]!;
          if (c.hdrCnt === HEADER_LENGTH && !this.acceptHeader(c)) {
            // A failed header check: SEARCH (tracking) or a miss (WAIT_CONFIRM). The scan starts at the byte
            // after the header's first byte, with the rest of the rejected header in the window.
            if (c.cand) this.stats.resyncMisses++;
            else this.enterSearch(c, w);
            this.startScan(c, seqAdd(p, i - HEADER_LENGTH + 1));
            c.win.set(c.hdr.subarray(1, HEADER_LENGTH));
            c.winLen = HEADER_LENGTH - 1;
            break;
          }
          if (c.hdrCnt === HEADER_LENGTH + (c.hdgst ? DIGEST_LENGTH : 0)) this.startBody(c);
          break;
        }
        case "PAD": {
          const m = Math.min(c.left, n - i);
          i += m;
          c.left -= m;
          this.nextRegion(c);
          break;
        }
        case "DATA": {
          const m = Math.min(c.left, n - i);
          if (!c.crcValid) w.crcOk = false;
          c.crc = crc32c(payload.subarray(i, i + m), c.crc);
          this.place(c, w, w.payloadOffset + i, m);
          i += m;
          c.left -= m;
          c.dataOff += m;
          this.nextRegion(c);
          break;
        }
        case "DDGST": {
          if (!c.crcValid) w.crcOk = false;
          c.digest[DIGEST_LENGTH - c.left] = payload[i++]!;
          c.left--;
          if (c.left === 0) {
            const match = readDigest(c.digest, 0) === c.crc;
            if (!match) w.crcOk = false;
            // Section 7: no digest verdict is counted while waiting for a confirm.
            if (c.crcValid && !c.cand) {
              if (match) this.stats.pdusCrcOk++;
              else this.stats.pdusCrcBad++;
            }
            this.startHeader(c);
          }
          break;
        }
      }
    }
  }

  /**
   * SEARCH over payload[i..): every in-order byte position is a possible header start (the window holds the
   * last bytes of earlier frames). On the first candidate: RESYNC_REQUEST, WAIT_CONFIRM, and tracking goes on
   * from the candidate's 25th byte. Returns the payload index where the scan stopped.
   */
  private scan(c: Context, payload: Uint8Array, i: number, p: number, w: FrameWork): number {
    const have = c.winLen;
    const buf = have > 0 ? concatBytes(c.win.subarray(0, have), payload.subarray(i)) : payload.subarray(i);
    for (let k = 0; k + HEADER_LENGTH <= buf.length; k++) {
      // Quick rejects (type, hlen) before the full check.
      const t = buf[k]!;
      if (buf[k + 2] !== HEADER_LENGTH || (t !== PduType.C2HData && t !== PduType.CapsuleResp && t !== PduType.R2T && t !== PduType.C2HTermReq)) continue;
      if (!c2hHeaderValid(buf.subarray(k, k + HEADER_LENGTH), c)) continue;
      const seq = seqAdd(c.scanSeq, k);
      c.winLen = 0;
      c.state = "HEADER";
      c.hdr.set(buf.subarray(k, k + HEADER_LENGTH));
      c.hdrCnt = HEADER_LENGTH;
      c.crc = 0;
      c.crcValid = true;
      c.cand = { seq, confirmed: false };
      this.acceptHeader(c); // decodes the PDU (it passes); no placement while waiting
      this.stats.rxNvmeTcpResync++;
      this.eventQueue.push({ kind: EventKind.RESYNC_REQUEST, ctx: c.index, seq });
      // Reading: a frame that raises more than one request reports the last in its CQE.
      w.cqe.resync = true;
      w.cqe.resyncSeq = seq;
      if (!c.hdgst) this.startBody(c);
      const next = i + k + HEADER_LENGTH - have;
      if (seqAdd(p, next) !== seqAdd(seq, HEADER_LENGTH)) throw new Error("model: scan position out of step");
      return next;
    }
    const keep = Math.min(HEADER_LENGTH - 1, buf.length);
    c.win.set(buf.subarray(buf.length - keep));
    c.scanSeq = seqAdd(c.scanSeq, buf.length - keep);
    c.winLen = keep;
    return payload.length;
  }

  /** Header validity (contract section 5) on the 24 header bytes; on success decodes the PDU and decides placement. */
  private acceptHeader(c: Context): boolean {
    const h = c.hdr;
    if (!c2hHeaderValid(h, c)) return false;
    const v = new DataView(h.buffer, h.byteOffset, HEADER_LENGTH);
    c.type = h[0]!;
    c.pdo = h[3]!;
    c.plen = v.getUint32(4, true);
    if (c.type === PduType.C2HData) {
      c.cid = v.getUint16(8, true);
      c.datao = v.getUint32(12, true);
      c.datal = v.getUint32(16, true);
      // Section 7: nothing is placed while waiting for a confirm.
      c.tag = c.cand ? undefined : this.placementTag(c);
    }
    return true;
  }

  /** Reading: placement is decided once per C2HData PDU at its 24th header byte (before any HDGST bytes). */
  private placementTag(c: Context): TagEntry | undefined {
    if (!(this.caps & Cap.NVME_TCP)) return undefined;
    const t = this.tags.get(c.index, c.cid);
    return t && c.datao + c.datal <= t.total ? t : undefined;
  }

  /** After the header (and HDGST): PAD, then DATA and DDGST for a C2HData. */
  private startBody(c: Context): void {
    const header = HEADER_LENGTH + (c.hdgst ? DIGEST_LENGTH : 0);
    c.state = "PAD";
    // Reading: a C2HTermReq whose plen is shorter than its header with HDGST has no PAD (never negative).
    c.left = Math.max(0, (c.type === PduType.C2HData ? c.pdo : c.plen) - header);
    c.dataOff = 0;
    this.nextRegion(c);
  }

  /** Reading: a region with no bytes left is left at once (so a frame ending right after a header with no PAD leaves DATA). */
  private nextRegion(c: Context): void {
    if (c.left > 0) return;
    if (c.state === "PAD" && c.type === PduType.C2HData) {
      c.state = "DATA";
      c.left = c.datal;
    } else if (c.state === "DATA" && c.ddgst) {
      c.state = "DDGST";
      c.left = DIGEST_LENGTH;
    } else {
      this.startHeader(c);
    }
  }

  private startHeader(c: Context): void {
    c.state = "HEADER";
    c.hdrCnt = 0;
    c.left = 0;
    c.crc = 0;
    c.crcValid = true;
    c.tag = undefined;
  }

  /** Places `m` data bytes at frame offset `frameOff` (PDU data offset c.dataOff) if the tag and a segment slot allow. */
  private place(c: Context, w: FrameWork, frameOff: number, m: number): void {
    const t = c.tag;
    if (c.cand) return; // section 7: never placing while waiting
    // Reading: the nvme-tcp cap is checked again here: when inactive no frame is placed, even for a PDU decided earlier.
    if (!t || !t.live || !(this.caps & Cap.NVME_TCP) || w.segs.length >= this.params.maxSegs) return;
    const bufOff = c.datao + c.dataOff;
    w.segs.push({ cid: c.cid, bufOff, frameOff, len: m });
    w.keep.fill(0, frameOff, frameOff + m);
    w.placed += m;
    // The segment becomes one write per SGL entry it touches.
    let done = 0;
    for (const piece of sglSlices(t.sgl, bufOff, m)) {
      w.dma.push({ addr: piece.addr, data: w.bytes.slice(frameOff + done, frameOff + done + piece.len) });
      done += piece.len;
    }
  }
}

type OkFrame = ParsedFrame & { ip: NonNullable<ParsedFrame["ip"]>; tcp: NonNullable<ParsedFrame["tcp"]> };

/**
 * The parser's verdict (contract section 4): a TCP segment that parsed, IPv4 header and TCP checksums good, not
 * a fragment, no IPv6 extension header; TCP options are stepped over, not interpreted.
 */
function verdictOk(bytes: Uint8Array): OkFrame | undefined {
  let f: ParsedFrame;
  try {
    f = parseFrame(bytes, { skipTcpOptions: true });
  } catch (e) {
    if (e instanceof ParseError) return undefined;
    throw e;
  }
  if (!f.ip || !f.tcp || f.ip.isFragment || !f.checksumOk) return undefined;
  if (f.ip.version === 6 && f.ip.headerLength !== IPV6_HEADER_LENGTH) return undefined;
  return f as OkFrame;
}

/** The fixed IPv6 header; anything longer carries extension headers. */
const IPV6_HEADER_LENGTH = 40;

/** Reading: for IPv4 only bits 31:0 of the address fields count. */
function flowKeyOf(version: 4 | 6, src: bigint, dst: bigint, srcPort: number, dstPort: number): string {
  const mask = version === 4 ? 0xffff_ffffn : (1n << 128n) - 1n;
  return `${version} ${(src & mask).toString(16)} ${(dst & mask).toString(16)} ${srcPort} ${dstPort}`;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
