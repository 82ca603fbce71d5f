// Streaming PDU framer: cuts a TCP byte stream, delivered in chunks split anywhere, into decoded PDUs.
//
// It keeps at most one incomplete PDU. The common header is validated as soon as its 8 bytes are in, so a lying
// plen is refused before anything is buffered for it; the rest of the PDU is validated by decodePdu once plen
// bytes are in. The first invalid PDU makes the framer fail for good (a host tears the connection down): that
// push and every later one throw the same PduError; the PDUs that push completed before the bad one are kept in
// completedBeforeFailure.
//
// Offload hooks: each PDU carries `streamOffset`, the offset in the stream of its first byte, so a host knows
// where its data ([streamOffset + dataOffset, + dataLength)) and DDGST (the last 4 bytes) lay in the stream.
// With `verifyDdgst: false` the framer leaves data digests to the caller (see dataDigestMatches).

import {
  COMMON_HEADER_LENGTH,
  decodePdu,
  type DecodedPdu,
  type DecodeOptions,
  type DigestOptions,
  PduError,
  peekPduLengths,
} from "./pdu.js";

export { dataDigestMatches } from "./pdu.js";

export interface FramerOptions extends DecodeOptions {
  /** "C2H" on a host, "H2C" on a controller. */
  direction: "C2H" | "H2C";
  /**
   * Switch to the digests an ICReq / ICResp announces once the framer has passed it (default true). A host that
   * wants to check the ICResp against its ICReq first can turn this off and call setDigests itself.
   */
  adoptIcDigests?: boolean;
}

export interface FramedPdu extends DecodedPdu {
  /** Stream offset of the PDU's first byte (counting every byte ever pushed from 0). */
  streamOffset: number;
}

export class PduFramer {
  private opts: FramerOptions;
  /** The incomplete PDU: its common header first, then (once plen is known) a buffer of plen bytes. */
  private partial = new Uint8Array(COMMON_HEADER_LENGTH);
  private have = 0;
  private plenKnown = false;
  private consumed = 0;
  private failure: PduError | undefined;
  private salvaged: FramedPdu[] = [];

  constructor(opts: FramerOptions) {
    this.opts = { ...opts };
  }

  /** Change the negotiated digests; applies from the next PDU boundary the stream reaches. */
  setDigests(d: DigestOptions): void {
    this.opts = { ...this.opts, hdgst: d.hdgst, ddgst: d.ddgst };
  }

  /** Stream offset of the first byte not yet part of a completed PDU. */
  get streamOffset(): number {
    return this.consumed;
  }

  /** Bytes of an incomplete PDU held back. */
  get pendingBytes(): number {
    return this.have;
  }

  /** True when the next pushed byte starts a new PDU. */
  get atPduBoundary(): boolean {
    return this.have === 0;
  }

  /** The error that stopped the framer, if any; the offending PDU starts at `streamOffset`. */
  get error(): PduError | undefined {
    return this.failure;
  }

  /** The PDUs the failing push completed before it hit the invalid one (a host still acts on them). */
  get completedBeforeFailure(): readonly FramedPdu[] {
    return this.salvaged;
  }

  /**
   * Consumes `chunk` and returns the PDUs it completed, in order. Data fields of the returned PDUs may be views
   * into `chunk`: copy them before reusing the chunk's memory.
   */
  push(chunk: Uint8Array): FramedPdu[] {
    if (this.failure) throw this.failure;
    const out: FramedPdu[] = [];
    try {
      let pos = 0;
      while (pos < chunk.length) {
        if (this.have === 0) {
          // Fast path: a whole PDU at the start of what is left of the chunk is decoded in place, without a copy.
          const rest = chunk.subarray(pos);
          if (rest.length >= COMMON_HEADER_LENGTH) {
            const { plen } = peekPduLengths(rest, this.opts);
            if (rest.length >= plen) {
              out.push(this.complete(rest.subarray(0, plen)));
              pos += plen;
              continue;
            }
          }
        }
        pos += this.accumulate(chunk.subarray(pos), out);
      }
    } catch (e) {
      if (e instanceof PduError) {
        this.failure = e;
        this.salvaged = out;
      }
      throw e;
    }
    return out;
  }

  /** Copies bytes of an incomplete PDU; returns how many it took. */
  private accumulate(bytes: Uint8Array, out: FramedPdu[]): number {
    const take = Math.min(this.partial.length - this.have, bytes.length);
    this.partial.set(bytes.subarray(0, take), this.have);
    this.have += take;
    if (this.have < this.partial.length) return take;
    if (!this.plenKnown) {
      const { plen } = peekPduLengths(this.partial, this.opts);
      const whole = new Uint8Array(plen);
      whole.set(this.partial);
      this.partial = whole;
      this.plenKnown = true;
      return take;
    }
    out.push(this.complete(this.partial));
    this.partial = new Uint8Array(COMMON_HEADER_LENGTH);
    this.have = 0;
    this.plenKnown = false;
    return take;
  }

  private complete(bytes: Uint8Array): FramedPdu {
    const decoded = decodePdu(bytes, this.opts);
    const framed: FramedPdu = { ...decoded, streamOffset: this.consumed };
    this.consumed += decoded.length;
    const pdu = decoded.pdu;
    if ((pdu.kind === "ICReq" || pdu.kind === "ICResp") && (this.opts.adoptIcDigests ?? true)) {
      this.setDigests({ hdgst: pdu.hdgstEnable, ddgst: pdu.ddgstEnable });
    }
    return framed;
  }
}
