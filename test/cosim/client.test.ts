// The client against a fake harness (a ROUTER socket written here, following docs/cosim-protocol.md):
// reply matching by id, timeouts, malformed replies, version check, error replies.

import { describe, test, expect, afterEach } from "vitest";
import { Router } from "zeromq";
import { Harness, HarnessError, PROTOCOL_VERSION } from "../../src/cosim/index.js";

type Json = Record<string, unknown>;
/** Returns the reply JSON (or a raw string to send as is), or undefined to not answer. */
type Handler = (req: Json, answer: (reply: Json | string, parts?: Buffer[]) => Promise<void>) => void | Promise<void>;

const HELLO = { version: PROTOCOL_VERSION, top: "fake", ports: [{ name: "clk", dir: "in", width: 1 }, { name: "bus", dir: "out", width: 512 }], clock: "clk", reset: "rst" };

class FakeHarness {
  readonly router = new Router({ linger: 0 });
  endpoint = "";
  cycle = 0;

  constructor(private readonly handler: Handler) {}

  async start(): Promise<string> {
    await this.router.bind("tcp://127.0.0.1:*");
    this.endpoint = this.router.lastEndpoint!;
    void this.loop();
    return this.endpoint;
  }

  private async loop(): Promise<void> {
    try {
      for await (const [routing, json] of this.router) {
        const req = JSON.parse(json!.toString()) as Json;
        const answer = async (reply: Json | string, parts: Buffer[] = []) => {
          const text = typeof reply === "string" ? reply : JSON.stringify(reply);
          await this.router.send([routing!, text, ...parts]);
        };
        if (req.op === "hello") await answer({ id: req.id, ok: true, cycle: this.cycle, ...HELLO });
        else if (req.op === "bye") await answer({ id: req.id, ok: true, cycle: this.cycle });
        else await this.handler(req, answer);
      }
    } catch {
      // socket closed at the end of the test
    }
  }

  close(): void {
    this.router.close();
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function connectTo(handler: Handler, requestTimeoutMs?: number): Promise<{ fake: FakeHarness; harness: Harness }> {
  const fake = new FakeHarness(handler);
  const endpoint = await fake.start();
  cleanups.push(() => fake.close());
  const harness = await Harness.connect(endpoint, requestTimeoutMs === undefined ? {} : { requestTimeoutMs });
  cleanups.push(() => harness.close());
  return { fake, harness };
}

describe("cosim client against a fake harness", () => {
  test("handshake exposes the port table", async () => {
    const { harness } = await connectTo(() => undefined);
    expect(harness.info.top).toBe("fake");
    expect(harness.port("bus").width).toBe(512);
    expect(() => harness.port("nope")).toThrow(/no port 'nope'/);
  });

  test("replies answered out of order reach the right request", async () => {
    // Hold peeks until three arrived, then answer them in reverse order, each echoing its own id as a value.
    const held: { req: Json; answer: (r: Json) => Promise<void> }[] = [];
    const { harness } = await connectTo(async (req, answer) => {
      held.push({ req, answer });
      if (held.length < 3) return;
      for (const h of held.reverse()) {
        await h.answer({ id: h.req.id, ok: true, cycle: 7, values: { bus: (h.req.id as number).toString(16) } });
      }
    });
    const ids = await Promise.all([harness.request("peek", { names: true }), harness.request("peek", { names: true }), harness.request("peek", { names: true })]);
    const echoed = ids.map((r) => r.reply.id.toString(16) === r.reply.values.bus);
    expect(echoed).toEqual([true, true, true]);
    expect(new Set(ids.map((r) => r.reply.id)).size).toBe(3);
    expect(harness.cycle).toBe(7);
  });

  test("hex values of any width become bigints and back", async () => {
    const wide = (1n << 511n) | 0xdeadbeefn;
    let poked: unknown;
    const { harness } = await connectTo(async (req, answer) => {
      if (req.op === "poke") poked = req.values;
      await answer({ id: req.id, ok: true, cycle: 0, ...(req.op === "peek" ? { values: { bus: wide.toString(16) } } : {}) });
    });
    expect((await harness.peek(["bus"])).bus).toBe(wide);
    await harness.poke({ clk: 1n, bus: wide });
    expect(poked).toEqual({ clk: "1", bus: "8" + "0".repeat(119) + "deadbeef" });
  });

  test("a timed-out request rejects; its late reply is dropped and the next request works", async () => {
    const { harness } = await connectTo(async (req, answer) => {
      if (req.op === "step") {
        setTimeout(() => void answer({ id: req.id, ok: true, cycle: 99 }), 300);
        return;
      }
      await answer({ id: req.id, ok: true, cycle: 1, values: { bus: "5" } });
    });
    const slow = harness.request("step", { cycles: 1 }, [], { timeoutMs: 100 });
    await expect(slow).rejects.toMatchObject({ kind: "timeout", op: "step" });
    await expect(slow).rejects.toThrow(/no reply to request \d+ within 100 ms/);
    expect((await harness.peek(["bus"])).bus).toBe(5n);
    expect(harness.cycle).toBe(1);
    for (let i = 0; i < 100 && harness.lateReplies === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(harness.lateReplies).toBe(1); // the late reply to the step arrived and was dropped
    expect((await harness.peek(["bus"])).bus).toBe(5n);
  });

  test("a reply that is not JSON fails the waiting request with a protocol error", async () => {
    const { harness } = await connectTo(async (_req, answer) => answer("this is not json"));
    await expect(harness.status()).rejects.toMatchObject({ kind: "protocol" });
    await expect(harness.status()).rejects.toThrow(/malformed reply without a valid id: this is not json/);
  });

  test("a reply with the wrong fields is a protocol error naming the op", async () => {
    const { harness } = await connectTo(async (req, answer) => answer({ id: req.id, ok: true, cycle: 0, values: { bus: "XYZ" } }));
    const err = await harness.peek(["bus"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).kind).toBe("protocol");
    expect((err as HarnessError).message).toMatch(/peek: malformed reply/);
  });

  test("an assertion error reply names the assertion", async () => {
    const { harness } = await connectTo(async (req, answer) =>
      answer({
        id: req.id, ok: false, cycle: 42,
        error: { kind: "assertion", message: "%Error: x.sv:12: Assertion failed in TOP.x.a_len_ok", assertion: "TOP.x.a_len_ok" },
      }),
    );
    const err = (await harness.step(1).catch((e: unknown) => e)) as HarnessError;
    expect(err.kind).toBe("assertion");
    expect(err.cycle).toBe(42);
    expect(err.assertion).toBe("TOP.x.a_len_ok");
    expect(err.message).toMatch(/at cycle 42: step: assertion TOP.x.a_len_ok failed/);
  });

  test("run hitting its limit is a result whether the harness answers ok or limit error", async () => {
    let n = 0;
    const { harness } = await connectTo(async (req, answer) => {
      n++;
      if (n === 1) await answer({ id: req.id, ok: true, cycle: 10, cycles: 10, reason: "limit", met: [] });
      else await answer({ id: req.id, ok: false, cycle: 20, error: { kind: "limit", message: "maxCycles" }, cycles: 10, reason: "limit", met: [] });
    });
    expect(await harness.run(10, [{ idle: true }])).toEqual({ cycle: 10, cycles: 10, reason: "limit", met: [] });
    expect(await harness.run(10, [{ idle: true }])).toEqual({ cycle: 20, cycles: 10, reason: "limit", met: [] });
  });

  test("recv pairs binary parts with items", async () => {
    const { harness } = await connectTo(async (req, answer) =>
      answer({ id: req.id, ok: true, cycle: 3, items: [{ start: 1, end: 2 }, { start: 2, end: 3 }] }, [Buffer.from("ab"), Buffer.from("c")]),
    );
    const items = await harness.recv("m_axis");
    expect(items.map((i) => [i.start, i.end, i.data.toString()])).toEqual([[1, 2, "ab"], [2, 3, "c"]]);
  });

  test("a version mismatch is a clear error", async () => {
    const router = new Router({ linger: 0 });
    await router.bind("tcp://127.0.0.1:*");
    cleanups.push(() => router.close());
    void (async () => {
      for await (const [routing, json] of router) {
        const req = JSON.parse(json!.toString()) as Json;
        await router.send([routing!, JSON.stringify({ id: req.id, ok: true, cycle: 0, ...HELLO, version: PROTOCOL_VERSION + 1 })]);
      }
    })().catch(() => undefined);
    const err = (await Harness.connect(router.lastEndpoint!).catch((e: unknown) => e)) as HarnessError;
    expect(err.kind).toBe("version");
    expect(err.message).toMatch(new RegExp(`protocol version ${PROTOCOL_VERSION + 1}, this client speaks ${PROTOCOL_VERSION}`));
  });

  test("requests after close reject at once", async () => {
    const { harness } = await connectTo(() => undefined);
    await harness.close();
    await expect(harness.status()).rejects.toMatchObject({ kind: "dead" });
  });
});
