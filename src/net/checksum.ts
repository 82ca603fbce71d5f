// The Internet checksum (RFC 1071): 16-bit one's-complement sum, used by IPv4, TCP and UDP.
// Sums are kept unfolded (plain numbers) until the end so that pieces can be added cheaply.

/** Adds bytes[start, end) as big-endian 16-bit words (an odd last byte is padded with zero) to `sum`. */
export function sumWords(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  // Doubles are exact to 2^53, far beyond any frame's sum, so folding can wait until the end.
  return sum;
}

/** Folds carries back in: a value in 0..0xffff. */
export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field value for data whose (unfolded) sum is `sum`. */
export function checksumOf(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/** A region that already contains its checksum field verifies when its folded sum is 0xffff. */
export function sumVerifies(sum: number): boolean {
  return foldSum(sum) === 0xffff;
}

/** Sum of the TCP/UDP pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, l4Length: number): number {
  let sum = sumWords(src) + sumWords(dst) + protocol;
  // IPv6 carries a 32-bit upper-layer length; for IPv4 the high half is zero anyway.
  sum += Math.floor(l4Length / 0x10000) + (l4Length & 0xffff);
  return sum;
}
