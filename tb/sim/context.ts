// What is running: the current test's simulation, and the task a coroutine runs in (carried across awaits).
// Kept apart from the scheduler so that triggers and tasks can find them without importing it.

import { AsyncLocalStorage } from "node:async_hooks";
import type { Sim } from "./scheduler.js";

/** What the scheduler needs to know of a task (independent of its result type). */
export interface TaskRef {
  readonly name: string;
  readonly cancelled: boolean;
  cancel(): void;
}

/** The task a coroutine runs in, carried across awaits (used to cancel its waits). */
export const taskContext = new AsyncLocalStorage<TaskRef>();

let current: Sim | undefined;

/** The simulation of the running test. */
export function currentSim(): Sim {
  if (current === undefined) throw new Error("no simulation running: use describeRtl(...) or await createSim(harness)");
  return current;
}

/** The running simulation, if any (the scheduler's view: no error when there is none). */
export function runningSim(): Sim | undefined {
  return current;
}

/** Makes `sim` the current simulation (undefined: none). */
export function setCurrentSim(sim: Sim | undefined): void {
  current = sim;
}
