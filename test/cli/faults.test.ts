// ddpsim as a process among others (issue 13), on the real bin/ddpsim.mjs and the RTL back end:
//   - a signal to the wrapper's PID (SIGTERM, SIGINT, SIGKILL: what a supervisor, CI runner or `timeout`
//     sends) stops the run and leaves no process behind;
//   - the harness killed at a random point of a `run` or a `replay`: exit 1, one clear line, nothing on stdout
//     (no partial JSON), no process behind.
// SEED=<n> reproduces the kill points.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHarness } from "../../src/cosim/index.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { ddpsim, tmp } from "./helpers.js";
import { alive, descendants, waitUntil } from "../util/processes.js";

const seed = seedFromEnv();
console.log(`faults.test seed=${seed} (SEED=${seed} to reproduce)`);
const rng = new Rng(seed);
const BIN = fileURLToPath(new URL("../../bin/ddpsim.mjs", import.meta.url));

interface Running {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Running[] = [];
function ddpsimProcess(...args: string[]): Running {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const r = { proc, out: () => out, err: () => err, exited };
  running.push(r);
  return r;
}

/** The harness (Vddp_top) of a running ddpsim, once it is up; with every process of the tree at that moment. */
async function harnessOf(r: Running): Promise<{ harness: number; tree: number[] }> {
  const pid = r.proc.pid!;
  let harness: number | undefined;
  const up = await waitUntil(() => (harness = descendants(pid).find((p) => p.comm === "Vddp_top")?.pid) !== undefined, 60_000);
  expect(up, `no harness under ddpsim ${pid}; stderr: ${r.err()}`).toBe(true);
  return { harness: harness!, tree: descendants(pid).map((p) => p.pid) };
}

async function expectAllGone(pids: readonly number[]): Promise<void> {
  const gone = await waitUntil(() => pids.every((p) => !alive(p)), 5_000);
  expect(gone, `still alive: ${pids.filter(alive).join(", ")}`).toBe(true);
}

beforeAll(async () => {
  await buildHarness({ top: "ddp_top" }); // so that no test below waits for a build
}, 600_000);

afterAll(() => {
  for (const r of running) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill("SIGKILL");
});

// Long enough that none of these ends on its own while the test runs (minutes of simulation).
const LONG_RUN = ["run", "--ios", "5000", "--seed", String(seed)];

describe("a signal to the wrapper's PID leaves nothing behind", () => {
  for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130], ["SIGHUP", 129]] as const) {
    it(`${signal}: the run stops with exit ${code} and one line; the harness is gone`, async () => {
      const r = ddpsimProcess(...LONG_RUN);
      const { tree } = await harnessOf(r);
      r.proc.kill(signal);
      expect(await r.exited).toEqual({ code, signal: null });
      expect(r.out()).toBe("");
      expect(r.err().trimEnd().split("\n").pop()).toBe(`ddpsim: stopped by ${signal}`);
      await expectAllGone(tree);
    }, 120_000);
  }

  it("SIGKILL: the harness dies with the wrapper", async () => {
    const r = ddpsimProcess(...LONG_RUN);
    const { tree } = await harnessOf(r);
    r.proc.kill("SIGKILL");
    expect((await r.exited).signal).toBe("SIGKILL");
    await expectAllGone(tree);
  }, 120_000);
});

/** The one line ddpsim prints when its harness dies, and that nothing else went to stdout or stderr. */
function expectHarnessDeathReported(r: Running, harness: number): void {
  expect(r.out(), "stdout").toBe("");
  const lines = r.err().trimEnd().split("\n");
  // Progress lines ("ddpsim run: ..." every few seconds) may come first; the error is the last line, alone.
  expect(lines.filter((l) => l.startsWith("ddpsim: ")), r.err()).toHaveLength(1);
  expect(lines.at(-1)).toMatch(new RegExp(`^ddpsim: HarnessError: harness dead error: .*(harness process ${harness} was killed by signal SIGKILL|exited before READY \\(was killed by signal SIGKILL\\))$`));
  expect(lines.filter((l) => !l.startsWith("ddpsim run: ") && !l.startsWith("ddpsim replay: ")), r.err()).toHaveLength(1);
}

describe("the harness killed at a random point", () => {
  let capture = "";
  beforeAll(async () => {
    capture = join(tmp, "faults.pcap");
    const made = await ddpsim("run", "--backend", "model", "--pcap", capture, "--ios", "120", "--bs", "32k", "--ddgst", "--no-baseline", "--seed", String(seed));
    expect(made.code, made.err).toBe(0);
  }, 120_000);

  /** Starts ddpsim with `args`, kills its harness after up to `maxDelayMs` and checks what follows. */
  async function killHarness(args: string[], maxDelayMs: number): Promise<void> {
    const delay = rng.int(maxDelayMs);
    const r = ddpsimProcess(...args);
    const { harness, tree } = await harnessOf(r);
    await new Promise((resolve) => setTimeout(resolve, delay));
    process.kill(harness, "SIGKILL");
    expect((await r.exited).code, `killed ${delay} ms after start; stderr: ${r.err()}`).toBe(1);
    expectHarnessDeathReported(r, harness);
    await expectAllGone(tree);
  }

  for (let k = 0; k < 3; k++) {
    it(`of a run (#${k + 1}): exit 1, one line, no output, nothing left`, () => killHarness([...LONG_RUN, "--json"], 2_000), 120_000);
  }
  // A replay of the capture takes half a minute of simulation.
  for (let k = 0; k < 2; k++) {
    it(`of a replay (#${k + 1}): exit 1, one line, no output, nothing left`, () => killHarness(["replay", capture, "--json"], 3_000), 120_000);
  }
});
