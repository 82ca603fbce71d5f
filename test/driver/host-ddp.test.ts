// The NVMe/TCP host's side of the offload (facts 2.2-2.6), against a recording fake of the device ops so that
// every call and skb is the test's own: sk_add after Connect with copied_seq, setup before the command and
// only at or above io_threshold, src == dst copy skip, the DDGST rule per PDU, completion after
// ddp_teardown_done, resync confirm exactly at a header start.

import { describe, expect, it } from "vitest";
import { crc32c as referenceCrc32c } from "@node-rs/crc32";
import type { Skb, SkbFrag, UlpDdpDevOps, UlpDdpIo, UlpDdpLimits, UlpDdpSocket, UlpDdpUlpOps } from "../../src/contract/index.js";
import { ULP_DDP_RESYNC_PENDING } from "../../src/contract/index.js";
import { HostMemory } from "../../src/contract/host-memory.js";
import { DATA_TRANSFER_ERROR_STATUS, NvmeTcpHost } from "../../src/nvme/host.js";
import { encodePdu, type Pdu } from "../../src/pdu/pdu.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`host-ddp.test seed=${seed} (SEED=${seed} to reproduce)`);

class FakeNetdev implements UlpDdpDevOps {
  readonly log: string[] = [];
  readonly setups: UlpDdpIo[] = [];
  readonly teardowns: { io: UlpDdpIo; ctx: unknown }[] = [];
  readonly resyncs: number[] = [];
  ulpOps: UlpDdpUlpOps | undefined;
  skAddSeq: number | undefined;
  skAddDgst: number | undefined;
  setupRc = 0;
  constructor(private readonly lim: UlpDdpLimits) {}
  async limits(): Promise<UlpDdpLimits> {
    return this.lim;
  }
  async skAdd(sk: UlpDdpSocket, config: { dgst: number }, ulpOps: UlpDdpUlpOps): Promise<number> {
    this.log.push("sk_add");
    this.skAddSeq = sk.copiedSeq;
    this.skAddDgst = config.dgst;
    this.ulpOps = ulpOps;
    return 0;
  }
  async skDel(): Promise<void> {
    this.log.push("sk_del");
  }
  async setup(_sk: UlpDdpSocket, io: UlpDdpIo): Promise<number> {
    this.log.push(`setup ${io.commandId}`);
    this.setups.push(io);
    return this.setupRc;
  }
  async teardown(_sk: UlpDdpSocket, io: UlpDdpIo, ctx: unknown): Promise<void> {
    this.log.push(`teardown ${io.commandId}`);
    this.teardowns.push({ io, ctx });
  }
  async resync(_sk: UlpDdpSocket, seq: number): Promise<void> {
    this.resyncs.push(seq);
  }
  async setCaps(): Promise<number> {
    return 0;
  }
  async getCaps() {
    return { hw: 3, active: 3 };
  }
  async getStats(): Promise<never> {
    throw new Error("not used");
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));

interface Rig {
  host: NvmeTcpHost;
  netdev: FakeNetdev;
  memory: HostMemory;
  /** Seq of the next byte the host will receive. */
  seq: number;
  feed(frags: SkbFrag[], ulpCrc: boolean): void;
  ring(bytes: Uint8Array, ulpCrc?: boolean): void;
  /** The CID of the last command the host sent, and its opcode. */
  lastCommand(): { cid: number; opcode: number };
  sent: number;
  digests: { hdgst: boolean; ddgst: boolean };
}

async function rig(o: { ioThreshold?: number; queueDepth?: number; pageSize?: number; hdgst?: boolean } = {}): Promise<Rig> {
  const memory = new HostMemory();
  const netdev = new FakeNetdev({ maxDdpSglLen: 16, ioThreshold: o.ioThreshold ?? 0, tls: false, fullCcidRange: true });
  const digests = { hdgst: o.hdgst ?? false, ddgst: true };
  const sentPdus: Uint8Array[] = [];
  const r: Rig = {
    host: undefined as unknown as NvmeTcpHost,
    netdev,
    memory,
    seq: 0xffff_ff00, // the stream wraps during the tests
    digests,
    feed(frags, ulpCrc) {
      const len = frags.reduce((n, f) => n + (f.kind === "ring" ? f.data.length : f.len), 0);
      const skb: Skb = { seq: r.seq, len, frags, ulpCrc };
      r.seq = (r.seq + len) >>> 0;
      r.host.receiveSkb(skb);
    },
    ring(bytes, ulpCrc = false) {
      r.feed([{ kind: "ring", data: bytes }], ulpCrc);
    },
    lastCommand() {
      const b = sentPdus[sentPdus.length - 1]!;
      return { cid: b[10]! | (b[11]! << 8), opcode: b[8]! };
    },
    get sent() {
      return sentPdus.length;
    },
  };
  const socket: UlpDdpSocket = {
    flow: { ipVersion: 4, srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 4420, dstPort: 40001 },
    get copiedSeq() {
      return r.seq;
    },
  };
  r.host = new NvmeTcpHost(
    { ...digests, queueDepth: o.queueDepth ?? 4, qid: 1, cntlid: 1, blockSize: 512, ddp: { netdev, memory, socket, pageSize: o.pageSize ?? 4096 } },
    (b) => {
      sentPdus.push(b);
      netdev.log.push(`send ${b[0] === 4 ? `cmd ${b[10]! | (b[11]! << 8)}` : b[0]}`);
    },
  );
  const connected = r.host.connect();
  r.ring(encodePdu({ kind: "ICResp", pfv: 0, cpda: 0, hdgstEnable: digests.hdgst, ddgstEnable: true, maxh2cdata: 8192 }));
  await tick();
  r.ring(encodePdu({ kind: "CapsuleResp", cqe: { result: 1n, sqHead: 0, sqId: 1, cid: r.lastCommand().cid, status: 0 } }, digests));
  await connected;
  return r;
}

function capsuleResp(r: Rig, cid: number): Uint8Array {
  return encodePdu({ kind: "CapsuleResp", cqe: { result: 0n, sqHead: 0, sqId: 1, cid, status: 0 } } satisfies Pdu, r.digests);
}

function c2h(r: Rig, cid: number, datao: number, data: Uint8Array): { bytes: Uint8Array; pdo: number } {
  const bytes = encodePdu({ kind: "C2HData", cccid: cid, datao, last: false, success: false, data }, r.digests);
  return { bytes, pdo: bytes[3]! };
}

function sglAddr(sgl: readonly { addr: bigint; len: number }[], off: number): { addr: bigint; len: number } {
  for (const e of sgl) {
    if (off < e.len) return { addr: e.addr + BigInt(off), len: e.len - off };
    off -= e.len;
  }
  throw new Error("beyond the SGL");
}

describe("host offload control path", () => {
  it("sk_add after Connect with copied_seq; setup before the command, reads at or above io_threshold only", async () => {
    const r = await rig({ ioThreshold: 4096 });
    // The ICResp (128 bytes) and the Connect's CapsuleResp (24) were delivered when sk_add ran.
    expect(r.netdev.skAddSeq).toBe((0xffff_ff00 + 128 + 24) >>> 0);
    expect(r.netdev.skAddDgst).toBe(2);
    expect(r.host.offload).toEqual({ ddp: true, ddgstRx: true, ddgstTx: false });

    r.netdev.log.length = 0;
    void r.host.read(1, 0, 7); // 3584 bytes: below the threshold
    void r.host.read(1, 0, 8); // 4096 bytes
    void r.host.write(1, 0, new Uint8Array(4096));
    await tick();
    const cmds = r.netdev.log.filter((l) => l.startsWith("send cmd"));
    expect(cmds.length).toBe(3);
    const setupAt = r.netdev.log.findIndex((l) => l.startsWith("setup"));
    expect(r.netdev.setups.length, "one setup: the 4096-byte read").toBe(1);
    const cid = r.netdev.setups[0]!.commandId;
    expect(setupAt).toBeLessThan(r.netdev.log.indexOf(`send cmd ${cid}`));
    expect(r.netdev.setups[0]!.sgl.reduce((n, e) => n + e.len, 0)).toBe(4096);
  });

  it("a refused setup leaves the read to software; it completes at once, without teardown", async () => {
    const r = await rig();
    r.netdev.setupRc = -28;
    const read = r.host.read(1, 0, 2);
    await tick();
    const { cid } = r.lastCommand();
    const data = new Rng(seed).bytes(1024);
    r.ring(c2h(r, cid, 0, data).bytes);
    r.ring(capsuleResp(r, cid));
    const res = await read;
    expect(Buffer.from(res.data).equals(Buffer.from(data))).toBe(true);
    expect(r.netdev.teardowns.length).toBe(0);
    expect(r.host.counters).toMatchObject({ ddpSetups: 0, ddpSetupFailures: 1, bytesCopied: 1024, ddpBytesCopied: 0, bytesCrcd: 1024 });
  });
});

describe("host offload data path", () => {
  it("skips the copy where the fragment is the destination, copies where it is not; completes after teardown done", async () => {
    const r = await rig({ pageSize: 1024 });
    const rng = new Rng(seed + 1);
    const read = r.host.read(1, 0, 8);
    let resolved = false;
    void read.then(() => (resolved = true));
    await tick();
    const { cid } = r.lastCommand();
    const sgl = r.netdev.setups[0]!.sgl;
    expect(sgl.map((e) => e.len)).toEqual([1024, 1024, 1024, 1024]);
    const data = rng.bytes(4096);
    const { bytes, pdo } = c2h(r, cid, 0, data);
    // The device placed [0, 3000) into the buffer (as DMA would), and [3000, 3500) somewhere else.
    const frags: SkbFrag[] = [{ kind: "ring", data: bytes.subarray(0, pdo) }];
    for (let off = 0; off < 3000; ) {
      const { addr, len } = sglAddr(sgl, off);
      const n = Math.min(len, 3000 - off);
      r.memory.write(addr, data.subarray(off, off + n));
      frags.push({ kind: "placed", addr, len: n });
      off += n;
    }
    const elsewhere = r.memory.allocate(500);
    r.memory.write(elsewhere, data.subarray(3000, 3500));
    frags.push({ kind: "placed", addr: elsewhere, len: 500 });
    frags.push({ kind: "ring", data: bytes.subarray(pdo + 3500) });
    r.feed(frags.slice(0, 3), true);
    r.feed(frags.slice(3), true);
    r.ring(capsuleResp(r, cid));
    await tick();
    expect(resolved, "no completion before ddp_teardown_done").toBe(false);
    expect(r.host.outstanding).toBe(1);
    expect(r.netdev.teardowns.map((t) => t.io.commandId)).toEqual([cid]);
    r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[0]!.ctx);
    const res = await read;
    expect(res.status).toBe(0);
    expect(Buffer.from(res.data).equals(Buffer.from(data))).toBe(true);
    expect(r.host.counters).toMatchObject({ bytesPlaced: 3000, bytesCopied: 1096, ddpBytesCopied: 1096, bytesCrcd: 0, ddgstOffloaded: 1 });
    expect(r.memory.checkGuards()).toEqual([]);
  });

  it("a tag is not reused before its teardown is done", async () => {
    const r = await rig({ queueDepth: 1 });
    const a = r.host.read(1, 0, 1);
    await tick();
    const cidA = r.lastCommand().cid;
    const b = r.host.read(1, 1, 1);
    await tick();
    const sent = r.sent;
    r.ring(c2h(r, cidA, 0, new Uint8Array(512)).bytes, true);
    r.ring(capsuleResp(r, cidA));
    await tick();
    expect(r.sent, "B waits while A is torn down").toBe(sent);
    r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[0]!.ctx);
    await a;
    await tick();
    expect(r.sent).toBe(sent + 1);
    expect(r.lastCommand().cid & 0xfff, "B got A's tag").toBe(cidA & 0xfff);
    void b;
  });

  it("DDGST: skipped only if every skb with the PDU's data or digest had ulp_crc, else CRC over that PDU only", async () => {
    const r = await rig();
    const rng = new Rng(seed + 2);
    const read = r.host.read(1, 0, 8);
    await tick();
    const { cid } = r.lastCommand();
    const halves = [rng.bytes(2048), rng.bytes(2048)];
    const p1 = c2h(r, cid, 0, halves[0]!);
    const p2 = c2h(r, cid, 2048, halves[1]!);
    // PDU 1: its header-only skb lacks ulp_crc (not consulted); data and digest skbs have it.
    r.ring(p1.bytes.subarray(0, p1.pdo), false);
    r.ring(p1.bytes.subarray(p1.pdo, p1.pdo + 1000), true);
    r.ring(p1.bytes.subarray(p1.pdo + 1000), true);
    // PDU 2: one data skb without ulp_crc.
    r.ring(p2.bytes.subarray(0, p2.pdo + 700), true);
    r.ring(p2.bytes.subarray(p2.pdo + 700, p2.pdo + 1500), false);
    r.ring(p2.bytes.subarray(p2.pdo + 1500), true);
    r.ring(capsuleResp(r, cid));
    await tick();
    r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[0]!.ctx);
    expect((await read).status).toBe(0);
    expect(r.host.counters).toMatchObject({ ddgstOffloaded: 1, bytesCrcd: 2048, ddgstErrors: 0 });
  });

  it("DDGST: a wrong digest fails the read when software checks it, and is not looked at when the NIC vouched", async () => {
    const r = await rig();
    const rng = new Rng(seed + 3);
    const run = async (ulpCrc: boolean): Promise<number> => {
      const read = r.host.read(1, 0, 1);
      await tick();
      const { cid } = r.lastCommand();
      const data = rng.bytes(512);
      const { bytes } = c2h(r, cid, 0, data);
      const bad = bytes.slice();
      bad[bad.length - 1]! ^= 1;
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 4, true)).toBe(referenceCrc32c(data));
      r.ring(bad.subarray(0, 100), true);
      r.ring(bad.subarray(100), ulpCrc);
      r.ring(capsuleResp(r, cid));
      await tick();
      r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[r.netdev.teardowns.length - 1]!.ctx);
      return (await read).status;
    };
    expect(await run(false)).toBe(DATA_TRANSFER_ERROR_STATUS);
    expect(await run(true)).toBe(0);
  });
});

describe("host resync", () => {
  it("stores seq | PENDING, confirms only when a PDU header starts exactly there (also across skbs), once", async () => {
    const r = await rig({ hdgst: true });
    const rng = new Rng(seed + 4);
    const read = r.host.read(1, 0, 6);
    await tick();
    const { cid } = r.lastCommand();
    const pdus = [0, 1, 2].map((k) => c2h(r, cid, k * 1024, rng.bytes(1024)).bytes);
    const resp = capsuleResp(r, cid);
    const starts: number[] = [];
    let s = r.seq;
    for (const p of [...pdus, resp]) {
      starts.push(s);
      s = (s + p.length) >>> 0;
    }
    const ulp = r.netdev.ulpOps!;
    ulp.resyncRequest((starts[1]! + 1) >>> 0, ULP_DDP_RESYNC_PENDING); // not a header start
    ulp.resyncRequest(starts[2]!, ULP_DDP_RESYNC_PENDING); // overwrites it
    r.ring(pdus[0]!);
    r.ring(pdus[1]!);
    expect(r.netdev.resyncs).toEqual([]);
    // PDU 3's header arrives in two skbs.
    r.ring(pdus[2]!.subarray(0, 5));
    r.ring(pdus[2]!.subarray(5));
    expect(r.netdev.resyncs).toEqual([starts[2]]);
    // A request inside data, and one already passed: never confirmed by later headers.
    ulp.resyncRequest((starts[2]! + 40) >>> 0, ULP_DDP_RESYNC_PENDING);
    r.ring(resp);
    await tick();
    r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[0]!.ctx);
    expect((await read).status).toBe(0);
    expect(r.netdev.resyncs).toEqual([starts[2]]);
    expect(r.host.counters.resyncConfirmed).toBe(1);
    // Without PENDING nothing is confirmed even at a header start.
    const read2 = r.host.read(1, 0, 1);
    await tick();
    const cid2 = r.lastCommand().cid;
    ulp.resyncRequest(r.seq, 0);
    r.ring(c2h(r, cid2, 0, new Uint8Array(512)).bytes);
    r.ring(capsuleResp(r, cid2));
    await tick();
    r.netdev.ulpOps!.ddpTeardownDone(r.netdev.teardowns[1]!.ctx);
    await read2;
    expect(r.netdev.resyncs).toEqual([starts[2]]);
  });
});
