// The cocotb-style testbench: everything a test in test/rtl/ needs, from one import.
//
//   import { describeRtl, RisingEdge, ClockCycles, AxiStreamSource, AxiStreamSink } from "../../tb/index.js";
//   describeRtl("ddp_crc32c DATA_W=64", { top: "ddp_crc32c", params: { DATA_W: 64 }, ports: ["clk", "s_axis_tdata"] }, (rtl) => {
//     rtl.test("vectors", async ({ dut, rng }) => { dut.s_axis_tdata.value = 1n; await RisingEdge(dut.clk); ... });
//   });

export { describeRtl, type RtlOptions, type RtlSuite, type RtlTestContext } from "./rtl.js";
export { makeDut, SignalHandle, type Dut, type DutMethods, type SignalValue } from "./dut.js";
export {
  Sim,
  createSim,
  currentSim,
  startSoon,
  Trigger,
  RunUntil,
  RisingEdge,
  FallingEdge,
  ClockCycles,
  Timer,
  ReadOnly,
  First,
  Combine,
  withTimeout,
  Task,
  Event,
  Queue,
  QueueEmpty,
  QueueFull,
  Clock,
  CancelledError,
  SimTimeoutError,
  type SignalRef,
  type TimeUnit,
} from "./sim/index.js";
export { AxiStreamFrame, AxiStreamSource, AxiStreamSink, AxiStreamMonitor, type Bytes } from "./axis.js";
export { defineStream } from "./stream.js";
export { BfmProxy, StreamSource, StreamReceiver, pausePattern, type PauseGenerator } from "./bfm.js";
export { randomPauses, randomPauseString, PAUSE_VARIANTS, setPauses, type PauseVariant, type Pausable } from "./pauses.js";
export { Rng, seedFromEnv } from "../src/util/rng.js";
export { Harness, HarnessError, type HarnessErrorKind } from "../src/cosim/index.js";
