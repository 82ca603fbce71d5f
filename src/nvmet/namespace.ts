// A RAM namespace whose unwritten contents follow a fixed pattern, so that tests can know what any read must
// return without asking the target: byte k of namespace nsid is patternByte(nsid, k). Written blocks are kept
// in a sparse map; capacity can therefore be large without allocating it.

/** One 32-bit word of the pattern: a murmur3-style finaliser of (nsid, word index). */
function patternWord(nsid: number, wordIndex: number): number {
  const hi = Math.floor(wordIndex / 0x100000000);
  let h = (Math.imul(nsid, 0x9e3779b1) ^ (wordIndex >>> 0) ^ Math.imul(hi, 0x7feb352d)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The pattern byte at byte offset `offset` of namespace `nsid` (little-endian bytes of each pattern word). */
export function patternByte(nsid: number, offset: number): number {
  return (patternWord(nsid, Math.floor(offset / 4)) >>> (8 * (offset % 4))) & 0xff;
}

/** `length` pattern bytes starting at byte offset `offset`. */
export function patternBytes(nsid: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(nsid, offset + i);
  return out;
}

export interface NamespaceConfig {
  nsid: number;
  /** Logical block size in bytes (512 or 4096 usually). */
  blockSize: number;
  /** Capacity in logical blocks. */
  blocks: number;
}

export class RamNamespace {
  readonly nsid: number;
  readonly blockSize: number;
  readonly blocks: number;
  private readonly written = new Map<number, Uint8Array>();

  constructor(config: NamespaceConfig) {
    if (!Number.isInteger(config.blockSize) || config.blockSize <= 0) throw new RangeError(`bad block size ${config.blockSize}`);
    this.nsid = config.nsid;
    this.blockSize = config.blockSize;
    this.blocks = config.blocks;
  }

  /** True when [slba, slba + nlb) lies inside the namespace. */
  inRange(slba: number, nlb: number): boolean {
    return Number.isInteger(slba) && Number.isInteger(nlb) && slba >= 0 && nlb >= 0 && slba + nlb <= this.blocks;
  }

  read(slba: number, nlb: number): Uint8Array {
    this.checkRange(slba, nlb);
    const out = new Uint8Array(nlb * this.blockSize);
    for (let i = 0; i < nlb; i++) out.set(this.block(slba + i), i * this.blockSize);
    return out;
  }

  write(slba: number, data: Uint8Array): void {
    if (data.length % this.blockSize !== 0) throw new RangeError(`write of ${data.length} bytes is not a whole number of blocks`);
    const nlb = data.length / this.blockSize;
    this.checkRange(slba, nlb);
    for (let i = 0; i < nlb; i++) this.written.set(slba + i, data.slice(i * this.blockSize, (i + 1) * this.blockSize));
  }

  private block(lba: number): Uint8Array {
    return this.written.get(lba) ?? patternBytes(this.nsid, lba * this.blockSize, this.blockSize);
  }

  private checkRange(slba: number, nlb: number): void {
    if (!this.inRange(slba, nlb)) throw new RangeError(`LBA range [${slba}, ${slba + nlb}) outside namespace ${this.nsid} of ${this.blocks} blocks`);
  }
}
