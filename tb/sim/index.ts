// The simulated-time core of the testbench, cut as cocotb cuts it: the scheduler (one Sim per test), triggers,
// tasks, synchronisation between coroutines (Event, Queue) and the clock. tb/index.ts re-exports it.

export { currentSim } from "./context.js";
export { CancelledError, SimTimeoutError } from "./result.js";
export { createSim, Sim, startSoon } from "./scheduler.js";
export { ClockCycles, Combine, FallingEdge, First, ReadOnly, RisingEdge, RunUntil, Timer, Trigger, withTimeout, type SignalRef } from "./triggers.js";
export { Task } from "./task.js";
export { Event, Queue, QueueEmpty, QueueFull } from "./synchronization.js";
export { Clock } from "./clock.js";
export type { TimeUnit } from "./utils.js";
