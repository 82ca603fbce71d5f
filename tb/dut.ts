// Handles on the ports of the design under test: `dut.<port>.value` reads the snapshot taken after the latest
// edge (synchronous), `dut.<port>.value = x` queues a poke applied just before the next rising edge.

import type { Port } from "../src/cosim/index.js";
import type { Sim, SignalRef } from "./sim/index.js";

export type SignalValue = bigint | number | boolean;

export class SignalHandle implements SignalRef {
  constructor(
    readonly sim: Sim,
    readonly name: string,
    readonly width: number,
    readonly dir: Port["dir"],
  ) {}

  get value(): bigint {
    return this.sim.read(this.name);
  }

  set value(v: SignalValue) {
    this.sim.poke(this.name, v);
  }

  setValue(v: SignalValue): void {
    this.sim.poke(this.name, v);
  }

  toString(): string {
    return `dut.${this.name}`;
  }
}

export interface DutMethods {
  readonly sim: Sim;
  readonly ports: readonly Port[];
  signal(name: string): SignalHandle;
  getValue(name: string): bigint;
  setValue(name: string, value: SignalValue): void;
}

/**
 * The design's ports as properties. Name them in describeRtl's `ports` option to get `dut.clk` typed as
 * a SignalHandle (a plain `Dut` has only the methods: `dut.signal("clk")`). Any Dut<P> is assignable to Dut.
 */
export type Dut<P extends string = never> = DutMethods & { readonly [K in P]: SignalHandle };

export function makeDut<P extends string = never>(sim: Sim): Dut<P> {
  const handles = new Map(sim.ports().map((p) => [p.name, new SignalHandle(sim, p.name, p.width, p.dir)]));
  const signal = (name: string): SignalHandle => {
    const h = handles.get(name);
    if (h === undefined) throw new Error(`${sim.harness.info.top} has no port '${name}' (ports: ${[...handles.keys()].join(", ")})`);
    return h;
  };
  const methods: DutMethods = {
    sim,
    ports: sim.ports(),
    signal,
    getValue: (name) => signal(name).value,
    setValue: (name, value) => signal(name).setValue(value),
  };
  return Object.assign(Object.create(null) as object, Object.fromEntries(handles), methods) as Dut<P>;
}
