// Tag table at NIC scale (ddp_top defaults: N_TAGS 16384, MAX_SGL 128, PAGE 4096; docs/offload-contract.md
// section 8): cycles per command from the BFM stamps (a command batch starts when its first beat is offered; the
// completion's stamp ends it), and how full the 2-choice, 4-way table is when the first setup is refused for a
// full bucket pair (random keys of several contexts, one page each).
// Run alone with `npx tsx bench/tags.ts`; bench/run.ts calls benchTags().

import { pathToFileURL } from "node:url";
import { Harness } from "../src/cosim/index.js";
import { DdpPorts } from "../src/device/index.js";
import { type CommandInput, ctxDel, EventKind, Limit, Op, type SglEntry, Status, tagSetup, tagTeardown } from "../src/contract/protocol.js";
import { Rng } from "../src/util/rng.js";
import { flowAddress, TargetFlow } from "../tb/traffic/target.js";

/** `n` pages at fake page-aligned addresses (the tag table stores them; nothing is written). */
function pages(rng: Rng, n: number, page: number): SglEntry[] {
  return Array.from({ length: n }, () => ({ addr: BigInt(rng.u32()) * BigInt(page), len: page }));
}

/** Cycles from a batch's start to the last completion's stamp, and the statuses (`extraEvents`: TEARDOWN_DONEs to wait for too). */
async function timed(d: DdpPorts, beats: CommandInput[], extraEvents = 0): Promise<{ cycles: number; statuses: number[] }> {
  const out = await d.batch({ beats, extraEvents });
  const done = out.events.flatMap((e) => (!("malformed" in e.value) && e.value.kind === EventKind.COMPLETION ? [{ status: e.value.status, cycle: e.cycle }] : []));
  if (out.stalled.length > 0 || done.length === 0) throw new Error(`tag bench: ${out.stalled.join("; ") || "no completion"}`);
  return { cycles: done.at(-1)!.cycle - out.cycles[0], statuses: done.map((c) => c.status) };
}

export async function benchTags(seed = 1): Promise<void> {
  const harness = await Harness.spawn({ top: "ddp_top" });
  try {
    await harness.reset({ cycles: 4, bfms: true });
    const d = await DdpPorts.attach(harness);
    const [page, maxSgl] = (await d.commands([Limit.page, Limit.maxDdpSglLen].map((index) => ({ op: Op.LIMITS_GET, tag: 1, index }))))
      .map((e) => (!("malformed" in e.value) && e.value.kind === EventKind.COMPLETION ? Number(e.value.data) : 0)) as [number, number];
    const rng = new Rng(seed);
    const nCtx = 8;
    const flows = Array.from({ length: nCtx }, (_, ctx) => new TargetFlow({ rng: rng.fork(), addr: flowAddress(ctx + 1, "v4"), hdgst: false, ddgst: false, isn: rng.u32(), c2hDataSize: 4096 }));
    await timed(d, flows.map((f, ctx) => f.ctxAdd(ctx, 1)));

    const rows: Record<string, string | number>[] = [];
    const row = (command: string, r: { cycles: number; statuses: number[] }, per = 1) =>
      rows.push({ command, cycles: r.cycles, "cycles each": (r.cycles / per).toFixed(1), status: [...new Set(r.statuses)].join(" ") });
    row("TAG_SETUP, 1 page", await timed(d, tagSetup({ tag: 2, ctx: 0, cid: 1, sgl: pages(rng, 1, page) })));
    row(`TAG_SETUP, ${maxSgl} pages`, await timed(d, tagSetup({ tag: 2, ctx: 0, cid: 2, sgl: pages(rng, maxSgl, page) })));
    row(`TAG_SETUP, ${maxSgl + 1} pages (SGL_TOO_LONG)`, await timed(d, tagSetup({ tag: 2, ctx: 0, cid: 3, sgl: pages(rng, maxSgl + 1, page) })));
    row("TAG_TEARDOWN, 1 page (completion)", await timed(d, [tagTeardown({ tag: 3, ctx: 0, cid: 1, cookie: 1 })], 1));
    row(`TAG_TEARDOWN, ${maxSgl} pages (completion)`, await timed(d, [tagTeardown({ tag: 3, ctx: 0, cid: 2, cookie: 2 })], 1));
    row("100 TAG_SETUPs of 1 page back to back", await timed(d, Array.from({ length: 100 }, (_, i) => tagSetup({ tag: 4, ctx: 1, cid: i, sgl: pages(rng, 1, page) })).flat()), 100);
    row("CTX_DEL of a context with 100 tags", await timed(d, [ctxDel({ tag: 5, ctx: 1 })]));
    await timed(d, [flows[1]!.ctxAdd(1, 6)]);
    row("CTX_DEL of a context with no tags", await timed(d, [ctxDel({ tag: 5, ctx: 1 })]));
    await timed(d, [flows[1]!.ctxAdd(1, 6)]);

    // Fill with random (ctx, cid) keys, 512 setups per batch: the load at the first refusal, then the share of
    // setups refused once the table holds 50 %, 75 % and 90 % of N_TAGS (or as full as random keys get it).
    const slots = d.nTags;
    let held = 0;
    let firstRefusal: number | undefined;
    let fillCycles = 0;
    let attempts = 0;
    const used = new Set<number>();
    const curve: Record<string, string | number>[] = [];
    const levels = [0.5, 0.75, 0.9, 1];
    while (attempts < 8 * slots && levels.length > 0) {
      const keys: [number, number][] = [];
      while (keys.length < 512) {
        const k: [number, number] = [rng.int(nCtx), rng.int(0x10000)];
        if (!used.has(k[0] * 0x10000 + k[1])) {
          used.add(k[0] * 0x10000 + k[1]);
          keys.push(k);
        }
      }
      const before = held;
      const r = await timed(d, keys.flatMap(([ctx, cid]) => tagSetup({ tag: 7, ctx, cid, sgl: pages(rng, 1, page) })));
      fillCycles += r.cycles;
      attempts += keys.length;
      const refused = r.statuses.filter((st) => st === Status.TABLE_FULL).length;
      if (firstRefusal === undefined && refused > 0) firstRefusal = before + r.statuses.indexOf(Status.TABLE_FULL);
      held += r.statuses.length - refused;
      if (before >= levels[0]! * slots) {
        curve.push({ "occupancy before": `${((100 * before) / slots).toFixed(1)} %`, setups: keys.length, "refused (collision)": `${((100 * refused) / keys.length).toFixed(1)} %` });
        while (levels.length > 0 && before >= levels[0]! * slots) levels.shift();
      }
    }
    console.log(`ddp_top tag table (N_TAGS ${slots}, MAX_SGL ${maxSgl}, PAGE ${page}): cycles per command from the BFM stamps`);
    console.table(rows);
    console.log(`random keys, one page each: first setup refused for a full bucket pair at ${firstRefusal} entries (${((100 * (firstRefusal ?? 0)) / slots).toFixed(1)} % of ${slots} slots); ${(fillCycles / attempts).toFixed(1)} cycles per setup while filling; ${held} entries (${((100 * held) / slots).toFixed(1)} %) after ${attempts} setups`);
    console.table(curve);
  } finally {
    await harness.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await benchTags();
