// The hash of the device's RAM tables (docs/offload-contract.md section 8), shared by the RTL (rtl/ddp_hash.sv,
// rtl/ddp_hash_table.sv) and the reference model: where a key may live decides which setups fail for lack of
// room, so the model must place keys exactly as the hardware does.

import { crc32c } from "../pdu/crc32c.js";

/**
 * The hash of a `keyBits`-bit key (a multiple of 8): CRC32C (the data-digest CRC: init and final xor 0xFFFFFFFF)
 * of its bytes in little-endian order, byte i = key bits 8i+7..8i.
 */
export function keyHash(key: bigint, keyBits: number): number {
  if (!Number.isInteger(keyBits) || keyBits <= 0 || keyBits % 8 !== 0) throw new RangeError(`keyHash: ${keyBits} bits is not a whole number of bytes`);
  if (key < 0n || key >> BigInt(keyBits) !== 0n) throw new RangeError(`keyHash: key 0x${key.toString(16)} does not fit in ${keyBits} bits`);
  const bytes = new Uint8Array(keyBits / 8);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number((key >> BigInt(8 * i)) & 0xffn);
  return crc32c(bytes);
}

/**
 * The two candidate rows of a key with hash `hash` in a table of 2^rowBits rows per bank (rowBits <= 16):
 * [row A in bank 0, row B in bank 1] = [hash bits rowBits-1..0, hash bits 16+rowBits-1..16].
 */
export function bucketRows(hash: number, rowBits: number): [number, number] {
  if (!Number.isInteger(rowBits) || rowBits < 0 || rowBits > 16) throw new RangeError(`bucketRows: rowBits ${rowBits} outside 0..16`);
  const mask = (1 << rowBits) - 1;
  return [hash & mask, (hash >>> 16) & mask];
}
