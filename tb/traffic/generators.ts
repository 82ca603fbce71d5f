// Scenario generators for ddp_top (shared by the differential and security tests and the benchmark). Traffic
// comes from the target emulator (TargetFlow), is re-cut into frames (headers split anywhere, several PDUs per
// frame, jumbo frames) and goes through an ImpairedWire (loss -> data-only gaps or lost headers, reordering,
// duplicates, corrupted copies). Commands are built with the model's builders; buffers live in a HostMemory
// with guard bytes. Every choice is drawn from one seeded Rng.
//
// Traffic avoids malformed TCP options (the model's parseFrame throws on them while the RTL skips option
// bytes, a known difference of reading): frames carry no TCP options at all.

import { buildTcpFrame, buildUdpFrame, type FlowAddress } from "../../src/net/frame.js";
import { crc32c, writeDigest } from "../../src/pdu/crc32c.js";
import { encodePdu } from "../../src/pdu/pdu.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { OffloadModel } from "../../src/model/offload-model.js";
import {
  capsSet,
  type CommandInput,
  ctxDel,
  EventKind,
  Op,
  resync,
  type SglEntry,
  STAT_NAMES,
  tagTeardown,
} from "../../src/contract/protocol.js";
import { type Lie, LIES } from "../../src/nvmet/controller.js";
import { ImpairedWire, type WireImpairments } from "../../src/nvmet/wire.js";
import { Rng } from "../../src/util/rng.js";
import { seqAdd } from "../../src/net/seq.js";
import { asIpv4Fragment, payloadOf, pureAck, truncated, withEthernetPadding, withIpv4Options, withIpv6HopByHop, withTrailer } from "./frames.js";
import { ScenarioBuilder, type Scenario } from "./scenario.js";
import { type Burst, dataBytes, flowAddress, pageSgl, randomCuts, setupBeats, TargetFlow } from "./target.js";

/** The block's parameters the generators size things by (ddp_top defaults). */
export interface Limits {
  nCtx: number;
  nTags: number;
  /** SGL pages per buffer and the page size: buffers are registered page by page (contract section 1). */
  maxSgl: number;
  page: number;
  /** Pages of all buffers at once; default 16 per tag slot. */
  poolPages?: number;
  maxSegs: number;
  maxFrame: number;
  /** RESYNC_TIMEOUT in bytes (contract 7); default the block's. */
  resyncTimeout?: number;
}
export const LIMITS: Limits = { nCtx: 8, nTags: 16384, maxSgl: 128, page: 4096, maxSegs: 4, maxFrame: 9216 };

/** The model's parameters for a Limits (runScenario's `params`). */
export function modelParams(l: Limits): { nCtx: number; nTags: number; maxSgl: number; page: number; poolPages?: number; maxSegs: number; maxFrame: number; resyncTimeout?: number } {
  const { nCtx, nTags, maxSgl, page, maxSegs, maxFrame, poolPages, resyncTimeout } = l;
  return { nCtx, nTags, maxSgl, page, maxSegs, maxFrame, ...(poolPages === undefined ? {} : { poolPages }), ...(resyncTimeout === undefined ? {} : { resyncTimeout }) };
}

/** The RTL parameters of ddp_top for a Limits (describeRtl's `params`). */
export function rtlParams(l: Limits): Record<string, number> {
  return {
    N_CTX: l.nCtx, N_TAGS: l.nTags, MAX_SGL: l.maxSgl, PAGE: l.page, MAX_SEGS: l.maxSegs,
    ...(l.poolPages === undefined ? {} : { POOL_PAGES: l.poolPages }), ...(l.resyncTimeout === undefined ? {} : { RESYNC_TIMEOUT: l.resyncTimeout }),
  };
}

/** A registered buffer and the step range in which it is valid (for the security rebuild). */
export interface TagRecord {
  ctx: number;
  cid: number;
  sgl: SglEntry[];
}

/** Shared generator state: rng, host memory, tags, counters. */
export class Gen {
  readonly b: ScenarioBuilder;
  readonly mem = new HostMemory();
  private tagNo = 1;
  private cookieNo = 1;
  private slba = 0;
  /** Currently registered (as far as the generator knows): key ctx:cid. */
  readonly tags = new Map<string, TagRecord>();
  /** Every buffer ever set up. */
  readonly allTags: TagRecord[] = [];
  /** C2HData data bytes of all bursts (offload ratio denominator). */
  c2hDataBytes = 0;

  constructor(
    readonly rng: Rng,
    name: string,
    readonly limits: Limits = LIMITS,
  ) {
    this.b = new ScenarioBuilder(name);
  }

  tag(): number {
    this.tagNo = (this.tagNo % 0xbfff) + 1;
    return this.tagNo;
  }

  cookie(): number {
    return this.cookieNo++;
  }

  nextSlba(nlb: number): number {
    const s = this.slba;
    this.slba = (this.slba + nlb + this.rng.int(64)) % ((1 << 20) - 64);
    return s;
  }

  /**
   * Beats of a TAG_SETUP with a fresh buffer of `total` bytes in pages (more than MAX_SGL of them when the buffer
   * is that long: SGL_TOO_LONG); registers it.
   */
  setup(ctx: number, cid: number, total: number): CommandInput[] {
    const sgl = pageSgl(this.rng, this.mem, total, this.limits.page);
    const rec = { ctx, cid, sgl };
    this.tags.set(`${ctx}:${cid}`, rec);
    this.allTags.push(rec);
    return setupBeats(this.tag(), ctx, cid, sgl);
  }

  /** The buffer each TAG_TEARDOWN cookie releases (for the TEARDOWN_DONE check). */
  readonly cookies = new Map<number, TagRecord>();

  teardown(ctx: number, cid: number): CommandInput {
    const rec = this.tags.get(`${ctx}:${cid}`);
    this.tags.delete(`${ctx}:${cid}`);
    const cookie = this.cookie();
    if (rec !== undefined) this.cookies.set(cookie, rec);
    return tagTeardown({ tag: this.tag(), ctx, cid, cookie });
  }

  ctxDel(ctx: number): CommandInput {
    for (const [k, t] of this.tags) if (t.ctx === ctx) this.tags.delete(k);
    return ctxDel({ tag: this.tag(), ctx });
  }

  stats(): CommandInput[] {
    return Array.from({ length: STAT_NAMES.length }, (_, index) => ({ op: Op.STATS_GET, tag: this.tag(), index }));
  }
}

export interface FlowSpec {
  ctx: number;
  flow: TargetFlow;
  /** Cids of this flow's reads (small range so that they are reused). */
  cidBase: number;
}

/** Options of the random traffic generator. */
export interface RandomTrafficOptions {
  rounds: number;
  flows: number;
  /** Payload bytes per frame. */
  payload: [number, number];
  c2hDataSize: [number, number];
  /** Blocks per read. */
  nlb: [number, number];
  readsPerRound: [number, number];
  impair?: WireImpairments;
  /** Probability per round of each extra. */
  races?: number;
  badCommands?: number;
  reAdd?: number;
  lies?: number;
  /** Which lies (default every lie the flow's digests allow). */
  lieKinds?: readonly Lie[];
  /** Probability per frame that one random bit anywhere in it flips (checksums left stale). */
  flipAnywhere?: number;
  /**
   * Probability per frame of a variant the target never sends: IPv4 options, Ethernet padding, pure ACKs
   * around it, an IPv4-fragment copy before it, an Ethernet trailer after the datagram, a truncated copy.
   */
  variants?: number;
  /** Variants include an IPv6 hop-by-hop header (the RTL does not follow extension headers: divergence D2). */
  hopByHop?: boolean;
  /** Flows carry valid TCP options (timestamps, or NOP + SACK). */
  tcpOptions?: boolean;
  /** Passthrough frames (UDP, other flows, oversize) per round. */
  noise?: number;
  /** Noise includes frames longer than MAX_FRAME (they shifted the latency before RTL bug B1 was fixed). */
  oversize?: boolean;
  /** The block's parameters (default: ddp_top's defaults). */
  limits?: Limits;
  /** Start sequence numbers just below 2^32. */
  wrap?: boolean;
  /** Force the digests (else random per flow). */
  hdgst?: boolean;
  ddgst?: boolean;
}

function flowKind(rng: Rng): "v4" | "v6" | "v4vlan" | "v6vlan" {
  return rng.pick(["v4", "v4", "v6", "v4vlan", "v6vlan"] as const);
}

/** Merges per-flow frame lists at random, keeping each flow's own order. */
function interleave(rng: Rng, lists: Uint8Array[][]): Uint8Array[] {
  const q = lists.map((l) => [...l]).filter((l) => l.length > 0);
  const out: Uint8Array[] = [];
  while (q.length > 0) {
    const i = rng.int(q.length);
    out.push(q[i]!.shift()!);
    if (q[i]!.length === 0) q.splice(i, 1);
  }
  return out;
}

function impaired(rng: Rng, frames: Uint8Array[], impair: WireImpairments | undefined): Uint8Array[] {
  if (impair === undefined) return frames;
  const wire = new ImpairedWire({ ...impair, seed: rng.u32() });
  return [...frames.flatMap((f) => wire.push(f)), ...wire.flush()];
}

/** A copy of `frame` with one random bit flipped anywhere (Ethernet, IP, TCP headers or payload). */
export function flipped(rng: Rng, frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  out[rng.int(out.length)]! ^= 1 << rng.int(8);
  return out;
}

/** Frames the block must pass untouched: UDP, TCP of a flow that is not offloaded, a frame over MAX_FRAME. */
export function noiseFrame(rng: Rng, oversize = false): Uint8Array {
  const addr: FlowAddress = { ...flowAddress(200 + rng.int(20), rng.chance(0.5) ? "v4" : "v6") };
  switch (rng.int(oversize ? 3 : 2)) {
    case 0:
      return buildUdpFrame({ ...addr, payload: rng.bytes(rng.range(1, 600)) });
    case 1:
      return buildTcpFrame({ ...addr, seq: rng.u32(), ack: 1, flags: { ack: true }, payload: rng.bytes(rng.range(0, 1400)) });
    default:
      return buildTcpFrame({ ...addr, seq: rng.u32(), ack: 1, flags: { ack: true }, payload: rng.bytes(rng.range(LIMITS.maxFrame - 40, LIMITS.maxFrame + 200)) });
  }
}

/** A random bad or query command (every status of the contract is reachable). Registers nothing. */
export function badCommand(g: Gen, flows: readonly FlowSpec[]): CommandInput[] {
  const rng = g.rng;
  const f = rng.pick(flows);
  const tag = g.tag();
  switch (rng.int(12)) {
    case 0:
      return [{ op: rng.pick([0, 10, 11, 12, 13, 14, 15]), tag, ctx: rng.int(256) }];
    case 1:
      return [f.flow.ctxAdd(rng.range(g.limits.nCtx, 255), tag)]; // BAD_CTX
    case 2:
      return [f.flow.ctxAdd(f.ctx, tag)]; // EXISTS (context in use) or OK if it was deleted
    case 3:
      return [{ op: Op.CTX_DEL, tag, ctx: rng.range(g.limits.nCtx, 255) }];
    case 4:
      return setupLike(g, rng.range(g.limits.nCtx, 255), 1, [{ addr: 0x1000n, len: 64 }]); // BAD_CTX, out of range
    case 5: {
      // SGL_TOO_LONG: more than MAX_SGL pages (fake addresses: the setup must fail and change nothing).
      const page = BigInt(g.limits.page);
      const sgl = Array.from({ length: g.limits.maxSgl + 1 + rng.int(3) }, (_, i) => ({ addr: 0xdead_0000n * page + BigInt(i) * page, len: g.limits.page }));
      return setupLike(g, f.ctx, 0x7000 + rng.int(16), sgl);
    }
    case 6:
      // BAD_SGL: a page rule broken (an empty entry, one crossing a page, one not ending on a page before another).
      return setupLike(g, f.ctx, 0x7100 + rng.int(16), badSgl(rng, g.limits.page));
    case 7:
      return [tagTeardown({ tag, ctx: f.ctx, cid: 0x7200 + rng.int(16), cookie: 0xdead }), tagTeardown({ tag: g.tag(), ctx: rng.range(g.limits.nCtx, 255), cid: 1, cookie: 0xbeef })];
    case 8:
      return [resync({ tag, ctx: rng.int(12), seq: rng.u32() })];
    case 9:
      return [{ op: Op.LIMITS_GET, tag, index: rng.int(12) }];
    case 10:
      return [{ op: Op.STATS_GET, tag, index: rng.int(16) }];
    default:
      return [{ op: Op.CAPS_GET, tag }, { op: Op.CAPS_SET, tag: g.tag(), index: 0x33 }]; // sets both caps active (already)
  }
}

/** Two or three fake pages with one page rule broken (contract section 1, TAG_SETUP). */
function badSgl(rng: Rng, page: number): SglEntry[] {
  const base = 0xbad_0000n * BigInt(page);
  const p = (i: number, off = 0, len = page - off): SglEntry => ({ addr: base + BigInt(i * page + off), len });
  switch (rng.int(4)) {
    case 0:
      return [p(0, 0, 0), p(1)];
    case 1:
      return [p(0, page / 2, page / 2 + rng.range(1, 64))];
    case 2:
      return [p(0), p(1, 0, page - rng.range(1, 64)), p(2, 0, 100)];
    default:
      return [p(0), p(1, rng.range(1, 64)), p(2, 0, 100)];
  }
}

function setupLike(g: Gen, ctx: number, cid: number, sgl: readonly SglEntry[]): CommandInput[] {
  return setupBeats(g.tag(), ctx, cid, sgl);
}

/**
 * Random offload traffic: `flows` contexts, rounds of (commands, reads, the target's burst cut and impaired,
 * teardowns), with CID reuse right after teardown, re-added contexts (to leave SEARCH), bad commands, races,
 * lies and passthrough noise.
 */
export function randomTraffic(seed: number, name: string, o: RandomTrafficOptions): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, name, o.limits);
  const flows: FlowSpec[] = [];
  for (let i = 0; i < o.flows; i++) {
    const flow = new TargetFlow({
      rng: rng.fork(),
      addr: flowAddress(i + 1 + rng.int(50) * 8, flowKind(rng)),
      hdgst: o.hdgst ?? rng.chance(0.5),
      ddgst: o.ddgst ?? rng.chance(0.5),
      isn: o.wrap ? (0x1_0000_0000 - rng.range(1, 40_000)) >>> 0 : rng.u32(),
      c2hDataSize: rng.range(o.c2hDataSize[0], o.c2hDataSize[1]),
      reorder: rng.chance(0.5),
      ...(o.tcpOptions && rng.chance(0.7)
        ? {
            tcpOptions: rng.chance(0.5)
              ? [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "timestamps" as const, tsval: rng.u32(), tsecr: rng.u32() }]
              : [{ kind: "nop" as const }, { kind: "nop" as const }, { kind: "sack" as const, blocks: [{ left: rng.u32(), right: rng.u32() }] }],
          }
        : {}),
    });
    flows.push({ ctx: i, flow, cidBase: rng.int(0x10000) });
  }
  g.b.cmd(flows.map((f) => f.flow.ctxAdd(f.ctx, g.tag())), "contexts");
  let prevFrames: Uint8Array[] = [];

  for (let round = 0; round < o.rounds; round++) {
    const beats: CommandInput[] = [];
    // Re-add a context (leaves SEARCH), on the PDU boundary where the next burst starts.
    for (const f of flows) {
      if (!rng.chance(o.reAdd ?? 0.3)) continue;
      const add = f.flow.ctxAdd(f.ctx, g.tag());
      // IPv4: bits 127:32 of the address fields are ignored (contract 1, CTX_ADD).
      if (f.flow.addr.ipVersion === 4 && rng.chance(0.3)) Object.assign(add, { srcIp: (add.srcIp ?? 0n) | (BigInt(rng.u32()) << 64n), dstIp: (add.dstIp ?? 0n) | (1n << 127n) });
      beats.push(g.ctxDel(f.ctx), add);
    }
    if (rng.chance(o.badCommands ?? 0)) beats.push(...badCommand(g, flows));

    // Reads: most with a buffer, some without (not placed), some with a short buffer (datao + datal > total).
    const perFlow: { f: FlowSpec; cids: number[] }[] = [];
    let race: { beats: CommandInput[]; kind: "setup" | "teardown" } | undefined;
    const wantRace = rng.chance(o.races ?? 0);
    for (const f of flows) {
      const cids: number[] = [];
      const n = rng.range(o.readsPerRound[0], o.readsPerRound[1]);
      for (let r = 0; r < n; r++) {
        // A small cid range per flow: the same cid comes back right after its teardown.
        const cid = (f.cidBase + rng.int(6)) & 0xffff;
        if (cids.includes(cid)) continue;
        cids.push(cid);
        const nlb = rng.range(o.nlb[0], o.nlb[1]);
        const total = nlb * 512;
        const mode = rng.float();
        if (mode < 0.08) {
          // no buffer
        } else if (mode < 0.14) {
          beats.push(...g.setup(f.ctx, cid, rng.range(1, total - 1)));
        } else if (wantRace && race === undefined && rng.chance(0.5)) {
          race = { beats: g.setup(f.ctx, cid, total), kind: "setup" };
        } else {
          beats.push(...g.setup(f.ctx, cid, total));
        }
        if (o.lies && rng.chance(o.lies)) {
          const ok = (o.lieKinds ?? LIES).filter((l) => (l !== "bad-ddgst" || f.flow.config.ddgst) && (l !== "bad-hdgst" || f.flow.config.hdgst));
          if (ok.length > 0) f.flow.lie(rng.pick(ok));
        }
        f.flow.read(cid, g.nextSlba(nlb), nlb);
      }
      perFlow.push({ f, cids });
    }
    if (g.tags.size > g.limits.nTags) throw new Error(`${name}: generator registered ${g.tags.size} tags`);

    // Bursts -> frames.
    const lists = perFlow.map(({ f }) => {
      const burst: Burst = f.flow.burst();
      g.c2hDataBytes += dataBytes(burst);
      const cuts = randomCuts(rng, burst, o.payload[0], o.payload[1]);
      const frames = impaired(rng, f.flow.cut(burst.stream, burst.seq, cuts), o.impair);
      return frames.flatMap((x) => {
        if (o.flipAnywhere && rng.chance(o.flipAnywhere)) return [flipped(rng, x)];
        if (!o.variants || !rng.chance(o.variants)) return [x];
        switch (rng.int(o.hopByHop ? 7 : 6)) {
          case 0:
            return [withIpv4Options(x, rng.range(1, 10))];
          case 1:
            return [withEthernetPadding(x)];
          case 2:
            return [pureAck(f.flow.addr, payloadOf(x).seq), x, pureAck(f.flow.addr, seqAdd(payloadOf(x).seq, payloadOf(x).length))];
          case 3:
            // A fragment (passthrough), then the real frame.
            return [asIpv4Fragment(x, rng.chance(0.5) ? 0 : rng.range(1, 100)), x];
          case 4:
            return [withTrailer(x, rng.bytes(rng.range(1, 20)))];
          case 5:
            // A truncated copy (passthrough), then the real frame.
            return [truncated(x, rng.range(1, 30)), x];
          default:
            return [withIpv6HopByHop(x)];
        }
      });
    });
    if (o.noise) for (let k = 0; k < rng.int(o.noise + 1); k++) lists.push([noiseFrame(rng, o.oversize ?? false)]);
    // An old frame again (an entirely old retransmission).
    if (prevFrames.length > 0 && rng.chance(0.3)) lists.push([rng.pick(prevFrames)]);
    const frames = interleave(rng, lists);
    prevFrames = frames;

    // Teardown racing the data: after this round's frames are queued, tear one of its tags down.
    if (wantRace && race === undefined) {
      const live = [...g.tags.values()].filter((t) => perFlow.some((p) => p.f.ctx === t.ctx && p.cids.includes(t.cid)));
      if (live.length > 0) {
        const t = rng.pick(live);
        race = { beats: [g.teardown(t.ctx, t.cid)], kind: "teardown" };
      }
    }
    if (race !== undefined) {
      g.b.cmd(beats);
      // Up to about the time the frames take to pass the block: the command lands before, among or after them.
      const beatsIn = frames.reduce((n, f) => n + Math.ceil(f.length / 8), 0);
      g.b.race(frames, race.beats, rng.range(0, beatsIn + 1300), `round ${round} ${race.kind} race`);
    } else {
      g.b.cmd(beats);
      g.b.frames(frames, `round ${round}`);
    }

    // Teardown of the round's tags (their cids may come back next round: CID reuse right after teardown).
    const down: CommandInput[] = [];
    for (const { f, cids } of perFlow) for (const cid of cids) if (g.tags.has(`${f.ctx}:${cid}`) && rng.chance(0.9)) down.push(g.teardown(f.ctx, cid));
    g.b.cmd(down);
  }
  // Tear everything down, then read every counter.
  const rest = [...g.tags.values()].map((t) => g.teardown(t.ctx, t.cid));
  g.b.cmd(rest);
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/**
 * Headers split at every offset: one flow, small PDUs, and for consecutive PDUs a cut at offset 1, 2, ...
 * of the header (HDGST included), plus cuts inside data and digests.
 */
export function headerSplits(seed: number, hdgst: boolean, ddgst: boolean, wrap: boolean, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, `header splits hdgst=${hdgst} ddgst=${ddgst}${wrap ? " wrap" : ""}`, limits);
  const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(3, "v4"), hdgst, ddgst, isn: wrap ? 0xffff_fff0 : rng.u32(), c2hDataSize: rng.range(20, 90) });
  g.b.cmd(flow.ctxAdd(0, g.tag()));
  const hlen = 24 + (hdgst ? 4 : 0);
  let offset = 1;
  for (let round = 0; round < 3; round++) {
    const cids = [0x10 + round, 0x20 + round];
    g.b.cmd(cids.flatMap((cid) => g.setup(0, cid, 8 * 512)));
    for (const cid of cids) flow.read(cid, g.nextSlba(8), 8);
    const burst = flow.burst();
    g.c2hDataBytes += dataBytes(burst);
    const cuts: number[] = [];
    for (const p of burst.pdus) {
      const at = (p.seq - burst.seq) >>> 0;
      cuts.push(at + offset);
      offset = (offset % (hlen - 1)) + 1;
      if (rng.chance(0.5)) cuts.push(at + rng.range(hlen, p.length)); // inside data or the digest
    }
    g.b.frames(flow.cut(burst.stream, burst.seq, cuts), `round ${round}`);
    g.b.cmd(cids.map((cid) => g.teardown(0, cid)));
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/**
 * Full tables and bad commands: every context in use (one more is refused), the tag CAM filled to N_TAGS
 * (one more is TABLE_FULL), traffic on some of them, every bad command, then everything released.
 */
export function fullTables(seed: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "full tables and bad commands", limits);
  const per = Math.floor(limits.nTags / limits.nCtx);
  const flows: FlowSpec[] = [];
  for (let ctx = 0; ctx < limits.nCtx; ctx++) {
    const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(ctx + 1, flowKind(rng)), hdgst: rng.chance(0.5), ddgst: rng.chance(0.5), isn: rng.u32(), c2hDataSize: rng.range(200, 3000) });
    flows.push({ ctx, flow, cidBase: rng.int(0xfff0) });
  }
  g.b.cmd(flows.map((f) => f.flow.ctxAdd(f.ctx, g.tag())));
  // The same 5-tuple in another context, and an index beyond N_CTX.
  g.b.cmd([flows[0]!.flow.ctxAdd(3, g.tag()), flows[1]!.flow.ctxAdd(limits.nCtx, g.tag())]);
  // Fill the CAM: N_TAGS / N_CTX tags per context, full 16-bit cids.
  const cids = new Map<number, number[]>();
  for (const f of flows) {
    const list = Array.from({ length: per }, (_, i) => (f.cidBase + i * 0x1001) & 0xffff);
    cids.set(f.ctx, list);
    g.b.cmd(list.flatMap((cid) => g.setup(f.ctx, cid, rng.range(1, Math.min(limits.maxSgl, 4)) * 512)));
  }
  // One more: TABLE_FULL (an existing key would be EXISTS first: use a new cid); and EXISTS.
  g.b.cmd(setupBeats(g.tag(), 0, 0xfffe, [{ addr: 0xf00d_0000n * BigInt(limits.page), len: 512 }]));
  g.b.cmd(setupBeats(g.tag(), 1, cids.get(1)![0]!, [{ addr: 0xf00d_1000n * BigInt(limits.page), len: 512 }]));
  // Traffic on every context while the tables are full.
  const lists = flows.map((f) => {
    for (const cid of cids.get(f.ctx)!.slice(0, 3)) f.flow.read(cid, g.nextSlba(4), 4);
    const burst = f.flow.burst();
    g.c2hDataBytes += dataBytes(burst);
    return f.flow.cut(burst.stream, burst.seq, randomCuts(rng, burst, 100, 3000));
  });
  g.b.frames(interleave(rng, lists), "traffic with full tables");
  // Release: teardown of half of the tags, CTX_DEL of the contexts (the rest of their tags go with them).
  g.b.cmd([...g.tags.values()].filter(() => rng.chance(0.5)).map((t) => g.teardown(t.ctx, t.cid)));
  // Bad commands once there is room in the CAM again (TABLE_FULL is checked before SGL_TOO_LONG and BAD_SGL;
  // the teardowns' TEARDOWN_DONE have come, so their entries are free).
  for (let i = 0; i < 16; i++) g.b.cmd(badCommand(g, flows));
  g.b.cmd(flows.map((f) => g.ctxDel(f.ctx)));
  g.b.cmd(flows.map((f) => g.teardown(f.ctx, cids.get(f.ctx)![per - 1]!))); // NOT_FOUND now
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/** Caps: nvme-tcp off (no placement, CTX_ADD refused), ddgst-rx off (crc_ok 0), back on. */
export function capsToggle(seed: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "caps toggling", limits);
  const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(5, "v4vlan"), hdgst: true, ddgst: true, isn: rng.u32(), c2hDataSize: 1024 });
  const other = new TargetFlow({ rng: rng.fork(), addr: flowAddress(6, "v6"), hdgst: false, ddgst: false, isn: rng.u32(), c2hDataSize: 1024 });
  g.b.cmd(flow.ctxAdd(0, g.tag()));
  for (const caps of [0b11, 0b10, 0b01, 0b00, 0b11]) {
    g.b.cmd([capsSet({ tag: g.tag(), wanted: caps, mask: 0b11 }), { op: Op.CAPS_GET, tag: g.tag() }]);
    const cid = rng.int(0x10000);
    g.b.cmd(g.setup(0, cid, 8 * 512));
    g.b.cmd(other.ctxAdd(1, g.tag())); // OK, or DISABLED when nvme-tcp is off
    g.b.cmd(g.ctxDel(1)); // OK or NOT_FOUND
    flow.read(cid, g.nextSlba(8), 8);
    const burst = flow.burst();
    g.c2hDataBytes += dataBytes(burst);
    g.b.frames(flow.cut(burst.stream, burst.seq, randomCuts(rng, burst, 200, 1500)), `caps ${caps}`);
    g.b.cmd(g.teardown(0, cid));
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/**
 * Random corruption of NVMe/TCP PDU headers inside valid TCP segments (checksums recomputed): the stream of
 * a flow with some PDU header bytes flipped, so that the block sees wrong types, lengths, offsets, cids.
 */
export function corruptedHeaders(seed: number, rounds: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "corrupted PDU headers", limits);
  const hdgst = rng.chance(0.5);
  const ddgst = rng.chance(0.5);
  const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(7, "v6"), hdgst, ddgst, isn: rng.u32(), c2hDataSize: rng.range(64, 2048) });
  for (let round = 0; round < rounds; round++) {
    g.b.cmd([...(round === 0 ? [] : [g.ctxDel(0)]), flow.ctxAdd(0, g.tag())]);
    const cids = [1, 2, 3].map((i) => (round * 16 + i) & 0xffff);
    g.b.cmd(cids.flatMap((cid) => g.setup(0, cid, rng.range(1, 16) * 512)));
    for (const cid of cids) flow.read(cid, g.nextSlba(8), rng.range(1, 8));
    const burst = flow.burst();
    const stream = burst.stream.slice();
    for (const p of burst.pdus) {
      if (!rng.chance(0.3)) continue;
      const at = (p.seq - burst.seq) >>> 0;
      const byte = rng.pick([0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, rng.int(24)]);
      stream[at + byte]! ^= 1 << rng.int(8);
      // Half of the time the header digest is made to match (an adversary can compute CRCs too).
      if (hdgst && rng.chance(0.5)) writeDigest(stream, at + 24, crc32c(stream.subarray(at, at + 24)));
    }
    g.b.frames(flow.cut(stream, burst.seq, randomCuts(rng, burst, 50, 4000)), `round ${round}`);
    g.b.cmd([...g.tags.values()].map((t) => g.teardown(t.ctx, t.cid)));
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}


/** A C2HTermReq as the contract frames it: pdo 0, plen in 24..152 (HDGST counted in plen), random error data. */
function termReq(rng: Rng, hdgst: boolean): Uint8Array {
  const hd = hdgst ? 4 : 0;
  const plen = rng.range(24 + hd, 152);
  const out = new Uint8Array(plen);
  out.set([0x03, hdgst ? 1 : 0, 24, 0]);
  new DataView(out.buffer).setUint32(4, plen, true);
  out.set(rng.bytes(16), 8);
  if (hdgst) writeDigest(out, 24, crc32c(out.subarray(0, 24)));
  out.set(rng.bytes(plen - 24 - hd), 24 + hd);
  return out;
}

/**
 * Hand-built PDU streams for what an honest Linux target never sends: a host PDA (cpda 1..3) so that
 * C2HData PDUs have PAD bytes between header and data (and sometimes an alignment the context did not ask
 * for), C2HTermReq / CapsuleResp / R2T between data PDUs, datao anywhere in (or beyond) the buffer, and
 * commands issued between two frames of one PDU (barriers): teardown and re-setup of the same cid (the PDU
 * keeps the entry it hit: no placement into the new buffer), setup of a cid whose header already passed,
 * caps toggled mid-PDU, a context re-added at a seq that is not a PDU boundary.
 */
export function pduStreams(seed: number, rounds: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "hand-built PDU streams, commands mid-PDU", limits);
  for (let round = 0; round < rounds; round++) {
    const hdgst = rng.chance(0.5);
    const ddgst = rng.chance(0.5);
    const cpda = rng.int(4);
    const ctx = rng.int(limits.nCtx);
    const addr = flowAddress(10 + round, flowKind(rng));
    const flow = new TargetFlow({ rng: rng.fork(), addr, hdgst, ddgst, isn: rng.u32(), c2hDataSize: 4096 });
    const seq0 = flow.nextSeq;
    g.b.cmd({ ...flow.ctxAdd(ctx, g.tag(), seq0), cpda });
    const cids = [rng.int(0x10000), rng.int(0x10000), rng.int(0x10000)].filter((c, i, a) => a.indexOf(c) === i);
    const totals = new Map<number, number>();
    for (const cid of cids) {
      const total = rng.range(1, 8) * 512;
      totals.set(cid, total);
      g.b.cmd(g.setup(ctx, cid, total));
    }
    // The stream: PDUs of random kinds.
    const parts: Uint8Array[] = [];
    for (let k = 0; k < rng.range(6, 30); k++) {
      const kind = rng.float();
      if (kind < 0.7) {
        const cid = rng.chance(0.9) ? rng.pick(cids) : rng.int(0x10000);
        const total = totals.get(cid) ?? 4096;
        const datal = rng.range(1, Math.min(total, 1500));
        const datao = rng.chance(0.9) ? rng.int(total - datal + 1) : rng.range(total - datal + 1, total + 100);
        // Alignment: the context's, a larger one (still a multiple), or none.
        const pda = rng.chance(0.8) ? cpda : rng.int(8);
        parts.push(encodePdu({ kind: "C2HData", cccid: cid, datao, last: false, success: false, data: rng.bytes(datal) }, { hdgst, ddgst, pda }));
      } else if (kind < 0.8) {
        parts.push(encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 1, sqId: 1, cid: rng.int(0x10000), status: 0 } }, { hdgst, ddgst }));
      } else if (kind < 0.9) {
        parts.push(encodePdu({ kind: "R2T", cccid: rng.int(0x10000), ttag: 1, r2to: 0, r2tl: 4096 }, { hdgst, ddgst }));
      } else {
        parts.push(termReq(rng, hdgst));
      }
    }
    const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      stream.set(p, at);
      at += p.length;
    }
    const cuts: number[] = [];
    for (let c = rng.range(1, 400); c < stream.length; c += rng.range(1, 1200)) cuts.push(c);
    const frames = flow.cut(stream, seq0, cuts);
    // Frames in groups; between groups (a barrier: the block has drained) a command that may land mid-PDU.
    for (let i = 0; i < frames.length; ) {
      const n = rng.range(1, 6);
      g.b.frames(frames.slice(i, i + n));
      i += n;
      if (i >= frames.length) break;
      const cid = rng.pick(cids);
      switch (rng.int(6)) {
        case 0: // CID reuse mid-PDU: a new buffer for the same cid
          if (g.tags.has(`${ctx}:${cid}`)) g.b.cmd(g.teardown(ctx, cid));
          g.b.cmd(g.setup(ctx, cid, totals.get(cid)!));
          break;
        case 1: // teardown mid-PDU
          if (g.tags.has(`${ctx}:${cid}`)) g.b.cmd(g.teardown(ctx, cid));
          break;
        case 2: // setup of a cid whose header may have passed already
          if (!g.tags.has(`${ctx}:${cid}`)) g.b.cmd(g.setup(ctx, cid, totals.get(cid)!));
          break;
        case 3: // caps off and on again around the next frames
          g.b.cmd(capsSet({ tag: g.tag(), wanted: rng.int(4), mask: rng.int(4) }));
          break;
        case 4:
          g.b.cmd(capsSet({ tag: g.tag(), wanted: 3, mask: 3 }));
          break;
        default:
          if (rng.chance(0.3)) g.b.cmd([g.ctxDel(ctx), { ...flow.ctxAdd(ctx, g.tag(), seqAdd(seq0, rng.int(stream.length))), cpda }]);
      }
    }
    g.b.cmd([capsSet({ tag: g.tag(), wanted: 3, mask: 3 }), ...[...g.tags.values()].map((t) => g.teardown(t.ctx, t.cid)), g.ctxDel(ctx)]);
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/**
 * Frames around MAX_FRAME in an offloaded flow: payloads cut so that frames are MAX_FRAME - 1, MAX_FRAME and
 * MAX_FRAME + 1 bytes long (and random ones beyond). A frame over MAX_FRAME has no verdict and passes
 * untouched; the flow then sees a gap.
 */
export function aroundMaxFrame(seed: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "frames around MAX_FRAME", limits);
  const overhead = 14 + 20 + 20; // Ethernet, IPv4, TCP without options
  for (let round = 0; round < 6; round++) {
    const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(20 + round, "v4"), hdgst: rng.chance(0.5), ddgst: rng.chance(0.5), isn: rng.u32(), c2hDataSize: rng.range(512, 8192) });
    g.b.cmd(flow.ctxAdd(0, g.tag()));
    const cids = [1, 2, 3, 4].map((i) => (round << 8) | i);
    g.b.cmd(cids.flatMap((cid) => g.setup(0, cid, 64 * 512)));
    for (const cid of cids) flow.read(cid, g.nextSlba(64), 64);
    const burst = flow.burst();
    g.c2hDataBytes += dataBytes(burst);
    const cuts: number[] = [];
    let at = 0;
    for (let k = 0; at < burst.stream.length; k++) {
      const size = k % 4 === 3 ? rng.range(1, 9000) : limits.maxFrame - overhead + rng.pick([-1, 0, 1, 0, -1]);
      at += size;
      cuts.push(at);
    }
    g.b.frames(flow.cut(burst.stream, burst.seq, cuts), `round ${round}`);
    g.b.cmd([...cids.map((cid) => g.teardown(0, cid)), g.ctxDel(0)]);
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}

/**
 * Resync, closed loop: the generator plays the host. It feeds a model while it builds the scenario (same
 * steps, same order) and answers each RESYNC_REQUEST the model raises with a RESYNC confirm between two frame
 * groups: at once with the right seq (most), with a wrong seq, one group late, or never. Traffic from an
 * impaired wire enters SEARCH (lost headers), the block finds candidates (also false ones inside data), and
 * confirmed contexts offload again from the next PDU boundary (contract section 7). The differential run
 * then compares the RTL with a fresh model on these steps.
 */
export function resyncTraffic(seed: number, rounds: number, limits: Limits = LIMITS): { scenario: Scenario; gen: Gen; confirms: number } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "resync, host confirms candidates", limits);
  const host = new OffloadModel(modelParams(limits));
  const cmd = (beats: CommandInput[]) => {
    g.b.cmd(beats);
    for (const b of beats) host.command(b);
  };
  const flows: FlowSpec[] = [];
  for (let i = 0; i < Math.min(3, limits.nCtx); i++) {
    const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(30 + i, flowKind(rng)), hdgst: rng.chance(0.5), ddgst: rng.chance(0.5), isn: rng.u32(), c2hDataSize: rng.range(64, 4096) });
    flows.push({ ctx: i, flow, cidBase: rng.int(0x10000) });
  }
  cmd(flows.map((f) => f.flow.ctxAdd(f.ctx, g.tag())));
  let confirms = 0;
  let late: CommandInput[] = [];
  for (let round = 0; round < rounds; round++) {
    const beats: CommandInput[] = [];
    const perFlow: { f: FlowSpec; cids: number[] }[] = [];
    for (const f of flows) {
      const cids = [0, 1, 2].map((k) => (f.cidBase + round * 3 + k) & 0xffff);
      for (const cid of cids) {
        beats.push(...g.setup(f.ctx, cid, 16 * 512));
        f.flow.read(cid, g.nextSlba(16), rng.range(1, 16));
      }
      perFlow.push({ f, cids });
    }
    cmd(beats);
    const lists = flows.map((f) => {
      const burst = f.flow.burst();
      g.c2hDataBytes += dataBytes(burst);
      const frames = f.flow.cut(burst.stream, burst.seq, randomCuts(rng, burst, 100, 3000, 0.2));
      return impaired(rng, frames, { loss: 0.06, reorder: 0.02, duplicate: 0.02 });
    });
    const frames = interleave(rng, lists);
    for (let i = 0; i < frames.length; ) {
      const group = frames.slice(i, i + rng.range(1, 4));
      i += group.length;
      g.b.frames(group);
      for (const f of group) host.frame(f);
      const answers: CommandInput[] = [...late];
      late = [];
      for (const e of host.events()) {
        if (e.kind !== EventKind.RESYNC_REQUEST) continue;
        const x = rng.float();
        if (x < 0.7) answers.push(resync({ tag: g.tag(), ctx: e.ctx, seq: e.seq }));
        else if (x < 0.8) answers.push(resync({ tag: g.tag(), ctx: e.ctx, seq: (e.seq + rng.range(1, 100)) >>> 0 }));
        else if (x < 0.9) late.push(resync({ tag: g.tag(), ctx: e.ctx, seq: e.seq }));
      }
      confirms += answers.length;
      if (answers.length > 0) cmd(answers);
    }
    cmd(perFlow.flatMap(({ f, cids }) => cids.map((cid) => g.teardown(f.ctx, cid))));
    host.events();
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g, confirms };
}

/**
 * Header fields chosen to overflow 32-bit arithmetic: datao + datal wrapping past 2^32 to a small value
 * (the placement check `datao + datal <= total` must not wrap), datal near 2^32 with plen wrapped to a small
 * consistent-looking value (`plen == pdo + datal (+4)` is exact, no wrap), huge datao with a small datal,
 * the largest pdo. Each lying PDU is followed by honest ones (after a context re-add if it caused SEARCH).
 */
export function overflowHeaders(seed: number): { scenario: Scenario; gen: Gen } {
  const rng = new Rng(seed);
  const g = new Gen(rng, "32-bit overflow in PDU headers");
  const total = 4096;
  for (let round = 0; round < 24; round++) {
    const hdgst = rng.chance(0.5);
    const ddgst = rng.chance(0.5);
    const hd = hdgst ? 4 : 0;
    const dd = ddgst ? 4 : 0;
    const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(40 + round, flowKind(rng)), hdgst, ddgst, isn: rng.u32(), c2hDataSize: 4096 });
    const seq0 = flow.nextSeq;
    g.b.cmd(flow.ctxAdd(0, g.tag(), seq0));
    const cid = rng.int(0x10000);
    g.b.cmd(g.setup(0, cid, total));
    const datal = rng.range(1, 600);
    const kind = round % 6;
    const pdo = kind === 5 ? 252 : 24 + hd; // 252: the largest 4-aligned pdo
    const body = rng.bytes(datal);
    const pdu = new Uint8Array(pdo + datal + dd);
    const v = new DataView(pdu.buffer);
    pdu.set([0x07, (hdgst ? 1 : 0) | (ddgst ? 2 : 0), 24, pdo]);
    v.setUint16(8, cid, true);
    let datao = 0;
    let datalField = datal;
    let plen = pdu.length;
    switch (kind) {
      case 0: // datao + datal wraps to a small number
        datao = 0x1_0000_0000 - rng.range(1, datal);
        break;
      case 1: // exactly 2^32
        datao = 0x1_0000_0000 - datal;
        break;
      case 2: // datal near 2^32, plen wrapped: pdo + datal + dd mod 2^32 == plen of the bytes sent
        datalField = (0x1_0000_0000 - pdo - dd + pdu.length) >>> 0;
        break;
      case 3: // huge datao, small datal
        datao = rng.range(0x8000_0000, 0xffff_f000);
        break;
      case 4: // datao just past the buffer
        datao = total - datal + rng.range(1, 64);
        break;
      default: // pdo 252, honest otherwise
        datao = rng.int(total - datal + 1);
    }
    v.setUint32(4, plen >>> 0, true);
    v.setUint32(12, datao >>> 0, true);
    v.setUint32(16, datalField >>> 0, true);
    pdu.set(body, pdo);
    if (hdgst) writeDigest(pdu, 24, crc32c(pdu.subarray(0, 24)));
    if (ddgst) writeDigest(pdu, pdo + datal, crc32c(body));
    plen = pdu.length;
    // Then honest PDUs of the same command.
    const honest = Array.from({ length: 3 }, (_, k) => encodePdu({ kind: "C2HData", cccid: cid, datao: k * 1024, last: false, success: false, data: rng.bytes(1024) }, { hdgst, ddgst }));
    const parts = [pdu, ...honest];
    const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      stream.set(p, at);
      at += p.length;
    }
    g.b.frames(flow.cut(stream, seq0, randomCuts(rng, { stream, seq: seq0, pdus: [] }, 30, 2500)), `round ${round} kind ${kind}`);
    g.b.cmd([...[...g.tags.values()].map((t) => g.teardown(t.ctx, t.cid)), g.ctxDel(0)]);
  }
  g.b.cmd(g.stats(), "stats");
  return { scenario: g.b.build(), gen: g };
}
