// The "wire stream intact" invariant as it goes: the byte stream TCP delivers to the ULP must be the stream the
// sender put on the wire, whatever the NIC placed or passed, and however the wire impaired it.

export class StreamCheck {
  wireBytes = 0;
  deliveredBytes = 0;
  /** Stream offset of the first delivered byte that differs from (or goes beyond) what was sent. */
  mismatchAt: number | undefined;
  private readonly sent: Uint8Array[] = [];
  private head = 0;

  wire(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.sent.push(bytes);
    this.wireBytes += bytes.length;
  }

  delivered(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const ref = this.sent[0];
      if (!ref) {
        this.mismatchAt ??= this.deliveredBytes + i;
        break;
      }
      const n = Math.min(ref.length - this.head, bytes.length - i);
      if (this.mismatchAt === undefined && !Buffer.from(ref.buffer, ref.byteOffset + this.head, n).equals(Buffer.from(bytes.buffer, bytes.byteOffset + i, n))) {
        let k = 0;
        while (ref[this.head + k] === bytes[i + k]) k++;
        this.mismatchAt = this.deliveredBytes + i + k;
      }
      this.head += n;
      i += n;
      if (this.head === ref.length) {
        this.sent.shift();
        this.head = 0;
      }
    }
    this.deliveredBytes += bytes.length;
  }

  /** Everything sent was delivered, byte for byte. */
  get equal(): boolean {
    return this.mismatchAt === undefined && this.wireBytes === this.deliveredBytes;
  }

  /** The invariant's failure in words, or undefined. */
  problem(who: string): string | undefined {
    return this.equal ? undefined : `${who}: TCP delivered ${this.deliveredBytes} bytes, the sender sent ${this.wireBytes}; first difference at ${this.mismatchAt ?? this.deliveredBytes}`;
  }
}
