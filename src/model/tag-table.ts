// The tag table of the contract's section 8, exactly as rtl/ddp_tag_table.sv keeps it: which setups fail for
// lack of room depends on where every key lives (two hashed rows of 4 ways) and on the pool's free chunks, so
// the model places keys slot by slot as the hardware does, and numbers slots and generations the same way.

import { bucketRows, keyHash } from "../contract/hash.js";
import { type SglEntry, sglPageGranular, Status, type StatusCode } from "../contract/protocol.js";

/** Ways per row, and pages per pool chunk (contract section 8). */
export const TAG_WAYS = 4;
export const POOL_CHUNK = 8;
/** The tag key {cid[15:0], ctx[15:0]} is 32 bits. */
const TAG_KEY_BITS = 32;

export interface TagTableParams {
  /** Slots: N_TAGS / 8 rows per bank, two banks, 4 ways. A power of two >= 16. */
  nTags: number;
  /** Pages per buffer (MAX_SGL). */
  maxSgl: number;
  /** SGL page size in bytes (PAGE). */
  page: number;
  /** Pages of all buffers at once (POOL_PAGES), a multiple of 8. */
  poolPages: number;
}

export interface TagEntry {
  readonly ctx: number;
  readonly cid: number;
  readonly sgl: readonly SglEntry[];
  /** Buffer length: the sum of the entries. */
  readonly total: number;
  /** Slot id {bank, row, way} and its generation while the entry lives (as the RTL reports them). */
  readonly slot: number;
  readonly gen: number;
  /** Cleared when the entry is torn down or its context deleted; a PDU holding it places nothing more. */
  live: boolean;
}

/** Key of (ctx, cid): ctx in bits 15:0. */
export function tagKey(ctx: number, cid: number): number {
  return ((cid & 0xffff) << 16 | (ctx & 0xffff)) >>> 0;
}

export class TagTable {
  /** Slot -> entry (undefined: free). */
  private readonly slots: (TagEntry | undefined)[];
  private readonly gens: number[];
  private readonly byKey = new Map<number, TagEntry>();
  private readonly rowBits: number;
  freeChunks: number;
  /** Setups refused for a full bucket pair, and for an empty pool (STATS 14 and 15). */
  collisions = 0;
  poolExhausted = 0;

  constructor(readonly params: TagTableParams) {
    const { nTags, poolPages } = params;
    if (nTags < 16 || (nTags & (nTags - 1)) !== 0) throw new RangeError(`TagTable: nTags ${nTags} is not a power of two >= 16`);
    if (poolPages % POOL_CHUNK !== 0) throw new RangeError(`TagTable: poolPages ${poolPages} is not a multiple of ${POOL_CHUNK}`);
    this.rowBits = Math.log2(nTags / 8);
    this.slots = new Array<TagEntry | undefined>(nTags).fill(undefined);
    this.gens = new Array<number>(nTags).fill(0);
    this.freeChunks = poolPages / POOL_CHUNK;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(ctx: number, cid: number): TagEntry | undefined {
    return this.byKey.get(tagKey(ctx, cid));
  }

  entries(): IterableIterator<TagEntry> {
    return this.byKey.values();
  }

  /** The generation a slot has now (bumped by every teardown of an entry in it). */
  genOf(slot: number): number {
    return this.gens[slot]!;
  }

  /** TAG_SETUP after its last beat; `ctxOk`: the context is in use. Checks in the contract's order. */
  setup(ctx: number, cid: number, sgl: readonly SglEntry[], ctxOk: boolean): StatusCode {
    if (!ctxOk) return Status.BAD_CTX;
    const key = tagKey(ctx, cid);
    if (this.byKey.has(key)) return Status.EXISTS;
    const slot = this.freeSlot(key);
    if (slot === undefined) {
      this.collisions++;
      return Status.TABLE_FULL;
    }
    if (sgl.length > this.params.maxSgl) return Status.SGL_TOO_LONG;
    if (!sglPageGranular(sgl, this.params.page)) return Status.BAD_SGL;
    const chunks = Math.ceil(sgl.length / POOL_CHUNK);
    if (chunks > this.freeChunks) {
      this.poolExhausted++;
      return Status.TABLE_FULL;
    }
    this.freeChunks -= chunks;
    const entry: TagEntry = { ctx, cid, sgl: sgl.map((e) => ({ ...e })), total: sgl.reduce((n, e) => n + e.len, 0), slot, gen: this.gens[slot]!, live: true };
    this.slots[slot] = entry;
    this.byKey.set(key, entry);
    return Status.OK;
  }

  /** TAG_TEARDOWN: the entry, now dead and its slot and chunks free, or undefined (NOT_FOUND). */
  teardown(ctx: number, cid: number): TagEntry | undefined {
    const e = this.byKey.get(tagKey(ctx, cid));
    if (e !== undefined) this.release(e);
    return e;
  }

  /** CTX_DEL: every entry of the context, released. */
  deleteContext(ctx: number): TagEntry[] {
    const gone = [...this.byKey.values()].filter((e) => e.ctx === ctx);
    for (const e of gone) this.release(e);
    return gone;
  }

  /** The lowest free way of row A (bank 0), else of row B (bank 1), as a slot id {bank, row, way}. */
  private freeSlot(key: number): number | undefined {
    const rows = bucketRows(keyHash(BigInt(key), TAG_KEY_BITS), this.rowBits);
    for (let bank = 0; bank < 2; bank++) {
      for (let way = 0; way < TAG_WAYS; way++) {
        const slot = (((bank << this.rowBits) | rows[bank]!) << 2) | way;
        if (this.slots[slot] === undefined) return slot;
      }
    }
    return undefined;
  }

  private release(e: TagEntry): void {
    e.live = false;
    this.slots[e.slot] = undefined;
    this.gens[e.slot] = (this.gens[e.slot]! + 1) & 0xff;
    this.byKey.delete(tagKey(e.ctx, e.cid));
    this.freeChunks += Math.ceil(e.sgl.length / POOL_CHUNK);
  }
}
