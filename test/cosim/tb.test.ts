// The testbench core against the real harness and the tb_passthrough fixture (a register slice for AXI-Stream
// and valid/ready, wide_out = wide_in + 1 combinational, wide_q = wide_in registered, count = cycles since reset).
// Expected values come from that definition, not from the testbench.

import { expect, test } from "vitest";
import {
  describeRtl,
  RisingEdge,
  FallingEdge,
  ClockCycles,
  Timer,
  ReadOnly,
  First,
  Combine,
  withTimeout,
  startSoon,
  Clock,
  Event,
  Queue,
  CancelledError,
  SimTimeoutError,
  HarnessError,
  AxiStreamFrame,
  AxiStreamSource,
  AxiStreamSink,
  AxiStreamMonitor,
  defineStream,
  pausePattern,
  PAUSE_VARIANTS,
  randomPauses,
  randomPauseString,
  Rng,
} from "../../tb/index.js";

const SIGNAL_PORTS = ["clk", "rst", "wide_in", "wide_out", "wide_q", "count", "s_vr_valid", "m_vr_valid", "m_vr_ready", "s_vr_tag", "m_vr_tag"] as const;

describeRtl("tb core, signal level", { top: "tb_passthrough", ports: SIGNAL_PORTS }, (rtl) => {
  // These two run in order: what the first drives by hand must not leak into the second.
  rtl.test("an input driven by hand (test 1 of 2)", async ({ dut }) => {
    dut.wide_in.value = 0x1234n;
    dut.s_vr_valid.value = 1n;
    await RisingEdge(dut.clk);
    expect(dut.wide_out.value).toBe(0x1235n);
  });

  rtl.test("starts with every input at 0 again (test 2 of 2)", async ({ dut }) => {
    await RisingEdge(dut.clk);
    expect(dut.wide_out.value, "wide_out = wide_in + 1 with wide_in back at 0").toBe(1n);
    expect(dut.wide_q.value).toBe(0n);
    expect(dut.m_vr_valid.value, "no valid/ready beat from a stale s_vr_valid").toBe(0n);
  });

  rtl.test("poke then RisingEdge: registered and combinational values", async ({ dut, rng }) => {
    const start = dut.count.value;
    for (let i = 0; i < 5; i++) {
      const x = (BigInt(rng.u32()) << 168n) | BigInt(rng.u32());
      dut.wide_in.value = x;
      await RisingEdge(dut.clk);
      expect(dut.wide_q.value).toBe(x);
      expect(dut.wide_out.value).toBe((x + 1n) & ((1n << 200n) - 1n));
    }
    expect(dut.count.value - start).toBe(5n);
    expect(dut.wide_in.width).toBe(200);
    expect(() => (dut.wide_out.value = 1n)).toThrow(/output/);
    expect(() => (dut.wide_in.value = 1n << 200n)).toThrow(/200 bits/);
  });

  rtl.test("FallingEdge is half a cycle; pokes there land at the next rising edge", async ({ dut, sim }) => {
    const c0 = sim.cycle;
    await FallingEdge(dut.clk);
    expect(sim.cycle).toBe(c0);
    dut.wide_in.value = 7n;
    expect(dut.wide_q.value).not.toBe(7n);
    await RisingEdge(dut.clk);
    expect(sim.cycle).toBe(c0 + 1);
    expect(dut.wide_q.value).toBe(7n);
    await FallingEdge(dut.clk);
    await FallingEdge(dut.clk);
    expect(sim.cycle).toBe(c0 + 2);
  });

  rtl.test("ClockCycles and Timer advance exact cycle counts in one step", async ({ dut, sim, harness }) => {
    new Clock(dut.clk, 10, "ns").start();
    const c0 = sim.cycle;
    const count0 = dut.count.value;
    await ClockCycles(dut.clk, 1000);
    expect(sim.cycle - c0).toBe(1000);
    expect(dut.count.value - count0).toBe(1000n);
    await Timer(250, "ns"); // 25 cycles
    expect(sim.cycle - c0).toBe(1025);
    await Timer(5, "ns"); // half a cycle: the falling edge
    expect(sim.cycle - c0).toBe(1025);
    await Timer(1, "ns"); // rounds up to the next edge
    expect(sim.cycle - c0).toBe(1026);
    expect(harness.cycle).toBe(sim.cycle);
  });

  rtl.test("concurrent tasks wake at the right cycles and exchange data", async ({ dut, sim }) => {
    const c0 = sim.cycle;
    const seen: [string, number][] = [];
    const queue = new Queue<number>();
    const ready = new Event("ready");
    const producer = startSoon(async () => {
      for (let i = 0; i < 4; i++) {
        await ClockCycles(dut.clk, 3);
        seen.push(["put", sim.cycle - c0]);
        await queue.put(i);
      }
      ready.set("done");
      return "produced";
    }, "producer");
    const consumer = startSoon(async () => {
      let sum = 0;
      for (let i = 0; i < 4; i++) {
        sum += await queue.get();
        seen.push(["got", sim.cycle - c0]);
      }
      return sum;
    }, "consumer");
    const ticker = startSoon(async () => {
      for (;;) await ClockCycles(dut.clk, 5);
    }, "ticker");
    await ready.wait();
    expect(ready.data).toBe("done");
    expect(await producer.join()).toBe("produced");
    expect(await consumer).toBe(0 + 1 + 2 + 3);
    expect(seen).toEqual([["put", 3], ["got", 3], ["put", 6], ["got", 6], ["put", 9], ["got", 9], ["put", 12], ["got", 12]]);
    ticker.cancel();
    expect(ticker.done).toBe(true);
    await expect(ticker.join()).rejects.toBeInstanceOf(CancelledError);
  });

  rtl.test("withTimeout rejects naming what was awaited; passes through what completes in time", async ({ dut, sim }) => {
    const c0 = sim.cycle;
    // m_vr_valid stays low: nobody drives s_vr_valid.
    const err = await withTimeout(RisingEdge(dut.m_vr_valid), 20, "cycles").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimTimeoutError);
    expect((err as Error).message).toMatch(/after 20 cycles .*waiting for RisingEdge\(dut\.m_vr_valid\)/);
    expect(sim.cycle - c0).toBe(20);

    const task = startSoon(async () => {
      await ClockCycles(dut.clk, 4);
      return 42;
    });
    expect(await withTimeout(task, 10, "cycles")).toBe(42);
    expect(sim.cycle - c0).toBe(24);
  });

  rtl.test("edges of a non-clock signal, First and Combine", async ({ dut, sim }) => {
    const c0 = sim.cycle;
    dut.m_vr_ready.value = 0n;
    startSoon(async () => {
      await ClockCycles(dut.clk, 5);
      dut.s_vr_tag.value = 0xabcn;
      dut.s_vr_valid.value = 1n;
      await RisingEdge(dut.clk);
      dut.s_vr_valid.value = 0n;
    });
    await RisingEdge(dut.m_vr_valid); // registered: valid at the edge that samples s_vr_valid
    expect(sim.cycle - c0).toBe(6);
    expect(dut.m_vr_tag.value).toBe(0xabcn);
    await ReadOnly();
    expect(sim.cycle - c0).toBe(6);

    expect(await First(ClockCycles(dut.clk, 5), ClockCycles(dut.clk, 3))).toBe(1);
    expect(sim.cycle - c0).toBe(9);
    await Combine(ClockCycles(dut.clk, 5), ClockCycles(dut.clk, 3));
    expect(sim.cycle - c0).toBe(14);
    // The loser of First was disarmed: nothing wakes at +5 any more, so a plain 10-cycle wait lands at +10.
    await ClockCycles(dut.clk, 10);
    expect(sim.cycle - c0).toBe(24);
  });

  rtl.test("a failing task fails the test with its error", async ({ dut, sim }) => {
    startSoon(async () => {
      await ClockCycles(dut.clk, 2);
      throw new Error("boom in task");
    }, "faulty");
    await expect(ClockCycles(dut.clk, 50)).rejects.toThrow(/task faulty failed: boom in task/);
    expect(sim.takeFailure()?.message).toMatch(/boom/);
  });
});

// Golden model of the fixture's data path: frames come out exactly as they went in.
function randomFrames(rng: Rng, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => rng.bytes(rng.pick([1, 2, 7, 8, 9, 15, 16, 17, 64, rng.range(1, 300)])));
}

describeRtl("tb core, AXI-Stream through the passthrough", { top: "tb_passthrough", ports: ["clk"] }, (rtl) => {
  for (const [idle, backpressure] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    rtl.test(`frames arrive intact (idle=${idle}, backpressure=${backpressure})`, async ({ dut, rng }) => {
      const source = new AxiStreamSource(dut, "s_axis");
      const sink = new AxiStreamSink(dut, "m_axis");
      const monitor = new AxiStreamMonitor(dut, "m_axis");
      if (idle) await source.setPauseGenerator((function* () { for (;;) yield rng.chance(0.3); })());
      if (backpressure) await sink.setPauseGenerator([1, 1, 0]);
      const frames = randomFrames(rng, 100);
      await source.send(frames);
      const got = await sink.recvMany(frames.length, { maxCycles: 100_000 });
      expect(got.map((f) => Buffer.from(f.tdata).toString("hex"))).toEqual(frames.map((f) => Buffer.from(f).toString("hex")));
      const beats = frames.reduce((n, f) => n + Math.ceil(f.length / 8), 0);
      const first = got[0]!.start!;
      const last = got[got.length - 1]!.end!;
      if (!idle && !backpressure) expect(last - first + 1).toBe(beats); // one beat per cycle, no gaps
      else expect(last - first + 1).toBeGreaterThan(beats);
      expect((await monitor.recvMany(frames.length)).every((f, i) => f.equals(frames[i]!))).toBe(true);
      expect(await source.idle()).toBe(true);
      expect(await sink.empty()).toBe(true);
    });
  }

  rtl.test("clearing the pause generators restores full rate", async ({ dut }) => {
    const source = new AxiStreamSource(dut, "s_axis");
    const sink = new AxiStreamSink(dut, "m_axis");
    await source.setPauseGenerator([true, false]);
    await sink.setPauseGenerator([true]);
    await source.send(new AxiStreamFrame(new Uint8Array(64).fill(1)));
    await expect(sink.recvMany(1, { maxCycles: 50 })).rejects.toMatchObject({ kind: "limit" });
    await source.setPauseGenerator(null);
    await sink.setPauseGenerator(null);
    const [frame] = await sink.recvMany(1, { maxCycles: 50 });
    expect(frame!.length).toBe(64);
    await source.send(new AxiStreamFrame(new Uint8Array(64).fill(2)));
    const [next] = await sink.recvMany(1, { maxCycles: 50 });
    expect(next!.end! - next!.start!).toBe(7); // 8 beats back to back
  });

  rtl.test("coroutine style: recv in a task while sending with sendNowait and waiting for idle", async ({ dut, rng, sim }) => {
    const source = new AxiStreamSource(dut, "s_axis");
    const sink = new AxiStreamSink(dut, "m_axis");
    await sink.setPauseGenerator((function* () { for (;;) yield rng.chance(0.5); })());
    const frames = randomFrames(rng, 20);
    const receiver = startSoon(async () => {
      const out: AxiStreamFrame[] = [];
      for (let i = 0; i < frames.length; i++) out.push(await sink.recv());
      return out;
    });
    for (const f of frames) source.sendNowait(new AxiStreamFrame(f));
    await source.wait();
    expect(await source.idle()).toBe(true);
    const got = await withTimeout(receiver, 10_000, "cycles");
    expect(got.every((f, i) => f.equals(frames[i]!))).toBe(true);
    expect(await sink.recvNowait()).toBeUndefined();
    expect(sim.failure).toBeUndefined();
  });

  rtl.test("source clear drops queued frames; wait covers this source only", async ({ dut }) => {
    const source = new AxiStreamSource(dut, "s_axis");
    const sink = new AxiStreamSink(dut, "m_axis");
    const Vr = defineStream("Vr", { fields: ["tag", "addr"] });
    const other = new Vr.Source(dut, "s_vr"); // never drained: m_vr_ready stays low, so it never goes idle
    await other.send([new Vr.Transaction({ tag: 1, addr: 1n }), new Vr.Transaction({ tag: 2, addr: 2n }), new Vr.Transaction({ tag: 3, addr: 3n })]);
    await sink.setPauseGenerator([true, true, true, false]); // one beat in four cycles
    await source.send([1, 2, 3].map((n) => new AxiStreamFrame(new Uint8Array(16).fill(n))));
    await ClockCycles(dut.clk, 3); // the first frame has started and is slowed by back-pressure
    await source.clear(); // the frame in progress finishes, the other two are dropped
    expect(await source.idle()).toBe(true);
    await sink.setPauseGenerator(null);
    await source.send(new AxiStreamFrame(new Uint8Array(16).fill(9)));
    await source.wait();
    expect(await other.idle()).toBe(false);
    const got = await sink.recvMany(2, { maxCycles: 100 });
    expect(got.map((f) => f.tdata[0])).toEqual([1, 9]);
  });

  rtl.test("defineStream: a valid/ready side channel", async ({ dut, rng, sim }) => {
    const Vr = defineStream("Vr", { fields: ["tag", "addr"] });
    const source = new Vr.Source(dut, "s_vr");
    const sink = new Vr.Sink(dut, "m_vr");
    await sink.setPauseGenerator([0, 1]);
    const sent = Array.from({ length: 50 }, () => new Vr.Transaction({ tag: rng.int(1 << 12), addr: BigInt(rng.u32()) * 256n + BigInt(rng.int(256)) }));
    await source.send(sent);
    const got = await sink.recvMany(sent.length, { maxCycles: 10_000 });
    expect(got.map(String)).toEqual(sent.map(String));
    expect(() => source.sendNowait(new Vr.Transaction({ tag: 1n << 12n, addr: 0n }))).not.toThrow();
    await expect(ClockCycles(dut.clk, 1)).rejects.toThrow(/tag = 4096 does not fit in 12 bits/);
    expect(sim.takeFailure()).toBeInstanceOf(RangeError);
  });
});

describeRtl("tb core, assertions", { top: "tb_assert_demo", ports: ["clk", "trip", "count"] }, (rtl) => {
  rtl.test("an assertion reply names the assertion and the model keeps running", async ({ dut }) => {
    dut.trip.value = 1n;
    const err = (await ClockCycles(dut.clk, 3).then(() => undefined, (e: unknown) => e)) as HarnessError;
    expect(err).toBeInstanceOf(HarnessError);
    expect(err.kind).toBe("assertion");
    expect(err.message).toMatch(/trip_never_high/);
    dut.trip.value = 0n;
    const before = dut.count.value;
    await ClockCycles(dut.clk, 2);
    expect(dut.count.value).not.toBe(before);
  });
});

test("pause generators become their shortest period", () => {
  expect(pausePattern([1, 1, 0])).toBe("110");
  expect(pausePattern((function* () { for (;;) yield* [true, false, false]; })())).toBe("100");
  expect(pausePattern([1, 0, 1])).toBe("101");
  expect(pausePattern([1, 1, 0, 1, 1, 0, 1])).toBe("1101101"); // finite: repeated as given
  expect(pausePattern([0, 1, 0, 1])).toBe("01");
  expect(pausePattern([])).toBe("");
});

test("pause patterns: never every cycle, the standard matrix, the string form", () => {
  const rng = new Rng(7);
  for (const p of [0, 0.3, 1]) {
    const pattern = randomPauses(rng, p);
    expect(pattern.length).toBeGreaterThanOrEqual(6);
    expect(pattern.at(-1), "the last cycle never pauses").toBe(false);
    if (p === 0) expect(pattern.every((x) => !x)).toBe(true);
    if (p === 1) expect(pattern.slice(0, -1).every((x) => x)).toBe(true);
  }
  expect(randomPauses(rng, 0.5, 9)).toHaveLength(10);
  expect(randomPauseString(new Rng(3), 0.4, 20)).toBe(randomPauses(new Rng(3), 0.4, 20).map((x) => (x ? "1" : "0")).join(""));
  expect(PAUSE_VARIANTS.map((v) => [v.idle > 0, v.backpressure > 0])).toEqual([[false, false], [true, false], [false, true], [true, true]]);
});
