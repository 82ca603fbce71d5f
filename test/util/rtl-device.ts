// One ddp_top harness per describe block, shared by its tests: each test gets a fresh RtlDevice on it (reset,
// BFMs bound, empty host memory), so the Verilator build and process start are paid once per file.

import { afterAll, beforeAll, describe } from "vitest";
import { Harness } from "../../src/cosim/index.js";
import { RtlDevice } from "../../src/device/index.js";
import { HostMemory } from "../../src/contract/host-memory.js";

export function describeOnRtl(name: string, body: (openDevice: () => Promise<RtlDevice>) => void): void {
  describe(name, () => {
    let harness: Harness | undefined;
    beforeAll(async () => {
      harness = await Harness.spawn({ top: "ddp_top" });
    }, 600_000);
    afterAll(async () => {
      await harness?.close();
    });
    body(() => {
      if (!harness) throw new Error(`${name}: the ddp_top harness did not start`);
      return RtlDevice.attach(harness, new HostMemory());
    });
  });
}
