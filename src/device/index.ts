// The offload device behind one interface, with two back ends chosen by a flag: the reference model
// in-process, or the RTL (ddp_top) co-simulated in Verilator.

import type { HostMemory } from "../contract/host-memory.js";
import type { OffloadParams } from "../model/offload-model.js";
import type { DeviceKind, OffloadDevice } from "./device.js";
import { ModelDevice } from "./model-device.js";
import { RtlDevice, type RtlDeviceOptions } from "./rtl-device.js";

export * from "./ddp-ports.js";
export * from "./device.js";
export * from "./model-device.js";
export * from "./pass-through.js";
export * from "./rtl-codec.js";
export * from "./rtl-device.js";

export interface OpenDeviceOptions extends Omit<RtlDeviceOptions, "params"> {
  /** The same parameters for both back ends (the RTL gets them as ddp_top parameters). */
  params?: Partial<OffloadParams>;
}

export async function openDevice(kind: DeviceKind, memory: HostMemory, options: OpenDeviceOptions = {}): Promise<OffloadDevice> {
  if (kind === "model") return new ModelDevice(memory, options.params ?? {});
  return RtlDevice.open(memory, options);
}
