// Synchronisation between coroutines (cocotb.triggers.Event, cocotb.queue): an Event tasks wait on until it is
// set, and a FIFO Queue with blocking put / get.

import type { Sim, Waiter } from "./scheduler.js";
import { Trigger } from "./triggers.js";

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
