// Types of scripts/synth.mjs for TypeScript callers (bench/synth.ts).

export interface SynthResult {
  module: string;
  params: Record<string, number | string>;
  /** Generic Yosys gates, flip-flops included. */
  cells: number;
  /** Bits held in RAM cells (memories are kept as RAMs, not mapped to flip-flops). */
  ramBits: number;
  /** Gates on the longest combinational path (flip-flops cut paths). */
  depth: number;
  /** 6-input LUTs after `abc -lut 6` (flip-flops not counted). */
  luts: number;
  /** LUT levels on the longest combinational path. */
  lutDepth: number;
  seconds: number;
}

export function rtlModules(): string[];
export function synthModule(module: string, params?: Record<string, number | string>): Promise<SynthResult>;
export function synthTable(results: (SynthResult | { module: string; params?: Record<string, number | string>; error: true })[]): string;
