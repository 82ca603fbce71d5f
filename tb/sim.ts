// The simulated-time scheduler of the cocotb-style testbench.
//
// Time model. The harness is cycle based: one cycle = one rising edge of the harness clock, and signals only
// change at rising edges (poked inputs are applied just before the next edge). Time here is counted in half
// cycles so that both edges exist:
//   - RisingEdge(clk) / ClockCycles(clk, n) wake right after a rising edge; `dut.x.value` then reads the values
//     the harness returned after that edge (already settled, like cocotb's ReadOnly after RisingEdge).
//   - FallingEdge(clk) wakes half a cycle later. Nothing is evaluated there: values read are still those of the
//     last rising edge, and pokes made there are applied before the next rising edge, as in cocotb.
//   - ReadOnly() wakes at the current time once every other task has run, without advancing time.
//   - Timer(t, units) is converted to half cycles with the period given to Clock (rounded up).
// Coroutines are plain async functions. When every one of them is blocked on a trigger (nothing runs and no
// harness request is in flight), the scheduler advances the harness to the earliest wake-up in ONE request:
// `step` (with the queued pokes and a fresh snapshot), or `run` with `until` conditions when a BFM proxy waits
// for frames. Edges of non-clock signals are found by stepping one cycle at a time (exact but slow).

import { AsyncLocalStorage } from "node:async_hooks";
import { Harness, HarnessError, type UntilCondition, type Port } from "../src/cosim/index.js";

export type TimeUnit = "fs" | "ps" | "ns" | "us" | "ms" | "sec" | "cycles";
const PS_PER_UNIT: Record<Exclude<TimeUnit, "cycles">, number> = { fs: 1e-3, ps: 1, ns: 1e3, us: 1e6, ms: 1e9, sec: 1e12 };

/** The longest single `run` while only BFM conditions are awaited (bounds the time of one request). */
const RUN_CHUNK = 100_000;

export class CancelledError extends Error {
  constructor(what: string) {
    super(`${what} was cancelled`);
    this.name = "CancelledError";
  }
}

export class SimTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimTimeoutError";
  }
}

/** What the scheduler needs to know of a task (independent of its result type). */
interface TaskRef {
  readonly name: string;
  readonly cancelled: boolean;
  cancel(): void;
}

interface Waiter<T = unknown> {
  what: string;
  task: TaskRef | undefined;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}
interface TimeWaiter extends Waiter {
  time: number; // half cycles
}
interface ConditionWaiter extends Waiter {
  condition: UntilCondition;
}
interface EdgeWaiter extends Waiter {
  signal: string;
  rising: boolean;
}

/** The task a coroutine runs in, carried across awaits (used to cancel its waits). */
const taskContext = new AsyncLocalStorage<TaskRef>();

let current: Sim | undefined;

/** The simulation of the running test. */
export function currentSim(): Sim {
  if (current === undefined) throw new Error("no simulation running: use describeRtl(...) or await createSim(harness)");
  return current;
}

/** Starts a coroutine in the current simulation (cocotb's start_soon). */
export function startSoon<T>(coro: (() => Promise<T>) | Promise<T>, name?: string): Task<T> {
  return currentSim().startSoon(coro, name);
}

// ------------------------------------------------------------------------------------------------ triggers

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

// ------------------------------------------------------------------------------------------------ tasks

type Outcome<T> = { state: "running" } | { state: "done"; value: T } | { state: "failed"; error: Error } | { state: "cancelled" };

/** A running coroutine (cocotb's Task). Awaiting it (or `join()`) gives its result or rethrows its error. */
export class Task<T = unknown> extends Trigger<T> {
  private outcome: Outcome<T> = { state: "running" };
  private readonly watchers = new Set<Waiter<T>>();

  constructor(
    private readonly simulation: Sim,
    readonly name: string,
  ) {
    super();
  }

  protected override sim(): Sim {
    return this.simulation;
  }

  /** Runs the coroutine inside this task's context (so the scheduler knows whose waits are whose). */
  run(coro: (() => Promise<T>) | Promise<T>): void {
    const body = typeof coro === "function" ? () => taskContext.run(this, coro) : () => coro;
    queueMicrotask(() => {
      if (this.outcome.state !== "running") return;
      body().then(
        (value) => this.finish({ state: "done", value }),
        (e: unknown) => this.finish({ state: "failed", error: e instanceof Error ? e : new Error(String(e)) }),
      );
    });
  }

  private finish(outcome: Outcome<T>): void {
    if (this.outcome.state !== "running") return; // cancelled meanwhile: the rest of the coroutine is ignored
    this.outcome = outcome;
    for (const w of [...this.watchers]) this.settle(w);
    if (outcome.state === "failed") this.simulation.taskFailed(this, outcome.error);
  }

  private settle(w: Waiter<T>): void {
    this.watchers.delete(w);
    const o = this.outcome;
    if (o.state === "done") w.resolve(o.value);
    else if (o.state === "failed") w.reject(o.error);
    else if (o.state === "cancelled") w.reject(new CancelledError(`task ${this.name}`));
  }

  get done(): boolean {
    return this.outcome.state !== "running";
  }

  get cancelled(): boolean {
    return this.outcome.state === "cancelled";
  }

  /** Stops the task: its current and later waits reject with CancelledError; joiners get CancelledError. */
  cancel(): void {
    if (this.outcome.state !== "running") return;
    this.finish({ state: "cancelled" });
    this.simulation.cancelWaitersOf(this);
  }

  join(): Promise<T> {
    return this.simulation.wait(this);
  }

  /** The result of a finished task (throws its error, or if it is still running). */
  result(): T {
    const o = this.outcome;
    if (o.state === "done") return o.value;
    if (o.state === "failed") throw o.error;
    throw new Error(`task ${this.name} is ${o.state}`);
  }

  describe(): string {
    return `Task(${this.name})`;
  }

  arm(sim: Sim, waiter: Waiter<T>): () => void {
    this.watchers.add(waiter);
    const disarmPassive = sim.addPassiveWaiter(waiter as Waiter);
    if (this.done) queueMicrotask(() => this.settle(waiter));
    return () => {
      this.watchers.delete(waiter);
      disarmPassive();
    };
  }
}

// ------------------------------------------------------------------------------------------------ sync

/** cocotb's Event: tasks wait until another task sets it. */
export class Event {
  data: unknown = undefined;
  private isSetFlag = false;
  private readonly waiters = new Set<Waiter<void>>();

  constructor(readonly name = "event") {}

  set(data?: unknown): void {
    this.data = data;
    this.isSetFlag = true;
    for (const w of [...this.waiters]) w.resolve();
    this.waiters.clear();
  }

  clear(): void {
    this.isSetFlag = false;
  }

  isSet(): boolean {
    return this.isSetFlag;
  }

  wait(): Trigger {
    const event = this;
    return new (class extends Trigger {
      describe(): string {
        return `Event(${event.name}).wait()`;
      }
      arm(sim: Sim, waiter: Waiter<void>): () => void {
        if (event.isSetFlag) {
          queueMicrotask(() => waiter.resolve());
          return () => undefined;
        }
        event.waiters.add(waiter);
        const disarmPassive = sim.addPassiveWaiter(waiter as Waiter);
        return () => {
          event.waiters.delete(waiter);
          disarmPassive();
        };
      }
    })();
  }
}

export class QueueEmpty extends Error {}
export class QueueFull extends Error {}

/** cocotb's Queue: FIFO between coroutines; `maxsize` 0 = unbounded. */
export class Queue<T> {
  private readonly items: T[] = [];
  private readonly changed = new Event("queue");

  constructor(readonly maxsize = 0) {}

  qsize(): number {
    return this.items.length;
  }
  empty(): boolean {
    return this.items.length === 0;
  }
  full(): boolean {
    return this.maxsize > 0 && this.items.length >= this.maxsize;
  }

  putNowait(item: T): void {
    if (this.full()) throw new QueueFull(`queue full (${this.maxsize})`);
    this.items.push(item);
    this.changed.set();
  }

  getNowait(): T {
    if (this.empty()) throw new QueueEmpty("queue empty");
    const item = this.items.shift() as T;
    this.changed.set();
    return item;
  }

  async put(item: T): Promise<void> {
    while (this.full()) await this.nextChange();
    this.putNowait(item);
  }

  async get(): Promise<T> {
    while (this.empty()) await this.nextChange();
    return this.getNowait();
  }

  private nextChange(): Trigger {
    this.changed.clear();
    return this.changed.wait();
  }
}

/** cocotb's Clock. The harness generates the clock; this records its period so Timer can count cycles. */
export class Clock {
  readonly periodPs: number;

  constructor(
    readonly signal: SignalRef,
    period: number,
    units: Exclude<TimeUnit, "cycles"> = "ns",
  ) {
    if (signal.name !== signal.sim.clockName) throw new Error(`Clock: dut.${signal.name} is not the harness clock (${signal.sim.clockName})`);
    if (!(period > 0)) throw new RangeError(`Clock: period must be positive, got ${period}`);
    this.periodPs = period * PS_PER_UNIT[units];
  }

  start(): void {
    this.signal.sim.clockPeriodPs = this.periodPs;
  }
}

// ------------------------------------------------------------------------------------------------ the simulation

/** One test's simulation: the harness, the value snapshot, queued pokes, waiters and tasks. */
export class Sim {
  readonly harness: Harness;
  readonly clockName: string;
  /** Harness cycle of the latest rising edge; `time` is in half cycles (odd = after the falling edge). */
  cycle: number;
  private phase: 0 | 1 = 0;
  clockPeriodPs: number | undefined;

  private readonly snapshot = new Map<string, bigint>();
  private readonly pokes = new Map<string, bigint>();
  private readonly timeWaiters = new Set<TimeWaiter>();
  private readonly conditionWaiters = new Set<ConditionWaiter>();
  private readonly edgeWaiters = new Set<EdgeWaiter>();
  private readonly readOnlyWaiters = new Set<Waiter>();
  private readonly passiveWaiters = new Set<Waiter>();
  private readonly tasks = new Set<TaskRef>();
  private readonly background = new Set<Promise<unknown>>();
  private inFlight = 0;
  private kickPending = false;
  private advancing = false;
  private disposed = false;
  private taskCount = 0;
  /** The first error of a task or background request: fails the test unless taken with takeFailure(). */
  failure: Error | undefined;

  private constructor(harness: Harness, values: Record<string, bigint>) {
    this.harness = harness;
    this.clockName = harness.info.clock;
    this.cycle = harness.cycle;
    for (const [k, v] of Object.entries(values)) this.snapshot.set(k, v);
  }

  /** Resets the design (BFM queues cleared, pause patterns off), reads every port and makes this the current sim. */
  static async create(harness: Harness, options: { resetCycles?: number } = {}): Promise<Sim> {
    await current?.dispose();
    for (const [name, bfm] of harness.bfms) if (bfm.pattern !== "") await harness.pause(name, "");
    await harness.reset({ cycles: options.resetCycles ?? 4, bfms: true });
    const sim = new Sim(harness, await harness.peek(true));
    current = sim;
    return sim;
  }

  get time(): number {
    return 2 * this.cycle + this.phase;
  }

  ports(): readonly Port[] {
    return this.harness.ports;
  }

  /** The value of a port after the latest edge. */
  read(name: string): bigint {
    const v = this.snapshot.get(name);
    if (v === undefined) throw new Error(`no port '${name}' on ${this.harness.info.top}`);
    return v;
  }

  /** Queues a poke, applied just before the next rising edge. */
  poke(name: string, value: bigint | number | boolean): void {
    const port = this.harness.port(name);
    if (port.dir !== "in") throw new Error(`dut.${name} is an output: it cannot be assigned`);
    const v = BigInt(value);
    if (v < 0n || v >> BigInt(port.width) !== 0n) throw new RangeError(`dut.${name} is ${port.width} bits: ${value} does not fit`);
    this.pokes.set(name, v);
  }

  halfCycles(t: number, units: TimeUnit): number {
    if (units === "cycles") return Math.max(1, Math.ceil(2 * t - 1e-9));
    if (this.clockPeriodPs === undefined) throw new Error(`Timer(${t} ${units}) needs a started Clock to convert time to cycles (or use units "cycles")`);
    return Math.max(1, Math.ceil((t * PS_PER_UNIT[units]) / (this.clockPeriodPs / 2) - 1e-9));
  }

  startSoon<T>(coro: (() => Promise<T>) | Promise<T>, name?: string): Task<T> {
    const task = new Task<T>(this, name ?? `task${++this.taskCount}`);
    this.tasks.add(task);
    task.run(coro);
    return task;
  }

  /** Runs a harness request on behalf of a coroutine: time does not advance while it is in flight. */
  async call<T>(request: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await request();
    } finally {
      this.inFlight--;
      this.kick();
    }
  }

  /** A request nobody awaits (sendNowait, pause generators): its failure fails the test. */
  spawnRequest<T>(request: () => Promise<T>): Promise<T> {
    const p = this.call(request);
    this.background.add(p);
    p.then(
      () => this.background.delete(p),
      (e: unknown) => {
        this.background.delete(p);
        this.fail(e instanceof Error ? e : new Error(String(e)));
      },
    );
    return p;
  }

  wait<T>(trigger: Trigger<T>): Promise<T> {
    const task = taskContext.getStore();
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (task?.cancelled) return Promise.reject(new CancelledError(`task ${task.name}`));
    if (this.disposed) return Promise.reject(new Error(`${trigger.describe()}: the test's simulation is over`));
    return new Promise<T>((resolve, reject) => {
      trigger.arm(this, { what: trigger.describe(), task, resolve, reject });
    });
  }

  // Waiter registration (called by triggers). Each returns its disarm function.
  addTimeWaiter(w: TimeWaiter): () => void {
    return this.register(this.timeWaiters, w);
  }
  addConditionWaiter(w: ConditionWaiter): () => void {
    return this.register(this.conditionWaiters, w);
  }
  addEdgeWaiter(w: EdgeWaiter): () => void {
    return this.register(this.edgeWaiters, w);
  }
  addReadOnlyWaiter(w: Waiter): () => void {
    return this.register(this.readOnlyWaiters, w);
  }
  /** Waiters woken by other coroutines (events, queues, tasks), not by time: listed for hang reports. */
  addPassiveWaiter(w: Waiter): () => void {
    return this.register(this.passiveWaiters, w);
  }

  private register<W extends Waiter>(set: Set<W>, w: W): () => void {
    set.add(w);
    this.kick();
    return () => set.delete(w);
  }

  private allWaiterSets(): Set<Waiter>[] {
    return [this.timeWaiters, this.conditionWaiters, this.edgeWaiters, this.readOnlyWaiters, this.passiveWaiters];
  }

  cancelWaitersOf(task: TaskRef): void {
    for (const set of this.allWaiterSets()) {
      for (const w of [...set]) {
        if (w.task !== task) continue;
        set.delete(w);
        w.reject(new CancelledError(`task ${task.name}`));
      }
    }
  }

  taskFailed(task: TaskRef, error: Error): void {
    if (error instanceof CancelledError) return;
    this.fail(Object.assign(new Error(`task ${task.name} failed: ${error.message}`, { cause: error }), { stack: error.stack }));
  }

  /** For tests that expect a task or background request to fail: returns the error and clears it. */
  takeFailure(): Error | undefined {
    const error = this.failure;
    this.failure = undefined;
    return error;
  }

  /** Records the error that fails the test and wakes the test's own waits with it (tasks are left alone). */
  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    for (const set of this.allWaiterSets()) {
      for (const w of [...set]) {
        if (w.task !== undefined) continue;
        set.delete(w);
        w.reject(error);
      }
    }
  }

  /** Who waits on what: for hang reports. */
  describeWaiters(): string[] {
    const lines: string[] = [];
    for (const set of this.allWaiterSets()) {
      for (const w of set) lines.push(`${w.task === undefined ? "test" : `task ${w.task.name}`} waits on ${w.what}`);
    }
    return lines;
  }

  /** Cancels every task and waits for requests still in flight, so the next test starts from a quiet harness. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    for (const task of this.tasks) task.cancel();
    this.disposed = true;
    await Promise.allSettled([...this.background]);
    if (current === this) current = undefined;
  }

  // ---------------------------------------------------------------- advancing time

  private kick(): void {
    if (this.kickPending || this.disposed) return;
    this.kickPending = true;
    // setImmediate runs after every pending promise continuation: by then all coroutines are blocked.
    setImmediate(() => {
      this.kickPending = false;
      void this.advance();
    });
  }

  private async advance(): Promise<void> {
    if (this.advancing || this.inFlight > 0 || this.disposed) return;
    this.advancing = true;
    let woke = false;
    try {
      woke = await this.advanceOnce();
    } catch (e) {
      // The harness failed while everybody waited on time (assertion, dead process...): they all get the error.
      const error = e instanceof Error ? e : new Error(String(e));
      for (const set of [this.timeWaiters, this.conditionWaiters, this.edgeWaiters, this.readOnlyWaiters] as Set<Waiter>[]) {
        for (const w of [...set]) w.reject(error);
        set.clear();
      }
    } finally {
      this.advancing = false;
    }
    if (woke || this.timeWaiters.size + this.conditionWaiters.size + this.edgeWaiters.size > 0) this.kick();
  }

  /** Advances to the earliest wake-up and wakes whoever is due; returns whether anyone woke. */
  private async advanceOnce(): Promise<boolean> {
    this.syncCycle();
    if (this.readOnlyWaiters.size > 0) return this.wake(this.readOnlyWaiters, () => true);
    if (this.wake(this.timeWaiters, (w) => w.time <= this.time)) return true;

    const target = Math.min(...[...this.timeWaiters].map((w) => w.time));
    const edgesToTarget = Number.isFinite(target) ? Math.floor(target / 2) - this.cycle : Infinity;
    if (edgesToTarget <= 0) {
      this.phase = 1; // the falling edge of this cycle: nothing to evaluate
      return this.wake(this.timeWaiters, (w) => w.time <= this.time);
    }
    const conditions = [...this.conditionWaiters];
    const watchEdges = this.edgeWaiters.size > 0;
    if (!Number.isFinite(edgesToTarget) && conditions.length === 0 && !watchEdges) return false; // only passive waiters

    const cycles = Math.min(edgesToTarget, watchEdges ? 1 : RUN_CHUNK);
    const before = new Map(this.snapshot);
    const pokes = Object.fromEntries(this.pokes);
    this.pokes.clear();
    let met: ConditionWaiter[] = [];
    if (conditions.length === 0) {
      this.store(await this.harness.step(cycles, { poke: pokes, peek: true }));
    } else {
      if (Object.keys(pokes).length > 0) await this.harness.poke(pokes);
      const result = await this.harness.run(cycles, conditions.map((c) => c.condition));
      met = result.met.map((i) => conditions[i]).filter((c): c is ConditionWaiter => c !== undefined);
      this.store(await this.harness.peek(true));
    }
    this.syncCycle();
    if (this.cycle === Math.floor(target / 2) && target % 2 === 1) this.phase = 1;

    // Wake in one go, after the last request: coroutines resume only once the snapshot is complete.
    const metSet = new Set(met);
    const edgeHit = (w: EdgeWaiter) => {
      const was = before.get(w.signal);
      const now = this.snapshot.get(w.signal);
      return w.rising ? was === 0n && now === 1n : was === 1n && now === 0n;
    };
    const a = this.wake(this.edgeWaiters, edgeHit);
    const b = this.wake(this.conditionWaiters, (w) => metSet.has(w));
    const c = this.wake(this.timeWaiters, (w) => w.time <= this.time);
    return a || b || c;
  }

  private syncCycle(): void {
    if (this.harness.cycle !== this.cycle) {
      this.cycle = this.harness.cycle;
      this.phase = 0;
    }
  }

  private store(values: Record<string, bigint> | undefined): void {
    for (const [k, v] of Object.entries(values ?? {})) this.snapshot.set(k, v);
  }

  private wake<W extends Waiter>(set: Set<W>, due: (w: W) => boolean): boolean {
    let any = false;
    for (const w of [...set]) {
      if (!due(w)) continue;
      set.delete(w);
      w.resolve(undefined);
      any = true;
    }
    return any;
  }
}

/** Builds a Sim for a harness outside describeRtl (benchmarks, scripts): resets it and makes it current. */
export function createSim(harness: Harness, options: { resetCycles?: number } = {}): Promise<Sim> {
  return Sim.create(harness, options);
}

export { HarnessError };
