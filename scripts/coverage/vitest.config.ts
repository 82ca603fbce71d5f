// `make coverage`: the project's vitest configuration plus the setup file that labels coverage data per test file.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "../../vitest.config.js";

export default mergeConfig(base, defineConfig({ test: { setupFiles: ["scripts/coverage/setup.ts"] } }));
