import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // RTL tests co-simulate: generous per test; hooks include the first Verilator build of a top.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Each file in its own process (harness processes die with it); the machine has 2 cores.
    pool: "forks",
    maxWorkers: 2,
  },
});
