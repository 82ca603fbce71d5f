// Security of ddp_top against a malicious or broken target (DESIGN 4.4: "No DMA write ever lands outside the
// registered SGL of a valid tag"; 4.3.4: never drop, reorder or modify a frame). For every lie of the target
// emulator (LIES), for random corruption of PDU headers inside valid TCP segments, and for random bit flips
// anywhere in frames, checked on the RTL alone (no model needed):
//   - every DMA write lands inside a buffer registered with TAG_SETUP (guard bytes around every buffer in
//     HostMemory stay intact, no write outside all buffers), and each placed segment's bytes go exactly to
//     the SGL addresses of its (ctx, cid) buffer at offsets [buf_off, buf_off + len) within its length;
//   - the frames are intact: one ring frame and one CQE per input frame, in order, and ring bytes plus the
//     placed bytes read back from host memory rebuild every input frame exactly.
// The same runs are also differential runs against the model (mismatches must be 0 as well).

import { expect } from "vitest";
import { describeRtl, type Harness, randomPauseString } from "../../tb/index.js";
import { type BatchOut, DdpPorts, isMalformed } from "../../src/device/index.js";
import { LIES } from "../../src/nvmet/controller.js";
import { describeReport, runScenario } from "../../tb/traffic/compare.js";
import { corruptedHeaders, type Gen, overflowHeaders, randomTraffic, type TagRecord } from "../../tb/traffic/generators.js";
import { EventKind } from "../../src/contract/protocol.js";
import { Rng } from "../../src/util/rng.js";
import type { Scenario } from "../../tb/traffic/scenario.js";

/** The RTL-only checks of one batch; returns the violations. */
function secure(gen: Gen, out: BatchOut): string[] {
  const bad: string[] = [];
  for (const p of out.problems) bad.push(p);
  out.frames.forEach((f, i) => {
    const at = `frame ${i} of the batch (cycle ${f.inStart})`;
    const cqe = f.cqe;
    if (isMalformed(cqe)) {
      bad.push(`${at}: malformed CQE ${cqe.malformed}`);
      return;
    }
    // Placed bytes go where their segment says, inside a registered buffer of that (ctx, cid).
    let k = 0;
    const bytes = f.dma.flatMap((w) => Array.from(w.data, (v, j) => ({ addr: w.addr + BigInt(j), v })));
    for (const s of cqe.segs) {
      const mine = bytes.slice(k, k + s.len);
      k += s.len;
      const fits = gen.allTags.some((t) => {
        if (t.ctx !== cqe.ctx || t.cid !== s.cid) return false;
        const total = t.sgl.reduce((n, e) => n + e.len, 0);
        if (s.bufOff + s.len > total) return false;
        return mine.every((b, j) => b.addr === sglAddress(t.sgl, s.bufOff + j));
      });
      if (!fits) bad.push(`${at}: segment ${JSON.stringify(s)} of ctx ${cqe.ctx} written outside its buffer (first address 0x${mine[0]?.addr.toString(16)})`);
    }
    // Rebuild: ring bytes at the kept positions, host memory at the placed ones (each segment read back right
    // after its own writes: a lying target may make two PDUs of one frame write the same buffer bytes).
    const rebuilt = new Array<number>(f.input.length).fill(-1);
    const placed = new Uint8Array(f.input.length);
    let q = 0;
    for (const s of cqe.segs) {
      const mine = bytes.slice(q, q + s.len);
      q += s.len;
      for (const b of mine) gen.mem.write(b.addr, Uint8Array.of(b.v));
      mine.forEach((b, j) => {
        rebuilt[s.frameOff + j] = readBack(gen, b.addr);
        placed[s.frameOff + j] = 1;
      });
    }
    let r = 0;
    for (let p = 0; p < f.input.length; p++) if (!placed[p]) rebuilt[p] = f.ring[r++] ?? 0;
    if (r !== f.ring.length) bad.push(`${at}: ring frame has ${f.ring.length} bytes, ${r} expected from the CQE`);
    if (rebuilt.some((v, p) => v !== f.input[p])) bad.push(`${at}: ring + placed bytes do not rebuild the input frame`);
  });
  return bad;
}

/** The host byte at `a`, or -1 (never equal to a frame byte) when no buffer covers it. */
function readBack(gen: Gen, a: bigint): number {
  try {
    return gen.mem.read(a, 1)[0]!;
  } catch {
    return -1;
  }
}

function sglAddress(sgl: readonly { addr: bigint; len: number }[], off: number): bigint {
  for (const e of sgl) {
    if (off < e.len) return e.addr + BigInt(off);
    off -= e.len;
  }
  return -1n;
}

/**
 * TEARDOWN_DONE means every DMA write that used the entry has left m_dma: the driver frees the buffer then.
 * So no DMA write may land in a buffer after the cycle of its TEARDOWN_DONE (state kept across batches).
 */
class AfterTeardown {
  private readonly done: { rec: TagRecord; cycle: number; cookie: number }[] = [];

  check(gen: Gen, out: BatchOut): string[] {
    for (const e of out.events) {
      if (isMalformed(e.value) || e.value.kind !== EventKind.TEARDOWN_DONE) continue;
      const rec = gen.cookies.get(e.value.cookie);
      if (rec !== undefined) this.done.push({ rec, cycle: e.cycle, cookie: e.value.cookie });
    }
    const bad: string[] = [];
    for (const d of out.dma) {
      if (isMalformed(d.value)) continue;
      for (const w of d.value) {
        for (const t of this.done) {
          if (d.cycle <= t.cycle) continue;
          const hit = t.rec.sgl.some((e) => w.addr < e.addr + BigInt(e.len) && e.addr < w.addr + BigInt(w.data.length));
          if (hit) bad.push(`DMA write at cycle ${d.cycle} to 0x${w.addr.toString(16)}, in the buffer of (ctx ${t.rec.ctx}, cid ${t.rec.cid}) after its TEARDOWN_DONE (cookie ${t.cookie}) at cycle ${t.cycle}`);
        }
      }
    }
    return bad;
  }
}

async function attack(harness: Harness, scenario: Scenario, gen: Gen, options: { pauses?: Rng; compare?: boolean } = {}): Promise<void> {
  await harness.reset({ cycles: 4, bfms: true });
  const driver = await DdpPorts.attach(harness);
  if (options.pauses !== undefined) {
    const rng = options.pauses;
    const pattern = (n: number, p: number) => randomPauseString(rng, p, n);
    await Promise.all([driver.pause("dma", pattern(41, 0.6)), driver.pause("ring", pattern(37, 0.3)), driver.pause("cqe", pattern(29, 0.3)), driver.pause("evt", pattern(13, 0.2))]);
  }
  const violations: string[] = [];
  const late = new AfterTeardown();
  const r = await runScenario(scenario, driver, {
    onBatch: (out) => violations.push(...secure(gen, out), ...late.check(gen, out)),
    ...(options.compare === false ? { compare: false, checkLatency: false } : options.pauses ? { checkLatency: false } : {}),
  });
  const guards = gen.mem.checkGuards();
  console.log(`${describeReport(r)}\n  security: ${violations.length} violations, ${guards.length} guard bytes changed or stray writes`);
  expect(violations.slice(0, 10), "frames intact, writes inside their buffers").toEqual([]);
  expect(guards.slice(0, 10), "guard bytes and stray writes").toEqual([]);
  expect(r.mismatches, describeReport(r)).toBe(0);
}

describeRtl("ddp_top security", { top: "ddp_top" }, (rtl) => {
  for (const [i, lie] of LIES.entries()) {
    rtl.test(`malicious target: ${lie}`, async ({ harness, seed }) => {
      const { scenario, gen } = randomTraffic(seed + i, `lie ${lie}`, {
        rounds: 12, flows: 2, payload: [40, 4000], c2hDataSize: [64, 4096], nlb: [1, 16], readsPerRound: [1, 4],
        lies: 0.6, lieKinds: [lie], hdgst: true, ddgst: true, reAdd: 0.7, races: 0.2,
      });
      await attack(harness, scenario, gen);
    });
  }

  rtl.test("malicious target: every lie, digests random, impaired wire", async ({ harness, seed }) => {
    const { scenario, gen } = randomTraffic(seed ^ 0x1ee, "every lie", {
      rounds: 20, flows: 3, payload: [1, 8900], c2hDataSize: [8, 4096], nlb: [1, 16], readsPerRound: [1, 4],
      lies: 0.5, reAdd: 0.7, races: 0.2, impair: { loss: 0.03, reorder: 0.03, duplicate: 0.03, corrupt: 0.03 },
    });
    await attack(harness, scenario, gen);
  });

  rtl.test("random corruption of PDU headers (valid TCP)", async ({ harness, seed }) => {
    const { scenario, gen } = corruptedHeaders(seed, 25);
    await attack(harness, scenario, gen);
  });

  // Teardowns racing the data while m_dma is back-pressured: the TEARDOWN_DONE must wait for the writes.
  // (RTL only: the race analysis of the differential comparison assumes an unstalled pipeline.)
  rtl.test("teardown racing the data under DMA back-pressure: no write after TEARDOWN_DONE", async ({ harness, seed }) => {
    const { scenario, gen } = randomTraffic(seed ^ 0x7d, "teardown races, DMA back-pressure", {
      rounds: 30, flows: 2, payload: [200, 8900], c2hDataSize: [256, 8192], nlb: [4, 32], readsPerRound: [1, 3], races: 1,
    });
    await attack(harness, scenario, gen, { pauses: new Rng(seed), compare: false });
  });

  rtl.test("32-bit overflow in datao + datal and in plen", async ({ harness, seed }) => {
    const { scenario, gen } = overflowHeaders(seed);
    await attack(harness, scenario, gen);
  });

  rtl.test("random bit flips anywhere in frames (stale checksums)", async ({ harness, seed }) => {
    const { scenario, gen } = randomTraffic(seed ^ 0xf11b, "bit flips anywhere", {
      rounds: 15, flows: 2, payload: [1, 3000], c2hDataSize: [32, 2048], nlb: [1, 8], readsPerRound: [1, 3],
      flipAnywhere: 0.1, reAdd: 0.8,
    });
    await attack(harness, scenario, gen);
  });
});
