// The import rule of docs/architecture.md, checked on the source: every file under src/ imports only its own
// folder and the folders of lower layers (never tb/, test/ or bench/), and bench/ and test/ never import each
// other. A violation names the file, the import and both layers.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** src/ folders from the top layer down; folders in one layer do not import each other. */
export const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["replay"],
  ["stack"],
  ["nvme", "driver", "nvmet"],
  ["device"],
  ["model"],
  ["contract"],
  ["pdu", "net", "cosim"],
  ["util"],
];

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "node_modules" ? [] : filesUnder(p);
    return /\.(ts|mts|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Relative import specifiers of a file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g)) out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  return out;
}

/** Layer index of a path under src/ (0 = top), or undefined outside src/. */
function layerOf(path: string): { folder: string; layer: number } | undefined {
  const m = /^src\/([^/]+)\//.exec(path);
  if (!m) return undefined;
  const layer = LAYERS.findIndex((l) => l.includes(m[1]!));
  return { folder: m[1]!, layer };
}

/** Every violation of the rule in the given files. */
export function violations(files: readonly string[], importsOfFile: (f: string) => string[] = importsOf): string[] {
  const bad: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    for (const target of importsOfFile(file)) {
      const top = target.split("/")[0]!;
      if (from) {
        if (from.layer < 0) {
          bad.push(`${file}: src/${from.folder}/ is in no layer`);
          break;
        }
        if (top !== "src") {
          bad.push(`${file} imports ${target}: src/ never imports ${top}/`);
          continue;
        }
        const to = layerOf(target);
        if (!to || to.folder === from.folder) continue;
        if (to.layer <= from.layer) bad.push(`${file} imports ${target}: ${from.folder} (layer ${from.layer}) may not import ${to.folder} (layer ${to.layer})`);
      } else if ((file.startsWith("bench/") && top === "test") || (file.startsWith("test/") && top === "bench")) {
        bad.push(`${file} imports ${target}: bench/ and test/ do not import each other`);
      }
    }
  }
  return bad;
}

describe("layers (docs/architecture.md)", () => {
  it("every src/ folder belongs to a layer", () => {
    const folders = readdirSync(join(ROOT, "src"), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !LAYERS.flat().includes(f))).toEqual([]);
  });

  it("imports run one way: src/ downwards only, bench/ and test/ apart", () => {
    const files = ["src", "bench", "test", "tb"].flatMap(filesUnder);
    expect(violations(files)).toEqual([]);
  });

  it("the checker catches an upward import, an import of tb/ and a bench/test pair", () => {
    const fake: Record<string, string[]> = {
      "src/contract/x.ts": ["src/driver/driver.ts"],
      "src/nvme/host.ts": ["src/driver/driver.ts"],
      "src/model/y.ts": ["tb/index.ts"],
      "bench/z.ts": ["test/rtl/traffic/target.ts"],
      "test/e2e/w.test.ts": ["bench/resync.ts"],
      "src/stack/ok.ts": ["src/nvme/host.ts", "src/util/rng.ts"],
    };
    const found = violations(Object.keys(fake), (f) => fake[f]!);
    expect(found).toHaveLength(5);
    expect(found.join("\n")).not.toContain("src/stack/ok.ts");
  });
});
