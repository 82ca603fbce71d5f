// ddp_tx against its model through the device interface (src/device/tx-device.ts): random write traffic over
// many sockets with retransmissions (resynced and not), deletes, sockets that are not offloaded. Frame for frame
// equal, statistics equal, every frame's TCP checksum good after the MAC's checksum offload (parseFrame's own
// check), and every byte what the wire must carry (the encoder's crc32c digests, or the input untouched).

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { txStatsByName } from "../../src/contract/ulp-ddp.js";
import { ModelTxDevice, RtlTxDevice, TX_N_CTX } from "../../src/device/tx-device.js";
import { TxKind } from "../../src/model/tx-model.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { txScenario } from "../../tb/traffic/tx.js";

describe("ddp_tx RTL against the model", () => {
  let rtl: RtlTxDevice;
  beforeAll(async () => {
    rtl = await RtlTxDevice.open();
  }, 300_000);
  afterAll(async () => rtl?.close());

  test("random write traffic with retransmissions", async () => {
    const seed = seedFromEnv();
    console.log(`[diff] ddp_tx: SEED=${seed}`);
    const rng = new Rng(seed);
    const model = new ModelTxDevice();
    let frames = 0;
    for (let round = 0; round < 6; round++) {
      const sc = txScenario(rng, { sockets: 6, pdusPerSocket: 15, nCtx: TX_N_CTX, maxSegment: rng.chance(0.5) ? 100 : 1400, maxData: 1500 });
      const [got, want] = [await rtl.send(sc.items), await model.send(sc.items)];
      const items = sc.items.filter((i) => i.frame);
      expect(got.length).toBe(items.length);
      items.forEach((item, k) => {
        const what = `seed ${seed} round ${round} frame ${k}`;
        expect(Buffer.from(got[k]!).equals(want[k]!), `${what}: RTL = model`).toBe(true);
        const f = parseFrame(got[k]!);
        expect(f.checksumOk, `${what}: checksums`).toBe(true);
        const { socket, offset, filled } = item.wire!;
        const stream = sc.sockets[socket]!.stream;
        expect(Buffer.from(f.payload).equals((filled ? stream.good : stream.sent).subarray(offset, offset + f.payload.length)), `${what}: payload`).toBe(true);
      });
      frames += items.length;
      // every context this round used is deleted, so the next round's ADDs start clean
      expect(sc.items.filter((i) => i.desc.kind === TxKind.ADD).length).toBe(sc.sockets.filter((s) => s.offload).length);
    }
    expect(await rtl.stats()).toEqual(await model.stats());
    const named = txStatsByName(await rtl.stats());
    expect(named["tx-nvme-tcp-ddgst"], "netlink names").toBe((await model.stats()).ddgst);
    expect((await model.stats()).ddgst).toBeGreaterThan(50);
    expect(frames).toBeGreaterThan(100);
  }, 120_000);
});
