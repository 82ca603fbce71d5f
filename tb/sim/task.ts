// Tasks (cocotb.task): a running coroutine, awaitable like a trigger for its result.

import { taskContext } from "./context.js";
import { CancelledError } from "./result.js";
import type { Sim, Waiter } from "./scheduler.js";
import { Trigger } from "./triggers.js";

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
