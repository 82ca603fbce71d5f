// Simulated time units (cocotb.utils): the units Timer and Clock accept, and picoseconds per unit.

export type TimeUnit = "fs" | "ps" | "ns" | "us" | "ms" | "sec" | "cycles";
export const PS_PER_UNIT: Record<Exclude<TimeUnit, "cycles">, number> = { fs: 1e-3, ps: 1, ns: 1e3, us: 1e6, ms: 1e9, sec: 1e12 };
