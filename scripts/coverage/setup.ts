// vitest setup file of `make coverage`: every harness a test file spawns labels its coverage data with that
// file's name, so the report can say which test file first hit each cover point.
import { basename } from "node:path";
import { beforeAll } from "vitest";

beforeAll(({}, suite) => {
  process.env.DDP_COVERAGE_LABEL = basename(suite.file.filepath).replace(/\.test\.ts$/, "").replace(/[^\w.-]/g, "_");
});
