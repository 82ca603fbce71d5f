// Differential tests of ddp_top against the reference model (src/model OffloadModel) on seeded random traffic
// from the target emulator and an impaired wire: headers split at every offset, several PDUs per frame,
// HDGST / DDGST on and off, CID reuse right after teardown, setup racing the data, teardown with data in
// flight, TCP sequence wrap, full tables, bad commands, IPv4 / IPv6 / VLAN, retransmissions, data-only gaps,
// lost headers (SEARCH), caps toggling, passthrough noise. Every frame's ring bytes, CQE and DMA bytes, every
// event and the counters (STATS_GET at the end of each scenario) are compared; see tb/traffic/compare.ts.
// Plus the line-rate check: 1.00 beats per cycle and one constant latency for back-to-back small frames.
//
// SEED=<n> reproduces a run (the seed is printed); each test derives its scenario seeds from it.

import { describe, expect, it } from "vitest";
import { describeRtl, type Harness, randomPauseString } from "../../tb/index.js";
import { DdpPorts } from "../../src/device/index.js";
import { describeReport, runScenario, type RunReport } from "../../tb/traffic/compare.js";
import { aroundMaxFrame, resyncTraffic, capsToggle, corruptedHeaders, fullTables, Gen, headerSplits, LIMITS, type Limits, modelParams, pduStreams, randomTraffic, rtlParams } from "../../tb/traffic/generators.js";
import { ScenarioBuilder, type Scenario } from "../../tb/traffic/scenario.js";
import { flowAddress, TargetFlow } from "../../tb/traffic/target.js";
import { withIpv6HopByHop, withMalformedTcpOption } from "../../tb/traffic/frames.js";
import { buildTcpFrame } from "../../src/net/frame.js";
import { EventKind, Op, STAT_NAMES, Status, tagSetup, tagTeardown } from "../../src/contract/protocol.js";
import { bucketPairFill } from "../../tb/traffic/buckets.js";
import { Rng } from "../../src/util/rng.js";
import { lineRate } from "../../tb/traffic/line-rate.js";

/**
 * Every counter the contract names (STAT_NAMES, resync's included) answers STATS_GET with OK, and the index
 * after the last one is BAD_ARG: an RTL without one of them fails here instead of being compared on less.
 */
async function expectEveryCounter(d: DdpPorts): Promise<void> {
  const indexes = [...STAT_NAMES.keys(), STAT_NAMES.length];
  const events = await d.commands(indexes.map((index) => ({ op: Op.STATS_GET, tag: d.tag(), index })));
  const statuses = events.map((e) => (!("malformed" in e.value) && e.value.kind === EventKind.COMPLETION ? e.value.status : `not a completion: ${JSON.stringify(e.value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`));
  expect(statuses, `STATS_GET 0..${STAT_NAMES.length} (${STAT_NAMES.join(", ")}, then one past the end)`).toEqual([...STAT_NAMES.map(() => Status.OK), Status.BAD_ARG]);
}

/** Each scenario starts from reset: empty tables, counters 0, caps as after reset. */
async function check(harness: Harness, scenario: Scenario): Promise<RunReport> {
  await harness.reset({ cycles: 4, bfms: true });
  const driver = await DdpPorts.attach(harness);
  const r = await runScenario(scenario, driver);
  console.log(describeReport(r));
  return r;
}

describeRtl("ddp_top vs model", { top: "ddp_top" }, (rtl) => {
  rtl.test("random traffic, in order, several flows, races, bad commands, noise (oversize too), TCP options, IPv4 options, padding, pure ACKs", async ({ harness, seed }) => {
    const { scenario } = randomTraffic(seed, "clean", {
      rounds: 40, flows: 3, payload: [1, 3000], c2hDataSize: [16, 4096], nlb: [1, 16], readsPerRound: [1, 4],
      races: 0.4, badCommands: 0.3, noise: 2, oversize: true, tcpOptions: true, variants: 0.1,
    });
    const r = await check(harness, scenario);
    expect(r.frames).toBeGreaterThan(400);
    expect(r.mismatches, describeReport(r)).toBe(0);
  }, 300_000);

  rtl.test("impaired wire: loss (gaps, lost headers), reorder, duplicates, corruption; jumbo frames; seq wrap", async ({ harness, seed }) => {
    const { scenario } = randomTraffic(seed ^ 0x5a5a, "impaired", {
      rounds: 40, flows: 3, payload: [64, 8900], c2hDataSize: [16, 8192], nlb: [1, 32], readsPerRound: [1, 4],
      impair: { loss: 0.04, reorder: 0.04, duplicate: 0.04, corrupt: 0.04 }, reAdd: 0.6, races: 0.2, wrap: true,
    });
    const r = await check(harness, scenario);
    expect(r.mismatches, describeReport(r)).toBe(0);
    expect(r.model.stats.searches, "lost headers happened").toBeGreaterThan(0);
  }, 300_000);

  rtl.test("many small PDUs per frame (more than MAX_SEGS), digests both ways", async ({ harness, seed }) => {
    for (const [i, dg] of [[false, false], [true, true], [true, false], [false, true]].entries()) {
      const { scenario } = randomTraffic(seed + i, `small PDUs hdgst=${dg[0]} ddgst=${dg[1]}`, {
        rounds: 8, flows: 2, payload: [500, 8900], c2hDataSize: [1, 64], nlb: [1, 4], readsPerRound: [1, 3],
        hdgst: dg[0]!, ddgst: dg[1]!, races: 0.2,
      });
      const r = await check(harness, scenario);
      expect(r.mismatches, describeReport(r)).toBe(0);
    }
  }, 300_000);

  rtl.test("headers split at every offset (HDGST / DDGST on and off, seq wrap)", async ({ harness, seed }) => {
    for (const [hd, dd] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const r = await check(harness, headerSplits(seed, hd, dd, hd).scenario);
      expect(r.mismatches, describeReport(r)).toBe(0);
    }
  }, 300_000);

  rtl.test("bad commands, caps toggling, corrupted PDU headers, hand-built PDU streams with commands mid-PDU", async ({ harness, seed }) => {
    for (const { scenario } of [capsToggle(seed), corruptedHeaders(seed, 12), pduStreams(seed, 40)]) {
      const r = await check(harness, scenario);
      expect(r.mismatches, describeReport(r)).toBe(0);
    }
  }, 300_000);

  // Behaviour must not depend on timing: the same traffic with random idle cycles on s_axis and s_cmd and
  // random back-pressure on every output (no races here: their order is read from an unstalled pipeline).
  rtl.test("idle input and back-pressure on every output", async ({ harness, seed }) => {
    const rng = new Rng(seed ^ 0xbb);
    const { scenario } = randomTraffic(seed ^ 0xbb, "back-pressure", {
      rounds: 25, flows: 3, payload: [1, 8900], c2hDataSize: [16, 4096], nlb: [1, 16], readsPerRound: [1, 4],
      badCommands: 0.3, noise: 2, impair: { loss: 0.02, reorder: 0.02, duplicate: 0.02, corrupt: 0.02 }, reAdd: 0.5,
    });
    const pattern = (n: number, p: number) => randomPauseString(rng, p, n);
    const stalled = async () => {
      await harness.reset({ cycles: 4, bfms: true });
      const drv = await DdpPorts.attach(harness);
      await Promise.all([
        drv.pause("src", pattern(31, 0.2)), drv.pause("cmd", pattern(17, 0.3)), drv.pause("ring", pattern(37, 0.3)),
        drv.pause("dma", pattern(23, 0.3)), drv.pause("cqe", pattern(29, 0.3)), drv.pause("evt", pattern(13, 0.3)),
      ]);
      return drv;
    };
    const d = await stalled();
    const r = await runScenario(scenario, d, { checkLatency: false });
    console.log(describeReport(r));
    expect(r.mismatches, describeReport(r)).toBe(0);
    // Resync under stalls too.
    const rs = await runScenario(resyncTraffic(seed ^ 0xbb, 10).scenario, await stalled(), { checkLatency: false });
    console.log(describeReport(rs));
    expect(rs.mismatches, describeReport(rs)).toBe(0);
  }, 300_000);

  // Directed: a PDU split over two frames, with commands between them (after the first frame has left).
  for (const what of ["CID torn down and set up again mid-PDU", "teardown mid-PDU", "setup after the header passed"] as const) {
    rtl.test(`directed: ${what}: the rest of the PDU is not placed`, async ({ harness, seed }) => {
      const rng = new Rng(seed);
      const g = new Gen(rng, what);
      const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(4, "v4"), hdgst: true, ddgst: true, isn: rng.u32(), c2hDataSize: 8192 });
      g.b.cmd(flow.ctxAdd(0, g.tag()));
      const cid = rng.int(0x10000);
      if (what !== "setup after the header passed") g.b.cmd(g.setup(0, cid, 8 * 512));
      flow.read(cid, 0, 8);
      const burst = flow.burst();
      const [a, b, c] = flow.cut(burst.stream, burst.seq, [300, 2000]);
      g.b.frames([a!]);
      if (what !== "setup after the header passed") g.b.cmd(g.teardown(0, cid));
      if (what !== "teardown mid-PDU") g.b.cmd(g.setup(0, cid, 8 * 512));
      g.b.frames([b!, c!]);
      g.b.cmd(g.stats());
      const r = await check(harness, g.b.build());
      expect(r.mismatches, describeReport(r)).toBe(0);
      // The model's reading (the PDU keeps the entry it hit) is what the RTL was compared with: only the
      // first frame's data (or none) is placed.
      expect(r.model.stats.rxNvmeTcpBytes).toBe(what === "setup after the header passed" ? 0 : 300 - (24 + 4)); // header + HDGST, then data
    });
  }

  // Verdict corner cases where a model built on a strict parser and the RTL once disagreed (contract section 4
  // now settles both): a malformed TCP option with valid checksums is stepped over (verdict ok, data placed);
  // an IPv6 hop-by-hop extension header makes the verdict not ok (passthrough).
  for (const [name, variant, placed] of [["malformed TCP option", withMalformedTcpOption, true], ["IPv6 hop-by-hop header", withIpv6HopByHop, false]] as const) {
    rtl.test(`verdict: ${name}`, async ({ harness, seed }) => {
      const rng = new Rng(seed);
      const g = new Gen(rng, name);
      const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(4, "v6"), hdgst: false, ddgst: false, isn: rng.u32(), c2hDataSize: 8192 });
      g.b.cmd(flow.ctxAdd(0, g.tag()));
      g.b.cmd(g.setup(0, 7, 512));
      flow.read(7, 0, 1);
      const burst = flow.burst();
      const frames = flow.cut(burst.stream, burst.seq, []);
      g.b.frames([variant(frames[0]!), ...frames.slice(1)]);
      const r = await check(harness, g.b.build());
      expect(r.mismatches, describeReport(r)).toBe(0);
      expect(r.model.stats.passthrough > 0, "the variant frame passed through").toBe(!placed);
    });
  }

  // Frames of offloaded flows at MAX_FRAME - 1, MAX_FRAME, MAX_FRAME + 1 bytes (latency checked too: B1).
  rtl.test("frames around MAX_FRAME in offloaded flows", async ({ harness, seed }) => {
    await harness.reset({ cycles: 4, bfms: true });
    const d = await DdpPorts.attach(harness);
    const { scenario } = aroundMaxFrame(seed);
    const r = await runScenario(scenario, d);
    console.log(describeReport(r));
    expect(r.mismatches, describeReport(r)).toBe(0);
    expect(r.model.stats.oversize, "frames over MAX_FRAME were sent").toBeGreaterThan(0);
  }, 300_000);

  // Starved outputs: m_evt ready 1 cycle in 40 (the event FIFO fills and must stall the pipeline, not drop),
  // m_dma 1 in 8, with many commands and resync requests.
  rtl.test("starved event and DMA sinks: nothing dropped", async ({ harness, seed }) => {
    const { scenario } = resyncTraffic(seed ^ 0x5ee, 6);
    const { scenario: cmds } = randomTraffic(seed ^ 0x5ef, "starved: commands", {
      rounds: 10, flows: 3, payload: [1, 3000], c2hDataSize: [16, 1024], nlb: [1, 8], readsPerRound: [3, 5], badCommands: 1, reAdd: 1,
    });
    for (const sc of [scenario, cmds]) {
      await harness.reset({ cycles: 4, bfms: true });
      const d = await DdpPorts.attach(harness);
      await Promise.all([d.pause("evt", `${"1".repeat(39)}0`), d.pause("dma", "11111110")]);
      const r = await runScenario(sc, d, { checkLatency: false });
      console.log(describeReport(r));
      expect(r.mismatches, describeReport(r)).toBe(0);
    }
  }, 300_000);

  // Contract 1 and 8: a key lives in row A (bank 0) or row B (bank 1) of the tag table; with both full its setup
  // is TABLE_FULL (a collision, STATS 14) however empty the rest of the table is. TAG_TEARDOWN frees the slot at
  // its completion (the generation tells placements of the old entry apart), so a setup right behind it gets
  // the slot; TEARDOWN_DONE still follows. The keys: tb/traffic/buckets.ts.
  rtl.test("directed: a full bucket pair refuses a key (collision); a teardown frees a slot for the next setup at once", async ({ harness, seed }) => {
    await harness.reset({ cycles: 4, bfms: true });
    const d = await DdpPorts.attach(harness);
    const rng = new Rng(seed);
    const { target, fill, inRowA } = bucketPairFill(rng, 0, d.nTags);
    const flow = new TargetFlow({ rng: rng.fork(), addr: flowAddress(2, "v4"), hdgst: false, ddgst: false, isn: rng.u32(), c2hDataSize: 4096 });
    const page = (cid: number) => [{ addr: 0x1000_0000n + BigInt(cid) * 0x1000n, len: 4096 }];
    const b = new ScenarioBuilder("full bucket pair");
    b.cmd([flow.ctxAdd(0, 1)]);
    b.cmd(fill.flatMap((cid) => tagSetup({ tag: 2, ctx: 0, cid, sgl: page(cid) })));
    b.cmd(tagSetup({ tag: 3, ctx: 0, cid: target, sgl: page(target) }), "the collision");
    b.cmd([tagTeardown({ tag: 4, ctx: 0, cid: inRowA[0]!, cookie: 77 }), ...tagSetup({ tag: 5, ctx: 0, cid: target, sgl: page(target) })], "teardown, then the setup behind it");
    b.cmd([Op.STATS_GET].map((op) => ({ op, tag: 6, index: STAT_NAMES.indexOf("tagCollisions") })));
    const r = await runScenario(b.build(), d);
    expect(r.mismatches, describeReport(r)).toBe(0);
    const statuses = r.expectedEvents.flatMap((e) => (e.kind === EventKind.COMPLETION ? [e.status] : []));
    expect(statuses, "CTX_ADD, the fill, the collision, teardown + setup, STATS").toEqual([...Array<number>(1 + fill.length).fill(Status.OK), Status.TABLE_FULL, Status.OK, Status.OK, Status.OK]);
    expect(r.expectedEvents.some((e) => e.kind === EventKind.TEARDOWN_DONE && e.cookie === 77)).toBe(true);
    expect(r.model.stats.tagCollisions).toBe(1);
  });

  // Resync (contract section 7): the closed-loop generator confirms the model's candidates. The RTL must have
  // every counter, resync's included (a missing one fails here; runScenario compares all of them too).
  rtl.test("resync: SEARCH, candidates, confirms (right, wrong, late, none), offload resumes", async ({ harness, seed }) => {
    await harness.reset({ cycles: 4, bfms: true });
    await expectEveryCounter(await DdpPorts.attach(harness));
    for (let k = 0; k < 3; k++) {
      const { scenario, confirms } = resyncTraffic(seed + k, 12);
      const r = await check(harness, scenario);
      expect(r.mismatches, describeReport(r)).toBe(0);
      expect(confirms, "the host confirmed candidates").toBeGreaterThan(0);
      expect((r.model.stats as Record<string, number | undefined>).resyncConfirms ?? 0, "candidates confirmed").toBeGreaterThan(0);
    }
  }, 300_000);

  // RTL bug B1 (found here, fixed in 05518a5): a frame longer than MAX_FRAME stalled s_axis for a cycle and
  // shifted the latency of itself and of the frames after it (1165 -> 1166 / 1167). Regression check:
  rtl.test("B1 regression: a frame over MAX_FRAME keeps the latency constant", async ({ harness, seed }) => {
    const rng = new Rng(seed);
    const frames = [
      buildTcpFrame({ ...flowAddress(1, "v4"), seq: 1, ack: 1, flags: { ack: true }, payload: rng.bytes(100) }),
      buildTcpFrame({ ...flowAddress(1, "v4"), seq: 2, ack: 1, flags: { ack: true }, payload: rng.bytes(9300) }),
      buildTcpFrame({ ...flowAddress(1, "v4"), seq: 3, ack: 1, flags: { ack: true }, payload: rng.bytes(100) }),
      buildTcpFrame({ ...flowAddress(1, "v4"), seq: 4, ack: 1, flags: { ack: true }, payload: rng.bytes(100) }),
    ];
    const b = new ScenarioBuilder("oversize frame between small ones");
    b.frames(frames);
    b.cmd(Array.from({ length: 11 }, (_, index) => ({ op: Op.STATS_GET, tag: index + 1, index })));
    const r = await check(harness, b.build());
    expect(r.mismatches, describeReport(r)).toBe(0);
    expect(r.latencies.size).toBe(1);
  });

  rtl.test("line rate: 64-byte frames back to back at 1.00 beats/cycle, one constant latency", async ({ harness, seed }) => {
    const d = await DdpPorts.attach(harness);
    const r = await lineRate(d, "64-byte frames", seed);
    console.log(r);
    expect(r.beatsPerCycle).toBe(1);
    expect(r.latencies).toEqual([d.latency]);
    expect(r.mismatches).toBe(0);
  });
});

// Another parameter set: fewer contexts, tags, pages and segment slots (full tables and an empty page pool
// come sooner, MAX_SGL and MAX_SEGS limits are hit by ordinary traffic, 512-byte pages make every buffer span
// several). A short RESYNC_TIMEOUT makes unconfirmed candidates time out within the traffic.
const SMALL: Limits = { ...LIMITS, nCtx: 4, nTags: 16, maxSgl: 8, page: 512, poolPages: 96, maxSegs: 2, resyncTimeout: 4096 };
describeRtl("ddp_top vs model, N_CTX=4 N_TAGS=16 MAX_SGL=8 PAGE=512 POOL_PAGES=96 MAX_SEGS=2 RESYNC_TIMEOUT=4096", { top: "ddp_top", params: rtlParams(SMALL) }, (rtl) => {
  rtl.test("random traffic, tables, hand-built streams, small PDUs, resync with timeouts", async ({ harness, seed }) => {
    const scenarios = [
      randomTraffic(seed, "small params: clean", {
        rounds: 25, flows: 3, payload: [1, 8900], c2hDataSize: [16, 4096], nlb: [1, 16], readsPerRound: [1, 4],
        races: 0.3, badCommands: 0.4, noise: 2, tcpOptions: true, variants: 0.1, limits: SMALL,
      }).scenario,
      randomTraffic(seed + 1, "small params: impaired", {
        rounds: 20, flows: 2, payload: [64, 8900], c2hDataSize: [16, 2048], nlb: [1, 16], readsPerRound: [1, 4],
        impair: { loss: 0.04, reorder: 0.04, duplicate: 0.04, corrupt: 0.04 }, reAdd: 0.6, wrap: true, limits: SMALL,
      }).scenario,
      fullTables(seed, SMALL).scenario,
      pduStreams(seed, 20, SMALL).scenario,
      headerSplits(seed, true, true, false, SMALL).scenario,
      resyncTraffic(seed, 16, SMALL).scenario,
    ];
    for (const scenario of scenarios) {
      await harness.reset({ cycles: 4, bfms: true });
      const d = await DdpPorts.attach(harness);
      const r = await runScenario(scenario, d, { params: modelParams(SMALL) });
      console.log(describeReport(r), JSON.stringify(r.model.stats));
      expect(r.mismatches, describeReport(r)).toBe(0);
    }
  }, 300_000);
});

// The generators make what they claim (checked on the model alone, no simulator): these keep the
// differential tests above meaningful when the generators change.
describe("ddp_top scenario generators (model only)", () => {
  const seed = Number(process.env.SEED ?? 7);

  it("header splits: every PDU placed and digest-checked whatever the cut", async () => {
    for (const [hd, dd] of [[false, false], [true, true]] as const) {
      const { scenario, gen } = headerSplits(seed, hd, dd, true);
      const r = await runScenario(scenario, undefined);
      expect(r.model.stats.rxNvmeTcpBytes).toBe(gen.c2hDataBytes);
      expect(r.model.stats.searches).toBe(0);
      if (dd) expect(r.model.stats.pdusCrcOk).toBeGreaterThan(50);
    }
  });

  it("impaired traffic: data-only gaps, lost headers, retransmissions, passthrough", async () => {
    const { scenario } = randomTraffic(seed, "impaired", {
      rounds: 40, flows: 3, payload: [64, 8900], c2hDataSize: [16, 8192], nlb: [1, 32], readsPerRound: [1, 4],
      impair: { loss: 0.04, reorder: 0.04, duplicate: 0.04, corrupt: 0.04 }, reAdd: 0.6, races: 0.2, wrap: true,
    });
    const r = await runScenario(scenario, undefined);
    const s = r.model.stats;
    expect(s.searches).toBeGreaterThan(0);
    expect(s.oooPackets).toBeGreaterThan(s.searches); // some gaps were data-only (rule 4)
    expect(s.retransmits).toBeGreaterThan(0);
    expect(s.passthrough).toBeGreaterThan(0);
    expect(s.rxNvmeTcpBytes).toBeGreaterThan(0);
    expect(scenario.steps.some((x) => x.kind === "race")).toBe(true);
  });

  it("full tables and bad commands reach every failure status", async () => {
    const { scenario } = fullTables(seed, SMALL);
    const r = await runScenario(scenario, undefined, { params: modelParams(SMALL) });
    const statuses = new Set(r.expectedEvents.flatMap((e) => (e.kind === EventKind.COMPLETION ? [e.status] : [])));
    for (const st of [Status.OK, Status.BAD_CTX, Status.EXISTS, Status.NOT_FOUND, Status.TABLE_FULL]) expect(statuses).toContain(st);
    const many = new Set<number>();
    for (let k = 0; k < 20; k++) {
      const rr = await runScenario(fullTables(seed + k, SMALL).scenario, undefined, { params: modelParams(SMALL) });
      for (const e of rr.expectedEvents) if (e.kind === EventKind.COMPLETION) many.add(e.status);
    }
    expect([...many].sort((a, b) => a - b)).toEqual(Object.values(Status).filter((x) => x !== Status.DISABLED).sort((a, b) => a - b));
  });

  it("caps toggling reaches DISABLED and turns placement and crc_ok off", async () => {
    const r = await runScenario(capsToggle(seed).scenario, undefined);
    expect(r.expectedEvents.some((e) => e.kind === EventKind.COMPLETION && e.status === Status.DISABLED)).toBe(true);
  });
});
