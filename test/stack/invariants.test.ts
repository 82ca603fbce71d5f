// The invariants module on hand-made facts: each verdict fails for its own cause and only for it, and a documented
// limit (data MAX_SEGS left on the ring) is not a failure while anything beyond it is.

import { describe, expect, it } from "vitest";
import { HostMemory } from "../../src/contract/host-memory.js";
import type { UlpDdpStats } from "../../src/contract/ulp-ddp.js";
import type { NicDriver } from "../../src/driver/driver.js";
import { type HostCounters, newHostCounters } from "../../src/nvme/host.js";
import { type StackFacts, stackInvariants } from "../../src/stack/invariants.js";
import { StreamCheck } from "../../src/stack/stream-check.js";

const host = (c: Partial<HostCounters> = {}): HostCounters => ({ ...newHostCounters(), ...c });

function facts(f: Partial<StackFacts> = {}): StackFacts {
  const check = new StreamCheck();
  check.wire(new Uint8Array([1, 2, 3]));
  check.delivered(new Uint8Array([1, 2, 3]));
  return { data: [], unhealthy: [], streams: [{ who: "q", check }], memory: new HostMemory(), driver: undefined, host: host(), bytesRead: 0, inOrder: true, noSoftwareCrc: true, segLimitedBytes: 0, ...f };
}

const failed = async (f: StackFacts): Promise<string[]> => (await stackInvariants(f)).filter((i) => !i.ok).map((i) => i.name);

describe("stackInvariants", () => {
  it("all hold on consistent facts", async () => {
    expect(await failed(facts({ host: host({ bytesCopied: 100, bytesPlaced: 28 }), bytesRead: 128 }))).toEqual([]);
  });

  it("each failure is its own", async () => {
    expect(await failed(facts({ data: [{ name: "reads", failures: ["x"], checked: "" }] }))).toEqual(["reads"]);
    expect(await failed(facts({ unhealthy: ["queue 1: dead"] }))).toEqual(["queues healthy"]);
    const bad = new StreamCheck();
    bad.wire(new Uint8Array([1, 2]));
    bad.delivered(new Uint8Array([1, 3]));
    expect(await failed(facts({ streams: [{ who: "q", check: bad }] }))).toEqual(["wire stream intact"]);
    const memory = new HostMemory();
    const addr = memory.allocate(16);
    memory.apply({ addr: addr + 16n, data: new Uint8Array([0]) });
    expect(await failed(facts({ memory }))).toEqual(["nothing written outside registered buffers"]);
    expect(await failed(facts({ host: host({ bytesCopied: 100 }), bytesRead: 128 }))).toEqual(["counters add up"]);
  });
});

/** The parts of a driver the invariants read: its statistics, the tags it holds, the bytes its CQEs placed. */
function fakeDriver(placed: number, o: Partial<UlpDdpStats> = {}, tx: FakeTx = undefined): NicDriver {
  const stats: UlpDdpStats = {
    "rx-nvme-tcp-sk-add": 1,
    "rx-nvme-tcp-sk-add-fail": 0,
    "rx-nvme-tcp-sk-del": 1,
    "rx-nvme-tcp-setup": 4,
    "rx-nvme-tcp-setup-fail": 0,
    "rx-nvme-tcp-teardown": 4,
    "rx-nvme-tcp-drop": 0,
    "rx-nvme-tcp-resync": 0,
    "rx-nvme-tcp-packets": 1,
    "rx-nvme-tcp-bytes": placed,
    ...o,
  };
  return { getStats: async () => stats, txStats: async () => tx, tagsHeld: 0, rx: { placedBytes: placed } } as unknown as NicDriver;
}

/** The transmit counters of a fake driver with a transmit block: `ddgst` digests filled, `add` / `del` TX sockets. */
function txOf(ddgst: number, add = 1, del = 1): FakeTx {
  return {
    device: { packets: 10, bytes: 1000, ddgst, ooo: 0, resync: 0, badHdr: 0 },
    driver: { "tx-nvme-tcp-sk-add": add, "tx-nvme-tcp-sk-del": del, "tx-nvme-tcp-resync-bytes": 0 },
  };
}
type FakeTx = Awaited<ReturnType<NicDriver["txStats"]>>;

describe("stackInvariants with a NIC", () => {
  const read = 4096;
  const placed = 3000;
  const nic = (copied: number, segLimited: number | undefined, extra: Partial<StackFacts> = {}) =>
    facts({ driver: fakeDriver(placed), host: host({ ddpSetups: 4, bytesPlaced: placed, bytesCopied: read - placed, ddpBytesCopied: copied }), bytesRead: read, segLimitedBytes: segLimited, ...extra });

  it("in order, software copying data of offloaded reads is a failure beyond what MAX_SEGS left on the ring", async () => {
    expect(await failed(nic(1096, 1096))).toEqual([]);
    expect(await failed(nic(1096, 2000))).toEqual([]);
    expect(await failed(nic(1096, 1095))).toEqual(["counters add up"]);
    expect(await failed(nic(1096, 0))).toEqual(["counters add up"]);
    // Under loss software copies what the device could not place: no failure.
    expect(await failed(nic(1096, 0, { inOrder: false }))).toEqual([]);
  });

  it("setups, teardowns and placed bytes must agree between host, driver and device", async () => {
    expect(await failed(facts({ driver: fakeDriver(placed, { "rx-nvme-tcp-teardown": 3 }), host: host({ ddpSetups: 4, bytesPlaced: placed, bytesCopied: read - placed }), bytesRead: read }))).toEqual(["setup == teardown"]);
    expect(await failed(facts({ driver: fakeDriver(placed), host: host({ ddpSetups: 3, bytesPlaced: placed, bytesCopied: read - placed }), bytesRead: read }))).toEqual(["counters add up"]);
    expect(await failed(facts({ driver: fakeDriver(placed), host: host({ ddpSetups: 4, bytesPlaced: placed - 1, bytesCopied: read - placed + 1 }), bytesRead: read }))).toEqual(["counters add up"]);
    expect(await failed(facts({ driver: fakeDriver(placed), host: host({ ddpSetups: 4, bytesPlaced: placed, bytesCopied: read - placed, ddpBytesCrcd: 10 }), bytesRead: read }))).toEqual(["counters add up"]);
  });

  it("with a transmit block: TX sockets added == deleted, and the NIC filled every DDGST the host left to it", async () => {
    const tx = (t: FakeTx, left: number) => facts({ driver: fakeDriver(placed, {}, t), host: host({ ddpSetups: 4, bytesPlaced: placed, bytesCopied: read - placed, txDdgstOffloaded: left }), bytesRead: read });
    expect(await failed(tx(txOf(5), 5))).toEqual([]);
    // A retransmitted digest is filled again: more filled than left is fine.
    expect(await failed(tx(txOf(6), 5))).toEqual([]);
    expect(await failed(tx(txOf(4), 5))).toEqual(["counters add up"]);
    expect(await failed(tx(txOf(5, 2, 1), 5))).toEqual(["setup == teardown"]);
  });
});
