// The software host end to end against the target emulator, through every wire impairment, plus a check
// against hand-written bytes (the facts' worked example, digests computed with an independent reference).

import { describe, expect, it } from "vitest";
import { crc32c as referenceCrc32c } from "@node-rs/crc32";
import { HostMemory } from "../../src/contract/host-memory.js";
import { ModelDevice } from "../../src/device/index.js";
import { ModelTxDevice, type TxDevice } from "../../src/device/tx-device.js";
import { Status } from "../../src/nvmet/controller.js";
import { DATA_TRANSFER_ERROR_STATUS, NvmeTcpHost } from "../../src/nvme/host.js";
import { patternBytes } from "../../src/nvmet/namespace.js";
import { PduFramer } from "../../src/pdu/framer.js";
import { openSession, type QueuePair, type SessionConfig } from "../../src/stack/session.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
const DATA_TRANSFER_STATUS = Status.dataTransferError;
console.log(`host.test seed=${seed} (SEED=${seed} to reproduce)`);

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/), (b) => parseInt(b, 16));

interface Scenario {
  name: string;
  config: Omit<SessionConfig, "seed">;
}

const allImpairments = { loss: 0.04, reorder: 0.04, duplicate: 0.04, corrupt: 0.04 };
const scenarios: Scenario[] = [
  { name: "plain", config: { hdgst: false, ddgst: false } },
  { name: "digests, small MSS, split headers", config: { hdgst: true, ddgst: true, mss: 37, c2hDataSize: 1024 } },
  { name: "SUCCESS flag, reordered responses", config: { hdgst: false, ddgst: true, successFlag: true, reorder: true, c2hDataSize: 512 } },
  { name: "every impairment, seq wrap", config: { hdgst: true, ddgst: true, reorder: true, targetIsn: 0xffff_f000, impairments: allImpairments, mss: 536 } },
  { name: "every impairment, 4K blocks", config: { hdgst: false, ddgst: true, blockSize: 4096, blocks: 4096, c2hDataSize: 8192, impairments: { ...allImpairments, retransmitDelay: [1, 20] } } },
];

describe("software host against the target", () => {
  for (const [i, sc] of scenarios.entries()) {
    it(`reads the namespace's bytes and writes stick: ${sc.name}`, async () => {
      const rng = new Rng(seed + i);
      const session = await openSession({ seed: rng.u32(), queueDepth: 8, ...sc.config });
      const { io, namespace } = session;
      const bs = namespace.blockSize;
      const written = new Map<number, Uint8Array>(); // lba -> bytes (the test's own shadow of the namespace)
      const expected = (slba: number, nlb: number): Uint8Array => {
        const out = patternBytes(1, slba * bs, nlb * bs);
        for (let k = 0; k < nlb; k++) {
          const w = written.get(slba + k);
          if (w) out.set(w, k * bs);
        }
        return out;
      };
      let readBytes = 0;
      for (let round = 0; round < 6; round++) {
        // More commands than the queue depth: some wait for a tag.
        const ops = Array.from({ length: rng.range(1, 12) }, () => ({ slba: rng.int(2000), nlb: rng.range(1, 40) }));
        const results = await io.run(Promise.all(ops.map((o) => io.host.read(1, o.slba, o.nlb))));
        results.forEach((r, k) => {
          expect(r.status).toBe(0);
          expect(Buffer.from(r.data).equals(Buffer.from(expected(ops[k]!.slba, ops[k]!.nlb)))).toBe(true);
          readBytes += r.data.length;
        });
        const slba = rng.int(2000);
        const data = rng.bytes(rng.range(1, 24) * bs);
        const w = await io.run(io.host.write(1, slba, data));
        expect(w.status).toBe(0);
        for (let k = 0; k < data.length / bs; k++) written.set(slba + k, data.slice(k * bs, (k + 1) * bs));
      }
      const c = io.host.counters;
      expect(io.host.failure).toBeUndefined();
      expect(c.bytesCopied).toBe(readBytes);
      expect(c.bytesCrcd).toBe(sc.config.ddgst ? readBytes : 0);
      expect(c.ddgstErrors).toBe(0);
      expect(io.host.outstanding).toBe(0);
      if (sc.config.impairments) expect(io.wire!.log.filter((e) => e.action !== "pass").length).toBeGreaterThan(0);
    });
  }

  it("uses Linux CIDs: generation in bits 15:12, tag in 11:0, a tag's next use has another generation", async () => {
    const session = await openSession({ seed, hdgst: false, ddgst: false, queueDepth: 4 });
    const io = session.io;
    const seen: number[] = [];
    for (let round = 0; round < 5; round++) {
      const rs = await io.run(Promise.all([0, 1, 2, 3].map((k) => io.host.read(1, k, 1))));
      seen.push(...rs.map((r) => r.cid));
    }
    const byTag = new Map<number, number[]>();
    for (const cid of seen) byTag.set(cid & 0xfff, [...(byTag.get(cid & 0xfff) ?? []), cid >> 12]);
    expect([...byTag.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const gens of byTag.values()) for (let k = 1; k < gens.length; k++) expect(gens[k]).not.toBe(gens[k - 1]);
  });
});

describe("transfer cap of an offloaded queue (Linux: max_hw_sectors = max_ddp_sgl_len x 4 KiB)", () => {
  /** Every Read / Write command the host sends on this queue from now on, as [kind, slba, nlb (1-based)]. */
  function tapCommands(q: QueuePair): [string, number, number][] {
    const seen: [string, number, number][] = [];
    const framer = new PduFramer({ direction: "H2C", ...q.host.negotiated, maxDataLength: 1 << 30, adoptIcDigests: false });
    const receive = q.target.receive.bind(q.target);
    q.target.receive = (bytes) => {
      for (const { pdu } of framer.push(bytes)) {
        if (pdu.kind === "CapsuleCmd" && (pdu.sqe.kind === "Read" || pdu.sqe.kind === "Write")) seen.push([pdu.sqe.kind, Number(pdu.sqe.slba), pdu.sqe.nlb + 1]);
      }
      receive(bytes);
    };
    return seen;
  }

  // Host segments of 4 KiB and of 8 KiB: the cap counts 4 KiB pages either way. Depth 2: the commands of one
  // I/O share the queue depth (the third waits for a tag).
  it.each([
    { blockSize: 512, pageSize: 4096 },
    { blockSize: 4096, pageSize: 8192 },
  ])("a read or write over the cap goes out as ceil(len / cap) commands, each set up for DDP, data right: blocks $blockSize, segments $pageSize", async ({ blockSize, pageSize }) => {
    const memory = new HostMemory();
    const session = await openSession({ seed, hdgst: false, ddgst: true, queueDepth: 2, blockSize, blocks: 8192, nic: { device: new ModelDevice(memory), pageSize } });
    const { io, driver } = session;
    expect(io.host.offload.ddp).toBe(true);
    const cap = (await driver!.limits()).maxDdpSglLen * 4096;
    const perCommand = cap / blockSize;
    const slba = 7;
    const nlb = 2 * perCommand + 3; // three commands: two full, one of 3 blocks
    const want: [number, number][] = [
      [slba, perCommand],
      [slba + perCommand, perCommand],
      [slba + 2 * perCommand, 3],
    ];
    const commands = tapCommands(io);

    const r = await io.run(io.host.read(1, slba, nlb));
    expect(commands).toEqual(want.map(([a, n]) => ["Read", a, n]));
    expect(r.status).toBe(0);
    expect(r.commands).toBe(Math.ceil((nlb * blockSize) / cap));
    expect(Buffer.from(r.data).equals(Buffer.from(patternBytes(1, slba * blockSize, nlb * blockSize)))).toBe(true);
    expect([r.offloaded, r.placed, r.copied, r.digest]).toEqual([true, nlb * blockSize, 0, "hw-ok"]);
    expect(io.host.counters).toMatchObject({ ddpSetups: 3, ddpSetupFailures: 0, bytesPlaced: nlb * blockSize, bytesCopied: 0 });
    const stats = await driver!.getStats();
    expect([stats["rx-nvme-tcp-setup"], stats["rx-nvme-tcp-setup-fail"], stats["rx-nvme-tcp-teardown"]]).toEqual([3, 0, 3]);

    commands.length = 0;
    const data = new Rng(seed).bytes(nlb * blockSize);
    const w = await io.run(io.host.write(1, slba, data));
    expect([w.status, w.commands]).toEqual([0, 3]);
    expect(commands).toEqual(want.map(([a, n]) => ["Write", a, n]));
    expect(Buffer.from(session.namespace.read(slba, nlb)).equals(Buffer.from(data))).toBe(true);
    expect(io.host.outstanding).toBe(0);
    await io.run(io.host.stop());
  });

  it("without offload the same read stays one command", async () => {
    const session = await openSession({ seed, hdgst: false, ddgst: true, queueDepth: 2, nic: { device: new ModelDevice(new HostMemory()), offload: false } });
    const { io, driver } = session;
    const nlb = (2 * (await driver!.limits()).maxDdpSglLen * 4096) / 512 + 3;
    const commands = tapCommands(io);
    const r = await io.run(io.host.read(1, 7, nlb));
    expect(commands).toEqual([["Read", 7, nlb]]);
    expect([r.status, r.commands, r.offloaded, r.copied]).toEqual([0, 1, false, nlb * 512]);
    expect(Buffer.from(r.data).equals(Buffer.from(patternBytes(1, 7 * 512, nlb * 512)))).toBe(true);
  });
});

describe("transmit data digests (nvme-tcp-ddgst-tx, docs/tx-contract.md)", () => {
  const MAXH2CDATA = 8192; // the target's ICResp
  // In-capsule writes (at most 4096 bytes, one CapsuleCmd PDU each) and R2T writes (H2CData of at most maxh2cdata).
  const sizes = [512, 4096, 4608, 3 * MAXH2CDATA + 1024];
  const pdusOf = (n: number): number => (n <= 4096 ? 1 : Math.ceil(n / MAXH2CDATA));
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const pdus = sizes.reduce((a, n) => a + pdusOf(n), 0);

  /** A transmit block that fills nothing: frames leave as the host's TCP built them. */
  const inertTx = (): TxDevice => ({
    kind: "model",
    send: async (items) => items.flatMap((i) => (i.frame ? [i.frame] : [])),
    stats: async () => ({ packets: 0, bytes: 0, ddgst: 0, ooo: 0, resync: 0, badHdr: 0 }),
    close: async () => undefined,
  });

  /** Writes `sizes` at distinct LBAs; the statuses, and the host's transmit counters the writes added. */
  async function writeAll(q: QueuePair, rng: Rng): Promise<{ statuses: number[]; data: Uint8Array[]; added: { crcd: number; left: number; leftBytes: number } }> {
    const before = { ...q.host.counters };
    const data = sizes.map((n) => rng.bytes(n));
    const statuses: number[] = [];
    for (const [k, d] of data.entries()) statuses.push((await q.run(q.host.write(1, k * 128, d))).status);
    const c = q.host.counters;
    return { statuses, data, added: { crcd: c.txBytesCrcd - before.txBytesCrcd, left: c.txDdgstOffloaded - before.txDdgstOffloaded, leftBytes: c.txBytesNotCrcd - before.txBytesNotCrcd } };
  }

  it("offloaded with the cap: the host CRCs none of its writes' data, the NIC fills every DDGST, the target finds them good", async () => {
    const tx = new ModelTxDevice();
    const session = await openSession({ seed, hdgst: true, ddgst: true, nic: { device: new ModelDevice(new HostMemory()), tx } });
    const { io } = session;
    expect(io.host.offload).toEqual({ ddp: true, ddgstRx: true, ddgstTx: true });
    const w = await writeAll(io, new Rng(seed));
    expect(w.statuses).toEqual(sizes.map(() => 0));
    expect(w.added).toEqual({ crcd: 0, left: pdus, leftBytes: bytes });
    for (const [k, d] of w.data.entries()) expect(Buffer.from(session.namespace.read(k * 128, d.length / 512)).equals(Buffer.from(d))).toBe(true);
    expect(io.target.ddgstErrors).toBe(0);
    expect((await tx.stats()).ddgst).toBe(pdus);
    await io.run(io.host.stop());
  });

  it("the DDGST left to the NIC is a placeholder: through a block that fills nothing the target fails every write (data transfer error)", async () => {
    const session = await openSession({ seed, hdgst: false, ddgst: true, nic: { device: new ModelDevice(new HostMemory()), tx: inertTx() } });
    const { io } = session;
    expect(io.host.offload.ddgstTx).toBe(true);
    const w = await writeAll(io, new Rng(seed + 1));
    expect(w.statuses).toEqual(sizes.map(() => DATA_TRANSFER_STATUS));
    expect(io.target.ddgstErrors).toBe(pdus);
    expect(w.added).toEqual({ crcd: 0, left: pdus, leftBytes: bytes });
  });

  it.each([
    { name: "cap off", caps: 0b011, ddgst: true },
    { name: "queue not offloaded", offload: false, ddgst: true },
    { name: "no transmit block", noTx: true, ddgst: true },
  ])("$name: the host computes every DDGST in software, the NIC fills none", async ({ caps, offload, noTx, ddgst }) => {
    const tx = new ModelTxDevice();
    const nic = { device: new ModelDevice(new HostMemory()), ...(noTx ? {} : { tx }), ...(caps !== undefined ? { caps } : {}), ...(offload !== undefined ? { offload } : {}) };
    const session = await openSession({ seed, hdgst: false, ddgst, nic });
    const { io } = session;
    expect(io.host.offload.ddgstTx).toBe(false);
    const w = await writeAll(io, new Rng(seed + 2));
    expect(w.statuses).toEqual(sizes.map(() => 0));
    expect(w.added).toEqual({ crcd: bytes, left: 0, leftBytes: 0 });
    expect(io.target.ddgstErrors).toBe(0);
    expect((await tx.stats()).ddgst).toBe(0);
  });

  it("without data digests nothing is CRC'd or left, whatever the cap", async () => {
    const session = await openSession({ seed, hdgst: true, ddgst: false, nic: { device: new ModelDevice(new HostMemory()), tx: new ModelTxDevice() } });
    const { io } = session;
    expect(io.host.offload).toEqual({ ddp: true, ddgstRx: false, ddgstTx: false });
    const w = await writeAll(io, new Rng(seed + 3));
    expect(w.statuses).toEqual(sizes.map(() => 0));
    expect(w.added).toEqual({ crcd: 0, left: 0, leftBytes: 0 });
  });
});

describe("software host on hand-written bytes", () => {
  // Facts 1.6 worked example: C2HData, HDGST+DDGST+LAST+SUCCESS, CID 5, 8 data bytes 00..07.
  const c2h = hex(`07 0f 18 1c 28 00 00 00 05 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00  b6 31 22 c8
                   00 01 02 03 04 05 06 07  3b bc 2c 8a`);

  function icResp(): Uint8Array {
    const b = new Uint8Array(128);
    b.set([0x01, 0, 128, 0, 128, 0, 0, 0, 0, 0, /* cpda */ 0, /* digests */ 3]);
    new DataView(b.buffer).setUint32(12, 8192, true);
    return b;
  }

  /** A host with digests on, blocks of 8 bytes, tags 1..5 holding 1-block reads (CID == tag, no generation). */
  async function hostWithReads(): Promise<{ host: NvmeTcpHost; reads: Promise<{ status: number; data: Uint8Array }>[] }> {
    const host = new NvmeTcpHost({ hdgst: true, ddgst: true, queueDepth: 8, qid: 1, cntlid: 1, blockSize: 8, cidGeneration: false }, () => undefined);
    host.connect().catch(() => undefined); // takes tag 0; its Connect is never answered here
    host.receive(icResp());
    await new Promise((resolve) => setImmediate(resolve)); // connect() sends its Connect once it saw the ICResp
    const reads = [1, 2, 3, 4, 5].map((k) => host.read(1, k, 1));
    for (const r of reads) r.catch(() => undefined); // the tests await only the reads they answer
    return { host, reads };
  }

  it("checks the digests with an independent CRC32C and completes on SUCCESS, split at every byte", async () => {
    expect(referenceCrc32c(c2h.subarray(0, 24))).toBe(0xc82231b6);
    for (let cut = 0; cut <= c2h.length; cut++) {
      const { host, reads } = await hostWithReads();
      host.receive(c2h.subarray(0, cut));
      host.receive(c2h.subarray(cut));
      const r = await reads[4]!;
      expect(r.status).toBe(0);
      expect([...r.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(host.counters).toMatchObject({ bytesCopied: 8, bytesCrcd: 8, ddgstErrors: 0 });
    }
  });

  it("completes with a data transfer error when the data digest is wrong, and stays usable", async () => {
    const { host, reads } = await hostWithReads();
    const bad = c2h.slice();
    bad[bad.length - 1]! ^= 0x01;
    host.receive(bad);
    expect((await reads[4]!).status).toBe(DATA_TRANSFER_ERROR_STATUS);
    expect(host.failure).toBeUndefined();
    const good = c2h.slice();
    good[8] = 4; // the same PDU for CID 4: header digest recomputed with the reference library
    new DataView(good.buffer).setUint32(24, referenceCrc32c(good.subarray(0, 24)), true);
    host.receive(good);
    expect((await reads[3]!).status).toBe(0);
  });

  it("fails the queue on a bad header digest", async () => {
    const { host, reads } = await hostWithReads();
    const bad = c2h.slice();
    bad[24]! ^= 0x80;
    host.receive(bad);
    await expect(reads[4]!).rejects.toThrow(/HDGST_MISMATCH/);
    expect(host.failure?.code).toBe("HDGST_MISMATCH");
  });

  /** A CapsuleResp for `cid`, digests on: hand-written header, header digest from the reference library. */
  function capsuleResp(cid: number, edit: (b: Uint8Array) => void = () => undefined): Uint8Array {
    const b = new Uint8Array(28);
    b.set([0x05, 0x01, 24, 0, 28, 0, 0, 0]);
    new DataView(b.buffer).setUint16(20, cid, true);
    edit(b);
    new DataView(b.buffer).setUint32(24, referenceCrc32c(b.subarray(0, 24)), true);
    return b;
  }

  it("accepts what Linux ignores (pdo on a CapsuleResp, a reserved flag bit) as findings, at the PDU's stream offset", async () => {
    const { host, reads } = await hostWithReads();
    host.receive(capsuleResp(1, (b) => ((b[3] = 24), (b[1] = 0x41))));
    expect((await reads[0]!).status).toBe(0);
    expect(host.failure).toBeUndefined();
    expect(host.findings.map((f) => [f.code, f.at])).toEqual([
      ["RESERVED_FLAGS", 128],
      ["RESERVED_PDO", 128],
    ]);
  });

  it("fails the queue where Linux does: a header digest flag cleared although negotiated (nvme_tcp_verify_hdgst)", async () => {
    const { host, reads } = await hostWithReads();
    host.receive(capsuleResp(1, (b) => (b[1] = 0)));
    await expect(reads[0]!).rejects.toThrow(/BAD_FLAGS/);
    expect(host.errors.map((e) => [e.error.code, e.at, e.recovered])).toEqual([["BAD_FLAGS", 128, false]]);
  });

  it("refuses an ICResp Linux refuses (cpda 1: nvme_tcp_init_connection), except as an observer of a captured host", async () => {
    const cpda1 = icResp();
    cpda1[10] = 1;
    const host = new NvmeTcpHost({ hdgst: true, ddgst: true, queueDepth: 2, qid: 1, blockSize: 8 }, () => undefined);
    const connected = host.connect();
    host.receive(cpda1);
    await expect(connected).rejects.toThrow(/BAD_ICRESP.*cpda 1/);
    const observer = new NvmeTcpHost({ hdgst: false, ddgst: false, queueDepth: 1, qid: 0, blockSize: 512 }, () => undefined);
    const ic = observer.observeIcReq({ hdgst: true, ddgst: true, hpda: 0 });
    observer.receive(cpda1);
    await ic;
    expect(observer.findings.map((f) => f.code)).toEqual(["LINUX_REFUSES_ICRESP"]);
    expect(observer.negotiated).toEqual({ hdgst: true, ddgst: true });
  });
});
