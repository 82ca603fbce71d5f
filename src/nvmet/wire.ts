// The impaired wire between the NVMe/TCP target and the NIC: a seeded, reproducible stream of Ethernet frames
// with loss, reordering, duplication and corruption, and a log of what happened to each frame.
//
// Each pushed frame gets at most one impairment, drawn with the given probabilities:
//   loss      the frame is held back and goes out `retransmitDelay` pushes later (a TCP retransmission of the same
//             bytes): the receiver sees a gap, then the data.
//   corrupt   a copy with one byte flipped goes out now (checksum left stale, so it fails verification), and the
//             good frame goes out later as a retransmission, like a loss.
//   duplicate the frame goes out twice in a row.
//   reorder   the frame is swapped with the next one pushed (that next frame is never itself reordered).
// Retransmissions are not impaired again. Time is counted in pushes: a frame held for `d` goes out right after
// the frame pushed `d` pushes later, or at flush(). Whatever the impairments, a TCP receiver that drops frames
// failing their checksum reassembles exactly the stream that was sent.

import { z } from "zod";
import { ParseError } from "../net/errors.js";
import { parseFrame } from "../net/frame.js";
import { Rng } from "../util/rng.js";

const rate = z.number().min(0).max(1).default(0);

/** Impairment settings, e.g. from a CLI or a test config; rates are probabilities per pushed frame. */
export const WireImpairmentsSchema = z
  .object({
    loss: rate,
    reorder: rate,
    duplicate: rate,
    corrupt: rate,
    /** Pushes until a lost (or corrupted) frame's retransmission: a fixed count or an inclusive [min, max] range. */
    retransmitDelay: z
      .union([z.number().int().min(1), z.tuple([z.number().int().min(1), z.number().int().min(1)])])
      .default([3, 8]),
  })
  .refine((w) => w.loss + w.reorder + w.duplicate + w.corrupt <= 1, { message: "impairment rates must add up to at most 1" });

export type WireImpairments = z.input<typeof WireImpairmentsSchema>;

/** What happened on the wire, in the order it happened. `index` is the pushed frame's number (0-based). */
export type WireEvent =
  | { index: number; action: "pass" }
  | { index: number; action: "loss"; delay: number }
  | { index: number; action: "corrupt"; byteOffset: number; delay: number }
  | { index: number; action: "duplicate" }
  | { index: number; action: "reorder" }
  | { index: number; action: "retransmit" };

export type WireAction = WireEvent["action"];

interface Retransmission {
  index: number;
  frame: Uint8Array;
  /** Push number after which it goes out. */
  due: number;
}

export class ImpairedWire {
  readonly log: WireEvent[] = [];
  private readonly rng: Rng;
  private readonly settings: z.infer<typeof WireImpairmentsSchema>;
  private pushed = 0;
  /** A frame waiting to go out after the next one (reorder). */
  private swapWith: { index: number; frame: Uint8Array } | undefined;
  private retransmissions: Retransmission[] = [];

  constructor(opts: WireImpairments & { seed: number }) {
    const { seed, ...impairments } = opts;
    this.settings = WireImpairmentsSchema.parse(impairments);
    this.rng = new Rng(seed);
  }

  /** Frames held back (reordered, lost, or waiting for retransmission after corruption). */
  get pending(): number {
    return this.retransmissions.length + (this.swapWith ? 1 : 0);
  }

  /** Puts one frame on the wire; returns the frames leaving it now, in order. The input is never modified. */
  push(frame: Uint8Array): Uint8Array[] {
    if (frame.length === 0) throw new RangeError("ImpairedWire.push: empty frame");
    const index = this.pushed++;
    const out: Uint8Array[] = [];
    const swapped = this.swapWith;
    this.swapWith = undefined;

    const action = this.draw(swapped !== undefined);
    switch (action) {
      case "pass":
        out.push(frame);
        this.log.push({ index, action });
        break;
      case "duplicate":
        out.push(frame, frame.slice());
        this.log.push({ index, action });
        break;
      case "reorder":
        this.swapWith = { index, frame };
        this.log.push({ index, action });
        break;
      case "loss": {
        const delay = this.holdForRetransmission(index, frame);
        this.log.push({ index, action, delay });
        break;
      }
      case "corrupt": {
        const { copy, byteOffset } = this.corrupted(frame);
        out.push(copy);
        const delay = this.holdForRetransmission(index, frame);
        this.log.push({ index, action, byteOffset, delay });
        break;
      }
    }
    if (swapped) out.push(swapped.frame);
    out.push(...this.releaseDue(index));
    return out;
  }

  /** Everything still held: a reordered frame first, then retransmissions in the order they were due. */
  flush(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.swapWith) out.push(this.swapWith.frame);
    this.swapWith = undefined;
    out.push(...this.releaseDue(Infinity));
    return out;
  }

  private draw(afterReorder: boolean): Exclude<WireAction, "retransmit"> {
    const { loss, corrupt, duplicate, reorder } = this.settings;
    let x = this.rng.float();
    const choices = [
      ["loss", loss],
      ["corrupt", corrupt],
      ["duplicate", duplicate],
      ["reorder", reorder],
    ] as const;
    for (const [action, p] of choices) {
      if (x < p) return action === "reorder" && afterReorder ? "pass" : action;
      x -= p;
    }
    return "pass";
  }

  private holdForRetransmission(index: number, frame: Uint8Array): number {
    const d = this.settings.retransmitDelay;
    const delay = typeof d === "number" ? d : this.rng.range(Math.min(...d), Math.max(...d));
    this.retransmissions.push({ index, frame, due: index + delay });
    return delay;
  }

  private releaseDue(now: number): Uint8Array[] {
    const due = this.retransmissions.filter((r) => r.due <= now).sort((a, b) => a.due - b.due || a.index - b.index);
    if (due.length === 0) return [];
    this.retransmissions = this.retransmissions.filter((r) => r.due > now);
    for (const r of due) this.log.push({ index: r.index, action: "retransmit" });
    return due.map((r) => r.frame);
  }

  /**
   * A copy with one bit flipped in a byte that a checksum covers: a random byte of the innermost payload, or of
   * the TCP/UDP header when there is no payload. A frame that does not parse as IP gets a byte after the
   * Ethernet header flipped (nothing can detect that, but it is still logged as corruption).
   */
  private corrupted(frame: Uint8Array): { copy: Uint8Array; byteOffset: number } {
    let start = Math.min(14, frame.length - 1);
    let end = frame.length;
    try {
      const parsed = parseFrame(frame);
      if (parsed.payload.length > 0) [start, end] = [parsed.payloadOffset, parsed.payloadOffset + parsed.payload.length];
      else if (parsed.l4Offset !== undefined) [start, end] = [parsed.l4Offset, parsed.payloadOffset];
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    const byteOffset = this.rng.range(start, end - 1);
    const copy = frame.slice();
    copy[byteOffset]! ^= 1 << this.rng.int(8);
    return { copy, byteOffset };
  }
}
