// `make soak`: seeded random differential traffic through ddp_top against the reference model, for FRAMES frames
// (default 10^6), spread over worker processes (one per core; each has its own harness), with SHARD=i/n to spread
// one soak over several machines. Scenario k of the soak has the seed scenarioSeed(SEED, k) and shard i of n runs
// scenarios i-1, i-1+n, ... until it has FRAMES/n frames. Progress goes to stderr; the summary (every count must
// be 0, and the seed of each failing scenario, which reproduces it alone with SCENARIO=<seed>) to stdout.
//
//   tsx scripts/soak.ts [--frames N] [--shard i/n] [--seed S] [--workers N] [--scenario SEED] [--json]

import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Progress } from "../src/cli/args.js";
import { buildHarness, Harness, REPO_ROOT } from "../src/cosim/index.js";
import { seedFromEnv } from "../src/util/rng.js";
import { addCounts, COUNT_NAMES, countsClean, runSoakCase, scenarioSeed, type SoakCounts, soakCase, type SoakKind, soakKind, type SoakResult, zeroCounts } from "../tb/traffic/soak.js";
import { FromWorkerSchema, type ToWorker } from "./soak-protocol.js";

const USAGE = "usage: tsx scripts/soak.ts [--frames N] [--shard i/n] [--seed S] [--workers N] [--scenario SEED] [--json]";
const Uint32 = z.coerce.number().int().min(0).max(0xffffffff);
const ArgsSchema = z.strictObject({
  frames: z.coerce.number().int().min(1).max(1e9).default(1_000_000),
  shard: z
    .string()
    .regex(/^\d+\/\d+$/, "is not i/n")
    .transform((t) => t.split("/").map(Number) as [number, number])
    .refine(([i, n]) => n >= 1 && i >= 1 && i <= n, "needs 1 <= i <= n")
    .default([1, 1]),
  seed: Uint32.optional(),
  workers: z.coerce.number().int().min(1).max(256).default(availableParallelism()),
  scenario: Uint32.optional(),
  json: z.boolean().default(false),
});

function parseOptions(argv: string[]): z.infer<typeof ArgsSchema> {
  const options = { frames: { type: "string" }, shard: { type: "string" }, seed: { type: "string" }, workers: { type: "string" }, scenario: { type: "string" }, json: { type: "boolean" } } as const;
  try {
    const { values } = parseArgs({ args: argv, options, strict: true });
    const parsed = ArgsSchema.safeParse(values);
    if (parsed.success) return parsed.data;
    console.error(parsed.error.issues.map((i) => `soak: --${i.path.join(".")}: ${i.message}`).join("\n"));
  } catch (e) {
    console.error(`soak: ${(e as Error).message.split("\n")[0]}`);
  }
  console.error(USAGE);
  process.exit(2);
}

const opts = parseOptions(process.argv.slice(2));
const seed = opts.seed ?? seedFromEnv();
const [shard, shards] = opts.shard;

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

const reproduce = (s: number) => `make soak SCENARIO=${s}`;

// ---------------------------------------------------------------- one scenario alone (SCENARIO=<seed>)

if (opts.scenario !== undefined) {
  const harness = await Harness.spawn({ top: "ddp_top" });
  try {
    const r = await runSoakCase(harness, soakCase(opts.scenario));
    if (opts.json) console.log(JSON.stringify(r));
    else {
      console.log(`soak scenario ${r.seed} (${r.kind}): ${r.frames} frames, ${r.cycles} cycles`);
      for (const [k, name] of Object.entries(COUNT_NAMES)) console.log(`  ${name.padEnd(36)} ${r[k as keyof SoakCounts]}`);
      for (const d of r.details) console.log(`  ${d}`);
    }
    process.exitCode = countsClean(r) ? 0 : 1;
  } finally {
    await harness.close();
  }
  process.exit();
}

// ---------------------------------------------------------------- the soak

interface Failure {
  seed: number;
  kind: SoakKind | undefined;
  what: string;
}

const target = Math.ceil(opts.frames / shards);
const workerScript = fileURLToPath(new URL("./soak-worker.ts", import.meta.url));
const progress = new Progress(process.stderr, 10_000);
let counts = zeroCounts();
let frames = 0;
let nextIndex = 0;
const done: { seed: number; kind: SoakKind; frames: number }[] = [];
const failures: Failure[] = [];
const inFlight = new Map<ChildProcess, { index: number; seed: number }>();
const live = new Set<ChildProcess>();
let respawns = 0;
let t0 = 0;

/** The next scenario index of this shard: shard-1, shard-1+shards, ... */
function nextScenario(): { index: number; seed: number } {
  const index = shard - 1 + shards * nextIndex++;
  return { index, seed: scenarioSeed(seed, index) };
}

function summary(stopped?: string): void {
  const seconds = (performance.now() - t0) / 1000;
  const rate = frames / Math.max(seconds, 1e-9);
  const clean = countsClean(counts) && failures.length === 0;
  if (opts.json) {
    console.log(JSON.stringify({ seed, shard: `${shard}/${shards}`, workers: opts.workers, frames, seconds, framesPerSecond: rate, framesPerSecondPerWorker: rate / opts.workers, counts, failures, scenarios: done, ok: clean && stopped === undefined }));
    return;
  }
  const kinds = new Map<string, number>();
  for (const d of done) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 1);
  console.log(
    `soak${stopped === undefined ? "" : ` (${stopped})`}: ${frames} frames, ${done.length} scenarios in ${duration(seconds)}: ${rate.toFixed(0)} frames/s on ${opts.workers} workers ` +
      `(${(rate / opts.workers).toFixed(0)} frames/s per core); seed ${seed}, shard ${shard}/${shards}`,
  );
  for (const [k, name] of Object.entries(COUNT_NAMES)) console.log(`  ${name.padEnd(36)} ${counts[k as keyof SoakCounts]}`);
  console.log(`  scenarios by kind: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ")}`);
  if (failures.length === 0) console.log("all counts 0");
  else {
    console.log(`FAILED: ${failures.length} scenario(s); each reproduces alone:`);
    for (const f of failures) console.log(`  seed ${f.seed}${f.kind === undefined ? "" : ` (${f.kind})`}: ${f.what}; ${reproduce(f.seed)}`);
  }
}

function showProgress(): void {
  const seconds = (performance.now() - t0) / 1000;
  const rate = frames / Math.max(seconds, 1e-9);
  const eta = rate > 0 ? duration(Math.max(0, target - frames) / rate) : "?";
  progress.update(`soak: ${frames}/${target} frames (${((100 * frames) / target).toFixed(1)} %), ${rate.toFixed(0)} frames/s, ETA ${eta}; ${done.length} scenarios, ${failures.length} failed`);
}

function dispatch(worker: ChildProcess): void {
  if (frames >= target) {
    inFlight.delete(worker);
    worker.send({ type: "stop" } satisfies ToWorker);
    return;
  }
  const next = nextScenario();
  inFlight.set(worker, next);
  worker.send({ type: "run", ...next } satisfies ToWorker);
}

function finishIfDone(): void {
  if (live.size > 0) return;
  progress.done();
  summary();
  process.exit(countsClean(counts) && failures.length === 0 ? 0 : 1);
}

function startWorker(): void {
  // stdin ignored, output shared, an IPC channel: the worker exits when it closes (this process died).
  const worker = fork(workerScript, [], { cwd: REPO_ROOT, execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  live.add(worker);
  worker.on("message", (raw: unknown) => {
    const m = FromWorkerSchema.parse(raw);
    if (m.type === "result") {
      const r: SoakResult = m.result;
      frames += r.frames;
      counts = addCounts(counts, r);
      done.push({ seed: r.seed, kind: r.kind, frames: r.frames });
      if (!countsClean(r)) {
        const what = Object.entries(COUNT_NAMES).flatMap(([k, name]) => (r[k as keyof SoakCounts] > 0 ? [`${r[k as keyof SoakCounts]} ${name}`] : [])).join(", ");
        failures.push({ seed: r.seed, kind: r.kind, what });
        progress.done();
        console.error(`soak: scenario ${r.seed} (${r.kind}) FAILED: ${what}\n  ${r.details.join("\n  ")}`);
      }
      showProgress();
    } else if (m.type === "error") {
      failures.push({ seed: m.seed, kind: soakKind(m.seed), what: m.message });
      progress.done();
      console.error(`soak: scenario ${m.seed} FAILED: ${m.message}`);
    }
    dispatch(worker);
  });
  worker.once("exit", (code, signal) => {
    live.delete(worker);
    const lost = inFlight.get(worker);
    inFlight.delete(worker);
    if (lost !== undefined) {
      // A worker that dies mid-scenario (crash, OOM, killed) fails that scenario; another takes its place.
      const what = `the worker died (${signal ?? `exit ${code}`})`;
      failures.push({ seed: lost.seed, kind: soakKind(lost.seed), what });
      progress.done();
      console.error(`soak: scenario ${lost.seed} FAILED: ${what}`);
      if (respawns++ < 2 * opts.workers) startWorker();
    }
    finishIfDone();
  });
}

for (const [signal, number] of [["SIGINT", 2], ["SIGTERM", 15], ["SIGHUP", 1]] as const) {
  process.once(signal, () => {
    progress.done();
    summary(`stopped by ${signal}`);
    for (const w of live) w.kill("SIGTERM");
    process.exit(128 + number);
  });
}

console.error(`soak: building ddp_top ...`);
await buildHarness({ top: "ddp_top" });
console.error(`soak: ${target} frames (shard ${shard}/${shards} of ${opts.frames}), seed ${seed}, ${opts.workers} workers`);
t0 = performance.now();
for (let i = 0; i < opts.workers; i++) startWorker();
