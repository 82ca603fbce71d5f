// defineStream: Source / Sink / Monitor / Transaction classes for any valid/ready side channel (cocotbext-axi's
// define_stream). A transaction's payload is its fields in order, each little-endian in ceil(width/8) bytes.

import type { ReceivedItem } from "../src/cosim/index.js";
import type { DutMethods } from "./dut.js";
import { StreamReceiver, StreamSource, type PauseGenerator } from "./bfm.js";

export function defineStream<const F extends string>(name: string, { fields }: { fields: readonly F[] }) {
  class Transaction {
    readonly values: Readonly<Record<F, bigint>>;
    /** Cycle stamps of received transactions. */
    start: number | undefined;
    end: number | undefined;

    constructor(values: Record<F, bigint | number>) {
      const missing = fields.filter((f) => values[f] === undefined);
      if (missing.length > 0) throw new Error(`${name}: transaction lacks ${missing.join(", ")}`);
      this.values = Object.fromEntries(fields.map((f) => [f, BigInt(values[f])])) as Record<F, bigint>;
    }

    equals(other: Transaction): boolean {
      return fields.every((f) => this.values[f] === other.values[f]);
    }

    toString(): string {
      return `${name}(${fields.map((f) => `${f}=0x${this.values[f].toString(16)}`).join(", ")})`;
    }
  }

  const widths = (dut: DutMethods, prefix: string): number[] => fields.map((f) => dut.signal(`${prefix}_${f}`).width);

  const encode = (tx: Transaction, w: number[]): Uint8Array => {
    const out = new Uint8Array(w.reduce((n, bits) => n + Math.ceil(bits / 8), 0));
    let at = 0;
    fields.forEach((f, i) => {
      const bits = w[i]!;
      let v = tx.values[f];
      if (v < 0n || v >> BigInt(bits) !== 0n) throw new RangeError(`${name}: ${f} = ${v} does not fit in ${bits} bits`);
      for (let b = 0; b < Math.ceil(bits / 8); b++, v >>= 8n) out[at++] = Number(v & 0xffn);
    });
    return out;
  };

  const decode = (item: ReceivedItem, w: number[]): Transaction => {
    let at = 0;
    const values = {} as Record<F, bigint>;
    fields.forEach((f, i) => {
      const n = Math.ceil(w[i]! / 8);
      let v = 0n;
      for (let b = n - 1; b >= 0; b--) v = (v << 8n) | BigInt(item.data[at + b] ?? 0);
      values[f] = v;
      at += n;
    });
    const tx = new Transaction(values);
    tx.start = item.start;
    tx.end = item.end;
    return tx;
  };

  class Source extends StreamSource<Transaction> {
    constructor(dut: DutMethods, prefix: string) {
      const w = widths(dut, prefix);
      super(dut, "vr_source", prefix, fields, (tx) => encode(tx, w));
    }
  }

  class Sink extends StreamReceiver<Transaction> {
    constructor(dut: DutMethods, prefix: string) {
      const w = widths(dut, prefix);
      super(dut, "vr_sink", prefix, fields, (item) => decode(item, w));
    }

    /** Pause pattern for ready (truthy = ready low that cycle); null restores ready. */
    setPauseGenerator(gen: PauseGenerator | null): Promise<void> {
      return this.setPattern(gen);
    }
  }

  class Monitor extends StreamReceiver<Transaction> {
    constructor(dut: DutMethods, prefix: string) {
      const w = widths(dut, prefix);
      super(dut, "vr_monitor", prefix, fields, (item) => decode(item, w));
    }
  }

  return { Source, Sink, Monitor, Transaction };
}
