// Software NVMe/TCP host (the "ULP"), shaped like Linux drivers/nvme/host/tcp.c (facts 1.9):
//  - one queue per TCP connection: ICReq/ICResp, then Fabrics Connect (admin qid 0 or an I/O queue);
//  - Read/Write commands with Linux CIDs (4-bit generation counter in bits 15:12 over a tag in 11:0);
//  - a receive state machine fed with in-order byte chunks split anywhere (from a TcpReceiver), with three
//    states as in Linux: HEADER (accumulate 24 (+4) bytes), DATA (stream C2HData payload into the read buffer),
//    DDGST (accumulate the 4 digest bytes and compare).
// Copying C2HData payload into the read buffer (copyPayload) and the software CRC over it (crcPayload) are
// separate, counted steps: the offload path will skip the copy where the NIC already placed the bytes and the
// CRC where the NIC vouched for the digest.
// Any protocol violation by the controller fails the queue for good (Linux starts error recovery); a data digest
// mismatch only fails the command (NVME_SC_DATA_XFER_ERROR), as in Linux.
//
// Receive offload (DDP, facts 2.2-2.6), when `ddp` is configured, as drivers/nvme/host/tcp.c of the series:
//  - an I/O queue calls sk_add after its Connect, with the socket's copied_seq (the stream is idle on a PDU
//    boundary then); success sets OFF_DDP, and OFF_DDGST_RX when data digests are on and the cap is active;
//  - the limits cap the controller's transfer size at max_ddp_sgl_len pages of 4 KiB (max_hw_sectors), so the
//    block layer splits a larger read or write into several commands (split below);
//  - a read at or above io_threshold is set up (its buffer's pages as the SGL) before its command is sent; a
//    refused setup only means no DDP for that read;
//  - skb fragments that already point at the destination are not copied (src == dst, counted in bytesPlaced);
//  - with OFF_DDGST_RX the digest check is skipped iff every skb carrying the PDU's data or digest had ulp_crc;
//    otherwise the CRC is recomputed in software over that PDU's data in the buffer (per PDU, not per buffer);
//  - an offloaded request completes only after the driver's ddpTeardownDone (its CID is not reused before);
//  - a resync request is stored as seq | PENDING and confirmed when a PDU header starts exactly at that seq.
//
// Observer mode (replaying a capture, src/replay/): the commands are not issued here but learned from the captured
// host's stream (observeIcReq, observeCommand) and tracked under their own CIDs; everything the queue receives
// then goes through exactly the receive path above, sk_add, setup, teardown and resync included. Any command that
// moves data controller to host gets a buffer (Linux sets up DDP for it on an I/O queue at io_threshold). The
// captured host may have gone on where Linux would not, so a protocol error there fails the queue as in Linux (every
// outstanding command fails, its DDP torn down) and the queue then carries on from the next PDU boundary, which
// plen gives, as the recovered queue; PDUs of the failed commands that still come are skipped. Only when plen gives
// no boundary does the queue stay failed. Linux's objections to an ICResp are findings there, not failures.
//
// What the controller got wrong without harm (reserved fields, pdo on a PDU without data, ...: pdu.ts) is kept in
// `findings`; Linux's fatal ones (a digest flag cleared although negotiated, SUCCESS without LAST) fail the queue.

import {
  NVME_TCP_DATA_DIGEST_ENABLE,
  NVME_TCP_HDR_DIGEST_ENABLE,
  ULP_DDP_CAP_NVME_TCP,
  ULP_DDP_CAP_NVME_TCP_DDGST_RX,
  ULP_DDP_CAP_NVME_TCP_DDGST_TX,
  ULP_DDP_RESYNC_PENDING,
  type UlpDdpDevOps,
  type UlpDdpSocket,
  type UlpDdpUlpOps,
} from "../contract/ulp-ddp.js";
import { fragBytes, fragLength, type Skb, type SkbFrag, sliceFrag } from "../contract/skb.js";
import type { HostMemory } from "../contract/host-memory.js";
import type { SglEntry } from "../contract/protocol.js";
import { seqAdd, seqLt } from "../net/seq.js";
import { crc32c, DIGEST_LENGTH, readDigest } from "../pdu/crc32c.js";
import { HOST_PAGE, PagedBuffer, PlainBuffer, type ReadBuffer } from "./host-buffer.js";
import {
  COMMON_HEADER_LENGTH,
  decodePdu,
  type DecodeOptions,
  encodePdu,
  c2hHeaderValid,
  type ICRespPdu,
  MAX_PDA,
  type Pdu,
  PduError,
  type PduFinding,
  type PduFindingCode,
  PduFlags,
  PduType,
  peekPduLengths,
  pduHeaderFindings,
  pduHeaderLength,
  type R2TPdu,
} from "../pdu/pdu.js";
import {
  type Cqe,
  cqeStatus,
  encodeConnectData,
  le,
  makeCid,
  type Sqe,
  sglInCapsule,
  sglTransport,
  sqeCid,
  StatusCodeType,
  statusOk,
} from "../pdu/sqe.js";

/** NVME_SC_DATA_XFER_ERROR: what Linux completes a command with when its data digest does not match. */
export const DATA_TRANSFER_ERROR_STATUS = cqeStatus(StatusCodeType.Generic, 0x04);
/** NVME_SC_HOST_ABORTED_CMD: what nvme_cancel_request completes a command with when its queue stops. */
export const HOST_ABORTED_STATUS = cqeStatus(StatusCodeType.PathRelated, 0x71);

export interface HostConfig {
  /** Ask for header / data digests in the ICReq. */
  hdgst: boolean;
  ddgst: boolean;
  /** Commands in flight at most (tags 0..queueDepth-1). */
  queueDepth: number;
  /** 0 = admin queue, >= 1 = I/O queue. */
  qid: number;
  /** Controller id for an I/O queue's Connect (returned by the admin queue's Connect). */
  cntlid?: number;
  /** Logical block size of the namespaces this host reads and writes. */
  blockSize: number;
  /** Writes of at most this many bytes go in the command capsule, larger ones wait for R2T. Default 4096. */
  inCapsuleDataLimit?: number;
  /** Linux's NVME_QUIRK_SKIP_CID_GEN when false: CID == tag. Default true. */
  cidGeneration?: boolean;
  subnqn?: string;
  hostnqn?: string;
  /** Receive offload through a NIC (the `ddp_offload` module parameter on); undefined = software only. */
  ddp?: HostDdpConfig;
}

export interface HostDdpConfig {
  /** The netdev's ULP DDP ops (the NIC driver). */
  netdev: UlpDdpDevOps;
  /** Host memory shared with the NIC: read buffers live there. */
  memory: HostMemory;
  /** This queue's socket as the driver knows it. */
  socket: UlpDdpSocket;
  /**
   * Bytes per segment of a read buffer (its SGL entries), each segment on a HOST_PAGE boundary. Default HOST_PAGE.
   * The driver maps a buffer in the device's pages: it takes it only when the segments keep the page rules (a
   * multiple of the page, the last may be shorter) and it spans at most max_ddp_sgl_len of them.
   */
  pageSize?: number;
}

export interface HostCounters {
  pdusReceived: number;
  c2hDataPdus: number;
  /** C2HData payload bytes copied into read buffers by software. */
  bytesCopied: number;
  /** Bytes the software CRC32C ran over (data digests). */
  bytesCrcd: number;
  /** C2HData PDUs whose data digest did not match. */
  ddgstErrors: number;
  commandsSent: number;
  commandsCompleted: number;
  h2cDataPdus: number;
  /** C2HData bytes not copied because the skb fragment already pointed at the destination (src == dst). */
  bytesPlaced: number;
  /** The part of bytesCopied / bytesCrcd that belongs to reads set up for DDP. */
  ddpBytesCopied: number;
  ddpBytesCrcd: number;
  /** C2HData PDUs whose digest check was skipped because every skb of the PDU had ulp_crc. */
  ddgstOffloaded: number;
  /** Reads set up for DDP, and setups the driver refused (those reads went on without DDP). */
  ddpSetups: number;
  ddpSetupFailures: number;
  /** Resync requests confirmed to the driver. */
  resyncConfirmed: number;
  /** Data bytes of sent PDUs (H2CData, CapsuleCmd with data) the software CRC32C ran over for their DDGST. */
  txBytesCrcd: number;
  /** Sent PDUs whose DDGST was left to the NIC (transmit digest offload), and their data bytes not CRC'd. */
  txDdgstOffloaded: number;
  txBytesNotCrcd: number;
}

/**
 * How a command's data digests were checked, worst PDU first: "bad" (a digest did not match), "sw-ok" (software
 * computed at least one), "hw-ok" (the NIC vouched for every one), "none" (no data digests, or no data).
 */
export type DigestVerdict = "bad" | "sw-ok" | "hw-ok" | "none";
const VERDICT_RANK: Record<DigestVerdict, number> = { none: 0, "hw-ok": 1, "sw-ok": 2, bad: 3 };

/** The result of a read or write: of its one command, or of all the commands it was split into (see split). */
export interface IoResult {
  /** The CID of its (first) command. */
  cid: number;
  /**
   * The raw CQE status field (0 = success); DATA_TRANSFER_ERROR_STATUS after a data digest mismatch. A split I/O:
   * the first non-zero status of its commands, in order.
   */
  status: number;
  /** Read data (empty for writes). */
  data: Uint8Array;
  /** NVMe commands the I/O went out as: 1, or more when split. */
  commands: number;
  /** C2HData bytes of the I/O the NIC had placed (copy skipped) and software copied. */
  placed: number;
  copied: number;
  /** The worst verdict of its commands. */
  digest: DigestVerdict;
  /** Set up for DDP (a split I/O: every one of its commands). */
  offloaded: boolean;
}

/** An outstanding command as it stands (observer mode): what a result will hold, so far. */
export type CommandState = Omit<IoResult, "status" | "cid" | "commands">;

/** A command the captured host sent (observer mode), with what the replay learned of its data. */
export interface ObservedSqe {
  sqe: Sqe;
  /** Bytes the command moves controller to host (0: none) and host to controller. */
  dataIn: number;
  dataOut: number;
  /** In-capsule data. */
  inCapsule?: Uint8Array;
  /** Bytes of the controller-to-host data kept in the buffer (default all): data beyond is skipped, not an error. */
  keep?: number;
}

/**
 * What a controller got wrong without breaking the protocol, at a PDU's stream offset: a PDU finding, an ICResp
 * Linux would refuse (observer mode), or data the observer does not keep (ObservedSqe.keep).
 */
export interface HostFinding {
  code: PduFindingCode | "LINUX_REFUSES_ICRESP" | "DATA_NOT_KEPT";
  /** Offset of the field in the PDU. */
  offset: number;
  message: string;
  /** Stream offset (from the first byte the queue received) of the PDU. */
  at: number;
}

/** A protocol error the queue met, at its PDU's stream offset; `recovered` when observer mode carried on. */
export interface HostErrorRecord {
  at: number;
  error: HostProtocolError;
  recovered: boolean;
}

/** A fatal error of the queue: the controller broke the protocol (or a PduError's code says how). */
export class HostProtocolError extends Error {
  override readonly name = "HostProtocolError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

type Purpose = "connect" | "read" | "write" | "other";

interface Request {
  cid: number;
  /** The queue tag (undefined for an observed command: its CID is the captured host's). */
  tag: number | undefined;
  purpose: Purpose;
  /** Write source or in-capsule data (empty for reads). */
  buffer: Uint8Array;
  /** Read destination (every command with controller-to-host data). */
  dest: ReadBuffer | undefined;
  /** Bytes the command may move controller to host; dest may keep fewer (observer mode, see ObservedSqe.keep). */
  dataIn: number;
  /** Set by a data digest mismatch; overrides the CQE status as in Linux. */
  status: number;
  /** Set up for DDP (req->offloaded). */
  offloaded: boolean;
  /** The completion held back until ddpTeardownDone. */
  deferred?: { cqe: Cqe | undefined; status: number };
  placed: number;
  copied: number;
  digest: DigestVerdict;
  resolve: (r: IoResult & { cqe?: Cqe }) => void;
  reject: (e: Error) => void;
}

/** A command waiting for a free tag. */
interface Waiter {
  start: (tag: number) => void;
  reject: (e: Error) => void;
}

/** The C2HData PDU whose payload is being received. */
interface DataInProgress {
  req: Request;
  datao: number;
  datal: number;
  /** Next write position in the request's buffer. */
  at: number;
  remaining: number;
  flags: number;
  /** Running CRC32C of the payload (when data digests are on). */
  crc: number | undefined;
}

/** "skip": the rest of a PDU that is not received (observer mode: after a protocol error, or data not kept). */
type RxState = "header" | "data" | "ddgst" | "skip";

/** Host counters, all zero. */
export function newHostCounters(): HostCounters {
  return {
    pdusReceived: 0,
    c2hDataPdus: 0,
    bytesCopied: 0,
    bytesCrcd: 0,
    ddgstErrors: 0,
    commandsSent: 0,
    commandsCompleted: 0,
    h2cDataPdus: 0,
    bytesPlaced: 0,
    ddpBytesCopied: 0,
    ddpBytesCrcd: 0,
    ddgstOffloaded: 0,
    ddpSetups: 0,
    ddpSetupFailures: 0,
    resyncConfirmed: 0,
    txBytesCrcd: 0,
    txDdgstOffloaded: 0,
    txBytesNotCrcd: 0,
  };
}

const IC_PDU_LENGTH = 128;
/** The page max_ddp_sgl_len counts for the transfer cap: 4 KiB in Linux, whatever the host's or device's page. */
const LINUX_DDP_PAGE = 4096;
const DEFAULT_HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001";

export class NvmeTcpHost {
  readonly counters: HostCounters = newHostCounters();
  /** Set once the queue failed; every later operation rejects with it. */
  failure: HostProtocolError | undefined;
  /** Every protocol error met (observer mode recovers from those it can frame past). */
  readonly errors: HostErrorRecord[] = [];
  /** What the controller got wrong without harm. */
  readonly findings: HostFinding[] = [];
  /** PDUs that came for commands a protocol error had already failed (observer mode). */
  afterFailure = 0;
  /** The controller id the Connect returned. */
  cntlid: number | undefined;
  /** maxh2cdata from the ICResp. */
  maxh2cdata = 0;

  private readonly config: Required<Omit<HostConfig, "cntlid" | "ddp">> & Pick<HostConfig, "cntlid" | "ddp">;
  /** Digests in effect: none until the ICResp arrives. */
  private digests = { hdgst: false, ddgst: false };
  private icDone = false;
  private pendingIc: { resolve: () => void; reject: (e: Error) => void } | undefined;

  private readonly requests = new Map<number, Request>();
  private readonly freeTags: number[];
  private readonly genctr: number[];
  private readonly waiters: Waiter[] = [];

  // Receive state machine.
  private state: RxState = "header";
  /** Header bytes accumulated (a whole PDU for PDUs without data). */
  private header = new Uint8Array(IC_PDU_LENGTH);
  private headerHave = 0;
  /** How many header bytes to accumulate: 8 until the common header is read, then the header or whole PDU. */
  private headerWant = COMMON_HEADER_LENGTH;
  private data: DataInProgress | undefined;
  private ddgst = new Uint8Array(DIGEST_LENGTH);
  private ddgstHave = 0;
  /** Stream offset of the next byte received, of the current PDU's first byte, and its plen once read. */
  private streamPos = 0;
  private pduStart = 0;
  private pduPlen: number | undefined;
  private skipLeft = 0;
  /** Observer mode (observeIcReq was called): the captured host's alignment, recovery from protocol errors. */
  private observing = false;
  private hpda = 0;
  /**
   * Commands a protocol error failed (observer mode), by CID: the data that still comes for them is received into
   * their buffers (so that the buffers stay comparable and what the NIC placed is counted), nothing completes.
   */
  private readonly failed = new Map<number, Request>();

  // Offload state (facts 2.7): queue flags OFF_DDP / OFF_DDGST_RX / OFF_DDGST_TX, the threshold, resync_tcp_seq,
  // ddgst valid.
  private offDdp = false;
  private offDdgstRx = false;
  private offDdgstTx = false;
  private ddpThreshold = 0;
  /** Bytes one command may move: ctrl->max_hw_sectors once the queue is offloaded (no cap without offload). */
  private maxTransfer = Infinity;
  /** (seq << 32) | flags, as the kernel's atomic64. */
  private resyncTcpSeq = 0n;
  private ddgstValid = true;
  /** Offloaded requests whose completion waits for ddpTeardownDone. */
  private readonly awaitingTeardown = new Set<Request>();
  /** Offloaded requests that failed with the queue: their ddpTeardownDone completes nothing. */
  private readonly abandoned = new Set<Request>();
  /** The callbacks given to sk_add. */
  private readonly ulpOps: UlpDdpUlpOps = {
    resyncRequest: (seq, flags) => {
      this.resyncTcpSeq = (BigInt(seq >>> 0) << 32n) | BigInt(flags >>> 0);
      return true;
    },
    ddpTeardownDone: (ddpCtx) => {
      const req = ddpCtx as Request;
      if (this.abandoned.delete(req)) return;
      if (!this.awaitingTeardown.delete(req)) {
        this.fail(new HostProtocolError("DDP", "ddp_teardown_done for a request that is not being torn down"));
        return;
      }
      this.finish(req, req.deferred!.cqe, req.deferred!.status);
    },
  };

  constructor(
    config: HostConfig,
    /** Sends bytes to the controller (the host's side of the TCP connection). */
    private readonly transmit: (bytes: Uint8Array) => void,
  ) {
    this.config = {
      inCapsuleDataLimit: 4096,
      cidGeneration: true,
      subnqn: "nqn.2024-01.io.example:ddpsim",
      hostnqn: DEFAULT_HOSTNQN,
      ...config,
    };
    if (!Number.isInteger(config.queueDepth) || config.queueDepth < 1 || config.queueDepth > 4096) {
      throw new RangeError(`queueDepth must be 1..4096, got ${config.queueDepth}`);
    }
    this.freeTags = Array.from({ length: config.queueDepth }, (_, i) => config.queueDepth - 1 - i);
    this.genctr = new Array<number>(config.queueDepth).fill(0);
  }

  /** Digests negotiated with the controller (valid once connect() has passed the ICResp). */
  get negotiated(): { hdgst: boolean; ddgst: boolean } {
    return { ...this.digests };
  }

  /** Commands sent and not yet completed (offloaded ones until their teardown is done). */
  get outstanding(): number {
    return this.requests.size + this.awaitingTeardown.size;
  }

  /** Queue flags NVME_TCP_Q_OFF_DDP, NVME_TCP_Q_OFF_DDGST_RX and NVME_TCP_Q_OFF_DDGST_TX. */
  get offload(): { ddp: boolean; ddgstRx: boolean; ddgstTx: boolean } {
    return { ddp: this.offDdp, ddgstRx: this.offDdgstRx, ddgstTx: this.offDdgstTx };
  }

  // ---- control path ----

  /** ICReq/ICResp, then Fabrics Connect. Resolves with the controller id. */
  async connect(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.pendingIc = { resolve, reject };
      this.send({ kind: "ICReq", pfv: 0, hpda: 0, hdgstEnable: this.config.hdgst, ddgstEnable: this.config.ddgst, maxr2t: 0 });
    });
    const connectData = encodeConnectData({
      hostId: new Uint8Array(16).fill(0x11),
      cntlid: this.config.qid === 0 ? 0xffff : (this.config.cntlid ?? 0xffff),
      subnqn: this.config.subnqn,
      hostnqn: this.config.hostnqn,
    });
    const result = await this.submit("connect", connectData, true, (cid) => ({
      kind: "Connect",
      cid,
      recfmt: 0,
      qid: this.config.qid,
      sqsize: this.config.queueDepth - 1,
      cattr: 0,
      kato: 0,
      sgl: sglInCapsule(connectData.length),
    }));
    return this.connected(result);
  }

  /** The Connect completed: the controller id; an I/O queue is offloaded now (the admin queue never is). */
  private async connected(result: IoResult & { cqe?: Cqe }): Promise<number> {
    if (!statusOk(result.status)) throw new HostProtocolError("CONNECT_FAILED", `Connect failed with status 0x${result.status.toString(16)}`);
    this.cntlid = Number((result.cqe?.result ?? 0n) & 0xffffn);
    if (this.config.ddp && this.config.qid !== 0) await this.offloadSocket(this.config.ddp);
    return this.cntlid;
  }

  // ---- observer mode ----

  /** The captured host's ICReq: its digests and alignment are this queue's from now on; the ICResp comes next. */
  observeIcReq(ic: { hdgst: boolean; ddgst: boolean; hpda: number }): Promise<void> {
    this.observing = true;
    this.config.hdgst = ic.hdgst;
    this.config.ddgst = ic.ddgst;
    this.hpda = Math.min(ic.hpda, MAX_PDA);
    return new Promise<void>((resolve, reject) => {
      this.pendingIc = { resolve, reject };
    });
  }

  /**
   * A command the captured host sent, tracked under its own CID as if this host had sent it: one with
   * controller-to-host data gets a buffer (set up for DDP as a read issued here would be), a Connect offloads an
   * I/O queue when it completes. `ready` resolves once the command may be considered sent (after its DDP setup),
   * `done` with its result.
   */
  observeCommand(c: ObservedSqe): { ready: Promise<void>; done: Promise<IoResult>; state: () => CommandState } {
    let ready: Promise<void> = Promise.resolve();
    let tracked: Request | undefined;
    const { sqe, dataIn, dataOut } = c;
    const done = new Promise<IoResult & { cqe?: Cqe }>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const purpose: Purpose = sqe.kind === "Connect" ? "connect" : dataIn > 0 ? "read" : dataOut > 0 ? "write" : "other";
      const dest = purpose === "read" ? this.readBuffer(Math.min(dataIn, c.keep ?? dataIn)) : undefined;
      const inCapsule = c.inCapsule ?? new Uint8Array(0);
      const buffer = purpose === "write" && inCapsule.length === 0 ? new Uint8Array(dataOut) : inCapsule;
      if (sqe.kind === "Connect") this.config.qid = sqe.qid;
      const cid = sqeCid(sqe);
      this.failed.delete(cid);
      tracked = { cid, tag: undefined, purpose, buffer, dest, dataIn, status: 0, offloaded: false, placed: 0, copied: 0, digest: "none", resolve, reject };
      ready = this.track(tracked);
    });
    const state = (): CommandState => (tracked ? stateOf(tracked) : { data: new Uint8Array(0), placed: 0, copied: 0, digest: "none", offloaded: false });
    if (sqe.kind !== "Connect") return { ready, done, state };
    return { ready, done: done.then(async (r) => (await this.connected(r), r)), state };
  }

  /**
   * The queue stops with commands outstanding (nvme_tcp_stop_queue, then nvme_cancel_request): each completes with
   * HOST_ABORTED_STATUS, an offloaded one only after its teardown is done (the NIC may write its buffer until then).
   */
  abortOutstanding(): void {
    for (const req of [...this.requests.values()]) this.complete(req, undefined, HOST_ABORTED_STATUS);
  }

  /** nvme_tcp_offload_socket (with the limits the admin queue reads in Linux): sk_add, then the queue flags. */
  private async offloadSocket(ddp: HostDdpConfig): Promise<void> {
    const caps = await ddp.netdev.getCaps();
    if (!(caps.active & ULP_DDP_CAP_NVME_TCP)) return;
    const limits = await ddp.netdev.limits();
    this.ddpThreshold = limits.ioThreshold;
    if (!limits.fullCcidRange) this.config.cidGeneration = false; // NVME_QUIRK_SKIP_CID_GEN
    const dgst = (this.digests.hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) | (this.digests.ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0);
    // The device checks C2HData pdo against the host's alignment (0 for Linux; a captured host's HPDA).
    const rc = await ddp.netdev.skAdd(ddp.socket, { pfv: 0, cpda: this.hpda, dgst, queueSize: this.config.queueDepth, affinityHint: 0 }, this.ulpOps);
    if (rc !== 0) return; // the queue runs without offload
    this.offDdp = true;
    this.maxTransfer = limits.maxDdpSglLen * LINUX_DDP_PAGE;
    this.offDdgstRx = this.digests.ddgst && (caps.active & ULP_DDP_CAP_NVME_TCP_DDGST_RX) !== 0;
    this.offDdgstTx = this.digests.ddgst && (caps.active & ULP_DDP_CAP_NVME_TCP_DDGST_TX) !== 0;
  }

  /** nvme_tcp_unoffload_socket: clears the flags, then sk_del. Call when the queue stops (nothing in flight). */
  async stop(): Promise<void> {
    if (!this.offDdp || !this.config.ddp) return;
    this.offDdp = false;
    this.offDdgstRx = false;
    this.offDdgstTx = false;
    await this.config.ddp.netdev.skDel(this.config.ddp.socket);
  }

  // ---- I/O ----

  /** Reads nlb blocks (1-based count) starting at slba. */
  read(nsid: number, slba: number, nlb: number): Promise<IoResult> {
    if (!Number.isInteger(nlb) || nlb < 1) throw new RangeError(`read of ${nlb} blocks`);
    return this.split(slba, nlb, (at, n) => {
      const length = n * this.config.blockSize;
      return this.submit("read", this.readBuffer(length), false, (cid) => ({ kind: "Read", cid, nsid, slba: BigInt(at), nlb: n - 1, sgl: sglTransport(length) }));
    });
  }

  /** Writes whole blocks starting at slba. */
  write(nsid: number, slba: number, data: Uint8Array): Promise<IoResult> {
    const bs = this.config.blockSize;
    if (data.length === 0 || data.length % bs !== 0) throw new RangeError(`write of ${data.length} bytes is not a whole number of blocks`);
    return this.split(slba, data.length / bs, (at, n) => {
      const part = data.subarray((at - slba) * bs, (at - slba + n) * bs);
      const inCapsule = part.length <= this.config.inCapsuleDataLimit;
      return this.submit("write", part, inCapsule, (cid) => ({
        kind: "Write",
        cid,
        nsid,
        slba: BigInt(at),
        nlb: n - 1,
        sgl: inCapsule ? sglInCapsule(part.length) : sglTransport(part.length),
      }));
    });
  }

  /**
   * The block layer's split at max_hw_sectors: an offloaded queue caps it at max_ddp_sgl_len pages of 4 KiB
   * (nvme_tcp_ddp_apply_limits, drivers/nvme/host/tcp.c of the ulp_ddp series: `ctrl->max_hw_sectors =
   * max_ddp_sgl_len << (ilog2(SZ_4K) - SECTOR_SHIFT)`), so a larger I/O goes out as consecutive commands of at
   * most that many whole blocks (never less than one), each one the driver can map, instead of one it refuses.
   * They are issued together and in order (taking tags like any commands); their results combine into one
   * (combineResults).
   */
  private split(slba: number, nlb: number, issue: (slba: number, nlb: number) => Promise<IoResult>): Promise<IoResult> {
    const most = Math.max(1, Math.floor(this.maxTransfer / this.config.blockSize));
    const parts: Promise<IoResult>[] = [];
    for (let at = 0; at < nlb; at += most) parts.push(issue(slba + at, Math.min(most, nlb - at)));
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(combineResults);
  }

  /** A read destination: pages in host memory shared with the NIC when offload is configured. */
  private readBuffer(length: number): ReadBuffer {
    const ddp = this.config.ddp;
    if (!ddp) return new PlainBuffer(new Uint8Array(length));
    return new PagedBuffer(ddp.memory, length, ddp.pageSize ?? HOST_PAGE);
  }

  /** Takes a tag (waiting for one when the queue is full), builds the command with its CID and sends it. */
  private submit(purpose: Purpose, data: Uint8Array | ReadBuffer, inCapsule: boolean, build: (cid: number) => Sqe): Promise<IoResult & { cqe?: Cqe }> {
    if (this.failure) return Promise.reject(this.failure);
    const buffer = data instanceof Uint8Array ? data : new Uint8Array(0);
    const dest = data instanceof Uint8Array ? undefined : data;
    return new Promise((resolve, reject) => {
      const start = (tag: number): void => {
        const cid = this.nextCid(tag);
        const sqe = build(cid);
        const pdu: Pdu = inCapsule ? { kind: "CapsuleCmd", sqe, data: buffer } : { kind: "CapsuleCmd", sqe };
        void this.track({ cid, tag, purpose, buffer, dest, dataIn: dest?.length ?? 0, status: 0, offloaded: false, placed: 0, copied: 0, digest: "none", resolve, reject }).then(() => this.sendCommand(pdu));
      };
      const tag = this.freeTags.pop();
      if (tag === undefined) this.waiters.push({ start, reject });
      else start(tag);
    });
  }

  /**
   * Makes a request outstanding under its CID; resolves once it may be sent: nvme_tcp_setup_ddp first sets up
   * reads at or above the threshold, before the command goes out (a refused setup only means no DDP).
   */
  private async track(req: Request): Promise<void> {
    this.requests.set(req.cid, req);
    const sgl = req.dest?.sgl;
    if (!this.offDdp || !sgl || req.dest!.length < this.ddpThreshold) return;
    try {
      await this.setupDdp(req, sgl);
    } catch (e) {
      this.fail(new HostProtocolError("DDP", `setup: ${String(e)}`));
    }
  }

  private sendCommand(pdu: Pdu): void {
    if (this.failure) return;
    this.counters.commandsSent++;
    this.send(pdu);
  }

  private async setupDdp(req: Request, sgl: readonly SglEntry[]): Promise<void> {
    const ddp = this.config.ddp!;
    const rc = await ddp.netdev.setup(ddp.socket, { commandId: req.cid, sgl });
    if (rc === 0) {
      req.offloaded = true;
      this.counters.ddpSetups++;
    } else {
      this.counters.ddpSetupFailures++;
    }
  }

  /** Linux nvme_setup_cmd: the tag's generation counter advances on every use (and again on completion). */
  private nextCid(tag: number): number {
    if (!this.config.cidGeneration) return tag;
    this.genctr[tag] = (this.genctr[tag]! + 1) & 0xf;
    return makeCid(tag, this.genctr[tag]!);
  }

  /** nvme_tcp_complete_request: an offloaded request is torn down first and completes in ddpTeardownDone. */
  private complete(req: Request, cqe: Cqe | undefined, status: number): void {
    this.requests.delete(req.cid);
    const ddp = this.config.ddp;
    if (req.offloaded && ddp) {
      req.deferred = { cqe, status };
      this.awaitingTeardown.add(req);
      ddp.netdev.teardown(ddp.socket, { commandId: req.cid, sgl: req.dest!.sgl! }, req).catch((e: unknown) => this.fail(new HostProtocolError("DDP", `teardown: ${String(e)}`)));
      return;
    }
    this.finish(req, cqe, status);
  }

  private finish(req: Request, cqe: Cqe | undefined, status: number): void {
    this.counters.commandsCompleted++;
    const finalStatus = req.status !== 0 ? req.status : status;
    const data = req.dest ? req.dest.contents() : new Uint8Array(0);
    req.resolve({ cid: req.cid, status: finalStatus, commands: 1, ...stateOf(req), data, ...(cqe ? { cqe } : {}) });
    if (req.tag === undefined) return;
    if (this.config.cidGeneration) this.genctr[req.tag] = (this.genctr[req.tag]! + 1) & 0xf;
    const waiter = this.waiters.shift();
    if (waiter) waiter.start(req.tag);
    else this.freeTags.push(req.tag);
  }

  /**
   * Encodes and sends one PDU. Its DDGST (if it has one) is computed here, or left as a placeholder for the NIC
   * when the queue has OFF_DDGST_TX (docs/tx-contract.md).
   */
  private send(pdu: Pdu): void {
    const bytes = encodePdu(pdu, { ...this.digests, ddgstPlaceholder: this.offDdgstTx });
    if (bytes[1]! & PduFlags.DDGST) {
      const dataLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) - bytes[3]! - DIGEST_LENGTH;
      if (this.offDdgstTx) {
        this.counters.txDdgstOffloaded++;
        this.counters.txBytesNotCrcd += dataLength;
      } else {
        this.counters.txBytesCrcd += dataLength;
      }
    }
    this.transmit(bytes);
  }

  // ---- receive path ----

  /** Consumes in-order stream bytes from the controller, split anywhere. */
  receive(chunk: Uint8Array): void {
    this.consume({ kind: "ring", data: chunk }, undefined, false);
  }

  /** Consumes an in-order skb from TCP: ring fragments and fragments the NIC placed in host memory. */
  receiveSkb(skb: Skb): void {
    let seq = skb.seq;
    for (const f of skb.frags) {
      this.consume(f, seq, skb.ulpCrc);
      seq = seqAdd(seq, fragLength(f));
    }
  }

  /** One fragment; `seq` is its first byte's TCP sequence number (unknown for plain chunks). */
  private consume(frag: SkbFrag, seq: number | undefined, ulpCrc: boolean): void {
    const n = fragLength(frag);
    let pos = 0;
    while (pos < n && !this.failure) {
      const rest = pos === 0 ? frag : sliceFrag(frag, pos, n);
      try {
        let took: number;
        if (this.state === "header") {
          if (this.headerHave === 0) {
            this.pduStart = this.streamPos;
            this.pduPlen = undefined;
          }
          if (this.offDdp && seq !== undefined) this.resyncResponse(seqAdd(seq, pos));
          took = this.takeHeader(fragBytes(rest, this.config.ddp?.memory));
        } else if (this.state === "data") {
          took = this.receiveData(rest, ulpCrc);
        } else if (this.state === "ddgst") {
          took = this.receiveDdgst(fragBytes(rest, this.config.ddp?.memory), ulpCrc);
        } else {
          took = this.skip(fragLength(rest));
        }
        pos += took;
        this.streamPos += took;
        if (this.state === "header" && this.headerHave === this.headerWant) this.headerDone();
      } catch (e) {
        this.protocolError(e instanceof PduError ? new HostProtocolError(e.code, e.message) : e instanceof HostProtocolError ? e : new HostProtocolError("INTERNAL", String(e)));
      }
    }
  }

  private decodeOptions(): DecodeOptions {
    return {
      ...this.digests,
      direction: "C2H",
      pda: this.hpda,
      // C2HData is streamed, never buffered whole: no limit on its size.
      maxDataLength: Number.MAX_SAFE_INTEGER,
      isKnownCid: (cid, kind) => this.isExpected(cid, kind),
    };
  }

  /** Whether a PDU of `kind` may refer to `cid` now (Linux nvme_find_rq plus a type check; a failed command's PDUs are skipped). */
  private isExpected(cid: number, kind: string): boolean {
    const req = this.requests.get(cid);
    if (!req) return this.failed.has(cid);
    if (kind === "C2HData") return req.purpose === "read";
    if (kind === "R2T") return req.purpose === "write";
    return true;
  }

  private takeHeader(bytes: Uint8Array): number {
    const take = Math.min(this.headerWant - this.headerHave, bytes.length);
    this.header.set(bytes.subarray(0, take), this.headerHave);
    this.headerHave += take;
    return take;
  }

  /** The bytes of a header are in: the common header says how much more to read; a whole header is handled. */
  private headerDone(): void {
    if (this.headerWant === COMMON_HEADER_LENGTH) {
      this.pduPlen = framingPlen(this.header);
      // Before the ICResp only an ICResp is acceptable.
      if (!this.icDone && this.header[0] !== PduType.ICResp) throw new HostProtocolError("BAD_TYPE", `PDU type ${this.header[0]} before ICResp`);
      if (this.icDone && this.header[0] === PduType.ICResp) throw new HostProtocolError("BAD_TYPE", "second ICResp");
      const { headerLength, plen } = peekPduLengths(this.header, this.decodeOptions());
      // C2HData is streamed after its header; every other C2H PDU is small (<= 152 bytes) and read whole.
      this.headerWant = this.header[0] === PduType.C2HData ? headerLength : plen;
      if (this.headerWant > this.header.length) {
        const bigger = new Uint8Array(this.headerWant);
        bigger.set(this.header.subarray(0, this.headerHave));
        this.header = bigger;
      }
      return;
    }
    this.counters.pdusReceived++;
    const header = this.header.subarray(0, this.headerWant);
    this.resetHeader();
    if (header[0] === PduType.C2HData) this.startData(header);
    else this.handlePdu(header);
  }

  private resetHeader(): void {
    this.headerHave = 0;
    this.headerWant = COMMON_HEADER_LENGTH;
  }

  /** Skips the rest of the current PDU (observer mode). */
  private skip(n: number): number {
    const take = Math.min(n, this.skipLeft);
    this.skipLeft -= take;
    if (this.skipLeft === 0) this.state = "header";
    return take;
  }

  /** Skips what is left of the PDU whose header was just handled. */
  private skipPdu(): void {
    this.skipLeft = this.pduStart + this.pduPlen! - this.streamPos;
    if (this.skipLeft > 0) this.state = "skip";
  }

  /** Keeps a decoder finding; Linux's fatal ones (facts 1.4: a negotiated digest's flag cleared) fail the queue. */
  private keepFindings(findings: readonly PduFinding[]): void {
    for (const f of findings) {
      if (f.code === "HDGST_FLAG_MISSING" || f.code === "DDGST_FLAG_MISSING") throw new HostProtocolError("BAD_FLAGS", f.message);
      this.findings.push({ ...f, at: this.pduStart });
    }
  }

  /**
   * Validates a C2HData header (as decodePdu would, without its data) and enters the DATA state: the decoder's
   * problems and Linux's fatal findings first (each with its own code), then the header-validity rule the NIC
   * applies too (c2hHeaderValid), which also wants pdo aligned to the host's PDA.
   */
  private startData(header: Uint8Array): void {
    const v = le(header);
    const hlen = header[2]!;
    const findings = pduHeaderFindings(header, { ...this.digests, pda: this.hpda, maxDataLength: Number.MAX_SAFE_INTEGER });
    this.keepFindings(findings.filter((f) => f.code !== "SUCCESS_WITHOUT_LAST"));
    if (!c2hHeaderValid(header, { ...this.digests, cpda: this.hpda })) {
      const misaligned = findings.some((f) => f.code === "PDO_MISALIGNED");
      throw new HostProtocolError(misaligned ? "BAD_PDO" : "BAD_HEADER", `C2HData header fails the header-validity rule: ${findings.map((f) => f.message).join("; ") || "digest flags or datal"}`);
    }
    if (this.digests.hdgst) {
      const expected = crc32c(header.subarray(0, hlen));
      if (readDigest(header, hlen) !== expected) throw new HostProtocolError("HDGST_MISMATCH", "C2HData header digest mismatch");
    }
    const cid = v.getUint16(8, true);
    const datao = v.getUint32(12, true);
    const datal = v.getUint32(16, true);
    const flags = header[1]!;
    if (!this.isExpected(cid, "C2HData")) throw new HostProtocolError("BAD_CID", `C2HData for command id 0x${cid.toString(16)} which is not an outstanding read`);
    if ((flags & (PduFlags.DATA_SUCCESS | PduFlags.DATA_LAST)) === PduFlags.DATA_SUCCESS) throw new HostProtocolError("BAD_FLAGS", "SUCCESS without LAST");
    const req = this.requests.get(cid) ?? this.failed.get(cid)!;
    if (!this.requests.has(cid)) this.afterFailure++;
    const end = datao + datal;
    if (end > req.dest!.length) {
      if (end > req.dataIn) throw new HostProtocolError("DATA_OUT_OF_RANGE", `C2HData [${datao}, ${end}) beyond the ${req.dataIn}-byte transfer of cid 0x${cid.toString(16)}`);
      // Within the transfer, beyond what this buffer keeps (observer mode): not received.
      this.findings.push({ code: "DATA_NOT_KEPT", offset: 12, message: `C2HData [${datao}, ${end}) of cid 0x${cid.toString(16)} beyond the ${req.dest!.length} bytes kept of its ${req.dataIn}`, at: this.pduStart });
      return this.skipPdu();
    }
    this.counters.c2hDataPdus++;
    this.data = { req, datao, datal, at: datao, remaining: datal, flags, crc: undefined };
    this.ddgstValid = true;
    this.state = "data";
  }

  private receiveData(frag: SkbFrag, ulpCrc: boolean): number {
    const d = this.data!;
    const n = Math.min(d.remaining, fragLength(frag));
    const piece = n === fragLength(frag) ? frag : sliceFrag(frag, 0, n);
    this.copyPayload(d.req, d.at, piece);
    if (this.offDdgstRx) this.ddgstValid &&= ulpCrc;
    else if (this.digests.ddgst) d.crc = this.crcPayload(d.req, fragBytes(piece, this.config.ddp?.memory), d.crc);
    d.at += n;
    d.remaining -= n;
    if (d.remaining === 0) {
      if (this.digests.ddgst) {
        this.state = "ddgst";
        this.ddgstHave = 0;
      } else {
        this.endData();
      }
    }
    return n;
  }

  /**
   * Copies C2HData payload into the read buffer, except where a placed fragment already is the destination
   * (lib/iov_iter memcpy_to_iter with the series' src == dst check).
   */
  protected copyPayload(req: Request, offset: number, frag: SkbFrag): void {
    const dest = req.dest!;
    if (frag.kind === "ring") {
      dest.write(offset, frag.data);
      this.countCopy(req, frag.data.length);
      return;
    }
    for (let i = 0; i < frag.len; ) {
      const dst = dest.addressOf(offset + i);
      const n = Math.min(frag.len - i, dst?.len ?? frag.len - i);
      const src = frag.addr + BigInt(i);
      if (dst?.addr === src) {
        this.counters.bytesPlaced += n;
        req.placed += n;
      } else {
        dest.write(offset + i, fragBytes({ kind: "placed", addr: src, len: n }, this.config.ddp?.memory));
        this.countCopy(req, n);
      }
      i += n;
    }
  }

  private countCopy(req: Request, n: number): void {
    this.counters.bytesCopied += n;
    req.copied += n;
    if (req.offloaded) this.counters.ddpBytesCopied += n;
  }

  /** Software CRC32C over payload bytes (the step the offload skips when the NIC checked the digest). */
  protected crcPayload(req: Request, bytes: Uint8Array, prev: number | undefined): number {
    this.counters.bytesCrcd += bytes.length;
    if (req.offloaded) this.counters.ddpBytesCrcd += bytes.length;
    return crc32c(bytes, prev);
  }

  private receiveDdgst(bytes: Uint8Array, ulpCrc: boolean): number {
    const take = Math.min(DIGEST_LENGTH - this.ddgstHave, bytes.length);
    if (this.offDdgstRx) this.ddgstValid &&= ulpCrc;
    this.ddgst.set(bytes.subarray(0, take), this.ddgstHave);
    this.ddgstHave += take;
    if (this.ddgstHave === DIGEST_LENGTH) {
      const d = this.data!;
      if (this.offDdgstRx && this.ddgstValid) {
        // The NIC verified this PDU's digest: the software check is skipped entirely.
        this.counters.ddgstOffloaded++;
        this.verdict(d.req, "hw-ok");
        this.endData();
        return take;
      }
      // nvme_tcp_ddp_ddgst_recalc, per PDU: over this PDU's data as it now lies in the buffer.
      const crc = this.offDdgstRx ? this.crcPayload(d.req, d.req.dest!.read(d.datao, d.datal), undefined) : d.crc;
      if (readDigest(this.ddgst, 0) !== crc) {
        this.counters.ddgstErrors++;
        d.req.status = DATA_TRANSFER_ERROR_STATUS;
        this.verdict(d.req, "bad");
      } else {
        this.verdict(d.req, "sw-ok");
      }
      this.endData();
    }
    return take;
  }

  private verdict(req: Request, v: DigestVerdict): void {
    if (VERDICT_RANK[v] > VERDICT_RANK[req.digest]) req.digest = v;
  }

  private endData(): void {
    const d = this.data!;
    this.data = undefined;
    this.state = "header";
    if (d.flags & PduFlags.DATA_SUCCESS) this.completion(d.req.cid, undefined, 0);
  }

  /** A command's completion (CapsuleResp, or C2HData with SUCCESS); one that had failed with the queue just ends. */
  private completion(cid: number, cqe: Cqe | undefined, status: number): void {
    const req = this.requests.get(cid);
    if (req) return this.complete(req, cqe, status);
    this.failed.delete(cid);
    this.afterFailure++;
  }

  /** A whole PDU without streamed data: ICResp, CapsuleResp, R2T, C2HTermReq. */
  private handlePdu(bytes: Uint8Array): void {
    const decoded = decodePdu(bytes, this.decodeOptions());
    const pdu = decoded.pdu;
    if (pdu.kind === "ICResp") return this.icResp(pdu, decoded.findings);
    this.keepFindings(decoded.findings);
    switch (pdu.kind) {
      case "CapsuleResp":
        return this.completion(pdu.cqe.cid, pdu.cqe, pdu.cqe.status);
      case "R2T":
        if (this.requests.has(pdu.cccid)) this.answerR2T(pdu);
        else this.afterFailure++;
        return;
      case "C2HTermReq":
        throw new HostProtocolError("C2H_TERM_REQ", `controller terminated the connection: fes ${pdu.fes}, fei ${pdu.fei}`);
      default:
        throw new HostProtocolError("BAD_TYPE", `unexpected ${pdu.kind}`);
    }
  }

  /**
   * nvme_tcp_init_connection's checks of the ICResp (facts 1.6): its fields as the spec defines them, digests as
   * asked, cpda 0. They fail the queue; in observer mode the captured host went on, so they are findings and the
   * ICResp's digests hold.
   */
  private icResp(pdu: ICRespPdu, findings: readonly PduFinding[]): void {
    const want = this.config;
    const objections = [
      ...findings.filter((f) => f.code === "IC_FIELD").map((f) => f.message),
      ...(pdu.hdgstEnable !== want.hdgst || pdu.ddgstEnable !== want.ddgst ? ["ICResp digests differ from the ICReq"] : []),
      ...(pdu.cpda !== 0 ? [`cpda ${pdu.cpda} (Linux accepts only 0)`] : []),
    ];
    if (objections.length > 0 && !this.observing) throw new HostProtocolError("BAD_ICRESP", objections.join("; "));
    for (const message of objections) this.findings.push({ code: "LINUX_REFUSES_ICRESP", offset: 0, message, at: this.pduStart });
    this.keepFindings(findings.filter((f) => f.code !== "IC_FIELD"));
    this.digests = { hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable };
    this.maxh2cdata = pdu.maxh2cdata;
    this.icDone = true;
    this.pendingIc?.resolve();
    this.pendingIc = undefined;
  }

  /** Sends the requested range of a write's data in H2CData PDUs of at most maxh2cdata bytes. */
  private answerR2T(r2t: R2TPdu): void {
    const req = this.requests.get(r2t.cccid)!;
    const end = r2t.r2to + r2t.r2tl;
    if (end > req.buffer.length) throw new HostProtocolError("DATA_OUT_OF_RANGE", `R2T [${r2t.r2to}, ${end}) beyond the ${req.buffer.length}-byte write`);
    for (let at = r2t.r2to; at < end; at += this.maxh2cdata) {
      const stop = Math.min(end, at + this.maxh2cdata);
      this.counters.h2cDataPdus++;
      this.send({ kind: "H2CData", cccid: req.cid, ttag: r2t.ttag, datao: at, last: stop === end, data: req.buffer.subarray(at, stop) });
    }
  }

  /** nvme_tcp_resync_response: confirms a pending request when the current PDU's header starts at its seq. */
  private resyncResponse(chunkSeq: number): void {
    const pduSeq = seqAdd(chunkSeq, -this.headerHave);
    const stored = this.resyncTcpSeq;
    if (!(stored & BigInt(ULP_DDP_RESYNC_PENDING))) return;
    if (seqLt(pduSeq, Number(stored >> 32n))) return;
    if (stored !== ((BigInt(pduSeq) << 32n) | BigInt(ULP_DDP_RESYNC_PENDING))) return;
    this.resyncTcpSeq = BigInt(pduSeq) << 32n;
    this.counters.resyncConfirmed++;
    const ddp = this.config.ddp!;
    ddp.netdev.resync(ddp.socket, pduSeq).catch((e: unknown) => this.fail(new HostProtocolError("DDP", `resync: ${String(e)}`)));
  }

  /**
   * A protocol error of the controller: Linux fails the queue (nvme_tcp_error_recovery). In observer mode the queue
   * then carries on from the end of the offending PDU, when its plen can be trusted to say where that is.
   */
  private protocolError(error: HostProtocolError): void {
    const end = this.pduPlen === undefined ? undefined : this.pduStart + this.pduPlen;
    const recovered = this.observing && end !== undefined && end >= this.streamPos;
    this.errors.push({ at: this.pduStart, error, recovered });
    if (!recovered) return this.fail(error);
    this.failOutstanding(error);
    this.resetHeader();
    this.data = undefined;
    this.skipLeft = end - this.streamPos;
    this.state = this.skipLeft > 0 ? "skip" : "header";
  }

  /** Every outstanding command fails; offloaded ones release their DDP mappings (their completions never come now). */
  private failOutstanding(error: HostProtocolError): void {
    const ddp = this.config.ddp;
    for (const req of this.requests.values()) {
      this.failed.set(req.cid, req);
      if (req.offloaded && ddp) {
        this.abandoned.add(req);
        ddp.netdev.teardown(ddp.socket, { commandId: req.cid, sgl: req.dest!.sgl! }, req).catch(() => undefined);
      }
      req.reject(error);
    }
    this.requests.clear();
  }

  private fail(error: HostProtocolError): void {
    if (this.failure) return;
    this.failure = error;
    this.pendingIc?.reject(error);
    this.pendingIc = undefined;
    this.failOutstanding(error);
    for (const req of this.awaitingTeardown) req.reject(error);
    this.awaitingTeardown.clear();
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}

/**
 * The plen of a common header when it can be trusted to say where the next PDU starts (observer recovery): it
 * holds at least its type's header, and a C2HData's pdo (plen < pdo is a lie about the length itself).
 */
function framingPlen(h: Uint8Array): number | undefined {
  const plen = le(h).getUint32(4, true);
  const holdsHeader = plen >= (pduHeaderLength(h[0]!) ?? COMMON_HEADER_LENGTH);
  return holdsHeader && (h[0] !== PduType.C2HData || plen >= h[3]!) ? plen : undefined;
}

/** The results of a split I/O's commands, in order, as one. */
function combineResults(results: readonly IoResult[]): IoResult {
  const data = new Uint8Array(results.reduce((n, r) => n + r.data.length, 0));
  let at = 0;
  for (const r of results) {
    data.set(r.data, at);
    at += r.data.length;
  }
  const sum = (f: (r: IoResult) => number): number => results.reduce((n, r) => n + f(r), 0);
  return {
    cid: results[0]!.cid,
    status: results.find((r) => r.status !== 0)?.status ?? 0,
    data,
    commands: sum((r) => r.commands),
    placed: sum((r) => r.placed),
    copied: sum((r) => r.copied),
    digest: results.reduce<DigestVerdict>((worst, r) => (VERDICT_RANK[r.digest] > VERDICT_RANK[worst] ? r.digest : worst), "none"),
    offloaded: results.every((r) => r.offloaded),
  };
}

function stateOf(req: Request): CommandState {
  return { data: req.dest ? req.dest.contents() : new Uint8Array(0), placed: req.placed, copied: req.copied, digest: req.digest, offloaded: req.offloaded };
}
