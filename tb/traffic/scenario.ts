// A scenario is what a test feeds ddp_top: command groups and frames in order, plus deliberate races (frames
// sent, a command issued `delay` cycles later while they are in flight). The same steps drive the reference
// model (src/model) and the RTL (DdpPorts, src/device), and compare.ts checks that they agree.

import type { CommandInput, SglEntry } from "../../src/contract/protocol.js";

export type Step =
  /** Commands that must act before the frames after them and after the frames before them (a barrier). */
  | { kind: "cmd"; beats: CommandInput[]; note?: string }
  | { kind: "frames"; frames: Uint8Array[]; note?: string }
  /** Frames, then one command (all the beats of one command) `delay` cycles after the frames were queued. */
  | { kind: "race"; frames: Uint8Array[]; beats: CommandInput[]; delay: number; note?: string };

/** A registered buffer, for the security checks: which (ctx, cid) it belongs to from which step on. */
export interface Buffer_ {
  ctx: number;
  cid: number;
  sgl: SglEntry[];
  /** Step index of the TAG_SETUP; the setup is expected to succeed. */
  setupStep: number;
  /** Step index of its TAG_TEARDOWN / CTX_DEL, if any. */
  teardownStep?: number;
}

export interface Scenario {
  name: string;
  steps: Step[];
  /** Frames in total (for the report). */
  frameCount(): number;
}

export class ScenarioBuilder {
  readonly steps: Step[] = [];

  constructor(readonly name: string) {}

  cmd(beats: CommandInput | readonly CommandInput[], note?: string): this {
    const list = Array.isArray(beats) ? [...(beats as readonly CommandInput[])] : [beats as CommandInput];
    if (list.length === 0) return this;
    const last = this.steps[this.steps.length - 1];
    if (last?.kind === "cmd") last.beats.push(...list);
    else this.steps.push({ kind: "cmd", beats: list, ...(note === undefined ? {} : { note }) });
    return this;
  }

  frames(frames: readonly Uint8Array[], note?: string): this {
    if (frames.length === 0) return this;
    const last = this.steps[this.steps.length - 1];
    if (last?.kind === "frames") last.frames.push(...frames);
    else this.steps.push({ kind: "frames", frames: [...frames], ...(note === undefined ? {} : { note }) });
    return this;
  }

  race(frames: readonly Uint8Array[], beats: readonly CommandInput[], delay: number, note?: string): this {
    this.steps.push({ kind: "race", frames: [...frames], beats: [...beats], delay, ...(note === undefined ? {} : { note }) });
    return this;
  }

  build(): Scenario {
    const steps = this.steps;
    return {
      name: this.name,
      steps,
      frameCount: () => steps.reduce((n, s) => n + (s.kind === "cmd" ? 0 : s.frames.length), 0),
    };
  }
}
