// Triggers (cocotb.triggers): what a coroutine awaits. RisingEdge / FallingEdge / ClockCycles / Timer / ReadOnly
// wake at a simulated time or edge; First / Combine compose triggers and tasks; withTimeout bounds a wait;
// RunUntil waits for a harness `run` condition (a BFM proxy waiting for frames). A trigger arms itself in the
// scheduler (scheduler.ts) when awaited, so one trigger object can be awaited again.

import type { UntilCondition } from "../../src/cosim/index.js";
import { currentSim } from "./context.js";
import { SimTimeoutError } from "./result.js";
import type { Sim, Waiter } from "./scheduler.js";
import type { Task } from "./task.js";
import type { TimeUnit } from "./utils.js";

/** Something a coroutine can await. Arming happens at `await` time, so a trigger object can be reused. */
export abstract class Trigger<T = void> implements PromiseLike<T> {
  abstract describe(): string;
  /** Registers `waiter` in `sim`; returns a function that unregisters it (idempotent). */
  abstract arm(sim: Sim, waiter: Waiter<T>): () => void;

  protected sim(): Sim {
    return currentSim();
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.sim().wait(this).then(onfulfilled, onrejected);
  }

  toString(): string {
    return this.describe();
  }
}

class TimeTrigger extends Trigger {
  constructor(
    private readonly what: string,
    private readonly wakeAt: (sim: Sim) => number,
  ) {
    super();
  }
  describe(): string {
    return this.what;
  }
  arm(sim: Sim, waiter: Waiter<void>): () => void {
    return sim.addTimeWaiter({ ...(waiter as Waiter), time: this.wakeAt(sim) });
  }
}

/** Resolves once a BFM condition of the harness `run` holds (used by the BFM proxies). */
export class RunUntil extends Trigger {
  constructor(
    private readonly condition: UntilCondition,
    private readonly what: string,
    private readonly simulation: Sim,
  ) {
    super();
  }
  protected override sim(): Sim {
    return this.simulation;
  }
  describe(): string {
    return this.what;
  }
  arm(sim: Sim, waiter: Waiter<void>): () => void {
    return sim.addConditionWaiter({ ...(waiter as Waiter), condition: this.condition });
  }
}

/** Right after the next rising edge of the clock (or 0 -> 1 of a 1-bit signal). */
export function RisingEdge(signal: SignalRef): Trigger {
  return edge(signal, true);
}

/** Half a cycle after a rising edge of the clock (or 1 -> 0 of a 1-bit signal, seen at a rising edge). */
export function FallingEdge(signal: SignalRef): Trigger {
  return edge(signal, false);
}

/** A handle the triggers accept: anything with the simulation it belongs to and a port name. */
export interface SignalRef {
  readonly sim: Sim;
  readonly name: string;
  readonly width: number;
}

function edge(signal: SignalRef, rising: boolean): Trigger {
  const what = `${rising ? "RisingEdge" : "FallingEdge"}(dut.${signal.name})`;
  if (signal.name === signal.sim.clockName) {
    return new TimeTrigger(what, (sim) => (rising ? 2 * (sim.cycle + 1) : sim.time % 2 === 0 ? sim.time + 1 : sim.time + 2));
  }
  if (signal.width !== 1) throw new Error(`${what}: edges exist only for 1-bit signals (dut.${signal.name} is ${signal.width} bits)`);
  return new (class extends Trigger {
    describe(): string {
      return what;
    }
    arm(sim: Sim, waiter: Waiter<void>): () => void {
      return sim.addEdgeWaiter({ ...(waiter as Waiter), signal: signal.name, rising });
    }
  })();
}

/** After `n` rising edges of the clock. */
export function ClockCycles(clock: SignalRef, n: number): Trigger {
  if (clock.name !== clock.sim.clockName) throw new Error(`ClockCycles: dut.${clock.name} is not the harness clock (${clock.sim.clockName})`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`ClockCycles: n must be a positive integer, got ${n}`);
  return new TimeTrigger(`ClockCycles(dut.${clock.name}, ${n})`, (sim) => 2 * (sim.cycle + n));
}

/** After simulated time `t` (rounded up to half cycles of the Clock's period; unit "cycles" needs no Clock). */
export function Timer(t: number, units: TimeUnit = "ns"): Trigger {
  if (!(t > 0)) throw new RangeError(`Timer: time must be positive, got ${t}`);
  return new TimeTrigger(`Timer(${t} ${units})`, (sim) => sim.time + sim.halfCycles(t, units));
}

/** Wakes at the current time, after every other task has run. */
export function ReadOnly(): Trigger {
  return new (class extends Trigger {
    describe(): string {
      return "ReadOnly()";
    }
    arm(sim: Sim, waiter: Waiter<void>): () => void {
      return sim.addReadOnlyWaiter(waiter as Waiter);
    }
  })();
}

type Awaitable = Trigger<unknown> | Task<unknown>;

/**
 * The first of several triggers or tasks to fire; resolves to its index. (cocotb returns the trigger itself, but
 * a trigger here is awaitable, and a promise resolved with an awaitable would wait on it again.)
 */
export function First(...items: Awaitable[]): Trigger<number> {
  return new (class extends Trigger<number> {
    describe(): string {
      return `First(${items.map((i) => i.describe()).join(", ")})`;
    }
    arm(sim: Sim, waiter: Waiter<number>): () => void {
      const disarms: (() => void)[] = [];
      const disarmAll = () => disarms.forEach((d) => d());
      items.forEach((item, index) => {
        disarms.push(
          item.arm(sim, {
            what: item.describe(),
            task: waiter.task,
            resolve: () => {
              disarmAll();
              waiter.resolve(index);
            },
            reject: (e) => {
              disarmAll();
              waiter.reject(e);
            },
          }),
        );
      });
      return disarmAll;
    }
  })();
}

/** All of several triggers or tasks. */
export function Combine(...items: Awaitable[]): Trigger {
  return new (class extends Trigger {
    describe(): string {
      return `Combine(${items.map((i) => i.describe()).join(", ")})`;
    }
    arm(sim: Sim, waiter: Waiter<void>): () => void {
      let left = items.length;
      const disarms: (() => void)[] = [];
      const disarmAll = () => disarms.forEach((d) => d());
      if (left === 0) queueMicrotask(() => waiter.resolve());
      for (const item of items) {
        disarms.push(
          item.arm(sim, {
            what: item.describe(),
            task: waiter.task,
            resolve: () => {
              if (--left === 0) waiter.resolve();
            },
            reject: (e) => {
              disarmAll();
              waiter.reject(e);
            },
          }),
        );
      }
      return disarmAll;
    }
  })();
}

/** A plain promise as a trigger (for withTimeout). */
class PromiseTrigger<T> extends Trigger<T> {
  constructor(private readonly promise: PromiseLike<T>) {
    super();
  }
  describe(): string {
    return "a promise";
  }
  arm(sim: Sim, waiter: Waiter<T>): () => void {
    let armed = true;
    const disarmPassive = sim.addPassiveWaiter(waiter as Waiter);
    this.promise.then(
      (v) => armed && waiter.resolve(v),
      (e: unknown) => armed && waiter.reject(e instanceof Error ? e : new Error(String(e))),
    );
    return () => {
      armed = false;
      disarmPassive();
    };
  }
}

/** Awaits a trigger, task or promise; rejects with SimTimeoutError naming what was awaited after time `t`. */
export function withTimeout<T>(awaited: Trigger<T> | PromiseLike<T>, t: number, units: TimeUnit = "ns"): Promise<T> {
  const inner: Trigger<T> = awaited instanceof Trigger ? awaited : new PromiseTrigger(awaited);
  const timer = Timer(t, units);
  return currentSim().wait(
    new (class extends Trigger<T> {
      describe(): string {
        return `withTimeout(${inner.describe()}, ${t} ${units})`;
      }
      arm(sim: Sim, waiter: Waiter<T>): () => void {
        const disarmAll = () => {
          disarmInner();
          disarmTimer();
        };
        const disarmInner = inner.arm(sim, {
          ...waiter,
          resolve: (v) => {
            disarmAll();
            waiter.resolve(v);
          },
          reject: (e) => {
            disarmAll();
            waiter.reject(e);
          },
        });
        const disarmTimer = timer.arm(sim, {
          what: timer.describe(),
          task: waiter.task,
          resolve: () => {
            disarmAll();
            const cycles = sim.halfCycles(t, units) / 2;
            waiter.reject(new SimTimeoutError(`timed out after ${t} ${units} (${cycles} cycles, now cycle ${sim.cycle}) waiting for ${inner.describe()}`));
          },
          reject: (e) => {
            disarmAll();
            waiter.reject(e);
          },
        });
        return disarmAll;
      }
    })(),
  );
}
