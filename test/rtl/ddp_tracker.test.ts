// ddp_tracker smoke test: frames of one context (HDGST and DDGST on), built with the project's codec and frame
// builder, are fed beat by beat with their verdict; the tracker must report exactly the frame bytes that are
// C2HData data (golden: the PDU layout from encodePdu), the data offsets within each PDU, one passing header
// per PDU with its cid / datao / datal, the data digests (golden: the DDGST bytes encodePdu wrote), headers and
// PDUs split across frames, then rule 4 (a frame lost inside the data: gap flag, tracking continues) and
// rule 5 (a frame lost across a header: SEARCH, drop and search pulses).
// Resync scan: a CapsuleResp header whose last byte falls on every lane of a beat, split across two frames at
// every possible point of some cases: exactly one candidate (m_rr) with the seq of its type byte; a gap while
// waiting is a miss and the scan restarts.

import { expect } from "vitest";
import { ClockCycles, RisingEdge, defineStream, describeRtl, type Rng } from "../../tb/index.js";
import { encodePdu } from "../../src/pdu/pdu.js";
import { buildTcpFrame, parseFrame, type FlowAddress } from "../../src/net/frame.js";

const Beat = defineStream("beat", { fields: ["data", "keep", "last", "sof", "ok", "oversize", "seq", "poff", "plen"] });
const Out = defineStream("out", {
  fields: ["sof", "last", "beat", "hit", "crc_base", "crc_kill", "gap", "hdr_done", "hdr_c2h", "hdr_cid", "hdr_datao", "hdr_datal",
    "d_valid", "d_lo", "d_cnt", "d_koff", "d_cont", "g_present", "g_done", "g_value", "st_drop", "st_search", "st_ooo", "st_retx",
    "rr", "rr_seq", "st_miss", "st_tmo"],
});
type OutTx = InstanceType<typeof Out.Transaction>;

const flow: FlowAddress = { srcMac: "02:00:00:00:00:01", dstMac: "02:00:00:00:00:02", ipVersion: 4, srcIp: "10.0.0.1", dstIp: "10.0.0.2", srcPort: 4420, dstPort: 50000 };

function beatsOf(frame: Uint8Array, seq: number) {
  const f = parseFrame(frame);
  const out = [];
  for (let at = 0; at < frame.length; at += 8) {
    const n = Math.min(8, frame.length - at);
    let data = 0n;
    for (let k = n - 1; k >= 0; k--) data = (data << 8n) | BigInt(frame[at + k]!);
    out.push(new Beat.Transaction({
      data, keep: (1 << n) - 1, last: at + 8 >= frame.length ? 1 : 0, sof: at === 0 ? 1 : 0, ok: 1, oversize: 0,
      seq: seq >>> 0, poff: f.payloadOffset, plen: f.payload.length,
    }));
  }
  return out;
}

interface Pdu { start: number; datal: number; cid: number; datao: number; ddgst: number }

/** Stream offsets of data bytes seen in the tracker's output (frame j covers stream [starts[j], ...)). */
function collect(outs: OutTx[], frameStarts: Array<{ first: number; poff: number; s0: number }>): Map<number, number> {
  // stream offset -> offset in its PDU's data
  const seen = new Map<number, number>();
  let frame = -1;
  for (const o of outs) {
    if (o.values.sof === 1n) frame++;
    if (o.values.d_valid !== 1n) continue;
    const fs = frameStarts[frame]!;
    const frameOff = Number(o.values.beat) * 8 + Number(o.values.d_lo);
    for (let k = 0; k < Number(o.values.d_cnt); k++) seen.set(fs.s0 + frameOff + k - fs.poff, Number(o.values.d_koff) + k);
  }
  return seen;
}

describeRtl("ddp_tracker", { top: "ddp_tracker", ports: ["clk"] }, (rtl) => {
  rtl.test("regions, headers across frames, digests, rules 4 and 5", async ({ dut, rng }) => {
    const src = new Beat.Source(dut, "s");
    const mon = new Out.Monitor(dut, "m");
    dut.setValue("adv", 1);
    dut.setValue("lk_hit", 1);
    dut.setValue("lk_idx", 2);
    dut.setValue("cfg_hdgst", 1);
    dut.setValue("cfg_ddgst", 1);
    dut.setValue("cfg_cpda", 0);
    const isn = rng.u32();
    dut.setValue("init_valid", 1);
    dut.setValue("init_idx", 2);
    dut.setValue("init_seq", isn);
    await RisingEdge(dut.signal("clk"));
    dut.setValue("init_valid", 0);

    // A stream of C2HData PDUs with a CapsuleResp between some.
    const parts: Uint8Array[] = [];
    const pdus: Pdu[] = [];
    let at = 0;
    const addPdus = (count: number, maxData: number, r: Rng, minData = 1): void => {
      for (let i = 0; i < count; i++) {
        if (r.chance(0.3)) {
          const b = encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: 7, status: 0 } }, { hdgst: true, ddgst: true });
          parts.push(b);
          at += b.length;
        }
        const datal = r.range(minData, maxData);
        const pdu = { cid: r.int(0x10000), datao: r.int(1 << 20), datal };
        const b = encodePdu({ kind: "C2HData", cccid: pdu.cid, datao: pdu.datao, last: false, success: false, data: r.bytes(datal) }, { hdgst: true, ddgst: true });
        const dg = b.length - 4;
        pdus.push({ ...pdu, start: at + b[3]!, ddgst: (b[dg]! | (b[dg + 1]! << 8) | (b[dg + 2]! << 16) | (b[dg + 3]! << 24)) >>> 0 });
        parts.push(b);
        at += b.length;
      }
    };
    addPdus(25, 60, rng);
    addPdus(1, 1, rng);
    addPdus(1, 3000, rng, 1500);    // the PDU that loses a frame inside its data
    const gapPdu = pdus.length - 1;
    addPdus(3, 100, rng);
    const stream = new Uint8Array(at);
    let o = 0;
    for (const p of parts) { stream.set(p, o); o += p.length; }

    // Frames of 1..50 bytes up to the big PDU's data, then one frame lost in its data, then the rest.
    const frames: Uint8Array[] = [];
    const starts: Array<{ first: number; poff: number; s0: number }> = [];
    const cut = (from: number, to: number, maxLen: number): void => {
      for (let s = from; s < to;) {
        const n = Math.min(to - s, rng.range(1, maxLen));
        const frame = buildTcpFrame({ ...flow, seq: (isn + s) >>> 0, ack: 0, flags: { ack: true }, payload: stream.subarray(s, s + n) });
        starts.push({ first: 0, poff: parseFrame(frame).payloadOffset, s0: s });
        frames.push(frame);
        s += n;
      }
    };
    const g = pdus[gapPdu]!;
    const lostFrom = g.start + 1000;
    const lostTo = g.start + 1400;
    cut(0, lostFrom, 50);
    cut(lostTo, stream.length, 700);
    for (let j = 0; j < frames.length; j++) await src.send(beatsOf(frames[j]!, (isn + starts[j]!.s0) >>> 0));
    const nBeats = frames.reduce((n, f) => n + Math.ceil(f.length / 8), 0);
    const outs = await mon.recvMany(nBeats);

    // Every data byte of every PDU, except the lost ones, at the right offset in its PDU's data.
    const seen = collect(outs, starts);
    let expected = 0;
    for (const p of pdus) {
      for (let k = 0; k < p.datal; k++) {
        const s = p.start + k;
        if (s >= lostFrom && s < lostTo) continue;
        expected++;
        expect(seen.get(s), `PDU at ${p.start}, data byte ${k}`).toBe(k);
      }
    }
    expect(seen.size, "data bytes reported").toBe(expected);
    // Headers and digests, in PDU order.
    const hdrs = outs.filter((x) => x.values.hdr_done === 1n && x.values.hdr_c2h === 1n);
    expect(hdrs.map((x) => [x.values.hdr_cid, x.values.hdr_datao, x.values.hdr_datal].map(Number))).toEqual(pdus.map((p) => [p.cid, p.datao, p.datal]));
    const digests = outs.filter((x) => x.values.g_done === 1n).map((x) => Number(x.values.g_value));
    expect(digests).toEqual(pdus.map((p) => p.ddgst));
    const firsts = outs.filter((x) => x.values.sof === 1n);
    expect(firsts.map((x) => Number(x.values.gap)).reduce((a, b) => a + b, 0), "rule 4 frames").toBe(1);
    expect(outs.every((x) => x.values.hit === 1n && x.values.crc_kill === 0n && x.values.st_drop === 0n)).toBe(true);
    expect(firsts.every((x) => x.values.crc_base === 1n)).toBe(true);

    // Rule 5: a frame past a lost header enters SEARCH; the next frame is not tracked.
    const tail = encodePdu({ kind: "C2HData", cccid: 1, datao: 0, last: false, success: false, data: rng.bytes(100) }, { hdgst: true, ddgst: true });
    const f1 = buildTcpFrame({ ...flow, seq: (isn + stream.length + 10) >>> 0, ack: 0, flags: { ack: true }, payload: tail.subarray(10) });
    const f2 = buildTcpFrame({ ...flow, seq: (isn + stream.length + tail.length) >>> 0, ack: 0, flags: { ack: true }, payload: tail });
    await src.send([...beatsOf(f1, (isn + stream.length + 10) >>> 0), ...beatsOf(f2, (isn + stream.length + tail.length) >>> 0)]);
    const more = await mon.recvMany(Math.ceil(f1.length / 8) + Math.ceil(f2.length / 8));
    expect(more.filter((x) => x.values.st_search === 1n).length, "searches").toBe(1);
    expect(more.filter((x) => x.values.st_ooo === 1n).length, "ooo").toBe(1);
    expect(more.some((x) => x.values.d_valid === 1n || x.values.hdr_done === 1n), "tracking in SEARCH").toBe(false);
    await ClockCycles(dut.signal("clk"), 5);
  });
});

describeRtl("ddp_tracker resync scan", { top: "ddp_tracker", ports: ["clk"] }, (rtl) => {
  rtl.test("a candidate ending on every lane, split across frames; gap while waiting is a miss", async ({ dut, rng }) => {
    const src = new Beat.Source(dut, "s");
    const mon = new Out.Monitor(dut, "m");
    dut.setValue("adv", 1);
    dut.setValue("lk_hit", 1);
    dut.setValue("lk_idx", 5);
    dut.setValue("cfg_hdgst", 0);
    dut.setValue("cfg_ddgst", 0);
    dut.setValue("cfg_cpda", 0);
    const isn = rng.u32();
    dut.setValue("init_valid", 1);
    dut.setValue("init_idx", 5);
    dut.setValue("init_seq", isn);
    await RisingEdge(dut.signal("clk"));
    dut.setValue("init_valid", 0);
    const hdr = encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid: 9, status: 0 } }, { hdgst: false, ddgst: false });
    expect(hdr.length).toBe(24);
    let at = 1000;   // stream offset (seq isn + at); the first frame opens a gap: rule 5, SEARCH
    const send = async (payload: Uint8Array): Promise<OutTx[]> => {
      const frame = buildTcpFrame({ ...flow, seq: (isn + at) >>> 0, ack: 0, flags: { ack: true }, payload });
      const beats = beatsOf(frame, (isn + at) >>> 0);
      await src.send(beats);
      at += payload.length;
      return mon.recvMany(beats.length);
    };
    const first = await send(rng.bytes(30));
    expect(first.filter((x) => x.values.st_search === 1n).length, "rule 5: SEARCH").toBe(1);
    let cases = 0;
    for (let pre = 0; pre < 24; pre++) {
      for (const split of [0, rng.range(1, 23), rng.range(pre + 1, pre + 23)]) {
        // pre random bytes then the header: the header ends `pre` bytes later than with pre = 0 (every lane).
        const bytes = new Uint8Array(pre + 24);
        bytes.set(rng.bytes(pre));
        bytes.set(hdr, pre);
        const start = at;
        const outs = [...(split > 0 ? await send(bytes.subarray(0, split)) : []), ...await send(bytes.subarray(split))];
        const rr = outs.filter((x) => x.values.rr === 1n);
        expect(rr.map((x) => Number(x.values.rr_seq)), `pre ${pre}, split ${split}: candidate`).toEqual([(isn + start + pre) >>> 0]);
        expect(outs.some((x) => x.values.d_valid === 1n || x.values.hdr_done === 1n), "nothing reported while waiting").toBe(false);
        // A gap while waiting: a miss, the scan restarts at the new frame.
        at += rng.range(1, 50);
        const gap = await send(rng.bytes(rng.range(1, 40)));
        expect(gap.filter((x) => x.values.st_miss === 1n).length, `pre ${pre}: miss on a gap`).toBe(1);
        expect(gap.filter((x) => x.values.st_search === 1n || x.values.rr === 1n).length, `pre ${pre}: no search count, no candidate`).toBe(0);
        cases++;
      }
    }
    console.log(`[ddp_tracker resync] ${cases} candidates found at every lane`);
    await ClockCycles(dut.signal("clk"), 5);
  });
});

// Contract section 7: a data-only gap (rule 4) while waiting for a confirm keeps the candidate. Large C2HData
// PDUs (HDGST off); PDU 1's header is lost, so the candidate is PDU 2. Expectations from the PDU layout:
// the candidate seq, which headers / data bytes are reported after the confirm, the counters' pulses.
describeRtl("ddp_tracker resync across data-only gaps", { top: "ddp_tracker", params: { RESYNC_TIMEOUT: 2000 }, ports: ["clk"] }, (rtl) => {
  rtl.test("a gap inside the candidate's data keeps it; across the data end it is a miss; at a boundary: resume or timeout", async ({ dut, rng }) => {
    const src = new Beat.Source(dut, "s");
    const mon = new Out.Monitor(dut, "m");
    dut.setValue("adv", 1);
    dut.setValue("lk_hit", 1);
    dut.setValue("lk_idx", 3);
    dut.setValue("cfg_hdgst", 0);
    dut.setValue("cfg_cpda", 0);
    dut.setValue("rs_valid", 0);
    dut.setValue("rs_idx", 3);
    const SIZES = [100, 3000, 3000, 3000, 200];

    const scenario = async (ddgst: boolean, lose: (P: Pdu[], hdrs: number[]) => [number, number], confirmAfterGap: boolean) => {
      dut.setValue("cfg_ddgst", ddgst ? 1 : 0);
      const isn = rng.u32();
      dut.setValue("init_valid", 1);
      dut.setValue("init_idx", 3);
      dut.setValue("init_seq", isn);
      await RisingEdge(dut.signal("clk"));
      dut.setValue("init_valid", 0);
      const parts: Uint8Array[] = [];
      const P: Pdu[] = [];
      const hdrs: number[] = [];
      let at = 0;
      let datao = 0;
      for (const len of SIZES) {
        const b = encodePdu({ kind: "C2HData", cccid: 0x55, datao, last: false, success: false, data: rng.bytes(len) }, { hdgst: false, ddgst });
        hdrs.push(at);
        P.push({ start: at + b[3]!, datal: len, cid: 0x55, datao, ddgst: 0 });
        parts.push(b);
        at += b.length;
        datao += len;
      }
      const stream = new Uint8Array(at);
      let o = 0;
      for (const p of parts) { stream.set(p, o); o += p.length; }
      const [g0, g1] = lose(P, hdrs);
      const starts: Array<{ first: number; poff: number; s0: number }> = [];
      const outsOf: OutTx[][] = [];
      const send = async (from: number, to: number): Promise<OutTx[]> => {
        const frame = buildTcpFrame({ ...flow, seq: (isn + from) >>> 0, ack: 0, flags: { ack: true }, payload: stream.subarray(from, to) });
        const beats = beatsOf(frame, (isn + from) >>> 0);
        starts.push({ first: 0, poff: parseFrame(frame).payloadOffset, s0: from });
        await src.send(beats);
        const outs = await mon.recvMany(beats.length);
        outsOf.push(outs);
        return outs;
      };
      const confirm = async (seq: number): Promise<void> => {
        dut.setValue("rs_valid", 1);
        dut.setValue("rs_seq", seq >>> 0);
        await RisingEdge(dut.signal("clk"));
        dut.setValue("rs_valid", 0);
        await ClockCycles(dut.signal("clk"), 2);
      };
      const count = (outs: OutTx[], f: keyof OutTx["values"]): number => outs.filter((x) => x.values[f] === 1n).length;
      // [0, H1 - 5) | lost [H1 - 5, H1 + 50) | [H1 + 50, P2 + 100) | [P2 + 100, g0) | lost [g0, g1) | [g1, ...) in 700-byte frames
      await send(0, hdrs[1]! - 5);
      const c = await send(hdrs[1]! + 50, P[2]!.start + 100);
      expect(c.filter((x) => x.values.rr === 1n).map((x) => Number(x.values.rr_seq)), "candidate").toEqual([(isn + hdrs[2]!) >>> 0]);
      await send(P[2]!.start + 100, g0);
      const cand = (isn + hdrs[2]!) >>> 0;
      if (!confirmAfterGap) await confirm(cand);
      const after: OutTx[] = [];
      let firstAfter: OutTx[] = [];
      for (let s = g1; s < stream.length; s += 700) {
        const outs = await send(s, Math.min(stream.length, s + 700));
        if (s === g1) {
          firstAfter = outs;
          if (confirmAfterGap) await confirm(cand);
        }
        after.push(...outs);
      }
      const seen = collect(outsOf.slice(2).flat(), starts.slice(2));
      return { P, hdrs, isn, firstAfter, after, seen, count, stream };
    };

    for (const ddgst of [false, true]) {
      // 1. A gap of 1000 bytes inside PDU 2's data, then the confirm (in PDU 2's data): kept; at the next frame's
      // first beat PDU 2 resumes (a header done with the gap flag: its cid / datao / datal, digest unverifiable),
      // its data from that frame on is reported, then PDUs 3 and 4.
      {
        const r = await scenario(ddgst, (P) => [P[2]!.start + 1000, P[2]!.start + 2000], true);
        const resume = r.after.filter((x) => x.values.hdr_done === 1n && x.values.gap === 1n);
        expect(resume.map((x) => [Number(x.values.sof), Number(x.values.hdr_c2h), Number(x.values.hdr_cid), Number(x.values.hdr_datao), Number(x.values.hdr_datal)]), "resume of PDU 2")
          .toEqual([[1, 1, 0x55, r.P[2]!.datao, 3000]]);
        expect(r.after.indexOf(resume[0]!), "at the first beat of the frame after the confirm").toBe(r.firstAfter.length);
        expect([r.count(r.firstAfter, "st_ooo"), r.count(r.firstAfter, "st_miss"), r.count(r.firstAfter, "gap"), r.count(r.firstAfter, "st_search")], `ddgst ${ddgst}: kept gap: ooo, miss, gap, search`).toEqual([1, 0, 0, 0]);
        expect(r.count(r.after, "rr") + r.count(r.after, "st_miss") + r.count(r.after, "st_tmo"), "no new candidate, miss or timeout").toBe(0);
        const hd = r.after.filter((x) => x.values.hdr_done === 1n).map((x) => [Number(x.values.hdr_datao), Number(x.values.hdr_datal)]);
        expect(hd, "headers reported after the confirm").toEqual([2, 3, 4].map((i) => [r.P[i]!.datao, r.P[i]!.datal]));
        const want = new Map<number, number>();
        // PDU 2 from the frame after the confirm (g1 + 700, data offset 2700) on; PDUs 3 and 4 whole.
        for (let k = 2700; k < 3000; k++) want.set(r.P[2]!.start + k, k);
        for (const i of [3, 4]) for (let k = 0; k < r.P[i]!.datal; k++) want.set(r.P[i]!.start + k, k);
        expect([...r.seen.entries()].sort((a, b) => a[0] - b[0]), "data bytes reported: PDU 2's rest, PDUs 3 and 4").toEqual([...want.entries()].sort((a, b) => a[0] - b[0]));
        expect(r.count(r.after, "g_done"), "digests").toBe(ddgst ? 3 : 0);
      }
      // 2. A gap from PDU 2's data to one byte past its data end: a miss; the scan restarts there.
      {
        const r = await scenario(ddgst, (P) => [P[2]!.start + 2000, P[2]!.start + 3000 + 1], true);
        expect([r.count(r.firstAfter, "st_ooo"), r.count(r.firstAfter, "st_miss"), r.count(r.firstAfter, "st_search")], `ddgst ${ddgst}: miss`).toEqual([1, 1, 0]);
        // With DDGST the gap ends in the digest and PDU 3's header is the next candidate; without, the scan
        // starts one byte into PDU 3's header and finds PDU 4's. (PDU 3, 3028 bytes, is then unconfirmed past
        // RESYNC_TIMEOUT at PDU 4's header: a timeout, and PDU 4 is the next candidate.)
        const next = ddgst ? [3, 4] : [4];
        expect(r.after.filter((x) => x.values.rr === 1n).map((x) => Number(x.values.rr_seq)), "next candidates").toEqual(next.map((i) => (r.isn + r.hdrs[i]!) >>> 0));
        expect(r.count(r.after, "st_tmo"), "timeouts").toBe(next.length - 1);
        expect(r.count(r.after, "hdr_done") + r.count(r.after, "d_valid"), "nothing reported (the late confirm is for the dropped candidate)").toBe(0);
      }
    }
    // 3. No DDGST, a gap ending exactly at PDU 2's data end = PDU 3's header (the boundary is the next frame's
    // first byte). Confirmed before (inside PDU 2's data): PDU 2 resumes at that frame's first beat (nothing of
    // it left after the gap), then PDU 3 on is reported. Not confirmed: 3024 bytes past the candidate >
    // RESYNC_TIMEOUT 2000, a timeout there and PDU 3 is the candidate.
    {
      const r = await scenario(false, (P) => [P[2]!.start + 1000, P[2]!.start + 3000], false);
      expect([r.count(r.firstAfter, "st_ooo"), r.count(r.firstAfter, "st_miss"), r.count(r.firstAfter, "st_tmo")], "boundary, confirmed").toEqual([1, 0, 0]);
      expect(r.firstAfter.filter((x) => x.values.hdr_done === 1n).map((x) => [Number(x.values.hdr_datao), Number(x.values.gap)]), "PDU 2's resume, PDU 3 in the first frame")
        .toEqual([[r.P[2]!.datao, 1], [r.P[3]!.datao, 0]]);
      expect(r.count(r.after, "hdr_done"), "PDU 2's resume, PDUs 3 and 4").toBe(3);
      expect(r.count(r.after, "st_drop") + r.count(r.after, "st_search"), "the kept gap is rule 4").toBe(0);
    }
    {
      const r = await scenario(false, (P) => [P[2]!.start + 1000, P[2]!.start + 3000], true);
      expect([r.count(r.firstAfter, "st_ooo"), r.count(r.firstAfter, "st_miss"), r.count(r.firstAfter, "st_tmo")], "boundary, timeout").toEqual([1, 0, 1]);
      expect(r.firstAfter.filter((x) => x.values.rr === 1n).map((x) => Number(x.values.rr_seq)), "candidate at the boundary").toEqual([(r.isn + r.hdrs[3]!) >>> 0]);
      // The confirm after that frame is for the timed-out candidate: ignored.
      expect(r.count(r.after, "hdr_done") + r.count(r.after, "d_valid"), "nothing reported").toBe(0);
    }
    await ClockCycles(dut.signal("clk"), 5);
  });
});
