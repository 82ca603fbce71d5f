// The namespace pattern and the controller's command handling, seen through hand-built host PDUs.

import { describe, expect, it } from "vitest";
import { decodePdu, encodePdu } from "../../src/pdu/pdu.js";
import { encodeConnectData, sglInCapsule, sglTransport, statusOk } from "../../src/pdu/sqe.js";
import { parseFrame } from "../../src/net/frame.js";
import { NvmeSubsystem, Status, TargetQueue } from "../../src/nvmet/controller.js";
import { patternBytes, RamNamespace } from "../../src/nvmet/namespace.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`controller.test seed=${seed} (SEED=${seed} to reproduce)`);

describe("RamNamespace", () => {
  it("reads the pattern wherever it starts, independently of other reads, and keeps writes", () => {
    const rng = new Rng(seed);
    const ns = new RamNamespace({ nsid: 3, blockSize: 512, blocks: 1 << 30 });
    const far = 1e9;
    const whole = ns.read(far, 4);
    expect(Buffer.from(ns.read(far + 2, 1)).equals(Buffer.from(whole.subarray(1024, 1536)))).toBe(true);
    expect(Buffer.from(whole).equals(Buffer.from(patternBytes(3, far * 512, 2048)))).toBe(true);
    // Different namespaces and offsets differ (a constant or nsid-blind pattern would not).
    expect(Buffer.from(patternBytes(4, far * 512, 2048)).equals(Buffer.from(whole))).toBe(false);
    expect(new Set(whole).size).toBeGreaterThan(200);
    const data = rng.bytes(1024);
    ns.write(far + 1, data);
    const after = ns.read(far, 4);
    expect(Buffer.from(after.subarray(512, 1536)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(after.subarray(0, 512)).equals(Buffer.from(whole.subarray(0, 512)))).toBe(true);
    expect(() => ns.read((1 << 30) - 1, 2)).toThrow(RangeError);
  });
});

describe("TargetQueue", () => {
  const addr = { srcMac: "02:00:00:00:00:02", dstMac: "02:00:00:00:00:01", ipVersion: 4 as const, srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 4420, dstPort: 40000 };

  function connected(): { q: TargetQueue; responses: () => ReturnType<typeof decodePdu>[] } {
    const ns = new RamNamespace({ nsid: 1, blockSize: 512, blocks: 100 });
    const sub = new NvmeSubsystem({ subnqn: "nqn.test", namespaces: [ns] });
    const q = new TargetQueue(sub, { addr, isn: 7, mss: 1000, c2hDataSize: 1000, rng: new Rng(seed), maxh2cdata: 16384 });
    let offset = 0;
    let stream = new Uint8Array(0);
    const responses = () => {
      const payload = q.flush().map((s) => parseFrame(s.frame).payload);
      stream = Uint8Array.from([...stream.subarray(offset), ...payload.flatMap((p) => [...p])]);
      offset = 0;
      const out = [];
      while (offset < stream.length) {
        const d = decodePdu(stream.subarray(offset), q.digests); // ICResp never carries digests, whatever these say
        out.push(d);
        offset += d.length;
      }
      return out;
    };
    q.receive(encodePdu({ kind: "ICReq", pfv: 0, hpda: 0, hdgstEnable: true, ddgstEnable: false, maxr2t: 0 }));
    const connectData = encodeConnectData({ hostId: new Uint8Array(16), cntlid: 0xffff, subnqn: "nqn.test", hostnqn: "nqn.host" });
    q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Connect", cid: 9, recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0, sgl: sglInCapsule(1024) }, data: connectData }, { hdgst: true }));
    return { q, responses };
  }

  it("answers ICReq with the digests asked for and maxh2cdata, then Connect with a controller id", () => {
    const { q, responses } = connected();
    const [icresp, connect] = responses();
    expect(icresp!.pdu).toMatchObject({ kind: "ICResp", hdgstEnable: true, ddgstEnable: false, cpda: 0, maxh2cdata: 16384 });
    expect(connect!.pdu).toMatchObject({ kind: "CapsuleResp", cqe: { cid: 9, status: 0 } });
    expect(connect!.hasHdgst).toBe(true);
    expect(q.cntlid).toBe(1);
  });

  it("splits a read into C2HData PDUs of the configured size and reports errors with NVMe statuses", () => {
    const { q, responses } = connected();
    responses();
    const read = (cid: number, nsid: number, slba: number, nlb: number, sglLength = nlb * 512) =>
      q.receive(encodePdu({ kind: "CapsuleCmd", sqe: { kind: "Read", cid, nsid, slba: BigInt(slba), nlb: nlb - 1, sgl: sglTransport(sglLength) } }, { hdgst: true }));
    read(1, 1, 10, 5);
    read(2, 2, 0, 1);
    read(3, 1, 99, 2);
    read(4, 1, 0, 1, 100);
    const out = responses();
    const data = out.filter((d) => d.pdu.kind === "C2HData").map((d) => d.pdu as { datao: number; data: Uint8Array; last: boolean });
    expect(data.map((d) => [d.datao, d.data.length, d.last])).toEqual([[0, 1000, false], [1000, 1000, false], [2000, 560, true]]);
    expect(Buffer.concat(data.map((d) => Buffer.from(d.data))).equals(Buffer.from(patternBytes(1, 10 * 512, 2560)))).toBe(true);
    const statuses = out.flatMap((d) => (d.pdu.kind === "CapsuleResp" ? [[d.pdu.cqe.cid, d.pdu.cqe.status]] : []));
    expect(statuses).toEqual([[1, 0], [2, Status.invalidNamespace], [3, Status.lbaOutOfRange], [4, Status.sglLengthInvalid]]);
    expect(statusOk(Status.lbaOutOfRange)).toBe(false);
  });
});
