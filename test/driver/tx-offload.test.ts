// The driver's transmit digest offload (src/driver/tx-offload.ts) over both back ends: random write streams
// with retransmissions of unacknowledged bytes and acks in between; the driver alone decides when to resync.
// Oracle: the encoder's crc32c digests (every offloaded frame must carry them), the input for the socket that
// is not offloaded, parseFrame's checksum check.

import { afterAll, describe, expect, test } from "vitest";
import { parseFrame } from "../../src/net/frame.js";
import { openTxDevice, type TxDevice } from "../../src/device/tx-device.js";
import { TxDigestOffload } from "../../src/driver/tx-offload.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";
import { txFlow, txFrame, txPduStream } from "../../tb/traffic/tx.js";

const devices: TxDevice[] = [];
afterAll(async () => Promise.all(devices.map((d) => d.close())));

describe("TxDigestOffload", () => {
  for (const kind of ["model", "rtl"] as const) {
    test(`fills every digest of offloaded sockets through retransmissions (${kind})`, async () => {
      const seed = seedFromEnv();
      console.log(`[tx-offload] ${kind}: SEED=${seed}`);
      const rng = new Rng(seed);
      const dev = await openTxDevice(kind);
      devices.push(dev);
      const drv = new TxDigestOffload(dev);
      const socks = [0, 1, 2].map((i) => ({ ctx: 10 + i, offloaded: i !== 2, flow: txFlow(rng, i), isn: rng.int(2 ** 32), stream: txPduStream(rng, 15), sent: 0, acked: 0 }));
      for (const s of socks) if (s.offloaded) drv.skAdd(s.ctx, s.isn);
      const expected: Uint8Array[] = [];
      const send = (s: (typeof socks)[number], from: number, len: number) => {
        const item = txFrame(s.flow, s.ctx, false, s.isn + from, s.stream.sent.subarray(from, from + len), false);
        drv.xmit(s.offloaded ? s.ctx : undefined, item.frame!);
        expected.push((s.offloaded ? s.stream.good : s.stream.sent).subarray(from, from + len));
      };
      for (let open = socks.filter((s) => s.sent < s.stream.sent.length); open.length > 0; open = socks.filter((s) => s.sent < s.stream.sent.length)) {
        const s = open[rng.int(open.length)]!;
        const n = Math.min(rng.range(1, 300), s.stream.sent.length - s.sent);
        send(s, s.sent, n);
        s.sent += n;
        if (rng.chance(0.2) && s.sent > s.acked) {
          const from = s.acked + rng.int(s.sent - s.acked);
          send(s, from, Math.min(rng.range(1, 300), s.sent - from));
        }
        if (rng.chance(0.3)) {
          s.acked += rng.int(s.sent - s.acked + 1);
          drv.ack(s.ctx, s.isn + s.acked);
        }
      }
      const out = await drv.flush();
      expect(out.length).toBe(expected.length);
      out.forEach((f, k) => {
        const p = parseFrame(f);
        expect(p.checksumOk, `frame ${k} checksums`).toBe(true);
        expect(Buffer.from(p.payload).toString("hex"), `frame ${k} payload`).toBe(Buffer.from(expected[k]!).toString("hex"));
      });
      const st = await dev.stats();
      expect(st.resync, "resyncs").toBeGreaterThan(0);
      expect(st.ooo, "the driver resynced before every out-of-order frame").toBe(0);
      expect(drv.stats["tx-nvme-tcp-resync-bytes"]).toBeGreaterThan(0);
    }, 120_000);
  }
});
