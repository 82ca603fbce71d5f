// describeRtl: a vitest suite around one harness. Each test starts from reset with a fresh scheduler, gets a
// printed seed (SEED=... reproduces it) and, with WAVES=1, its own FST file whose path is printed on failure.

import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describe, test, beforeAll, afterAll } from "vitest";
import { Harness, REPO_ROOT, type Params } from "../src/cosim/index.js";
import { Rng, seedFromEnv } from "../src/util/rng.js";
import { makeDut, type Dut } from "./dut.js";
import { Sim } from "./sim/index.js";

export interface RtlOptions<P extends string> {
  top: string;
  params?: Params;
  /** Port names to type `dut.<port>` (checked against the design at the start of each test). */
  ports?: readonly P[];
  resetCycles?: number;
  env?: Record<string, string>;
}

export interface RtlTestContext<P extends string> {
  dut: Dut<P>;
  seed: number;
  rng: Rng;
  harness: Harness;
  sim: Sim;
}

export interface RtlSuite<P extends string> {
  test(name: string, fn: (ctx: RtlTestContext<P>) => Promise<void>, timeoutMs?: number): void;
  /** The suite's harness (available inside tests and hooks). */
  readonly harness: Harness;
}

const DEFAULT_TEST_TIMEOUT_MS = 120_000;
/** Report a hang this long before vitest's own timeout, saying who waits on what. */
const HANG_REPORT_MARGIN_MS = 3_000;

export function describeRtl<const P extends string = never>(name: string, options: RtlOptions<P>, body: (rtl: RtlSuite<P>) => void): void {
  describe(name, () => {
    let harness: Harness | undefined;
    const need = (): Harness => {
      if (harness === undefined) throw new Error(`${name}: the harness did not start (see the beforeAll error)`);
      return harness;
    };

    beforeAll(async () => {
      harness = await Harness.spawn({ top: options.top, ...(options.params && { params: options.params }), ...(options.env && { env: options.env }) });
    });
    afterAll(async () => {
      await harness?.close();
    });

    body({
      get harness() {
        return need();
      },
      test(testName, fn, timeoutMs = DEFAULT_TEST_TIMEOUT_MS) {
        test(
          testName,
          async (ctx) => {
            const h = need();
            const seed = seedFromEnv();
            const label = `${name} > ${testName}`;
            console.log(`[rtl] ${label}: SEED=${seed}`);
            const waves = process.env.WAVES === "1" ? wavePath(ctx.task.file.filepath, testName) : undefined;
            if (waves !== undefined) await h.trace(waves);
            const sim = await Sim.create(h, options.resetCycles === undefined ? {} : { resetCycles: options.resetCycles });
            try {
              const dut = makeDut<P>(sim);
              for (const p of options.ports ?? []) dut.signal(p);
              await guardHang(fn({ dut, seed, rng: new Rng(seed), harness: h, sim }), sim, timeoutMs - HANG_REPORT_MARGIN_MS);
              if (sim.failure !== undefined) throw sim.failure;
            } catch (e) {
              console.error(`[rtl] FAILED ${label}: reproduce with SEED=${seed}${waves === undefined ? "" : `; waves: ${waves}`}`);
              throw e;
            } finally {
              await sim.dispose();
              if (waves !== undefined) await h.trace(null).catch(() => undefined);
            }
          },
          timeoutMs,
        );
      },
    });
  });
}

/** waves/<test file>/<test name>.fst under the repository root. */
function wavePath(testFile: string, testName: string): string {
  const file = basename(testFile).replace(/\.test\.ts$/, "");
  const path = join(REPO_ROOT, "waves", file, `${testName.replace(/[^A-Za-z0-9_.=-]+/g, "_")}.fst`);
  mkdirSync(dirname(path), { recursive: true });
  return path;
}

/** Fails a test that is about to time out with the list of what every coroutine waits on. */
async function guardHang<T>(work: Promise<T>, sim: Sim, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const waiting = sim.describeWaiters();
      reject(new Error(`test still running after ${ms} ms at cycle ${sim.cycle}; ${waiting.length === 0 ? "nothing waits on the simulation" : `waiting:\n  ${waiting.join("\n  ")}`}`));
    }, ms);
  });
  try {
    return await Promise.race([work, hang]);
  } finally {
    clearTimeout(timer);
  }
}
