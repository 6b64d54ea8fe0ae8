// Benchmark of series diagnosis (`npm run bench:series`): diagnose over N snapshots against the sum of loading and
// analysing each of them alone, in alternating paired runs, each in a fresh child process.
//
//   node dist/bench/series.js [--objects 1000000] [--moments 3] [--runs 3] [--dir DIR] [--before DIST_DIR]
//
// Without --dir, the peer benchmark's service heap (bench/peer_heap.py) is captured at `moments` moments into a
// temp dir. --before DIST_DIR also runs the diagnosis of another build (a `dist` directory of an older commit) in
// the same rotation, for before/after tables. Prints one line per run and the medians.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const DIST = resolve(HERE, "..");

interface ChildResult {
  ms: number;
  /** CPU time of the child (all its threads), less sensitive than wall time to other work on the machine */
  cpuMs: number;
  /** peak resident set size of the child, bytes */
  peakRss: number;
  objects: number;
}

/** Peak RSS so far: the kernel's high-water mark of the process. */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Child mode: one measurement, printed as one JSON line. */
async function child(mode: string, dir: string, dist: string): Promise<void> {
  const { loadSeries } = await import(pathToFileURL(join(dist, "src/engine/series.js")).href);
  const files = readdirSync(dir).filter((f) => f.endsWith(".lbsnap")).sort().map((f) => join(dir, f));
  // Every module is imported before the clocks start: the measures compare the work, not the start-up.
  const { loadSnapshot } = await import(pathToFileURL(join(dist, "src/engine/load.js")).href);
  const { analyze } = await import(pathToFileURL(join(dist, "src/engine/graph.js")).href);
  const { diagnose } = await import(pathToFileURL(join(dist, "src/diagnose/index.js")).href);
  let objects = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  if (mode === "parts") {
    // Each snapshot loaded and analysed alone, one after another; only one is alive at a time.
    for (const file of files) {
      const snap = await loadSnapshot(file);
      analyze(snap);
      objects = snap.objectCount;
    }
  } else if (mode === "reference") {
    // What the memory target allows: every snapshot loaded, and the last one analysed.
    const series = await loadSeries(files);
    analyze(series.snapshots[series.snapshots.length - 1]);
  } else {
    const series = await loadSeries(files);
    diagnose(series);
    objects = series.snapshots[series.snapshots.length - 1].objectCount;
  }
  const ms = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const result: ChildResult = { ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRss: peakRss(), objects };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function runChild(mode: string, dir: string, dist: string): ChildResult {
  const out = spawnSync(process.execPath, ["--max-old-space-size=16384", fileURLToPath(import.meta.url), "--child", mode, dir, dist],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (out.status !== 0) throw new Error(`${mode} child failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split("\n").pop()!);
}

/** Captures the service heap at `moments` moments into `dir` with the agent (python3 on PATH, or $LEAKBOOK_PYTHON). */
export function captureSeries(dir: string, objects: number, moments: number): void {
  const python = process.env.LEAKBOOK_PYTHON || "python3";
  const out = spawnSync(python, [join(REPO, "bench/peer_heap.py"), "--objects", String(objects), "--moments", String(moments), "--tool", "leakbook", "--out", dir],
    { encoding: "utf8", env: { ...process.env, PYTHONPATH: join(REPO, "python") } });
  if (out.status !== 0) throw new Error(`capturing the series failed: ${out.stderr}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--child") return child(args[1], args[2], args[3]);
  const objects = Number(option(args, "--objects") ?? 1_000_000);
  const moments = Number(option(args, "--moments") ?? 3);
  const runs = Number(option(args, "--runs") ?? 3);
  const before = option(args, "--before");
  let dir = option(args, "--dir");
  let temp: string | null = null;
  if (!dir) {
    temp = dir = mkdtempSync(join(tmpdir(), "leakbook-series-"));
    process.stderr.write(`capturing ${moments} snapshots of about ${objects} objects into ${dir}\n`);
    captureSeries(dir, objects, moments);
  }
  const modes: [string, string, string][] = [["parts", "load + analysis of each", DIST], ["diagnose", "diagnose", DIST]];
  if (before) modes.push(["diagnose", "diagnose (before)", resolve(before)]);
  modes.push(["reference", "load all + analyse the last", DIST]);
  const results = new Map<string, ChildResult[]>(modes.map(([, label]) => [label, []]));
  try {
    for (let run = 0; run < runs; run++) {
      // Alternating order, so that a slow minute of this shared machine falls on every mode alike.
      const order = run % 2 === 0 ? modes : [...modes].reverse();
      for (const [mode, label, dist] of order) {
        const r = runChild(mode, dir, dist);
        results.get(label)!.push(r);
        process.stdout.write(`run ${run + 1}: ${label}: ${r.ms.toFixed(0)} ms (CPU ${r.cpuMs.toFixed(0)} ms), peak RSS ${(r.peakRss / 1e6).toFixed(0)} MB\n`);
      }
    }
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
  const base = results.get("load + analysis of each")!;
  const parts = median(base.map((r) => r.ms));
  const partsCpu = median(base.map((r) => r.cpuMs));
  process.stdout.write("\n| measure | median ms | ratio | median CPU ms | CPU ratio | median peak RSS MB |\n|---|---|---|---|---|---|\n");
  for (const [label, rs] of results) {
    const m = median(rs.map((r) => r.ms));
    const c = median(rs.map((r) => r.cpuMs));
    process.stdout.write(`| ${label} | ${m.toFixed(0)} | ${(m / parts).toFixed(2)} | ${c.toFixed(0)} | ${(c / partsCpu).toFixed(2)} | ${median(rs.map((r) => r.peakRss / 1e6)).toFixed(0)} |\n`);
  }
}

await main();
