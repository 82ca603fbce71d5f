// Wire messages of the co-simulation protocol (docs/cosim-protocol.md), one zod schema per message.
// Requests are built by this client (typed by the schemas); every reply is parsed here before use.

import { z } from "zod";

export const PROTOCOL_VERSION = 1;

/** The most cycles one step, run or reset may ask for (the harness answers `argument` beyond). */
export const MAX_CYCLES_PER_REQUEST = 1_000_000_000;

/** Signal values travel as lowercase hex without prefix, any width. */
export const HexSchema = z.string().regex(/^[0-9a-f]+$/, "lowercase hex without prefix");
export type Hex = z.infer<typeof HexSchema>;

const Uint = z.number().int().nonnegative();
const ValuesSchema = z.record(z.string(), HexSchema);

// ---------------------------------------------------------------- requests

const Cycles = Uint.max(MAX_CYCLES_PER_REQUEST);

/** Every request carries the harness's secret (printed on its READY line). */
const request = <Op extends string, Shape extends z.ZodRawShape>(op: Op, shape: Shape) =>
  z.strictObject({ id: Uint, op: z.literal(op), secret: z.string(), ...shape });

export const UntilConditionSchema = z.union([
  z.strictObject({ idle: z.union([z.literal(true), z.string()]) }),
  z.strictObject({ received: z.record(z.string(), Uint) }),
  z.strictObject({ signal: z.strictObject({ name: z.string(), value: HexSchema }) }),
]);
export type UntilCondition = z.infer<typeof UntilConditionSchema>;

export const BfmKindSchema = z.enum(["axis_source", "axis_sink", "axis_monitor", "vr_source", "vr_sink", "vr_monitor"]);
export type BfmKind = z.infer<typeof BfmKindSchema>;

export const HelloRequestSchema = request("hello", { version: Uint });
export const ResetRequestSchema = request("reset", { cycles: Cycles.optional(), bfms: z.boolean().optional() });
export const StepRequestSchema = request("step", {
  cycles: Cycles,
  poke: ValuesSchema.optional(),
  peek: z.union([z.literal(true), z.array(z.string())]).optional(),
});
export const PeekRequestSchema = request("peek", { names: z.union([z.literal(true), z.array(z.string())]) });
export const PokeRequestSchema = request("poke", { values: ValuesSchema });
export const BindRequestSchema = request("bind", {
  kind: BfmKindSchema,
  prefix: z.string(),
  name: z.string(),
  fields: z.array(z.string()).optional(),
});
export const PauseRequestSchema = request("pause", { name: z.string(), pattern: z.string().regex(/^[01]*$/) });
export const SendRequestSchema = request("send", { name: z.string() });
export const RecvRequestSchema = request("recv", { name: z.string(), max: Uint.optional() });
export const RunRequestSchema = request("run", { maxCycles: Cycles, until: z.array(UntilConditionSchema).optional() });
export const TraceRequestSchema = request("trace", { file: z.string().nullable() });
export const StatusRequestSchema = request("status", {});
export const ByeRequestSchema = request("bye", {});
export const ClearRequestSchema = request("clear", { name: z.string() });

export const RequestSchema = z.discriminatedUnion("op", [
  HelloRequestSchema,
  ResetRequestSchema,
  StepRequestSchema,
  PeekRequestSchema,
  PokeRequestSchema,
  BindRequestSchema,
  PauseRequestSchema,
  SendRequestSchema,
  RecvRequestSchema,
  RunRequestSchema,
  TraceRequestSchema,
  StatusRequestSchema,
  ByeRequestSchema,
  ClearRequestSchema,
]);
export type Request = z.infer<typeof RequestSchema>;
export type Op = Request["op"];
/** The fields a request of `op` carries besides `id`, `op` and `secret`. */
export type RequestFields<O extends Op> = Omit<Extract<Request, { op: O }>, "id" | "op" | "secret">;

// ---------------------------------------------------------------- replies

export const ErrorKindSchema = z.enum(["protocol", "argument", "assertion", "finished", "limit", "denied", "interrupted"]);

/**
 * Every failed request. The harness also splices in whatever result fields the op had produced (a `limit` error
 * of `run` carries the run result; an assertion during `step` may carry `values`), hence loose.
 */
export const ErrorReplySchema = z.looseObject({
  id: Uint,
  ok: z.literal(false),
  cycle: Uint,
  error: z.strictObject({ kind: ErrorKindSchema, message: z.string(), assertion: z.string().optional() }),
});
export type ErrorReply = z.infer<typeof ErrorReplySchema>;

const okReply = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject({ id: Uint, ok: z.literal(true), cycle: Uint, ...shape });

export const PortSchema = z.strictObject({ name: z.string(), dir: z.enum(["in", "out"]), width: z.number().int().positive() });
export type Port = z.infer<typeof PortSchema>;

export const HelloReplySchema = okReply({
  version: Uint,
  top: z.string(),
  ports: z.array(PortSchema),
  clock: z.string(),
  reset: z.string(),
});
export const ResetReplySchema = okReply({});
export const StepReplySchema = okReply({ values: ValuesSchema.optional() });
export const PeekReplySchema = okReply({ values: ValuesSchema });
export const PokeReplySchema = okReply({});
export const BindReplySchema = okReply({ signals: z.array(z.string()), fields: z.array(z.string()).optional() });
export const PauseReplySchema = okReply({});
export const SendReplySchema = okReply({ queued: Uint });
export const RecvReplySchema = okReply({ items: z.array(z.strictObject({ start: Uint, end: Uint })) });
export const RunReplySchema = okReply({ cycles: Uint, reason: z.enum(["done", "limit"]), met: z.array(Uint) });
export const TraceReplySchema = okReply({});
export const BfmStatusSchema = z.strictObject({ queued: Uint, received: Uint, busy: z.boolean() });
export const StatusReplySchema = okReply({ bfms: z.record(z.string(), BfmStatusSchema) });
export const ByeReplySchema = okReply({});
export const ClearReplySchema = okReply({});

/** The success reply schema of each op (replies carry no `op`: they are matched to requests by `id`). */
export const ReplySchemas = {
  hello: HelloReplySchema,
  reset: ResetReplySchema,
  step: StepReplySchema,
  peek: PeekReplySchema,
  poke: PokeReplySchema,
  bind: BindReplySchema,
  pause: PauseReplySchema,
  send: SendReplySchema,
  recv: RecvReplySchema,
  run: RunReplySchema,
  trace: TraceReplySchema,
  status: StatusReplySchema,
  bye: ByeReplySchema,
  clear: ClearReplySchema,
} as const satisfies Record<Op, z.ZodType>;
export type Reply<O extends Op> = z.infer<(typeof ReplySchemas)[O]>;
export type HelloReply = Reply<"hello">;
export type RunReply = Reply<"run">;
/** The run result inside a `limit` error reply. */
export const RunLimitSchema = RunReplySchema.extend({ ok: z.literal(false) }).loose();
export type BfmStatus = z.infer<typeof BfmStatusSchema>;

/** Only the part needed to route a reply to its request; the rest is checked per op. */
export const ReplyEnvelopeSchema = z.looseObject({ id: Uint, ok: z.boolean() });

// ---------------------------------------------------------------- bench mode

export const BenchResultSchema = z.strictObject({
  cycles: Uint,
  seconds: z.number().nonnegative(),
  cyclesPerSecond: z.number().nonnegative(),
  beats: Uint,
});
export type BenchResult = z.infer<typeof BenchResultSchema>;

// ---------------------------------------------------------------- values

export function toHex(value: bigint): Hex {
  if (value < 0n) throw new RangeError(`signal values are unsigned, got ${value}`);
  return value.toString(16);
}

export function fromHex(hex: Hex): bigint {
  return BigInt(`0x${hex}`);
}
