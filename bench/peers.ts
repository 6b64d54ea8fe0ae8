// The peer benchmark (`npm run bench:peers`, `-- --3m` to add 3M objects, `--runs N`, `--sizes a,b`): one heap,
// the service of bench/peer_heap.py, at 100k and 1M objects, measured with leakbook and with its peers in
// alternating runs; prints each measure's medians and the ratio peer / leakbook (above 1: leakbook is faster).
//
// - capture alone: a leakbook capture (walk, labels, file) against guppy3's heap() when guppy3 can be imported,
//   else a bare pure-Python walk of the same heap (type, size, referents; no labels, no file);
// - capture + summary: a leakbook capture and its load + analysis (dominators, retained sizes), against guppy3's
//   heap() with domisize when guppy3 can be imported, else the bare walk;
// - capture + paths: a capture and `paths` of the oldest session (load, analysis, 3 shortest paths), against
//   objgraph.find_backref_chain (and guppy3's .sp when importable);
// - growth over 3 moments: 3 captures and `diagnose`, against objgraph.show_growth at each moment (and pympler's
//   SummaryTracker when importable);
// - load + dominators + retained sizes: leakbook against memlab's getFullHeapFromFile on the same graph written as
//   a V8 heap snapshot (bench/heapsnapshot.ts).
//
// Python peers run under $LEAKBOOK_PYTHON, else Debian's /usr/bin/python3 (where the python3-objgraph package
// installs), else python3. Each measure runs in a fresh process.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { analyze } from "../src/engine/graph.js";
import { loadSnapshot } from "../src/engine/load.js";
import { loadSeries } from "../src/engine/series.js";
import { shortestPaths } from "../src/engine/paths.js";
import { diagnose } from "../src/diagnose/index.js";
import { resolvePath } from "../src/queries/input.js";
import { writeHeapSnapshot } from "./heapsnapshot.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const PYTHON = process.env.LEAKBOOK_PYTHON || (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const OLDEST_SESSION = "sys.modules['__main__'].REGISTRY[0].__self__";

/** Child mode: one leakbook or memlab measure in this fresh process; prints the milliseconds. */
async function child(mode: string, path: string): Promise<void> {
  const started = performance.now();
  if (mode === "analysis") {
    analyze(await loadSnapshot(path));
  } else if (mode === "paths") {
    const snap = await loadSnapshot(path);
    shortestPaths(analyze(snap), resolvePath(snap, OLDEST_SESSION), { k: 3 });
  } else if (mode === "diagnose") {
    diagnose(await loadSeries(path));
  } else if (mode === "memlab") {
    // What @memlab/heap-analysis's getFullHeapFromFile does: parse, then shortest paths, dominators and retained sizes.
    const memlab = (await import("@memlab/core")).default;
    const snapshot = await memlab.utils.getSnapshotFromFile(path, { buildNodeIdIndex: true });
    memlab.analysis.preparePathFinder(snapshot);
  }
  // Marked: memlab writes its progress to stdout too.
  process.stdout.write(`\nresult-ms ${performance.now() - started}\n`);
}

function nodeChild(mode: string, path: string): number {
  const out = spawnSync(process.execPath, ["--max-old-space-size=16384", fileURLToPath(import.meta.url), "--child", mode, path],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`${mode} failed: ${out.stderr}`);
  const ms = /^result-ms (\S+)$/m.exec(out.stdout);
  if (!ms) throw new Error(`${mode} printed no result`);
  return Number(ms[1]) / 1000;
}

interface Moment { moment: number; seconds?: number }

/** Builds the heap in a fresh interpreter and runs one tool at each moment; the moments' JSON lines. */
function heap(tool: string, objects: number, out: string): Moment[] {
  const result = spawnSync(PYTHON, [join(REPO, "bench/peer_heap.py"), "--objects", String(objects), "--tool", tool, "--out", out],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONPATH: join(REPO, "python") } });
  if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr}`);
  return result.stdout.trim().split("\n").map((line) => JSON.parse(line)).filter((m) => "moment" in m);
}

function importable(what: string): boolean {
  return spawnSync(PYTHON, [join(REPO, "bench/peer_heap.py"), "--check", what]).status === 0;
}

const lastSeconds = (moments: Moment[]) => moments[moments.length - 1].seconds ?? 0;
const allSeconds = (moments: Moment[]) => moments.reduce((sum, m) => sum + (m.seconds ?? 0), 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One comparison: leakbook's and a peer's seconds over the runs. */
interface Comparison { measure: string; peer: string; leakbook: number[]; other: number[] }

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2]);
  const at = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const sizes = (at("--sizes") ?? "100000,1000000").split(",").map(Number);
  if (args.includes("--3m")) sizes.push(3_000_000);
  const runs = Number(at("--runs") ?? 3);
  const has = { objgraph: importable("objgraph"), guppy: importable("guppy"), pympler: importable("pympler") };
  let memlab = true;
  try {
    await import("@memlab/core");
  } catch {
    memlab = false;
  }
  process.stdout.write(`python: ${PYTHON}; objgraph ${has.objgraph ? "found" : "absent"}, guppy3 ${has.guppy ? "found" : "absent (a bare pure-Python walker instead)"}, ` +
    `pympler ${has.pympler ? "found" : "absent"}, memlab ${memlab ? "found" : "absent"}\n`);

  for (const objects of sizes) {
    const comparisons: Comparison[] = [];
    const compare = (measure: string, peer: string, ours: () => number, theirs: () => number, run: number) => {
      let c = comparisons.find((x) => x.measure === measure && x.peer === peer);
      if (!c) comparisons.push((c = { measure, peer, leakbook: [], other: [] }));
      // Alternating order, so that a slow minute of this shared machine falls on both sides alike.
      if (run % 2 === 0) {
        c.leakbook.push(ours());
        c.other.push(theirs());
      } else {
        c.other.push(theirs());
        c.leakbook.push(ours());
      }
    };
    for (let run = 0; run < runs; run++) {
      const dir = mkdtempSync(join(tmpdir(), "leakbook-peers-"));
      try {
        // One leakbook series per run: its captures' times are the capture side of every comparison.
        const captures = heap("leakbook", objects, dir);
        const last = join(dir, `peer-${captures.length - 1}.lbsnap`);
        const capture = lastSeconds(captures);
        compare("capture alone", has.guppy ? "guppy3 heap()" : "bare Python walker", () => capture,
          () => lastSeconds(heap(has.guppy ? "guppy-heap" : "walker", objects, dir)), run);
        const summaryPeer = has.guppy ? "guppy3 heap() + domisize" : "bare Python walker";
        compare("capture + summary", summaryPeer, () => capture + nodeChild("analysis", last),
          () => lastSeconds(heap(has.guppy ? "guppy-summary" : "walker", objects, dir)), run);
        if (has.objgraph) {
          compare("capture + paths", "objgraph find_backref_chain", () => capture + nodeChild("paths", last),
            () => lastSeconds(heap("objgraph-paths", objects, dir)), run);
          compare("growth over 3 moments", "objgraph show_growth", () => allSeconds(captures) + nodeChild("diagnose", dir),
            () => allSeconds(heap("objgraph-growth", objects, dir)), run);
        }
        if (has.guppy) {
          compare("capture + paths", "guppy3 .sp", () => capture + nodeChild("paths", last), () => lastSeconds(heap("guppy-paths", objects, dir)), run);
        }
        if (has.pympler) {
          compare("growth over 3 moments", "pympler SummaryTracker", () => allSeconds(captures) + nodeChild("diagnose", dir),
            () => allSeconds(heap("pympler-growth", objects, dir)), run);
        }
        if (memlab) {
          const v8 = join(dir, "peer.heapsnapshot");
          writeHeapSnapshot(await loadSnapshot(last), v8);
          compare("load + dominators + retained", "memlab getFullHeapFromFile", () => nodeChild("analysis", last), () => nodeChild("memlab", v8), run);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      process.stderr.write(`${objects} objects: run ${run + 1} of ${runs} done\n`);
    }
    process.stdout.write(`\n${objects.toLocaleString("en-US")} objects, ${runs} runs (medians)\n\n| measure | peer | leakbook s | peer s | peer / leakbook |\n|---|---|---|---|---|\n`);
    for (const c of comparisons) {
      const ours = median(c.leakbook);
      const theirs = median(c.other);
      process.stdout.write(`| ${c.measure} | ${c.peer} | ${ours.toFixed(2)} | ${theirs.toFixed(2)} | ${(theirs / ours).toFixed(2)} |\n`);
    }
  }
}

await main();
