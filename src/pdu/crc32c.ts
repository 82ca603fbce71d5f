// CRC32C (Castagnoli) for NVMe/TCP header and data digests.
// The arithmetic comes from @node-rs/crc32 (native, SSE4.2 where available); this file only fixes the
// conventions: a "CRC" here is always the finished value (init and final xor 0xFFFFFFFF already applied),
// and a digest travels on the wire as that value in little-endian byte order (facts 1.7).

import { crc32c as nativeCrc32c } from "@node-rs/crc32";

export const DIGEST_LENGTH = 4;

/**
 * Finished CRC32C of `bytes`. Pass the finished CRC of the preceding bytes as `prev` to continue a
 * computation across pieces: crc32c(b, crc32c(a)) === crc32c(a ++ b).
 */
export function crc32c(bytes: Uint8Array, prev?: number): number {
  return nativeCrc32c(bytes, prev) >>> 0;
}

/** Writes `crc` as the 4 little-endian digest bytes at `offset`. */
export function writeDigest(buf: Uint8Array, offset: number, crc: number): void {
  buf[offset] = crc & 0xff;
  buf[offset + 1] = (crc >>> 8) & 0xff;
  buf[offset + 2] = (crc >>> 16) & 0xff;
  buf[offset + 3] = (crc >>> 24) & 0xff;
}

/** Reads the 4 little-endian digest bytes at `offset` as an unsigned 32-bit value. */
export function readDigest(buf: Uint8Array, offset: number): number {
  if (offset < 0 || offset + DIGEST_LENGTH > buf.length) throw new RangeError(`readDigest: offset ${offset} outside ${buf.length} bytes`);
  return (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24)) >>> 0;
}

/** The 4 wire bytes of the digest of `bytes`. */
export function digestBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(DIGEST_LENGTH);
  writeDigest(out, 0, crc32c(bytes));
  return out;
}
