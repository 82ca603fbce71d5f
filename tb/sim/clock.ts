// The clock (cocotb.clock): the harness drives the clock itself, one cycle per rising edge; Clock records its
// period so that Timer can convert time to cycles.

import type { SignalRef } from "./triggers.js";
import { PS_PER_UNIT, type TimeUnit } from "./utils.js";

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
