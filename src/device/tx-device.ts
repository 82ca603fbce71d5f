// The transmit data-digest block as the driver sees it (docs/tx-contract.md): the transmit queue's items
// (frames with their FRAME descriptor, context commands) in order, the frames as they reach the wire out. Two
// back ends: ModelTxDevice (TxModel in-process) and RtlTxDevice (ddp_tx in Verilator over the bridge). Both end
// each frame with the MAC's TCP checksum offload (fillTcpChecksum), which sits after the block.

import { z } from "zod";
import { Harness } from "../cosim/index.js";
import { fillTcpChecksum } from "../net/csum-offload.js";
import { TxKind, TxModel, type TxDescriptor, type TxStats } from "../model/tx-model.js";
import { encodeTxDesc, TX_DESC_FIELDS } from "./tx-codec.js";
import { DeviceError, type DeviceKind } from "./device.js";

/** One item of the transmit queue. */
export interface TxQueueItem {
  desc: TxDescriptor;
  /** The frame of a FRAME descriptor. */
  frame?: Uint8Array;
}

export interface TxDevice {
  readonly kind: DeviceKind;
  /** Items in queue order; resolves with every frame as it left the NIC, in order. */
  send(items: readonly TxQueueItem[]): Promise<Uint8Array[]>;
  stats(): Promise<TxStats>;
  close(): Promise<void>;
}

/** ddp_tx's contexts as built here (the RTL parameter and the model's size). */
export const TX_N_CTX = 64;

function framesOf(items: readonly TxQueueItem[]): Uint8Array[] {
  return items.flatMap((i) => {
    if ((i.desc.kind === TxKind.FRAME) !== (i.frame !== undefined)) throw new DeviceError("a FRAME descriptor needs its frame, and only it");
    return i.frame ? [i.frame] : [];
  });
}

export class ModelTxDevice implements TxDevice {
  readonly kind = "model";
  private readonly model = new TxModel(TX_N_CTX);

  async send(items: readonly TxQueueItem[]): Promise<Uint8Array[]> {
    framesOf(items);
    const out: Uint8Array[] = [];
    for (const i of items) {
      if (i.desc.kind === TxKind.FRAME) out.push(fillTcpChecksum(this.model.frame(i.desc, i.frame!)));
      else this.model.command(i.desc);
    }
    return out;
  }

  async stats(): Promise<TxStats> {
    return { ...this.model.stats };
  }

  async close(): Promise<void> {}
}

const STAT_PORTS: Record<keyof TxStats, string> = { packets: "stat_packets", bytes: "stat_bytes", ddgst: "stat_ddgst", ooo: "stat_ooo", resync: "stat_resync", badHdr: "stat_bad_hdr" };
const StatPortsSchema = z.record(z.string(), z.bigint());

/** Cycles one batch may take: a beat per cycle plus slack for the pipeline. */
const CYCLES_PER_BYTE = 1;
const BATCH_SLACK = 1000;

export class RtlTxDevice implements TxDevice {
  readonly kind = "rtl";

  /** Bytes of each descriptor field, from the harness's port table. */
  private readonly widths: number[];

  private constructor(private readonly harness: Harness) {
    this.widths = TX_DESC_FIELDS.map((f) => {
      const port = harness.ports.find((p) => p.name === `s_desc_${f}`);
      if (!port) throw new DeviceError(`ddp_tx has no port s_desc_${f}`);
      return Math.ceil(port.width / 8);
    });
  }

  static async open(): Promise<RtlTxDevice> {
    const harness = await Harness.spawn({ top: "ddp_tx", params: { DATA_W: 64, N_CTX: TX_N_CTX } });
    try {
      await harness.reset();
      await harness.bind("vr_source", "s_desc", "desc", [...TX_DESC_FIELDS]);
      await harness.bind("axis_source", "s_axis", "in");
      await harness.bind("axis_sink", "m_axis", "out");
      return new RtlTxDevice(harness);
    } catch (e) {
      await harness.close();
      throw e;
    }
  }

  async send(items: readonly TxQueueItem[]): Promise<Uint8Array[]> {
    const frames = framesOf(items);
    if (items.length === 0) return [];
    await this.harness.send("desc", items.map((i) => encodeTxDesc(i.desc, this.widths)));
    if (frames.length > 0) await this.harness.send("in", frames);
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    const budget = bytes * CYCLES_PER_BYTE + items.length + BATCH_SLACK;
    await this.harness.run(budget, frames.length > 0 ? [{ received: { out: frames.length } }] : [{ idle: "desc" }]);
    const got = frames.length > 0 ? await this.harness.recv("out") : [];
    if (got.length !== frames.length) throw new DeviceError(`ddp_tx returned ${got.length} of ${frames.length} frames within ${budget} cycles`);
    return got.map((g) => fillTcpChecksum(g.data));
  }

  async stats(): Promise<TxStats> {
    const v = StatPortsSchema.parse(await this.harness.peek(Object.values(STAT_PORTS)));
    const missing = Object.values(STAT_PORTS).filter((p) => v[p] === undefined);
    if (missing.length > 0) throw new DeviceError(`ddp_tx did not report ${missing.join(", ")}`);
    return Object.fromEntries(Object.entries(STAT_PORTS).map(([k, p]) => [k, Number(v[p])])) as TxStats;
  }

  async close(): Promise<void> {
    await this.harness.close();
  }
}

export async function openTxDevice(kind: DeviceKind): Promise<TxDevice> {
  return kind === "rtl" ? RtlTxDevice.open() : new ModelTxDevice();
}
