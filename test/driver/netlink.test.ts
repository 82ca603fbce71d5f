// The netlink family's caps algebra, flag names and statistics names (facts section 4), on the driver over
// the model device.

import { describe, expect, it } from "vitest";
import { ModelDevice } from "../../src/device/index.js";
import { capBits, capNames, capsGet, capsSet, capsSetBits, NicDriver, statsGet } from "../../src/driver/index.js";
import { ULP_DDP_STAT_NAMES } from "../../src/contract/index.js";
import { HostMemory } from "../../src/contract/host-memory.js";

describe("caps-set algebra", () => {
  it("new = ((active & ~mask) | (wanted & mask)) & hw, for every 2-bit input", () => {
    for (let active = 0; active < 4; active++)
      for (let wanted = 0; wanted < 4; wanted++)
        for (let mask = 0; mask < 4; mask++)
          for (let hw = 0; hw < 4; hw++) {
            // Per bit: a masked bit takes the wanted value, an unmasked one keeps the active value; hw gates both.
            let want = 0;
            for (const bit of [1, 2]) {
              const v = mask & bit ? wanted & bit : active & bit;
              if (v && hw & bit) want |= bit;
            }
            expect(capsSetBits(active, wanted, mask, hw), `active ${active} wanted ${wanted} mask ${mask} hw ${hw}`).toBe(want);
          }
  });

  it("masks wanted and wanted-mask to the defined bits (the policy)", () => {
    expect(capsSetBits(0, 0b111, 0b111, 0b11)).toBe(0b11);
    expect(capsSetBits(0b11, 0, 0b100, 0b11)).toBe(0b11);
  });

  it("names the bits as the family does", () => {
    expect(capNames(0b11)).toEqual(["nvme-tcp", "nvme-tcp-ddgst-rx"]);
    expect(capNames(0b10)).toEqual(["nvme-tcp-ddgst-rx"]);
    expect(capBits(["nvme-tcp-ddgst-rx"])).toBe(2);
    expect(capBits(["nvme-tcp"])).toBe(1);
    expect(capNames(0b111)).toEqual(["nvme-tcp", "nvme-tcp-ddgst-rx", "nvme-tcp-ddgst-tx"]);
    expect(capBits(["nvme-tcp-ddgst-tx"])).toBe(4);
  });
});

async function netdev() {
  const driver = await NicDriver.create(new ModelDevice(new HostMemory()), { ifindex: 7 });
  let setCalls = 0;
  const setCaps = driver.setCaps.bind(driver);
  driver.setCaps = (bits: number) => {
    setCalls++;
    return setCaps(bits);
  };
  return { driver, dev: { ifindex: 7, ops: driver }, calls: () => setCalls };
}

describe("caps-get / caps-set over the driver", () => {
  it("reports hw and active, sets with the mask, notifies only on a change", async () => {
    const { dev, calls } = await netdev();
    expect(await capsGet(dev)).toEqual({ ifindex: 7, hw: ["nvme-tcp", "nvme-tcp-ddgst-rx"], active: ["nvme-tcp", "nvme-tcp-ddgst-rx"] });

    const off = await capsSet(dev, { ifindex: 7, wanted: [], "wanted-mask": ["nvme-tcp-ddgst-rx"] });
    expect(off.reply.active).toEqual(["nvme-tcp"]);
    expect(off.notify).toEqual(off.reply);
    expect(calls()).toBe(1);

    const same = await capsSet(dev, { ifindex: 7, wanted: [], "wanted-mask": ["nvme-tcp-ddgst-rx"] });
    expect(same.reply.active).toEqual(["nvme-tcp"]);
    expect(same.notify).toBeUndefined();
    expect(calls(), "set_caps is not called when nothing changes").toBe(1);

    // Unmasked bits are kept: wanting nvme-tcp off without masking it changes nothing.
    const unmasked = await capsSet(dev, { wanted: [], "wanted-mask": [] });
    expect(unmasked.reply.active).toEqual(["nvme-tcp"]);
    const on = await capsSet(dev, { wanted: ["nvme-tcp-ddgst-rx"], "wanted-mask": ["nvme-tcp-ddgst-rx", "nvme-tcp"] });
    expect(on.reply.active).toEqual(["nvme-tcp-ddgst-rx"]);

    // The driver does not offer transmit digests (hw lacks bit 2): wanting it changes nothing.
    const tx = await capsSet(dev, { wanted: ["nvme-tcp-ddgst-tx"], "wanted-mask": ["nvme-tcp-ddgst-tx"] });
    expect(tx.reply.active).toEqual(["nvme-tcp-ddgst-rx"]);
    expect(tx.notify).toBeUndefined();
  });
});

describe("stats-get", () => {
  it("has the family's ten statistics, named and ordered as its attributes 2..11", async () => {
    const { dev } = await netdev();
    const names = [
      "rx-nvme-tcp-sk-add",
      "rx-nvme-tcp-sk-add-fail",
      "rx-nvme-tcp-sk-del",
      "rx-nvme-tcp-setup",
      "rx-nvme-tcp-setup-fail",
      "rx-nvme-tcp-teardown",
      "rx-nvme-tcp-drop",
      "rx-nvme-tcp-resync",
      "rx-nvme-tcp-packets",
      "rx-nvme-tcp-bytes",
    ];
    expect([...ULP_DDP_STAT_NAMES]).toEqual(names);
    const reply = await statsGet(dev);
    expect(Object.keys(reply)).toEqual(["ifindex", ...names]);
    expect(Object.values(reply)).toEqual([7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
