// The soak (tb/traffic/soak.ts, scripts/soak.ts): its model-free checks catch each kind of fault on hand-made
// batches; a scenario depends on its seed alone; a short soak on two workers counts 0 everywhere and a scenario
// it ran reproduces alone; shards split the scenarios; a worker that dies fails its scenario (by seed) and the
// soak carries on; killing the soak leaves no worker or harness behind.

import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { REPO_ROOT } from "../../src/cosim/index.js";
import { type DmaWrite, EventKind, type SglEntry } from "../../src/contract/protocol.js";
import type { BatchOut, FrameOut } from "../../src/device/index.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { Gen } from "../../tb/traffic/generators.js";
import { Integrity, scenarioSeed, SOAK_KINDS, soakCase, SoakCountsSchema, soakKind, SoakResultSchema } from "../../tb/traffic/soak.js";
import { alive, descendants, waitUntil } from "../util/processes.js";

const seed = seedFromEnv();
console.log(`soak.test seed=${seed} (SEED=${seed} to reproduce)`);

// ---------------------------------------------------------------- Integrity on hand-made batches

/** The test's own reading of an SGL: writes that put `data` at buffer offset `off`, one per entry touched. */
function writesInto(sgl: readonly SglEntry[], off: number, data: Uint8Array): DmaWrite[] {
  const out: DmaWrite[] = [];
  let at = 0;
  for (const e of sgl) {
    if (at >= data.length) break;
    if (off >= e.len) {
      off -= e.len;
      continue;
    }
    const n = Math.min(e.len - off, data.length - at);
    out.push({ addr: e.addr + BigInt(off), data: data.slice(at, at + n) });
    at += n;
    off = 0;
  }
  return out;
}

/** Two registered buffers and a batch of two frames, each with bytes 60..259 placed into one of them. */
function fixture() {
  const rng = new Rng(seed);
  const gen = new Gen(rng, "integrity");
  gen.setup(0, 5, 4096);
  gen.setup(0, 6, 4096);
  gen.teardown(0, 6); // cookie 1 releases the buffer of cid 6
  const [a, b] = gen.allTags;
  const frame = (cid: number, sgl: readonly SglEntry[], bufOff: number): FrameOut => {
    const input = rng.bytes(300);
    const seg = { cid, bufOff, frameOff: 60, len: 200 };
    return {
      input,
      inStart: 1,
      inEnd: 40,
      ring: Uint8Array.from([...input.subarray(0, 60), ...input.subarray(260)]),
      ringStart: 100,
      ringEnd: 110,
      cqe: { hit: true, ctx: 0, crcOk: true, nseg: 1, segs: [seg], resync: false, resyncSeq: 0 },
      cqeCycle: 111,
      dma: writesInto(sgl, bufOff, input.subarray(60, 260)),
    };
  };
  const frames = [frame(5, a!.sgl, 1000), frame(6, b!.sgl, 3000)];
  const batch = (fs: FrameOut[], events: BatchOut["events"] = []): BatchOut => ({
    frames: fs,
    events,
    dma: fs.map((f, i) => ({ value: f.dma, cycle: 120 + i })),
    problems: [],
    stalled: [],
    cycles: [0, 200],
  });
  return { gen, frames, batch };
}

function check(build: (f: ReturnType<typeof fixture>) => BatchOut): Integrity["counts"] {
  const f = fixture();
  const integrity = new Integrity(f.gen);
  integrity.batch(build(f));
  integrity.finish();
  return integrity.counts;
}

const none = { outsideWrites: 0, dropped: 0, reordered: 0, modified: 0 };

describe("the soak's model-free checks", () => {
  it("an intact batch counts nothing", () => {
    expect(check(({ frames, batch }) => batch(frames))).toEqual(none);
  });

  it("a frame without its ring frame is dropped", () => {
    expect(check(({ frames, batch }) => batch([{ ...frames[0]!, ring: new Uint8Array(0), ringStart: -1 }, frames[1]!]))).toEqual({ ...none, dropped: 1 });
  });

  it("a ring byte or a placed byte changed is a modified frame", () => {
    expect(check(({ frames, batch }) => batch([{ ...frames[0]!, ring: frames[0]!.ring.map((v, i) => (i === 7 ? v ^ 1 : v)) }, frames[1]!]))).toEqual({ ...none, modified: 1 });
    expect(
      check(({ frames, batch }) => {
        const dma = frames[1]!.dma.map((w, i) => (i === 0 ? { ...w, data: w.data.map((v, j) => (j === 0 ? v ^ 0x80 : v)) } : w));
        return batch([frames[0]!, { ...frames[1]!, dma }]);
      }),
    ).toEqual({ ...none, modified: 1 });
  });

  it("outputs swapped between frames are reordered frames", () => {
    expect(
      check(({ frames, batch }) => {
        const [x, y] = frames as [FrameOut, FrameOut];
        return batch([{ ...y, input: x.input }, { ...x, input: y.input }]);
      }),
    ).toEqual({ ...none, reordered: 2 });
  });

  it("bytes written one address off, into another cid's buffer or past the buffer are outside writes", () => {
    const off = check(({ frames, batch }) => batch([{ ...frames[0]!, dma: frames[0]!.dma.map((w) => ({ ...w, addr: w.addr + 1n })) }, frames[1]!]));
    expect(off.outsideWrites).toBeGreaterThanOrEqual(1);
    expect({ ...off, outsideWrites: 0 }).toEqual(none);
    const wrongCid = check(({ frames, batch }) => {
      const f = frames[0]!;
      if ("malformed" in f.cqe) throw new Error("fixture CQE");
      return batch([{ ...f, cqe: { ...f.cqe, segs: [{ ...f.cqe.segs[0]!, cid: 6 }] } }, frames[1]!]);
    });
    expect(wrongCid).toEqual({ ...none, outsideWrites: 1 });
    const past = check(({ gen, frames, batch }) => {
      const f = frames[0]!;
      if ("malformed" in f.cqe) throw new Error("fixture CQE");
      const sgl = gen.allTags[0]!.sgl;
      return batch([{ ...f, cqe: { ...f.cqe, segs: [{ ...f.cqe.segs[0]!, bufOff: 4000 }] }, dma: writesInto([...sgl, { addr: sgl.at(-1)!.addr + BigInt(sgl.at(-1)!.len), len: 4096 }], 4000, f.input.subarray(60, 260)) }, frames[1]!]);
    });
    expect(past.outsideWrites).toBeGreaterThanOrEqual(2); // the segment, and the guard bytes after the buffer
  });

  it("a write into a buffer after its TEARDOWN_DONE is an outside write", () => {
    const teardownDone = (cycle: number) => [{ value: { kind: EventKind.TEARDOWN_DONE, cookie: 1 } as const, cycle }];
    expect(check(({ frames, batch }) => batch(frames, teardownDone(130)))).toEqual(none); // the writes came before it
    const late = check(({ frames, batch }) => batch(frames, teardownDone(110)));
    expect(late.outsideWrites).toBeGreaterThanOrEqual(1);
    expect({ ...late, outsideWrites: 0 }).toEqual(none);
  });
});

// ---------------------------------------------------------------- scenarios

describe("soak scenarios", () => {
  it("depend on their seed alone, and every kind comes up", () => {
    const kinds = new Set<string>();
    for (let k = 0; k < 1000; k++) kinds.add(soakKind(scenarioSeed(seed, k)));
    expect([...kinds].sort()).toEqual([...SOAK_KINDS].sort());
    const s = scenarioSeed(seed, 3);
    const frames = (c: ReturnType<typeof soakCase>) => c.scenario.steps.flatMap((st) => (st.kind === "cmd" ? [] : st.frames.map((f) => Buffer.from(f).toString("hex"))));
    const [one, two] = [soakCase(s), soakCase(s)];
    expect(two.kind).toBe(one.kind);
    expect(soakKind(s)).toBe(one.kind);
    expect(frames(two)).toEqual(frames(one));
    expect(scenarioSeed(seed, 4)).not.toBe(s);
  });
});

// ---------------------------------------------------------------- the runner, as a process

const SummarySchema = z.looseObject({
  seed: z.number(),
  shard: z.string(),
  frames: z.number(),
  counts: SoakCountsSchema,
  failures: z.array(z.strictObject({ seed: z.number(), kind: z.string().optional(), what: z.string() })),
  scenarios: z.array(z.strictObject({ seed: z.number(), kind: z.string(), frames: z.number() })),
  ok: z.boolean(),
});

function soak(args: string[]): { pid: number; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/soak.ts", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return { pid: child.pid!, done: new Promise((resolve) => child.once("exit", (code) => resolve({ code, out, err }))) };
}

describe("make soak", () => {
  it("a short soak on two workers: every count 0, progress shown; a scenario it ran reproduces alone", async () => {
    const r = await soak(["--frames", "3000", "--workers", "2", "--seed", String(seed), "--json"]).done;
    expect(r.code, r.err).toBe(0);
    const s = SummarySchema.parse(JSON.parse(r.out));
    expect(s.ok).toBe(true);
    expect(s.counts).toEqual({ mismatches: 0, outsideWrites: 0, dropped: 0, reordered: 0, modified: 0 });
    expect(s.failures).toEqual([]);
    expect(s.frames).toBeGreaterThanOrEqual(3000);
    expect(s.scenarios.reduce((n, x) => n + x.frames, 0)).toBe(s.frames);
    expect(r.err).toMatch(/soak: \d+\/3000 frames \([\d.]+ %\), \d+ frames\/s, ETA /);
    const one = s.scenarios.reduce((a, b) => (b.frames > a.frames ? b : a));
    const again = await soak(["--scenario", String(one.seed), "--json"]).done;
    expect(again.code, again.err).toBe(0);
    expect(SoakResultSchema.parse(JSON.parse(again.out))).toMatchObject({ seed: one.seed, kind: one.kind, frames: one.frames, mismatches: 0 });
  }, 180_000);

  it("SHARD=i/n: the shards run every n-th scenario of the same sequence, each about FRAMES/n frames", async () => {
    const [a, b] = await Promise.all([1, 2].map(async (i) => SummarySchema.parse(JSON.parse((await soak(["--frames", "1200", "--shard", `${i}/2`, "--workers", "1", "--seed", String(seed), "--json"]).done).out))));
    expect(a!.scenarios.map((x) => x.seed)).toEqual(a!.scenarios.map((_, k) => scenarioSeed(seed, 2 * k)));
    expect(b!.scenarios.map((x) => x.seed)).toEqual(b!.scenarios.map((_, k) => scenarioSeed(seed, 2 * k + 1)));
    for (const s of [a!, b!]) expect(s.frames).toBeGreaterThanOrEqual(600);
  }, 180_000);

  it("bad options are one line each and exit 2", async () => {
    const r = await soak(["--frames", "0", "--shard", "3/2"]).done;
    expect(r.code).toBe(2);
    expect(r.err).toContain("soak: --frames:");
    expect(r.err).toContain("soak: --shard: needs 1 <= i <= n");
  });

  it("a worker killed mid-scenario fails that scenario by its seed; the soak carries on and exits 1", async () => {
    const run = soak(["--frames", "6000", "--workers", "2", "--seed", String(seed), "--json"]);
    let worker: number | undefined;
    const found = await waitUntil(() => (worker = descendants(run.pid).find((p) => descendants(p.pid).some((c) => c.comm === "Vddp_top"))?.pid) !== undefined, 60_000);
    expect(found).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    process.kill(worker!, "SIGKILL");
    const r = await run.done;
    expect(r.code).toBe(1);
    const s = SummarySchema.parse(JSON.parse(r.out));
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]!.what).toBe("the worker died (SIGKILL)");
    expect(s.failures[0]!.kind).toBe(soakKind(s.failures[0]!.seed));
    expect(s.frames).toBeGreaterThanOrEqual(6000); // the others went on
    expect(s.counts).toEqual({ mismatches: 0, outsideWrites: 0, dropped: 0, reordered: 0, modified: 0 });
  }, 180_000);

  it("killing the soak leaves no worker and no harness behind", async () => {
    const run = soak(["--frames", "100000", "--workers", "2", "--seed", String(seed)]);
    const up = await waitUntil(() => descendants(run.pid).filter((p) => p.comm === "Vddp_top").length === 2, 60_000);
    expect(up).toBe(true);
    const tree = descendants(run.pid).map((p) => p.pid);
    process.kill(run.pid, "SIGKILL");
    await run.done;
    const gone = await waitUntil(() => tree.every((p) => !alive(p)), 10_000);
    expect(gone, `still alive: ${tree.filter(alive).join(", ")}`).toBe(true);
  }, 120_000);
});
