// Read buffers of the NVMe/TCP host. Without offload a read lands in a plain Uint8Array. With offload it lands
// in host memory shared with the NIC, as pages (like a bio's pages): the pages are the request's SGL, and the
// NIC's placed skb fragments point into them, which is how the host sees that a copy would be src == dst.

import type { HostMemory } from "../contract/host-memory.js";
import type { SglEntry } from "../contract/protocol.js";

export interface ReadBuffer {
  readonly length: number;
  write(offset: number, src: Uint8Array): void;
  read(offset: number, length: number): Uint8Array;
  /** Host address of byte `offset` and how many bytes from there are contiguous (undefined: not in host memory). */
  addressOf(offset: number): { addr: bigint; len: number } | undefined;
  /** The scatter-gather list of the buffer (undefined: not in host memory). */
  readonly sgl: readonly SglEntry[] | undefined;
  /** The whole buffer (for the read's result). */
  contents(): Uint8Array;
}

export class PlainBuffer implements ReadBuffer {
  readonly sgl = undefined;

  constructor(readonly bytes: Uint8Array) {}

  get length(): number {
    return this.bytes.length;
  }

  write(offset: number, src: Uint8Array): void {
    this.bytes.set(src, offset);
  }

  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }

  addressOf(): undefined {
    return undefined;
  }

  contents(): Uint8Array {
    return this.bytes;
  }
}

/** Page alignment of read buffers: a bio's pages are whole 4 KiB pages, so the NIC can map them page by page. */
export const HOST_PAGE = 4096;

/**
 * `length` bytes in pages of `pageSize` (the last may be shorter), each its own allocation with guard bytes,
 * starting on a HOST_PAGE boundary.
 */
export class PagedBuffer implements ReadBuffer {
  readonly sgl: SglEntry[];

  constructor(
    private readonly memory: HostMemory,
    readonly length: number,
    pageSize: number,
  ) {
    this.sgl = [];
    for (let at = 0; at < length; at += pageSize) {
      const len = Math.min(pageSize, length - at);
      this.sgl.push({ addr: memory.allocate(len, 64, HOST_PAGE), len });
    }
  }

  write(offset: number, src: Uint8Array): void {
    for (let i = 0; i < src.length; ) {
      const { addr, len } = this.addressOf(offset + i);
      const n = Math.min(len, src.length - i);
      this.memory.write(addr, src.subarray(i, i + n));
      i += n;
    }
  }

  read(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const { addr, len } = this.addressOf(offset + i);
      const n = Math.min(len, length - i);
      out.set(this.memory.read(addr, n), i);
      i += n;
    }
    return out;
  }

  addressOf(offset: number): { addr: bigint; len: number } {
    let off = offset;
    for (const e of this.sgl) {
      if (off < e.len) return { addr: e.addr + BigInt(off), len: e.len - off };
      off -= e.len;
    }
    throw new RangeError(`offset ${offset} beyond the ${this.length}-byte buffer`);
  }

  contents(): Uint8Array {
    return this.read(0, this.length);
  }
}
