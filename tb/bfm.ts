// Proxies for the C++ bus-functional models of the harness. Frames and transactions travel in bulk (send,
// recv); waiting for them is a harness `run` with an `until` condition, so N items cost a few round trips,
// not one per cycle. Shared by the AXI-Stream classes and defineStream.

import { HarnessError, type BfmKind, type BfmStatus, type BoundBfm, type ReceivedItem } from "../src/cosim/index.js";
import type { DutMethods } from "./dut.js";
import { ClockCycles, First, RunUntil, type Sim, type Trigger } from "./sim/index.js";

/** Longest pause pattern sent to the harness; a periodic generator is sent as one period. */
const MAX_PATTERN = 4096;

/** Pause generator values (cocotbext-axi style: truthy = pause this cycle). */
export type PauseGenerator = Iterable<boolean | number>;

/**
 * Samples a generator into a cyclic `0`/`1` pattern. A finite generator is taken whole (the harness repeats
 * it); an endless one is cut to its smallest period when the sample holds at least two periods of it.
 */
export function pausePattern(gen: PauseGenerator): string {
  const bits: string[] = [];
  let endless = false;
  for (const v of gen) {
    if (bits.length === MAX_PATTERN) {
      endless = true;
      break;
    }
    bits.push(v ? "1" : "0");
  }
  // Knuth-Morris-Pratt failure function: bits[i] === bits[i + period] for every i.
  const n = bits.length;
  const border = new Array<number>(n).fill(0);
  for (let i = 1, k = 0; i < n; i++) {
    while (k > 0 && bits[i] !== bits[k]) k = border[k - 1]!;
    if (bits[i] === bits[k]) k++;
    border[i] = k;
  }
  const period = n - (border[n - 1] ?? 0);
  const periodic = endless ? 2 * period <= n : n % period === 0;
  return (periodic ? bits.slice(0, period) : bits).join("");
}

export abstract class BfmProxy {
  readonly sim: Sim;
  /** The BFM's name in the harness: `<kind>:<prefix>`. */
  readonly name: string;
  protected readonly bound: Promise<BoundBfm>;

  constructor(dut: DutMethods, kind: BfmKind, prefix: string, fields?: readonly string[]) {
    this.sim = dut.sim;
    this.name = `${kind}:${prefix}`;
    const harness = this.sim.harness;
    this.bound = this.sim.spawnRequest(() => harness.bind(kind, prefix, this.name, fields === undefined ? undefined : [...fields]));
  }

  /** A harness request made once the BFM is bound; time does not advance meanwhile. */
  protected async request<T>(fn: () => Promise<T>): Promise<T> {
    await this.bound;
    return this.sim.call(fn);
  }

  protected async status(): Promise<BfmStatus> {
    const all = await this.request(() => this.sim.harness.status());
    const mine = all[this.name];
    if (mine === undefined) throw new HarnessError("protocol", `status reply has no BFM '${this.name}'`, { op: "status" });
    return mine;
  }

  /** A trigger `n` cycles of the harness clock from now. */
  protected cycles(n: number): Trigger {
    return ClockCycles({ sim: this.sim, name: this.sim.clockName, width: 1 }, n);
  }

  protected setPattern(gen: PauseGenerator | null): Promise<void> {
    const pattern = gen === null ? "" : pausePattern(gen);
    return this.sim.spawnRequest(async () => {
      await this.bound;
      await this.sim.harness.pause(this.name, pattern);
    });
  }
}

/** Drives items into the design; `encode` turns one item into its binary payload. */
export class StreamSource<Item> extends BfmProxy {
  constructor(
    dut: DutMethods,
    kind: "axis_source" | "vr_source",
    prefix: string,
    fields: readonly string[] | undefined,
    private readonly encode: (item: Item) => Uint8Array,
  ) {
    super(dut, kind, prefix, fields);
  }

  /** Queues one item or a list in the harness (no simulated time passes). */
  async send(items: Item | readonly Item[]): Promise<void> {
    const payloads = (Array.isArray(items) ? (items as readonly Item[]) : [items as Item]).map(this.encode);
    if (payloads.length === 0) return;
    await this.request(() => this.sim.harness.send(this.name, payloads));
  }

  /** Like send, without waiting; a failure fails the test. */
  sendNowait(items: Item | readonly Item[]): void {
    void this.sim.spawnRequest(() => this.send(items));
  }

  /** Items not yet started. */
  async count(): Promise<number> {
    return (await this.status()).queued;
  }

  async empty(): Promise<boolean> {
    return (await this.count()) === 0;
  }

  /** Nothing queued and not in the middle of an item. */
  async idle(): Promise<boolean> {
    const s = await this.status();
    return s.queued === 0 && !s.busy;
  }

  /** Waits until idle. */
  async wait(): Promise<void> {
    while (!(await this.idle())) await this.sim.wait(new RunUntil({ idle: this.name }, `${this.name} idle`, this.sim));
  }

  /** Drops the items not yet started (an item in progress finishes first). */
  async clear(): Promise<void> {
    while ((await this.status()).busy) await this.sim.wait(this.cycles(1));
    await this.request(() => this.sim.harness.clear(this.name));
  }

  /** Pause pattern for valid (truthy = valid low that cycle); null restores valid. */
  setPauseGenerator(gen: PauseGenerator | null): Promise<void> {
    return this.setPattern(gen);
  }
}

/** Collects items from the design (sink or monitor); `decode` turns one received payload into an item. */
export class StreamReceiver<Item> extends BfmProxy {
  private readonly buffer: Item[] = [];

  constructor(
    dut: DutMethods,
    kind: "axis_sink" | "axis_monitor" | "vr_sink" | "vr_monitor",
    prefix: string,
    fields: readonly string[] | undefined,
    private readonly decode: (item: ReceivedItem) => Item,
  ) {
    super(dut, kind, prefix, fields);
  }

  /** Moves what the harness collected so far into the local buffer (no simulated time passes). */
  private async fetch(): Promise<void> {
    const items = await this.request(() => this.sim.harness.recv(this.name));
    for (const item of items) this.buffer.push(this.decode(item));
  }

  private arrival(count: number): RunUntil {
    return new RunUntil({ received: { [this.name]: count } }, `${count} item(s) on ${this.name}`, this.sim);
  }

  /** The next item, waiting for it in simulated time. */
  async recv(): Promise<Item> {
    for (;;) {
      const item = this.buffer.shift();
      if (item !== undefined) return item;
      await this.fetch();
      if (this.buffer.length === 0) await this.sim.wait(this.arrival(1));
    }
  }

  /** The next item if one has arrived, else undefined (no simulated time passes). */
  async recvNowait(): Promise<Item | undefined> {
    if (this.buffer.length === 0) await this.fetch();
    return this.buffer.shift();
  }

  /** The next `n` items; a HarnessError of kind `limit` if they have not all arrived within `maxCycles`. */
  async recvMany(n: number, { maxCycles = 1_000_000 }: { maxCycles?: number } = {}): Promise<Item[]> {
    if (this.buffer.length < n) {
      await this.sim.wait(First(this.arrival(n - this.buffer.length), this.cycles(maxCycles)));
      await this.fetch();
      if (this.buffer.length < n) {
        throw new HarnessError("limit", `${this.name}: recvMany(${n}) received only ${this.buffer.length} within ${maxCycles} cycles`, {
          cycle: this.sim.cycle,
        });
      }
    }
    return this.buffer.splice(0, n);
  }

  /** Items received and not yet taken. */
  async count(): Promise<number> {
    return this.buffer.length + (await this.status()).received;
  }

  async empty(): Promise<boolean> {
    return (await this.count()) === 0;
  }

  /** Waits until at least one item is available, without taking it. */
  async wait(): Promise<void> {
    while ((await this.count()) === 0) await this.sim.wait(this.arrival(1));
  }

  /** Drops every item received so far. */
  async clear(): Promise<void> {
    await this.fetch();
    this.buffer.length = 0;
  }
}
