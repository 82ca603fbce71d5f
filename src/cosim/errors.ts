// One error class for everything that can go wrong talking to a harness, so callers switch on `kind`.

import type { ErrorReply } from "./protocol.js";

export type HarnessErrorKind =
  | "protocol" // malformed message in either direction, unknown op, missing field
  | "argument" // unknown port or BFM, bad width or value
  | "assertion" // an SVA / immediate assertion, $error or $fatal fired during the request
  | "finished" // $finish was called
  | "limit" // a run hit maxCycles before its condition
  | "denied" // the request did not carry the harness's secret
  | "interrupted" // the harness stopped a step / run to exit (signal, stdin EOF, parent death)
  | "timeout" // no reply within the request's time limit
  | "dead" // the harness process exited or could not start
  | "version"; // protocol version mismatch in the handshake

export interface HarnessErrorDetails {
  op?: string;
  cycle?: number;
  assertion?: string;
  /** The last lines the harness printed, when known. */
  outputTail?: string[];
  /** The error reply as received (a `limit` error of `run` carries the run result). */
  reply?: ErrorReply;
}

export class HarnessError extends Error {
  readonly kind: HarnessErrorKind;
  readonly op: string | undefined;
  readonly cycle: number | undefined;
  readonly assertion: string | undefined;
  readonly outputTail: string[];
  readonly reply: ErrorReply | undefined;

  constructor(kind: HarnessErrorKind, message: string, details: HarnessErrorDetails = {}) {
    const tail = details.outputTail ?? [];
    const where = details.cycle === undefined ? "" : ` at cycle ${details.cycle}`;
    const op = details.op === undefined ? "" : `${details.op}: `;
    const output = tail.length === 0 ? "" : `\n--- harness output (last ${tail.length} lines) ---\n${tail.join("\n")}`;
    super(`harness ${kind} error${where}: ${op}${message}${output}`);
    this.name = "HarnessError";
    this.kind = kind;
    this.op = details.op;
    this.cycle = details.cycle;
    this.assertion = details.assertion;
    this.outputTail = tail;
    this.reply = details.reply;
  }
}
