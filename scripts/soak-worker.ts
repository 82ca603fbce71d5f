// A soak worker (forked by scripts/soak.ts): one ddp_top harness, scenarios run one at a time as the parent asks.
// It lives only as long as its parent: when the IPC channel closes (the parent exited or was killed), it exits,
// and its harness with it.

import { Harness } from "../src/cosim/index.js";
import { runSoakCase, soakCase } from "../tb/traffic/soak.js";
import { type FromWorker, ToWorkerSchema } from "./soak-protocol.js";

const send = (m: FromWorker): void => {
  process.send!(m);
};

if (process.send === undefined) {
  console.error("soak-worker: run by scripts/soak.ts (needs an IPC channel)");
  process.exit(2);
}
process.on("disconnect", () => process.exit(1));

let harness = await Harness.spawn({ top: "ddp_top" });
process.on("message", (raw: unknown) => {
  const m = ToWorkerSchema.parse(raw);
  if (m.type === "stop") {
    void harness.close().then(() => process.exit(0));
    return;
  }
  void (async () => {
    try {
      send({ type: "result", index: m.index, result: await runSoakCase(harness, soakCase(m.seed)) });
    } catch (e) {
      // Whatever state the failure left the harness in, the next scenario starts on a fresh one.
      await harness.close();
      harness = await Harness.spawn({ top: "ddp_top" });
      send({ type: "error", index: m.index, seed: m.seed, message: (e as Error).message.split("\n")[0]! });
    }
  })();
});
send({ type: "ready" });
