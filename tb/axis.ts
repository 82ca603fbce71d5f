// AXI-Stream, cocotbext-axi style: AxiStreamFrame, AxiStreamSource / Sink / Monitor bound by signal prefix.

import type { ReceivedItem } from "../src/cosim/index.js";
import type { DutMethods } from "./dut.js";
import { StreamReceiver, StreamSource, type PauseGenerator } from "./bfm.js";

export type Bytes = Uint8Array | readonly number[] | string;

function toBytes(data: Bytes): Uint8Array {
  if (typeof data === "string") return new TextEncoder().encode(data);
  return data instanceof Uint8Array ? data : Uint8Array.from(data);
}

export class AxiStreamFrame {
  readonly tdata: Uint8Array;
  /** One entry per byte; the harness source sends contiguous keeps only, so all must be 1. */
  readonly tkeep: readonly number[] | undefined;
  readonly tuser: bigint | undefined;
  /** Cycle of the first and last beat (received frames). */
  start: number | undefined;
  end: number | undefined;

  constructor(tdata: Bytes = new Uint8Array(0), tkeep?: readonly number[], tuser?: bigint | number) {
    this.tdata = toBytes(tdata);
    if (tkeep !== undefined && tkeep.length !== this.tdata.length) {
      throw new RangeError(`AxiStreamFrame: ${tkeep.length} tkeep entries for ${this.tdata.length} bytes`);
    }
    this.tkeep = tkeep;
    this.tuser = tuser === undefined ? undefined : BigInt(tuser);
  }

  get length(): number {
    return this.tdata.length;
  }

  /** Same bytes (and same tuser when both have one). */
  equals(other: AxiStreamFrame | Bytes): boolean {
    const o = other instanceof AxiStreamFrame ? other : new AxiStreamFrame(other);
    if (this.tuser !== undefined && o.tuser !== undefined && this.tuser !== o.tuser) return false;
    return Buffer.from(this.tdata).equals(o.tdata);
  }

  toString(): string {
    const hex = Buffer.from(this.tdata.subarray(0, 32)).toString("hex");
    return `AxiStreamFrame(${this.length} bytes: ${hex}${this.length > 32 ? "..." : ""})`;
  }
}

function encodeFrame(frame: AxiStreamFrame | Bytes): Uint8Array {
  if (!(frame instanceof AxiStreamFrame)) return toBytes(frame);
  if (frame.tkeep?.some((k) => k !== 1)) throw new Error("AxiStreamSource: the harness source sends contiguous tkeep only (no null bytes)");
  if (frame.tuser !== undefined && frame.tuser !== 0n) throw new Error("AxiStreamSource: the harness source drives tuser = 0 only");
  if (frame.length === 0) throw new Error("AxiStreamSource: a frame needs at least one byte");
  return frame.tdata;
}

function decodeFrame(item: ReceivedItem): AxiStreamFrame {
  const frame = new AxiStreamFrame(new Uint8Array(item.data));
  frame.start = item.start;
  frame.end = item.end;
  return frame;
}

/** Drives `<prefix>_tdata/tkeep/tvalid/tlast` (tuser 0) and samples `<prefix>_tready`. */
export class AxiStreamSource extends StreamSource<AxiStreamFrame | Uint8Array> {
  constructor(dut: DutMethods, prefix: string) {
    super(dut, "axis_source", prefix, undefined, encodeFrame);
  }
}

/** Drives `<prefix>_tready` and collects frames (kept bytes only). */
export class AxiStreamSink extends StreamReceiver<AxiStreamFrame> {
  constructor(dut: DutMethods, prefix: string) {
    super(dut, "axis_sink", prefix, undefined, decodeFrame);
  }

  /** Pause pattern for tready (truthy = tready low that cycle); null restores tready. */
  setPauseGenerator(gen: PauseGenerator | null): Promise<void> {
    return this.setPattern(gen);
  }
}

/** Collects frames without driving anything. */
export class AxiStreamMonitor extends StreamReceiver<AxiStreamFrame> {
  constructor(dut: DutMethods, prefix: string) {
    super(dut, "axis_monitor", prefix, undefined, decodeFrame);
  }
}
