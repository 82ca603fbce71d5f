// Host memory as the device sees it: allocated regions in a 64-bit address space, each with guard bytes of a
// known pattern before and after, so that a test (or the driver) can prove a DMA write never landed outside
// the buffer it was given. Writes to addresses that no region covers are kept too and reported as violations.

import type { DmaWrite } from "./protocol.js";

interface Region {
  /** Address of the first guard byte. */
  start: bigint;
  guard: number;
  /** Guard, buffer, guard. */
  bytes: Uint8Array;
}

export interface GuardViolation {
  addr: bigint;
  /** The guard pattern byte, or undefined for an address no region covers. */
  expected: number | undefined;
  actual: number;
}

/** The guard pattern: depends on the address, so a guard byte copied elsewhere does not look intact. */
export function guardByte(addr: bigint): number {
  return Number((addr * 0x9dn + 0x5an) & 0xffn);
}

export class HostMemory {
  private readonly regions: Region[] = [];
  private readonly stray = new Map<bigint, number>();
  /** Guard violations of freed regions, found when they were freed. */
  private readonly freedViolations: GuardViolation[] = [];
  private next: bigint;

  /** Allocations start at `base` and are `align`-aligned (buffer start). */
  constructor(
    base = 0x1_0000_0000n,
    private readonly align = 64,
  ) {
    this.next = base;
  }

  /**
   * A buffer of `len` zero bytes with `guard` pattern bytes on each side, starting `phase` bytes past an `align`
   * boundary (the memory's default alignment unless given: a page, for buffers the NIC maps page by page);
   * returns its address.
   */
  allocate(len: number, guard = 64, align = this.align, phase = 0): bigint {
    if (!Number.isInteger(len) || len < 0 || !Number.isInteger(guard) || guard < 0 || !Number.isInteger(align) || align < 1 || !Number.isInteger(phase) || phase < 0 || phase >= align) {
      throw new RangeError(`allocate(${len}, ${guard}, ${align}, ${phase})`);
    }
    const a = BigInt(align);
    const p = BigInt(phase);
    const addr = ((this.next + BigInt(guard) - p + a - 1n) / a) * a + p;
    const start = addr - BigInt(guard);
    const bytes = new Uint8Array(guard + len + guard);
    for (let i = 0; i < guard; i++) {
      bytes[i] = guardByte(start + BigInt(i));
      const after = guard + len + i;
      bytes[after] = guardByte(start + BigInt(after));
    }
    this.regions.push({ start, guard, bytes });
    this.next = start + BigInt(bytes.length);
    return addr;
  }

  /**
   * Releases the buffer allocated at `addr` (so long runs do not keep every buffer). Its guards are checked
   * now and any violation is kept for checkGuards(); later writes to its bytes count as stray writes, and
   * its addresses are never handed out again.
   */
  free(addr: bigint): void {
    const r = this.regionOf(addr);
    if (!r || r.start + BigInt(r.guard) !== addr) throw new RangeError(`free of 0x${addr.toString(16)}, which is not an allocated buffer`);
    this.freedViolations.push(...regionViolations(r));
    this.regions.splice(this.regions.indexOf(r), 1);
  }

  /** Buffers currently allocated. */
  get allocated(): number {
    return this.regions.length;
  }

  apply(w: DmaWrite): void {
    this.write(w.addr, w.data);
  }

  write(addr: bigint, data: Uint8Array): void {
    for (let i = 0; i < data.length; ) {
      const at = addr + BigInt(i);
      const r = this.regionOf(at);
      if (!r) {
        this.stray.set(at, data[i]!);
        i++;
        continue;
      }
      const off = Number(at - r.start);
      const n = Math.min(data.length - i, r.bytes.length - off);
      r.bytes.set(data.subarray(i, i + n), off);
      i += n;
    }
  }

  /** `len` bytes at `addr` (a copy); the range must lie inside one region, guards included. */
  read(addr: bigint, len: number): Uint8Array {
    const r = this.regionOf(addr);
    const off = r ? Number(addr - r.start) : -1;
    if (!r || off + len > r.bytes.length) throw new RangeError(`read of ${len} bytes at 0x${addr.toString(16)} is outside every allocated region`);
    return r.bytes.slice(off, off + len);
  }

  /** Every guard byte that no longer holds its pattern, and every byte written outside all regions. */
  checkGuards(): GuardViolation[] {
    const out: GuardViolation[] = [...this.freedViolations];
    for (const r of this.regions) out.push(...regionViolations(r));
    for (const [addr, actual] of this.stray) out.push({ addr, expected: undefined, actual });
    return out;
  }

  private regionOf(addr: bigint): Region | undefined {
    // Regions are allocated at increasing addresses: binary search for the last start <= addr.
    let lo = 0;
    let hi = this.regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.regions[mid]!.start <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const r = this.regions[hi];
    return r && addr < r.start + BigInt(r.bytes.length) ? r : undefined;
  }
}

function regionViolations(r: Region): GuardViolation[] {
  const out: GuardViolation[] = [];
  const guardIndices = [...Array(r.guard).keys()].flatMap((i) => [i, r.bytes.length - r.guard + i]).sort((x, y) => x - y);
  for (const i of guardIndices) {
    const addr = r.start + BigInt(i);
    const expected = guardByte(addr);
    if (r.bytes[i] !== expected) out.push({ addr, expected, actual: r.bytes[i]! });
  }
  return out;
}
