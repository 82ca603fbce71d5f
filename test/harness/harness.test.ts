// The C++ co-simulation harness (tb/harness) against docs/cosim-protocol.md, over raw ZeroMQ.
// Oracles: the fixtures' SystemVerilog (port list parsed from the source, wide_out = wide_in + 1,
// count += 1 per cycle out of reset, a one-beat-per-cycle register slice) and AXI-Stream arithmetic.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { Empty, RawHarness, REPO_ROOT, buildHarness } from "./raw-harness.js";

const seed = seedFromEnv();
console.log(`harness.test.ts SEED=${seed}`);
const rng = new Rng(seed);

const Values = z.object({ values: z.record(z.string(), z.string().regex(/^[0-9a-f]+$/)) });
const Hello = z.object({
  version: z.literal(1),
  top: z.string(),
  ports: z.array(z.object({ name: z.string(), dir: z.enum(["in", "out"]), width: z.number().int() })),
  clock: z.string(),
  reset: z.string(),
});
const Bind = z.object({ signals: z.array(z.string()), fields: z.array(z.string()).optional() });
const Recv = z.object({ items: z.array(z.object({ start: z.number().int(), end: z.number().int() })) });
const Run = z.object({ cycles: z.number().int(), reason: z.enum(["done", "limit"]), met: z.array(z.number().int()) });
const Status = z.object({
  bfms: z.record(z.string(), z.object({ queued: z.number(), received: z.number(), busy: z.boolean() })),
});

const hex = (v: bigint): string => v.toString(16);
const randomBig = (bits: number): bigint => {
  let v = 0n;
  for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(rng.u32());
  return v & ((1n << BigInt(bits)) - 1n);
};
// Random pause pattern with at least one cycle not paused (all ones would stall for ever).
const pausePattern = (): string =>
  Array.from({ length: rng.range(1, 12) }, () => (rng.chance(0.35) ? "1" : "0")).join("") + "0";
const fst2vcd = spawnSync("fst2vcd", ["--help"]).error === undefined;

/** Ports declared in a fixture, read from its SystemVerilog source (the independent oracle for hello). */
function declaredPorts(fixture: string): { name: string; dir: "in" | "out"; width: number }[] {
  const src = readFileSync(join(REPO_ROOT, "tb/fixtures", `${fixture}.sv`), "utf8");
  const re = /^\s*(input|output)\s+logic\s+(?:\[(\d+):0\]\s+)?(\w+)/gm;
  return [...src.matchAll(re)].map((m) => ({
    name: m[3]!,
    dir: m[1] === "input" ? "in" : "out",
    width: m[2] === undefined ? 1 : Number(m[2]) + 1,
  }));
}

let passthrough = "";
let passthroughStep3 = "";
let assertDemo = "";
const started: RawHarness[] = [];
async function start(binary: string, args: string[] = []): Promise<RawHarness> {
  const h = await RawHarness.start(binary, args);
  started.push(h);
  return h;
}

beforeAll(() => {
  passthrough = buildHarness("tb_passthrough");
  assertDemo = buildHarness("tb_assert_demo");
  passthroughStep3 = buildHarness("tb_passthrough", "COUNT_STEP=3");
}, 300_000);

afterAll(async () => {
  await Promise.all(started.map((h) => h.stop()));
});

describe("build", () => {
  it("build-path prints only the binary's path, under build/<top>/default", () => {
    expect(passthrough).toBe(join(REPO_ROOT, "build/tb_passthrough/default/Vtb_passthrough"));
    expect(existsSync(passthrough)).toBe(true);
  });

  it("PARAMS give their own variant directory and reach the model", async () => {
    expect(passthroughStep3).toBe(join(REPO_ROOT, "build/tb_passthrough/COUNT_STEP_3/Vtb_passthrough"));
    const h = await start(passthroughStep3);
    await h.ok(Empty, "reset");
    const { result } = await h.ok(Values, "step", { cycles: 5, peek: ["count"] });
    expect(result.values.count).toBe("f");
  });
});

describe("signals", () => {
  let h: RawHarness;
  beforeAll(async () => {
    h = await start(passthrough);
  });

  it("hello reports version 1 and every declared port with its width", async () => {
    const { result } = await h.ok(Hello, "hello", { version: 1 });
    expect(result.top).toBe("tb_passthrough");
    expect(result.clock).toBe("clk");
    expect(result.reset).toBe("rst");
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...result.ports].sort(byName)).toEqual(declaredPorts("tb_passthrough").sort(byName));
  });

  it("hello with another version is a protocol error", async () => {
    const { reply } = await h.request("hello", { version: 2 });
    expect(reply.ok).toBe(false);
    expect(reply.error?.kind).toBe("protocol");
  });

  it("pokes and peeks a 200-bit port; combinational outputs settle without a clock edge", async () => {
    for (let i = 0; i < 20; i++) {
      const v = i === 0 ? (1n << 200n) - 1n : randomBig(200);
      const before = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
      await h.ok(Empty, "poke", { values: { wide_in: hex(v), half_in: hex(v & 0xffffn) } });
      const { result, cycle } = await h.ok(Values, "peek", { names: ["wide_in", "wide_out", "half_in"] });
      expect(cycle).toBe(before);
      expect(BigInt(`0x${result.values.wide_in}`)).toBe(v);
      expect(BigInt(`0x${result.values.wide_out}`)).toBe((v + 1n) & ((1n << 200n) - 1n));
      expect(BigInt(`0x${result.values.half_in}`)).toBe(v & 0xffffn);
      // wide_q is the registered copy: equal after one edge (step pokes before, peeks after).
      const w = randomBig(200);
      const stepped = await h.ok(Values, "step", { cycles: 1, poke: { wide_in: hex(w) }, peek: ["wide_q"] });
      expect(stepped.cycle).toBe(before + 1);
      expect(BigInt(`0x${stepped.result.values.wide_q}`)).toBe(w);
    }
  });

  it("peek true returns every port", async () => {
    const { result } = await h.ok(Values, "peek", { names: true });
    expect(Object.keys(result.values).sort()).toEqual(declaredPorts("tb_passthrough").map((p) => p.name).sort());
  });

  it("rejects bad pokes with argument errors and changes nothing", async () => {
    await h.ok(Empty, "poke", { values: { half_in: "1234" } });
    for (const values of [
      { half_in: "10000" }, // 17 bits into 16
      { half_in: "12g4" },
      { nosuch: "1" },
      { count: "1" }, // an output
      { half_in: "1", wide_in: "1" + "0".repeat(50) }, // second one too wide: nothing applied
    ]) {
      const { reply } = await h.request("poke", { values });
      expect(reply.ok, JSON.stringify(values)).toBe(false);
      expect(reply.error?.kind).toBe("argument");
    }
    const { result } = await h.ok(Values, "peek", { names: ["half_in"] });
    expect(result.values.half_in).toBe("1234");
  });

  it("malformed JSON, unknown ops and missing fields are protocol errors; the harness keeps serving", async () => {
    const [json] = await h.raw(["{not json"]);
    const reply = JSON.parse(json!.toString("utf8")) as unknown;
    expect(reply).toMatchObject({ id: null, ok: false, error: { kind: "protocol" } });
    expect((await h.request("frobnicate")).reply.error?.kind).toBe("protocol");
    expect((await h.request("peek")).reply.error?.kind).toBe("protocol");
    expect((await h.request("run", { maxCycles: -1 })).reply.error?.kind).toBe("protocol");
    await h.ok(Hello, "hello", { version: 1 });
  });
});

describe("BFMs through the passthrough", () => {
  let h: RawHarness;
  beforeAll(async () => {
    h = await start(passthrough);
    await h.ok(Empty, "reset", { cycles: 4 });
    const src = await h.ok(Bind, "bind", { kind: "axis_source", prefix: "s_axis", name: "src" });
    expect(src.result.signals).toContain("s_axis_tready");
    await h.ok(Bind, "bind", { kind: "axis_sink", prefix: "m_axis", name: "sink" });
    await h.ok(Bind, "bind", { kind: "axis_monitor", prefix: "m_axis", name: "mon" });
    const vs = await h.ok(Bind, "bind", { kind: "vr_source", prefix: "s_vr", name: "vsrc", fields: ["tag", "addr"] });
    expect(vs.result.fields).toEqual(["tag", "addr"]);
    await h.ok(Bind, "bind", { kind: "vr_sink", prefix: "m_vr", name: "vsink" });
  });

  const randomFrames = (n: number): Uint8Array[] => Array.from({ length: n }, () => rng.bytes(rng.range(1, 100)));

  async function roundTrip(frames: Uint8Array[]) {
    await h.ok(z.object({ queued: z.number() }), "send", { name: "src" }, frames);
    const run = await h.ok(Run, "run", { maxCycles: 100_000, until: [{ received: { sink: frames.length } }] });
    expect(run.result).toMatchObject({ reason: "done", met: [0] });
    const got = await h.ok(Recv, "recv", { name: "sink" });
    const mon = await h.ok(Recv, "recv", { name: "mon" });
    expect(got.bins.map((b) => b.toString("hex"))).toEqual(frames.map((f) => Buffer.from(f).toString("hex")));
    expect(mon.bins.map((b) => b.toString("hex"))).toEqual(frames.map((f) => Buffer.from(f).toString("hex")));
    expect(mon.result.items).toEqual(got.result.items);
    return got.result.items;
  }

  it("without pauses, frames arrive intact at one 8-byte beat per cycle", async () => {
    const frames = randomFrames(30);
    const items = await roundTrip(frames);
    items.forEach((it, i) => {
      expect(it.end - it.start).toBe(Math.ceil(frames[i]!.length / 8) - 1);
      if (i > 0) expect(it.start).toBe(items[i - 1]!.end + 1);
    });
  });

  it("with random source pauses and sink back-pressure, frames arrive intact and in order", async () => {
    for (let round = 0; round < 4; round++) {
      await h.ok(Empty, "pause", { name: "src", pattern: pausePattern() });
      await h.ok(Empty, "pause", { name: "sink", pattern: pausePattern() });
      const frames = randomFrames(20);
      const items = await roundTrip(frames);
      items.forEach((it, i) => {
        expect(it.end - it.start).toBeGreaterThanOrEqual(Math.ceil(frames[i]!.length / 8) - 1);
        if (i > 0) expect(it.start).toBeGreaterThan(items[i - 1]!.end);
      });
    }
    await h.ok(Empty, "pause", { name: "src", pattern: "" });
    await h.ok(Empty, "pause", { name: "sink", pattern: "" });
  });

  it("a valid/ready channel carries its fields little-endian, with back-pressure", async () => {
    await h.ok(Empty, "pause", { name: "vsink", pattern: "0110" });
    const txns = Array.from({ length: 25 }, () => {
      const b = Buffer.alloc(7);
      b.writeUInt16LE(rng.int(1 << 12), 0); // tag: 12 bits in 2 bytes
      b.writeUIntLE(rng.int(2 ** 40), 2, 5); // addr: 40 bits in 5 bytes
      return b;
    });
    await h.ok(z.object({ queued: z.literal(25) }), "send", { name: "vsrc" }, txns);
    await h.ok(Run, "run", { maxCycles: 1000, until: [{ received: { vsink: 25 } }] });
    const got = await h.ok(Recv, "recv", { name: "vsink", max: 10 });
    const rest = await h.ok(Recv, "recv", { name: "vsink" });
    expect([...got.bins, ...rest.bins].map((b) => b.toString("hex"))).toEqual(txns.map((t) => t.toString("hex")));
    expect(got.result.items).toHaveLength(10);
    for (const it of got.result.items) expect(it.start).toBe(it.end);
  });

  it("send checks payloads: empty frames and wrong-sized transactions are argument errors", async () => {
    expect((await h.request("send", { name: "src" }, [new Uint8Array(0)])).reply.error?.kind).toBe("argument");
    expect((await h.request("send", { name: "vsrc" }, [new Uint8Array(6)])).reply.error?.kind).toBe("argument");
    expect((await h.request("send", { name: "nosuch" }, [new Uint8Array(6)])).reply.error?.kind).toBe("argument");
    expect((await h.request("bind", { kind: "axis_source", prefix: "nosuch", name: "x" })).reply.error?.kind).toBe(
      "argument",
    );
  });

  it("run stops at the first cycle a condition holds, or reports limit", async () => {
    await h.ok(Empty, "reset", { cycles: 4 });
    const start = (await h.ok(Values, "peek", { names: ["count"] })).cycle;
    // count is 0 right after reset and grows by one per cycle.
    const run = await h.ok(Run, "run", {
      maxCycles: 1000,
      until: [{ signal: { name: "count", value: "ffff" } }, { signal: { name: "count", value: "20" } }],
    });
    expect(run.result).toEqual({ cycles: 0x20, reason: "done", met: [1] });
    expect(run.cycle).toBe(start + 0x20);
    // Already true: no cycle runs.
    const again = await h.ok(Run, "run", { maxCycles: 10, until: [{ signal: { name: "count", value: "20" } }] });
    expect(again.result.cycles).toBe(0);

    const limited = await h.request("run", { maxCycles: 10, until: [{ signal: { name: "count", value: "0" } }] });
    expect(limited.reply).toMatchObject({ ok: false, error: { kind: "limit" }, cycles: 10, reason: "limit", met: [] });

    const plain = await h.ok(Run, "run", { maxCycles: 7 });
    expect(plain.result).toEqual({ cycles: 7, reason: "done", met: [] });

    await h.ok(Empty, "pause", { name: "src", pattern: "1110" });
    await h.ok(Empty, "send", { name: "src" }, randomFrames(5));
    const busy = await h.ok(Status, "status");
    expect(busy.result.bfms.src?.queued).toBe(5);
    const idle = await h.ok(Run, "run", { maxCycles: 10_000, until: [{ idle: true }] });
    expect(idle.result.met).toEqual([0]);
    const after = await h.ok(Status, "status");
    expect(after.result.bfms.src).toEqual({ queued: 0, received: 0, busy: false });
    await h.ok(Empty, "pause", { name: "src", pattern: "" });
  });
});

describe("assertions", () => {
  it("a failing assertion answers `assertion` naming it, and the simulation carries on", async () => {
    const h = await start(assertDemo);
    await h.ok(Empty, "reset", { cycles: 2 });
    await h.ok(Empty, "step", { cycles: 3 });
    const { reply } = await h.request("step", { cycles: 10, poke: { trip: "1" } });
    expect(reply.ok).toBe(false);
    expect(reply.error?.kind).toBe("assertion");
    expect(reply.error?.assertion).toMatch(/tb_assert_demo\.trip_never_high$/);
    expect(reply.error?.message).toContain("trip seen at count 3");
    // It fired at the first edge with trip high; the step stopped there.
    expect(reply.cycle).toBe(6);

    const next = await h.ok(Values, "step", { cycles: 4, poke: { trip: "0" }, peek: ["count"] });
    expect(next.cycle).toBe(10);
    expect(next.result.values.count).toBe("8");

    const warn = await h.request("step", { cycles: 2, poke: { warn: "1" } });
    expect(warn.reply.error?.kind).toBe("assertion");
    expect(warn.reply.error?.message).toContain("warn raised");
    await h.ok(Empty, "poke", { values: { warn: "0" } });

    const fin = await h.request("step", { cycles: 5, poke: { finish: "1" } });
    expect(fin.reply.error?.kind).toBe("finished");
    expect((await h.request("step", { cycles: 1 })).reply.error?.kind).toBe("finished");
    await h.ok(Values, "peek", { names: ["count"] }); // still answers
  });
});

describe("tracing and lifetime", () => {
  const dir = mkdtempSync(join(tmpdir(), "harness-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Decodes an FST with gtkwave's fst2vcd when installed; otherwise checks the FST header block type.
  function expectReadableFst(file: string, signal: string) {
    expect(existsSync(file)).toBe(true);
    if (!fst2vcd) {
      expect(readFileSync(file)[0]).toBe(0); // FST_BL_HDR
      return;
    }
    const vcd = execFileSync("fst2vcd", ["-f", file], { encoding: "utf8", maxBuffer: 64 << 20 });
    expect(vcd).toContain("$enddefinitions");
    expect(vcd).toContain(signal);
  }

  it("trace writes an FST into a new directory and closes it on trace null", async () => {
    const h = await start(passthrough, ["--waves-dir", dir]);
    const file = join(dir, "nested/deeper/a.fst");
    await h.ok(Empty, "trace", { file });
    await h.ok(Empty, "reset");
    await h.ok(Empty, "step", { cycles: 50 });
    await h.ok(Empty, "trace", { file: null });
    expectReadableFst(file, "wide_out");
    // A second trace in the same process.
    const second = join(dir, "b.fst");
    await h.ok(Empty, "trace", { file: second });
    await h.ok(Empty, "step", { cycles: 5 });
    await h.ok(Empty, "bye");
    expect(await h.exited).toEqual({ code: 0, signal: null });
    expectReadableFst(second, "count");
  });

  it("SIGTERM exits cleanly with the trace file readable", async () => {
    const h = await start(passthrough, ["--waves-dir", dir]);
    const file = join(dir, "term.fst");
    await h.ok(Empty, "trace", { file });
    await h.ok(Empty, "step", { cycles: 100 });
    h.proc.kill("SIGTERM");
    expect(await h.exited).toEqual({ code: 0, signal: null });
    expectReadableFst(file, "m_axis_tdata");
  });

  it("EOF on stdin makes the harness exit", async () => {
    const h = await start(passthrough);
    await h.ok(Empty, "step", { cycles: 1 });
    h.closeStdin();
    expect(await h.exited).toEqual({ code: 0, signal: null });
  });

  it("the death of its parent makes the harness exit", async () => {
    // A shell starts the harness (not watching stdin) and is then killed outright.
    const shell = spawn("bash", ["-c", `'${passthrough}' --no-stdin </dev/null >/dev/null & echo $!; wait`], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const pid = Number(await new Promise<string>((resolve) => shell.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
    const alive = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8")); // a zombie has exited
      } catch {
        return false;
      }
    };
    await sleep(200);
    expect(alive()).toBe(true);
    shell.kill("SIGKILL");
    for (let i = 0; i < 50 && alive(); i++) await sleep(100);
    expect(alive()).toBe(false);
  });

  it("the idle timeout makes the harness exit", async () => {
    const h = await start(passthrough, ["--idle-timeout", "0.5"]);
    expect(await h.exited).toEqual({ code: 0, signal: null });
  });

  it("bench mode prints one JSON line with the cycle rate", () => {
    const out = execFileSync(passthrough, ["--bench", "200000", "--bind", "axis_source:s_axis", "--bind", "axis_sink:m_axis"], {
      encoding: "utf8",
    });
    const bench = z
      .object({ cycles: z.number(), seconds: z.number(), cyclesPerSecond: z.number(), beats: z.number() })
      .parse(JSON.parse(out));
    console.log(`bench: ${Math.round(bench.cyclesPerSecond / 1e3)} k cycles/s`);
    expect(bench.cycles).toBe(200000);
    // A full source into an always-ready register slice moves a beat every cycle but the first.
    expect(bench.beats).toBe(199999);
  });
});
