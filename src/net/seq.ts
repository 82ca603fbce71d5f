// TCP sequence-number (serial-number) arithmetic, mod 2^32 (RFC 1982 / RFC 9293 3.4).
// Two sequence numbers compare correctly as long as they are less than 2^31 apart.
// Every comparison of sequence numbers in the project goes through these helpers.

/** a + n, wrapped to 32 bits. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance b -> a, i.e. a - b in (-2^31, 2^31]: positive when a is after b. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** a is strictly before b. */
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** a is before or equal to b. */
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}

/** a is strictly after b. */
export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** a is after or equal to b. */
export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}
