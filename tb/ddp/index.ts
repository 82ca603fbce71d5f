// Co-simulation driver for ddp_top: port codecs (command beats in, events / CQEs / DMA writes out as the
// model's zod schemas) and the batch driver (frames + commands in one round trip, DMA split per frame).

export * from "./codec.js";
export * from "./driver.js";
