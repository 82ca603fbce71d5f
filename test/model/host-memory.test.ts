// HostMemory: regions with guard bytes, writes and reads, violation reports.

import { describe, expect, it } from "vitest";
import { HostMemory } from "../../src/model/host-memory.js";
import { Rng, seedFromEnv } from "../../src/util/rng.js";

const seed = seedFromEnv();
console.log(`model host-memory.test seed=${seed} (SEED=${seed} to reproduce)`);

describe("HostMemory", () => {
  it("keeps writes, reads them back, and reports changed guard bytes and stray writes", () => {
    const rng = new Rng(seed);
    const mem = new HostMemory();
    const bufs = Array.from({ length: 5 }, () => {
      const len = rng.range(1, 300);
      return { len, addr: mem.allocate(len, rng.range(1, 40)) };
    });
    for (const b of bufs) mem.write(b.addr, rng.bytes(b.len));
    expect(mem.checkGuards()).toEqual([]);
    const b = bufs[2]!;
    const data = rng.bytes(b.len);
    mem.apply({ addr: b.addr, data });
    expect(Buffer.from(mem.read(b.addr, b.len)).equals(Buffer.from(data))).toBe(true);
    const before = mem.read(b.addr - 1n, 1)[0]!;
    mem.write(b.addr - 1n, Uint8Array.of(before ^ 1, 0));
    mem.write(b.addr + BigInt(b.len), Uint8Array.of(mem.read(b.addr + BigInt(b.len), 1)[0]! ^ 0xff));
    mem.write(0x10n, Uint8Array.of(7));
    expect(mem.checkGuards()).toEqual([
      { addr: b.addr - 1n, expected: before, actual: before ^ 1 },
      expect.objectContaining({ addr: b.addr + BigInt(b.len) }),
      { addr: 0x10n, expected: undefined, actual: 7 },
    ]);
    expect(() => mem.read(0x10n, 1)).toThrow(RangeError);
  });
});
