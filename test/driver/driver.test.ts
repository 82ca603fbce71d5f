// The driver's ulp_ddp ops and receive path on both device back ends: context and tag allocation with the
// software fallback whenever the device cannot take a request, the driver's statistics, and skbs whose placed
// fragments point at the SGL address of their buffer offset while ring fragments carry the frame's bytes.
// Expected addresses and bytes come from the test's own SGLs and stream, not from the driver.

import { describe, expect, it } from "vitest";
import { ModelDevice, type OffloadDevice } from "../../src/device/index.js";
import { describeOnRtl } from "../util/rtl-device.js";
import { NicDriver } from "../../src/driver/index.js";
import { Errno, fragLength, type Skb, ULP_DDP_CAP_NVME_TCP, ULP_DDP_CAP_NVME_TCP_DDGST_RX, type UlpDdpSocket, type UlpDdpUlpOps } from "../../src/contract/index.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import type { SglEntry } from "../../src/contract/protocol.js";
import type { FlowAddress } from "../../src/net/frame.js";
import { TcpStreamSender } from "../../src/net/tcp-sender.js";
import { bucketPairFill } from "../../tb/traffic/buckets.js";
import { encodePdu, type Pdu } from "../../src/pdu/pdu.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`driver.test seed=${seed} (SEED=${seed} to reproduce)`);

/** The target's side of a connection (frames the NIC receives). */
function targetFlow(port: number): FlowAddress {
  return { srcMac: "02:00:00:00:00:02", dstMac: "02:00:00:00:00:01", ipVersion: 4, srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 4420, dstPort: port };
}

function socketOf(port: number, copiedSeq: number): UlpDdpSocket {
  const f = targetFlow(port);
  return { flow: { ipVersion: 4, srcIp: f.srcIp, dstIp: f.dstIp, srcPort: f.srcPort, dstPort: f.dstPort }, copiedSeq };
}

class Ulp implements UlpDdpUlpOps {
  readonly done: unknown[] = [];
  readonly resyncs: number[] = [];
  resyncRequest(seq: number): boolean {
    this.resyncs.push(seq);
    return true;
  }
  ddpTeardownDone(ctx: unknown): void {
    this.done.push(ctx);
  }
}

const DGST = { pfv: 0, cpda: 0, queueSize: 32, affinityHint: 0 };

/**
 * An SGL of `total` bytes in pages of `page` bytes, each page its own allocation: the first entry starts anywhere
 * in its page, the others on a page boundary (what the device's page rules take).
 */
function randomSgl(memory: HostMemory, rng: Rng, total: number, page: number): SglEntry[] {
  const out: SglEntry[] = [];
  for (let left = total, off = rng.int(page); left > 0; off = 0) {
    const len = Math.min(left, page - off);
    out.push({ addr: memory.allocate(len, 64, page, off), len });
    left -= len;
  }
  return out;
}

function sglAddr(sgl: readonly SglEntry[], off: number): bigint {
  for (const e of sgl) {
    if (off < e.len) return e.addr + BigInt(off);
    off -= e.len;
  }
  throw new Error(`offset beyond the SGL`);
}

function driverTests(kind: string, open: () => Promise<OffloadDevice>): void {
  describe(`driver on the ${kind} device`, () => {
    it("context table full: sk_add fails and the socket stays in software; a freed context is reused", async () => {
      const driver = await NicDriver.create(await open());
      const n = driver.hw.nCtx;
      const ulp = new Ulp();
      const socks = Array.from({ length: n + 1 }, (_, i) => socketOf(41000 + i, 1000 * i));
      for (let i = 0; i < n; i++) expect(await driver.skAdd(socks[i]!, { ...DGST, dgst: 3 }, ulp), `sk_add ${i}`).toBe(0);
      expect(await driver.skAdd(socks[n]!, { ...DGST, dgst: 3 }, ulp)).toBe(-Errno.ENOSPC);
      expect(await driver.skAdd(socks[0]!, { ...DGST, dgst: 3 }, ulp), "the same socket twice").toBe(-Errno.EEXIST);
      await driver.skDel(socks[3]!);
      expect(await driver.skAdd(socks[n]!, { ...DGST, dgst: 3 }, ulp)).toBe(0);
      const stats = await driver.getStats();
      expect([stats["rx-nvme-tcp-sk-add"], stats["rx-nvme-tcp-sk-add-fail"], stats["rx-nvme-tcp-sk-del"]]).toEqual([n + 1, 2, 1]);
    });

    it("setup refusals: tag table full, SGL too long, a bad SGL, caps off; each counted, nothing held", async () => {
      const device = await open();
      const driver = await NicDriver.create(device);
      const memory = device.memory;
      const rng = new Rng(seed);
      const sk = socketOf(40001, 5000);
      const ulp = new Ulp();
      expect(await driver.skAdd(sk, { ...DGST, dgst: 0 }, ulp)).toBe(0);
      const one = (): SglEntry[] => [{ addr: memory.allocate(512), len: 512 }];

      // One page more than the device takes.
      const page = driver.hw.page;
      const tooLong = randomSgl(memory, rng, driver.hw.maxDdpSglLen * page + 1, page);
      expect(tooLong.length).toBeGreaterThan(driver.hw.maxDdpSglLen);
      expect(await driver.setup(sk, { commandId: 1, sgl: tooLong })).toBe(-Errno.EINVAL);
      // Not page-granular: an entry ending inside its page before the last one (the device could not map it).
      const bad = [{ addr: memory.allocate(page, 64, page), len: page - 4 }, { addr: memory.allocate(64, 64, page), len: 64 }];
      expect(await driver.setup(sk, { commandId: 2, sgl: bad })).toBe(-Errno.EINVAL);
      expect(driver.tagsHeld).toBe(0);
      expect(await driver.setup(sk, { commandId: 2, sgl: one() }), "the refused CID can be set up properly").toBe(0);
      expect(await driver.setup(sk, { commandId: 2, sgl: one() }), "the same CID twice").toBe(-Errno.EEXIST);

      // A full bucket pair: the key whose two hash rows are taken is refused (TABLE_FULL -> ENOSPC).
      const { target, fill } = bucketPairFill(rng, 0, driver.hw.nTags, [2]);
      for (const cid of fill) expect(await driver.setup(sk, { commandId: cid, sgl: one() }), `setup of cid ${cid}`).toBe(0);
      expect(await driver.setup(sk, { commandId: target, sgl: one() })).toBe(-Errno.ENOSPC);
      const held = driver.tagsHeld;
      expect(held).toBe(1 + fill.length);

      expect(await driver.setCaps(ULP_DDP_CAP_NVME_TCP_DDGST_RX)).toBe(0);
      expect((await driver.getCaps()).active).toBe(ULP_DDP_CAP_NVME_TCP_DDGST_RX);
      expect(await driver.setup(sk, { commandId: 0xfffe, sgl: one() })).toBe(-Errno.EOPNOTSUPP);
      expect(await driver.skAdd(socketOf(40002, 0), { ...DGST, dgst: 0 }, ulp)).toBe(-Errno.EOPNOTSUPP);

      const stats = await driver.getStats();
      expect([stats["rx-nvme-tcp-setup"], stats["rx-nvme-tcp-setup-fail"]]).toEqual([held, 5]);
      // Teardowns free the entries: each finishes with ddp_teardown_done(ctx), then the tag is free again.
      const cids = [2, ...fill];
      for (const c of cids) await driver.teardown(sk, { commandId: c, sgl: [] }, `ctx ${c}`);
      expect(ulp.done).toEqual(cids.map((c) => `ctx ${c}`));
      expect(driver.tagsHeld).toBe(0);
      expect((await driver.getStats())["rx-nvme-tcp-teardown"]).toBe(held);
      expect(await driver.setCaps(ULP_DDP_CAP_NVME_TCP | ULP_DDP_CAP_NVME_TCP_DDGST_RX)).toBe(0);
      expect(await driver.setup(sk, { commandId: target, sgl: one() }), "the refused key fits once the table is empty").toBe(0);
    });

    it("builds skbs: placed fragments at the SGL address of their buffer offset, ring fragments with the frame's bytes", async () => {
      const device = await open();
      const driver = await NicDriver.create(device);
      const memory = device.memory;
      const rng = new Rng(seed + 1);
      const isn = rng.u32();
      const port = 40001;
      const sk = socketOf(port, isn);
      const ulp = new Ulp();
      const digests = { hdgst: rng.chance(0.5), ddgst: true };
      expect(await driver.skAdd(sk, { ...DGST, dgst: (digests.hdgst ? 1 : 0) | 2 }, ulp)).toBe(0);

      // Two reads, their buffers as random SGLs; PDUs alternate between them with a CapsuleResp now and then.
      const cids = [0x1003, 0x2007];
      const plan = Array.from({ length: 14 }, () => ({ which: rng.int(2), len: rng.range(200, 3000) }));
      const totals = [0, 0];
      for (const p of plan) totals[p.which]! += p.len;
      const sgls = totals.map((t) => randomSgl(memory, rng, t, driver.hw.page));
      for (let t = 0; t < 2; t++) expect(await driver.setup(sk, { commandId: cids[t]!, sgl: sgls[t]! })).toBe(0);

      const parts: Uint8Array[] = [];
      const runs: { start: number; len: number; sgl: SglEntry[]; datao: number }[] = [];
      const next = [0, 0];
      let at = 0;
      for (const p of plan) {
        if (rng.chance(0.3)) {
          const resp: Pdu = { kind: "CapsuleResp", cqe: { result: 0n, sqHead: 1, sqId: 1, cid: 0x0bad, status: 0 } };
          const b = encodePdu(resp, digests);
          parts.push(b);
          at += b.length;
        }
        const datao = next[p.which]!;
        next[p.which]! += p.len;
        const b = encodePdu({ kind: "C2HData", cccid: cids[p.which]!, datao, last: false, success: false, data: rng.bytes(p.len) }, digests);
        runs.push({ start: at + b[3]!, len: p.len, sgl: sgls[p.which]!, datao });
        parts.push(b);
        at += b.length;
      }
      const stream = Buffer.concat(parts);
      const frames = new TcpStreamSender(targetFlow(port), { isn, mss: rng.range(600, 1460) }).send(stream).map((s) => s.frame);

      const { skbs, dropped } = await driver.receive(frames);
      expect(dropped).toBe(0);
      expect(skbs.length).toBe(frames.length);
      let pos = 0;
      let placed = 0;
      for (const skb of skbs) {
        expect(skb.seq).toBe((isn + pos) >>> 0);
        expect(skb.ulpCrc, "in order with DDGST: the device vouched for every frame").toBe(true);
        expect(skb.frags.reduce((n, f) => n + fragLength(f), 0)).toBe(skb.len);
        for (const f of skb.frags) {
          if (f.kind === "ring") {
            expect(Buffer.from(f.data).equals(stream.subarray(pos, pos + f.data.length)), `ring bytes at stream ${pos}`).toBe(true);
            // Ring bytes are never PDU data here: every data byte of a set-up read is placed.
            for (const r of runs) expect(pos + f.data.length <= r.start || pos >= r.start + r.len, `data at stream ${pos} left in the ring`).toBe(true);
          } else {
            const r = runs.find((x) => pos >= x.start && pos < x.start + x.len);
            expect(r, `placed fragment at stream ${pos} outside any PDU's data`).toBeDefined();
            expect(pos + f.len).toBeLessThanOrEqual(r!.start + r!.len);
            for (let k = 0; k < f.len; k += Math.max(1, f.len - 1)) expect(f.addr + BigInt(k)).toBe(sglAddr(r!.sgl, r!.datao + pos - r!.start + k));
            expect(Buffer.from(memory.read(f.addr, f.len)).equals(stream.subarray(pos, pos + f.len)), `DMA bytes at stream ${pos}`).toBe(true);
            placed += f.len;
          }
          pos += fragLength(f);
        }
      }
      expect(pos).toBe(stream.length);
      expect(placed).toBe(plan.reduce((n, p) => n + p.len, 0));
      expect(memory.checkGuards()).toEqual([]);

      for (const [t, cid] of cids.entries()) await driver.teardown(sk, { commandId: cid, sgl: sgls[t]! }, cid);
      expect(ulp.done).toEqual(cids);
      const stats = await driver.getStats();
      expect(stats["rx-nvme-tcp-bytes"]).toBe(placed);
      expect(stats["rx-nvme-tcp-packets"]).toBe(frames.length);
      expect(stats["rx-nvme-tcp-drop"]).toBe(0);
    });

    it("checks frames the device did not match: bad checksums dropped, good ones one ring fragment", async () => {
      const driver = await NicDriver.create(await open());
      const payload = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const good = new TcpStreamSender(targetFlow(45000), { isn: 77, mss: 1460 }).send(payload)[0]!.frame;
      const bad = good.slice();
      bad[bad.length - 3]! ^= 0x40;
      const { skbs, dropped } = await driver.receive([bad, good]);
      expect(dropped).toBe(1);
      expect(skbs).toEqual([{ seq: 77, len: 9, frags: [{ kind: "ring", data: payload }], ulpCrc: false }] satisfies Skb[]);
    });
  });
}

driverTests("model", async () => new ModelDevice(new HostMemory()));

describeOnRtl("RTL", (openDevice) => driverTests("RTL", openDevice));
