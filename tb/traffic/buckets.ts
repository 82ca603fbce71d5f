// Keys that fill one bucket pair of the tag table (contract section 8): a key lives in row A of bank 0 or row B
// of bank 1 (src/contract/hash.ts), so a key whose two rows are full is refused however empty the rest of the
// table is. Found with the contract's hash; the RTL computes it on its own (rtl/ddp_hash.sv).

import { bucketRows, keyHash } from "../../src/contract/hash.js";
import type { Rng } from "../../src/util/rng.js";

/** Ways per row (contract section 8). */
const WAYS = 4;

/**
 * CIDs of context `ctx` for a table of `nTags` slots: set up `fill` in order and `target` is refused (TABLE_FULL),
 * and nothing before it is. Four keys take row A of the target; four more go to its row B, each once its own
 * row A is full (four keys fill it first unless the plan already did, so it moves to bank 1). `inRowA` are the first four. CIDs in `exclude` are
 * not used (keys already set up).
 */
export function bucketPairFill(rng: Rng, ctx: number, nTags: number, exclude: readonly number[] = []): { target: number; fill: number[]; inRowA: number[] } {
  const rowBits = Math.log2(nTags / 8);
  const rows = (cid: number) => bucketRows(keyHash(BigInt((((cid & 0xffff) << 16) | (ctx & 0xffff)) >>> 0), 32), rowBits);
  const used = new Set<number>(exclude);
  const cidsWhere = (n: number, want: (r: [number, number]) => boolean): number[] => {
    const out: number[] = [];
    for (let cid = rng.int(0x10000), i = 0; out.length < n && i < 0x10000; cid = (cid + 1) & 0xffff, i++) {
      if (!used.has(cid) && want(rows(cid))) {
        out.push(cid);
        used.add(cid);
      }
    }
    if (out.length < n) throw new Error(`bucketPairFill: fewer than ${n} CIDs of context ${ctx} with these rows`);
    return out;
  };
  const [target] = cidsWhere(1, () => true);
  const [rowA, rowB] = rows(target!);
  const inRowA = cidsWhere(WAYS, (r) => r[0] === rowA);
  const toRowB = cidsWhere(WAYS, (r) => r[1] === rowB && r[0] !== rowA);
  // Bank-0 rows the plan fills (a row already full needs no more keys).
  const full = new Set<number>([rowA]);
  const fill = [...inRowA];
  for (const cid of toRowB) {
    const own = rows(cid)[0];
    if (!full.has(own)) fill.push(...cidsWhere(WAYS, (r) => r[0] === own && r[1] !== rowB));
    full.add(own);
    fill.push(cid);
  }
  return { target: target!, fill, inRowA };
}
