// Errors raised while decoding bytes from the wire or from a file.

/**
 * Malformed input: which layer refused it ("eth", "vlan", "ipv4", "ipv6", "tcp", "udp", "pcap"),
 * at which byte offset from the start of the buffer handed to the parser, and why.
 * Parsers check every length before reading, so malformed input ends here, never in an out-of-bounds read.
 */
export class ParseError extends Error {
  constructor(
    readonly layer: string,
    readonly offset: number,
    message: string,
  ) {
    super(`${layer} at byte ${offset}: ${message}`);
    this.name = "ParseError";
  }
}
