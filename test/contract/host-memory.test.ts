// HostMemory: regions with guard bytes, writes and reads, violation reports.

import { describe, expect, it } from "vitest";
import { HostMemory } from "../../src/contract/host-memory.js";
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

  it("free releases a buffer: its guard violations are kept, later writes to it are stray", () => {
    const mem = new HostMemory();
    const a = mem.allocate(100, 8);
    const b = mem.allocate(50, 8);
    const c = mem.allocate(10, 8);
    mem.write(a - 1n, Uint8Array.of(mem.read(a - 1n, 1)[0]! ^ 0x80));
    mem.free(a);
    mem.free(c);
    expect(mem.allocated).toBe(1);
    expect(() => mem.free(a)).toThrow(RangeError);
    expect(() => mem.free(b + 1n)).toThrow(RangeError);
    expect(() => mem.read(a, 1)).toThrow(RangeError);
    mem.write(b, Uint8Array.of(1, 2, 3));
    expect([...mem.read(b, 3)]).toEqual([1, 2, 3]);
    mem.write(c + 2n, Uint8Array.of(9));
    expect(mem.checkGuards()).toEqual([expect.objectContaining({ addr: a - 1n }), { addr: c + 2n, expected: undefined, actual: 9 }]);
  });
});
