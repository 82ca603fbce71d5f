// Messages between scripts/soak.ts and its workers (scripts/soak-worker.ts), over the IPC channel of fork().

import { z } from "zod";
import { SoakResultSchema } from "../tb/traffic/soak.js";

const Index = z.number().int().nonnegative();

export const ToWorkerSchema = z.discriminatedUnion("type", [
  /** Run scenario `index` of the soak, whose seed is `seed`. */
  z.strictObject({ type: z.literal("run"), index: Index, seed: Index }),
  z.strictObject({ type: z.literal("stop") }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

export const FromWorkerSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("ready") }),
  z.strictObject({ type: z.literal("result"), index: Index, result: SoakResultSchema }),
  /** The scenario could not be run to its end (the device broke its contract, the harness died, ...). */
  z.strictObject({ type: z.literal("error"), index: Index, seed: Index, message: z.string() }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;
