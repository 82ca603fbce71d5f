// Idle and back-pressure patterns for every RTL test (DESIGN 8: every streaming test runs with and without
// idle and back-pressure). A pattern is cyclic (the harness repeats it) and always ends with a cycle without a
// pause, so it can never stall a stream forever.
//
//   for (const v of PAUSE_VARIANTS) rtl.test(`frames: ${v.name}`, async ({ rng }) => {
//     await setPauses(rng, v, { sources: [source], sinks: [sink] });
//     ...
//   });

import type { Rng } from "../src/util/rng.js";
import type { PauseGenerator } from "./bfm.js";

/** `length` cycles each paused with probability `p` (default length 5..59, drawn first), then one unpaused cycle. */
export function randomPauses(rng: Rng, p: number, length: number = rng.range(5, 60)): boolean[] {
  return [...Array.from({ length }, () => rng.chance(p)), false];
}

/** The same as a `0`/`1` string (1 = pause), for the harness's pause request (DdpPorts.pause). */
export function randomPauseString(rng: Rng, p: number, length?: number): string {
  return randomPauses(rng, p, length).map((b) => (b ? "1" : "0")).join("");
}

/** One point of the standard matrix: pause probabilities of the inputs (idle) and of the outputs (back-pressure). */
export interface PauseVariant {
  name: string;
  /** Probability that an input source holds valid low in a cycle (0 = never). */
  idle: number;
  /** Probability that an output sink holds ready low in a cycle (0 = never). */
  backpressure: number;
}

/** The standard matrix: full rate, idle inputs, back-pressured outputs, both. */
export const PAUSE_VARIANTS: readonly PauseVariant[] = [
  { name: "no pauses", idle: 0, backpressure: 0 },
  { name: "idle source", idle: 0.3, backpressure: 0 },
  { name: "back-pressure", idle: 0, backpressure: 0.5 },
  { name: "idle and back-pressure", idle: 0.3, backpressure: 0.5 },
];

/** Anything with cocotbext-axi's setPauseGenerator (sources, sinks, monitors of tb/). */
export interface Pausable {
  setPauseGenerator(gen: PauseGenerator | null): Promise<void>;
}

/**
 * Gives each source a random idle pattern and each sink a random back-pressure pattern of the variant (in that
 * order, one pattern each, drawn from `rng`); a probability of 0 leaves the BFM as it is.
 */
export async function setPauses(rng: Rng, v: Pick<PauseVariant, "idle" | "backpressure">, bfms: { sources?: readonly Pausable[]; sinks?: readonly Pausable[] }): Promise<void> {
  for (const s of bfms.sources ?? []) if (v.idle > 0) await s.setPauseGenerator(randomPauses(rng, v.idle));
  for (const s of bfms.sinks ?? []) if (v.backpressure > 0) await s.setPauseGenerator(randomPauses(rng, v.backpressure));
}
