// The layers of src/ (docs/architecture.md): every import points to the importer's own folder or to a folder below
// it, so the engine never depends on diagnosis or presentation, and the CLI is the only thing above the report.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

// Lowest first. src/index.ts (the public API) sits above every layer but the command line.
const LAYERS = ["common", "engine", "queries", "charts", "diagnose", "export", "fleet", "present", "index", "cli"];

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0] : rel.replace(/\.ts$/, "");
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const IMPORT = /(?:from\s*|import\s*\(\s*|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g;

describe("layout", () => {
  const files = sources(SRC);

  it("puts every source file in a known layer", () => {
    for (const file of files) assert.ok(LAYERS.includes(layerOf(file)), `${relative(SRC, file)} is in no layer`);
  });

  it("has imports that point down only", () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = LAYERS.indexOf(layerOf(file));
      for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
        const target = resolve(dirname(file), match[1]).replace(/\.js$/, ".ts");
        const to = LAYERS.indexOf(layerOf(target));
        if (to > from) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it("says in each folder what it owns and what it may import", () => {
    for (const layer of LAYERS.filter((name) => name !== "index")) {
      const readme = readFileSync(join(SRC, layer, "README.md"), "utf8");
      assert.match(readme, /May import/, `src/${layer}/README.md`);
    }
  });
});
