// The kernel-style NIC driver: implements the ULP DDP device ops (facts 2.1) on an OffloadDevice, and the
// receive path that turns each frame and its CQE into an skb for TCP.
//
// - Context and tag allocation live here: a context index per offloaded socket, a tag entry per set-up
//   request (kept until the device's TEARDOWN_DONE, because the entry is not free before). Whenever the device
//   cannot take a request (no context or tag left, SGL too long, caps off, or the device refuses) the op
//   fails and the ULP carries on without DDP, as Linux does.
// - Receive: placed segments become skb fragments that point at the SGL address of their buffer offset; the
//   rest of the payload stays ring bytes; ulp_crc = crc_ok. Frames the device matched (hit) had their
//   checksums verified by it; the others are checked here.
// - Device calls are serialised (one at a time, in call order); `busy` / `idle()` tell a caller whether
//   device work is still in flight.
// - Transmit (when a transmit data-digest block is attached, docs/tx-contract.md): the driver offers the cap
//   nvme-tcp-ddgst-tx, adds a TX context for every socket offloaded while it is active, and sends every frame
//   through the block (TxDigestOffload), which fills the DDGST of the PDUs of those sockets.

import { type AsyncEvent, DeviceError, type OffloadDevice, type RxResult } from "../device/device.js";
import { ParseError } from "../net/errors.js";
import { type ParsedFrame, parseFrame } from "../net/frame.js";
import { TX_N_CTX, type TxDevice } from "../device/tx-device.js";
import type { TxStats } from "../model/tx-model.js";
import { TxDigestOffload, type TxOffloadStats } from "./tx-offload.js";
import {
  CAPS_HW,
  capsSet,
  type CommandInput,
  type Completion,
  ctxAdd,
  ctxDel,
  EventKind,
  Limit,
  Op,
  resync,
  type SglEntry,
  sglPageGranular,
  sglPages,
  sglSlices,
  STAT_NAMES,
  Status,
  type StatusCode,
  tagSetup,
  tagTeardown,
} from "../contract/protocol.js";
import type { Skb, SkbFrag } from "../contract/skb.js";
import {
  Errno,
  NVME_TCP_DATA_DIGEST_ENABLE,
  NVME_TCP_HDR_DIGEST_ENABLE,
  ULP_DDP_CAP_NVME_TCP,
  ULP_DDP_CAP_NVME_TCP_DDGST_TX,
  ULP_DDP_RESYNC_PENDING,
  type UlpDdpConfig,
  type UlpDdpDevCaps,
  type UlpDdpDevOps,
  type UlpDdpIo,
  type UlpDdpLimits,
  type UlpDdpSocket,
  type UlpDdpStats,
  type UlpDdpUlpOps,
} from "../contract/ulp-ddp.js";

/** The driver's own statistics (the first six of ulp_ddp_stats). */
export interface DriverCounters {
  skAdd: number;
  skAddFail: number;
  skDel: number;
  setup: number;
  setupFail: number;
  teardown: number;
}

/** Receive-path bookkeeping (not part of ulp_ddp_stats). */
export interface RxCounters {
  frames: number;
  /** Frames the device did not vouch for whose checksum failed here, or that did not parse. */
  dropped: number;
  placedBytes: number;
  ulpCrcSkbs: number;
  resyncRequests: number;
}

/** What LIMITS_GET reports, read once at start. */
export interface DeviceLimits extends UlpDdpLimits {
  nCtx: number;
  nTags: number;
  maxSegs: number;
  /** SGL page size: the device maps buffers in pages of this size (maxDdpSglLen counts them). */
  page: number;
}

export interface RxBatch {
  /** One per frame that reached TCP, in frame order. */
  skbs: Skb[];
  dropped: number;
}

interface TagState {
  sgl: readonly SglEntry[];
  total: number;
}

interface SockState {
  sk: UlpDdpSocket;
  ctx: number;
  ulpOps: UlpDdpUlpOps;
  /** The socket has a TX context (same index) in the transmit block. */
  tx: boolean;
  /** Set-up requests by CID (until their TEARDOWN_DONE). */
  tags: Map<number, TagState>;
}

interface Teardown {
  sock: SockState;
  cid: number;
  ddpCtx: unknown;
}

/** Driver-side failure: the device broke its contract in a way the driver cannot recover from. */
export class DriverError extends Error {
  override readonly name = "DriverError";
}

/** Drains tried while waiting for a TEARDOWN_DONE (each runs the device until its pipeline is empty). */
const TEARDOWN_DRAINS = 8;

export class NicDriver implements UlpDdpDevOps {
  readonly counters: DriverCounters = { skAdd: 0, skAddFail: 0, skDel: 0, setup: 0, setupFail: 0, teardown: 0 };
  readonly rx: RxCounters = { frames: 0, dropped: 0, placedBytes: 0, ulpCrcSkbs: 0, resyncRequests: 0 };
  caps: UlpDdpDevCaps = { hw: 0, active: 0 };

  private readonly sockets = new Map<UlpDdpSocket, SockState>();
  private readonly byCtx: (SockState | undefined)[];
  private readonly freeCtx: number[];
  private tagsInUse = 0;
  private readonly teardowns = new Map<number, Teardown>();
  private nextTag = 0;
  private nextCookie = 0;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  /** The transmit block's driver side, and whether nvme-tcp-ddgst-tx is active (on when the block attaches). */
  private readonly tx: TxDigestOffload | undefined;
  private txActive: boolean;

  private constructor(
    readonly device: OffloadDevice,
    readonly hw: DeviceLimits,
    readonly ifindex: number,
    txDevice: TxDevice | undefined,
  ) {
    this.tx = txDevice ? new TxDigestOffload(txDevice) : undefined;
    this.txActive = txDevice !== undefined;
    this.byCtx = new Array<SockState | undefined>(hw.nCtx).fill(undefined);
    this.freeCtx = Array.from({ length: hw.nCtx }, (_, i) => hw.nCtx - 1 - i);
  }

  /** Reads the device's limits and caps; `tx` attaches a transmit data-digest block. */
  static async create(device: OffloadDevice, options: { ifindex?: number; tx?: TxDevice } = {}): Promise<NicDriver> {
    const order = [Limit.maxDdpSglLen, Limit.ioThreshold, Limit.fullCcidRange, Limit.tls, Limit.nCtx, Limit.nTags, Limit.maxSegs, Limit.page];
    const { completions } = await device.commands([...order.map((index, tag) => ({ op: Op.LIMITS_GET, tag, index })), { op: Op.CAPS_GET, tag: order.length }]);
    const v = completions.map((c) => {
      if (c.status !== Status.OK) throw new DriverError(`LIMITS_GET/CAPS_GET answered status ${c.status}`);
      return Number(c.data);
    });
    const [maxDdpSglLen, ioThreshold, fullCcidRange, tls, nCtx, nTags, maxSegs, page, caps] = v as [number, number, number, number, number, number, number, number, number];
    const d = new NicDriver(device, { maxDdpSglLen, ioThreshold, fullCcidRange: fullCcidRange !== 0, tls: tls !== 0, nCtx, nTags, maxSegs, page }, options.ifindex ?? 1, options.tx);
    d.caps = d.capsOf(caps);
    return d;
  }

  /** Device work in flight (commands or frames). */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Resolves when the device work queued so far has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  // ---- ulp_ddp_dev_ops ----

  async limits(): Promise<UlpDdpLimits> {
    const { maxDdpSglLen, ioThreshold, tls, fullCcidRange } = this.hw;
    return { maxDdpSglLen, ioThreshold, tls, fullCcidRange };
  }

  async skAdd(sk: UlpDdpSocket, config: UlpDdpConfig, ulpOps: UlpDdpUlpOps): Promise<number> {
    const fail = (errno: number): number => {
      this.counters.skAddFail++;
      return -errno;
    };
    if (this.sockets.has(sk)) return fail(Errno.EEXIST);
    if (!(this.caps.active & ULP_DDP_CAP_NVME_TCP)) return fail(Errno.EOPNOTSUPP);
    const ctx = this.freeCtx.pop();
    if (ctx === undefined) return fail(Errno.ENOSPC);
    const f = sk.flow;
    const c = await this.command([
      ctxAdd({
        tag: this.tag(),
        ctx,
        ipVersion: f.ipVersion,
        srcIp: f.srcIp,
        dstIp: f.dstIp,
        srcPort: f.srcPort,
        dstPort: f.dstPort,
        seq: sk.copiedSeq,
        hdgst: (config.dgst & NVME_TCP_HDR_DIGEST_ENABLE) !== 0,
        ddgst: (config.dgst & NVME_TCP_DATA_DIGEST_ENABLE) !== 0,
        cpda: config.cpda,
      }),
    ]);
    if (c.status !== Status.OK) {
      this.freeCtx.push(ctx);
      return fail(errnoOf(c.status));
    }
    const tx = this.tx !== undefined && this.txActive && sk.writeSeq !== undefined && ctx < TX_N_CTX;
    if (tx) this.tx!.skAdd(ctx, sk.writeSeq!);
    const s: SockState = { sk, ctx, ulpOps, tx, tags: new Map() };
    this.sockets.set(sk, s);
    this.byCtx[ctx] = s;
    this.counters.skAdd++;
    return 0;
  }

  async skDel(sk: UlpDdpSocket): Promise<void> {
    const s = this.sockets.get(sk);
    if (!s) return;
    const c = await this.command([ctxDel({ tag: this.tag(), ctx: s.ctx })]);
    if (c.status !== Status.OK) throw new DriverError(`CTX_DEL of context ${s.ctx}: status ${c.status}`);
    this.sockets.delete(sk);
    if (s.tx) this.tx!.skDel(s.ctx);
    this.byCtx[s.ctx] = undefined;
    this.freeCtx.push(s.ctx);
    // CTX_DEL dropped the context's tags without TEARDOWN_DONE: finish what waits for one.
    for (const [cookie, t] of this.teardowns) if (t.sock === s) this.teardownDone(cookie);
    this.tagsInUse -= s.tags.size;
    s.tags.clear();
    this.counters.skDel++;
  }

  async setup(sk: UlpDdpSocket, io: UlpDdpIo): Promise<number> {
    const fail = (errno: number): number => {
      this.counters.setupFail++;
      return -errno;
    };
    const s = this.sockets.get(sk);
    if (!s) return fail(Errno.ENOENT);
    if (!(this.caps.active & ULP_DDP_CAP_NVME_TCP)) return fail(Errno.EOPNOTSUPP);
    // The device maps buffers page by page: the host SGL cut at its page boundaries must keep the page rules.
    const pages = sglPages(io.sgl, this.hw.page);
    if (pages.length === 0 || pages.length > this.hw.maxDdpSglLen || !sglPageGranular(pages, this.hw.page)) return fail(Errno.EINVAL);
    if (s.tags.has(io.commandId)) return fail(Errno.EEXIST);
    if (this.tagsInUse >= this.hw.nTags) return fail(Errno.ENOSPC);
    // Reserve before the await, so that concurrent setups see the entry taken.
    this.tagsInUse++;
    s.tags.set(io.commandId, { sgl: io.sgl, total: io.sgl.reduce((n, e) => n + e.len, 0) });
    const c = await this.command(tagSetup({ tag: this.tag(), ctx: s.ctx, cid: io.commandId, sgl: pages }));
    if (c.status !== Status.OK) {
      this.tagsInUse--;
      s.tags.delete(io.commandId);
      return fail(errnoOf(c.status));
    }
    this.counters.setup++;
    return 0;
  }

  async teardown(sk: UlpDdpSocket, io: UlpDdpIo, ddpCtx: unknown): Promise<void> {
    const s = this.sockets.get(sk);
    if (!s || !s.tags.has(io.commandId)) throw new DriverError(`teardown of command id 0x${io.commandId.toString(16)}, which is not set up`);
    const cookie = this.nextCookie;
    this.nextCookie = (this.nextCookie + 1) >>> 0;
    this.teardowns.set(cookie, { sock: s, cid: io.commandId, ddpCtx });
    this.counters.teardown++;
    const c = await this.command([tagTeardown({ tag: this.tag(), ctx: s.ctx, cid: io.commandId, cookie })]);
    if (c.status === Status.NOT_FOUND) {
      // The entry is already gone (no TEARDOWN_DONE follows): nothing can still write to the buffer.
      if (this.teardowns.has(cookie)) this.teardownDone(cookie);
      return;
    }
    if (c.status !== Status.OK) throw new DriverError(`TAG_TEARDOWN of cid 0x${io.commandId.toString(16)}: status ${c.status}`);
    // TEARDOWN_DONE follows once the device's pipeline has drained.
    for (let i = 0; this.teardowns.has(cookie); i++) {
      if (i === TEARDOWN_DRAINS) throw new DeviceError(`no TEARDOWN_DONE for cookie ${cookie}`);
      await this.exec(async () => this.dispatch(await this.device.drain()));
    }
  }

  async resync(sk: UlpDdpSocket, seq: number): Promise<void> {
    const s = this.sockets.get(sk);
    if (!s) return;
    await this.command([resync({ tag: this.tag(), ctx: s.ctx, seq })]);
  }

  async setCaps(bits: number): Promise<number> {
    const c = await this.command([capsSet({ tag: this.tag(), wanted: bits, mask: CAPS_HW })]);
    if (c.status !== Status.OK) return -errnoOf(c.status);
    this.txActive = this.tx !== undefined && (bits & ULP_DDP_CAP_NVME_TCP_DDGST_TX) !== 0;
    this.caps = this.capsOf(Number(c.data));
    return 0;
  }

  async getCaps(): Promise<UlpDdpDevCaps> {
    const c = await this.command([{ op: Op.CAPS_GET, tag: this.tag() }]);
    this.caps = this.capsOf(Number(c.data));
    return { ...this.caps };
  }

  /** The receive device's caps (CAPS_GET data), with nvme-tcp-ddgst-tx when a transmit block is attached. */
  private capsOf(data: number): UlpDdpDevCaps {
    const tx = this.tx ? ULP_DDP_CAP_NVME_TCP_DDGST_TX : 0;
    return { hw: ((data >> 8) & CAPS_HW) | tx, active: (data & CAPS_HW) | (this.txActive ? tx : 0) };
  }

  // ---- transmit ----

  /**
   * Sends frames of socket `sk` (undefined: a socket the driver does not know) through the transmit block; the
   * frames as they leave the NIC. Without a block they leave as they are.
   */
  async transmit(sk: UlpDdpSocket | undefined, frames: readonly Uint8Array[]): Promise<Uint8Array[]> {
    if (!this.tx) return [...frames];
    const s = sk ? this.sockets.get(sk) : undefined;
    for (const f of frames) this.tx.xmit(s?.tx ? s.ctx : undefined, f);
    return this.tx.flush();
  }

  /** The peer acknowledged every byte of `sk`'s stream before `seq` (moves the transmit checkpoint). */
  txAck(sk: UlpDdpSocket, seq: number): void {
    const s = this.sockets.get(sk);
    if (s?.tx) this.tx!.ack(s.ctx, seq);
  }

  /** The transmit block's counters and the driver's, or undefined without a block. */
  async txStats(): Promise<{ device: TxStats; driver: TxOffloadStats } | undefined> {
    if (!this.tx) return undefined;
    return { device: await this.tx.deviceStats(), driver: { ...this.tx.stats } };
  }

  async getStats(): Promise<UlpDdpStats> {
    const names = ["rxNvmeTcpDrop", "rxNvmeTcpResync", "rxNvmeTcpPackets", "rxNvmeTcpBytes"] as const;
    const beats = names.map((n) => ({ op: Op.STATS_GET, tag: this.tag(), index: STAT_NAMES.indexOf(n) }));
    const { completions, events } = await this.exec(() => this.device.commands(beats));
    this.dispatch(events);
    const [drop, resyncs, packets, bytes] = completions.map((c) => {
      if (c.status !== Status.OK) throw new DriverError(`STATS_GET answered status ${c.status}`);
      return Number(c.data);
    }) as [number, number, number, number];
    const d = this.counters;
    return {
      "rx-nvme-tcp-sk-add": d.skAdd,
      "rx-nvme-tcp-sk-add-fail": d.skAddFail,
      "rx-nvme-tcp-sk-del": d.skDel,
      "rx-nvme-tcp-setup": d.setup,
      "rx-nvme-tcp-setup-fail": d.setupFail,
      "rx-nvme-tcp-teardown": d.teardown,
      "rx-nvme-tcp-drop": drop,
      "rx-nvme-tcp-resync": resyncs,
      "rx-nvme-tcp-packets": packets,
      "rx-nvme-tcp-bytes": bytes,
    };
  }

  /**
   * The device's counters beyond the family's four (STATS_GET indices from 4 on: pdus_crc_ok, ooo_packets,
   * resync_confirms, ...), by the contract's names, as `ethtool -S` would show a driver's extra counters.
   */
  async hardwareCounters(): Promise<Record<string, number>> {
    const extra = STAT_NAMES.slice(4);
    const beats = extra.map((n) => ({ op: Op.STATS_GET, tag: this.tag(), index: STAT_NAMES.indexOf(n) }));
    const { completions, events } = await this.exec(() => this.device.commands(beats));
    this.dispatch(events);
    return Object.fromEntries(
      extra.map((n, i) => {
        const c = completions[i];
        if (c?.status !== Status.OK) throw new DriverError(`STATS_GET ${n} answered status ${c?.status}`);
        return [n.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), Number(c.data)];
      }),
    );
  }

  /** Set-up requests whose TEARDOWN_DONE has not come yet, over all sockets. */
  get tagsHeld(): number {
    return this.tagsInUse;
  }

  // ---- receive path ----

  /** Frames from the wire, in arrival order, through the device; the skbs for TCP. */
  async receive(frames: readonly Uint8Array[]): Promise<RxBatch> {
    const batch = await this.exec(() => this.device.frames(frames));
    const out: RxBatch = { skbs: [], dropped: 0 };
    for (const r of batch.frames) {
      this.rx.frames++;
      const skb = this.buildSkb(r);
      if (skb) out.skbs.push(skb);
      else out.dropped++;
    }
    this.rx.dropped += out.dropped;
    this.dispatch(batch.events);
    return out;
  }

  /** mlx5e_nvmeotcp_rebuild_rx_skb in spirit: the payload as ring fragments and placed fragments. */
  buildSkb({ ring, cqe }: RxResult): Skb | undefined {
    let f: ParsedFrame;
    try {
      // Options are stepped over, as the device does: a malformed one must not stop a frame it placed data of.
      f = parseFrame(ring.data, { skipTcpOptions: true });
    } catch (e) {
      if (!(e instanceof ParseError) || cqe.hit) throw e;
      return undefined;
    }
    // A hit means the device's verdict was ok (checksums good); its placed bytes are no longer in this copy.
    if (!f.tcp || (!cqe.hit && !f.checksumOk)) return undefined;
    const sock = cqe.hit ? this.byCtx[cqe.ctx] : undefined;
    if (cqe.nseg > 0 && !sock) throw new DeviceError(`CQE places data for context ${cqe.ctx}, which has no socket`);
    const frags: SkbFrag[] = [];
    const end = f.payloadOffset + f.payload.length;
    let at = f.payloadOffset;
    for (const seg of [...cqe.segs].sort((a, b) => a.frameOff - b.frameOff)) {
      if (seg.frameOff < at || seg.frameOff + seg.len > end) throw new DeviceError(`CQE segment [${seg.frameOff}, +${seg.len}) outside the payload or overlapping`);
      const tag = sock!.tags.get(seg.cid);
      if (!tag || seg.bufOff + seg.len > tag.total) throw new DeviceError(`CQE segment for cid 0x${seg.cid.toString(16)} [${seg.bufOff}, +${seg.len}) outside any set-up buffer`);
      if (seg.frameOff > at) frags.push({ kind: "ring", data: ring.data.subarray(at, seg.frameOff) });
      frags.push(...placedFrags(tag.sgl, seg.bufOff, seg.len));
      this.rx.placedBytes += seg.len;
      at = seg.frameOff + seg.len;
    }
    if (at < end) frags.push({ kind: "ring", data: ring.data.subarray(at, end) });
    if (cqe.resync && sock) {
      // The CQE carries the request (as mlx5's does); the RESYNC_REQUEST event repeats it and is not used.
      this.rx.resyncRequests++;
      sock.ulpOps.resyncRequest(cqe.resyncSeq, ULP_DDP_RESYNC_PENDING);
    }
    if (cqe.crcOk) this.rx.ulpCrcSkbs++;
    return { seq: f.tcp.seq, len: f.payload.length, frags, ulpCrc: cqe.crcOk };
  }

  // ---- internals ----

  private tag(): number {
    this.nextTag = (this.nextTag + 1) & 0xffff;
    return this.nextTag;
  }

  private exec<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    const p = this.chain.then(fn);
    this.chain = p.then(
      () => undefined,
      () => undefined,
    );
    return p.finally(() => {
      this.inFlight--;
    });
  }

  /** One command (its beats); dispatches the events that came with it. */
  private async command(beats: CommandInput | CommandInput[]): Promise<Completion> {
    const list = Array.isArray(beats) ? beats : [beats];
    const { completions, events } = await this.exec(() => this.device.commands(list));
    this.dispatch(events);
    const c = completions[0];
    if (completions.length !== 1 || !c) throw new DeviceError(`${completions.length} completions for one command`);
    return c;
  }

  private dispatch(events: readonly AsyncEvent[]): void {
    for (const e of events) {
      if (e.kind === EventKind.TEARDOWN_DONE) {
        if (!this.teardowns.has(e.cookie)) throw new DeviceError(`TEARDOWN_DONE for unknown cookie ${e.cookie}`);
        this.teardownDone(e.cookie);
      }
      // RESYNC_REQUEST: taken from the CQE (see buildSkb).
    }
  }

  private teardownDone(cookie: number): void {
    const t = this.teardowns.get(cookie)!;
    this.teardowns.delete(cookie);
    if (t.sock.tags.delete(t.cid)) this.tagsInUse--;
    t.sock.ulpOps.ddpTeardownDone(t.ddpCtx);
  }
}

/** Placed bytes [off, off + len) of a buffer as fragments, one per SGL entry they touch. */
export function placedFrags(sgl: readonly SglEntry[], off: number, len: number): SkbFrag[] {
  const pieces = sglSlices(sgl, off, len);
  if (pieces.reduce((n, p) => n + p.len, 0) < len) throw new DeviceError(`placed bytes [${off}, +${len}) beyond the SGL`);
  return pieces.map((p) => ({ kind: "placed", addr: p.addr, len: p.len }));
}

function errnoOf(status: StatusCode | number): number {
  switch (status) {
    case Status.EXISTS:
      return Errno.EEXIST;
    case Status.NOT_FOUND:
      return Errno.ENOENT;
    case Status.TABLE_FULL:
      return Errno.ENOSPC;
    case Status.DISABLED:
      return Errno.EOPNOTSUPP;
    default:
      return Errno.EINVAL;
  }
}
