// The simulated-time scheduler of the cocotb-style testbench (cocotb's scheduler): one Sim per test.
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

import type { Harness, Port, UntilCondition } from "../../src/cosim/index.js";
import { currentSim, runningSim, setCurrentSim, taskContext, type TaskRef } from "./context.js";
import { CancelledError } from "./result.js";
import { Task } from "./task.js";
import type { Trigger } from "./triggers.js";
import { PS_PER_UNIT, type TimeUnit } from "./utils.js";

/** The longest single `run` while only BFM conditions are awaited (bounds the time of one request). */
const RUN_CHUNK = 100_000;

/** A registration of a waiting coroutine: what it waits on (for hang reports), its task, how to wake it. */
export interface Waiter<T = unknown> {
  what: string;
  task: TaskRef | undefined;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}
export interface TimeWaiter extends Waiter {
  time: number; // half cycles
}
export interface ConditionWaiter extends Waiter {
  condition: UntilCondition;
}
export interface EdgeWaiter extends Waiter {
  signal: string;
  rising: boolean;
}

/** Starts a coroutine in the current simulation (cocotb's start_soon). */
export function startSoon<T>(coro: (() => Promise<T>) | Promise<T>, name?: string): Task<T> {
  return currentSim().startSoon(coro, name);
}

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
    await runningSim()?.dispose();
    for (const [name, bfm] of harness.bfms) if (bfm.pattern !== "") await harness.pause(name, "");
    // Inputs a previous test drove by hand would otherwise stay driven into this test.
    const inputs = harness.ports.filter((p) => p.dir === "in" && p.name !== "clk" && p.name !== "rst");
    if (inputs.length > 0) await harness.poke(Object.fromEntries(inputs.map((p) => [p.name, 0n])));
    await harness.reset({ cycles: options.resetCycles ?? 4, bfms: true });
    const sim = new Sim(harness, await harness.peek(true));
    setCurrentSim(sim);
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
    if (runningSim() === this) setCurrentSim(undefined);
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
