// Co-simulation driver for ddp_top in tests: the batch driver (frames + commands in one round trip, DMA split
// per frame, cycle stamps, races), on top of the port codecs the software's RtlDevice uses (src/device).

export * from "../../src/device/rtl-codec.js";
export { completionsOf } from "../../src/device/device.js";
export * from "./driver.js";
