// Benchmark of loading and analysis (`npm run bench`, or `npm run bench -- --quick`).
// Generates snapshots in a temp dir (synthetic ones with bench/synth.ts, one real capture with the Python agent),
// then measures each in a fresh child process so that resident memory belongs to that snapshot alone.
// Prints a markdown table for docs/performance.md.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSnapshot } from "../src/engine/load.js";
import { analyze, cycles, retainedByType } from "../src/engine/graph.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");

interface Measurement {
  file: string;
  label: string;
  objects: number;
  edges: number;
  fileBytes: number;
  readMs: number;
  loadMs: number;
  phases: Record<string, number>;
  /** milliseconds from the start of analyze() (or the previous step) to the end of each step it reports */
  steps: Record<string, number>;
  analysisMs: number;
  /** resident set size of the child before it read anything, and after the analysis */
  baselineRss: number;
  rss: number;
  peakRss: number;
}

/** Child mode: measure one file and print one JSON line. */
async function measure(file: string, label: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  const baselineRss = process.memoryUsage().rss;
  readFileSync(file); // warm the page cache so that the plain read and the load compare like for like
  gc();
  let started = performance.now();
  readFileSync(file);
  const readMs = performance.now() - started;
  gc();
  started = performance.now();
  const snap = await loadSnapshot(file);
  const loadMs = performance.now() - started;
  started = performance.now();
  const steps: Record<string, number> = {};
  let stepStart = started;
  const g = analyze(snap, {
    onProgress: (phase, done, total) => {
      if (done !== total || phase in steps) return;
      const now = performance.now();
      steps[phase] = now - stepStart;
      stepStart = now;
    },
  });
  const t0 = performance.now();
  retainedByType(g);
  const t1 = performance.now();
  cycles(g, { top: 10 });
  const t2 = performance.now();
  const analysisMs = t2 - started;
  // Resident memory once the analysis has settled: the helper thread has exited (it holds the working
  // arrays it shares until then) and the garbage is collected (large buffers are freed a collection later).
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  gc();
  const result: Measurement = {
    file, label, objects: snap.objectCount, edges: snap.edgeCount, fileBytes: statSync(file).size, readMs, loadMs,
    phases: { ...g.timings, byType: t1 - t0, cycleList: t2 - t1 }, steps, analysisMs, baselineRss, rss: process.memoryUsage().rss,
    peakRss: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(JSON.stringify(result) + "\n");
}

function run(command: string, args: string[], what: string): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PYTHONPATH: join(REPO, "python") } });
  if (result.status !== 0) throw new Error(`${what} failed: ${result.stderr || result.error}`);
  return result.stdout;
}

function synthetic(dir: string, objects: number, edges: number): string {
  const path = join(dir, `synthetic-${objects}.lbsnap`);
  const started = performance.now();
  run(process.execPath, [join(HERE, "synth.js"), path, String(objects), String(edges)], "synthetic generation");
  process.stderr.write(`generated ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return path;
}

// About 11 objects per user (instance, key and name str, an int, tags list and str, a tuple of two ints,
// a float, a bytes) plus the interpreter's own heap: 90,000 users make about 1M objects of a realistic mix.
const CAPTURE_SCRIPT = `
import os, sys
import leakbook

class User:
    def __init__(self, i):
        self.id = i * 1000
        self.name = 'user-%d' % i
        self.tags = ['tag-%d' % (i % 100), 'active' if i % 2 else 'idle']
        self.point = (i, -i)
        self.score = i / 7
        self.token = b'%08d' % i

USERS = {}
for i in range(int(sys.argv[2])):
    USERS['key-%d' % i] = User(i)
leakbook.snapshot(sys.argv[1])
`;

function realCapture(dir: string, users: number): string | null {
  if (!existsSync(join(REPO, "python/leakbook.py")) && !existsSync(join(REPO, "python/leakbook/__init__.py"))) {
    process.stderr.write("python/leakbook.py not found: skipping the real capture\n");
    return null;
  }
  const script = join(dir, "capture.py");
  writeFileSync(script, CAPTURE_SCRIPT);
  const path = join(dir, `real-${users}-users.lbsnap`);
  const started = performance.now();
  try {
    run(process.env.LEAKBOOK_PYTHON || "python3", [script, path, String(users)], "real capture");
  } catch (error) {
    process.stderr.write(`${(error as Error).message.trimEnd().split("\n").pop()}: skipping the real capture\n`);
    return null;
  }
  process.stderr.write(`captured ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return path;
}

function measureInChild(file: string, label: string): Measurement {
  const out = run(process.execPath, ["--expose-gc", "--max-old-space-size=8192", fileURLToPath(import.meta.url), "--measure", file, label], `measuring ${file}`);
  return JSON.parse(out);
}

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function table(rows: Measurement[]): string {
  const phaseNames = [...new Set(rows.flatMap((r) => Object.keys(r.phases)))];
  const header = ["snapshot", "objects", "references", "file MB", "plain read ms", "load ms", "load / read",
    "load M objects/s", ...phaseNames.map((p) => `${p} ms`), "load + analysis ms", "RSS MB", "RSS / budget", "RSS above idle Node / budget", "peak RSS MB"];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of rows) {
    const budget = 100 * r.objects + 12 * r.edges;
    lines.push(`| ${[
      r.label, r.objects.toLocaleString("en-US"), r.edges.toLocaleString("en-US"), (r.fileBytes / 1e6).toFixed(0),
      ms(r.readMs), ms(r.loadMs), (r.loadMs / r.readMs).toFixed(2), (r.objects / r.loadMs / 1000).toFixed(1),
      ...phaseNames.map((p) => ms(r.phases[p] ?? 0)), ms(r.loadMs + r.analysisMs), (r.rss / 1e6).toFixed(0),
      `${((100 * r.rss) / budget).toFixed(0)}% (${(r.rss / r.objects).toFixed(0)} B/object)`,
      `${((100 * (r.rss - r.baselineRss)) / budget).toFixed(0)}%`, (r.peakRss / 1e6).toFixed(0),
    ].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The steps analyze() reports through onProgress, each as the time since the previous one ended. */
function stepTable(rows: Measurement[]): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.steps)))];
  const header = ["snapshot", ...names.map((name) => `${name} ms`)];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const r of rows) lines.push(`| ${[r.label, ...names.map((name) => (name in r.steps ? ms(r.steps[name]) : ""))].join(" | ")} |`);
  return lines.join("\n");
}

async function main(args: string[]): Promise<void> {
  if (args[0] === "--measure") return measure(args[1], args[2]);
  const quick = args.includes("--quick");
  const keep = args.includes("--keep");
  const dir = mkdtempSync(join(tmpdir(), "leakbook-bench-"));
  try {
    const plan: [string, () => string | null][] = [
      ["synthetic 100k", () => synthetic(dir, 100_000, 250_000)],
      ["synthetic 1M", () => synthetic(dir, 1_000_000, 2_500_000)],
      ["real capture", () => realCapture(dir, quick ? 10_000 : 90_000)],
    ];
    if (!quick) plan.push(["synthetic 10M", () => synthetic(dir, 10_000_000, 25_000_000)]);
    const rows: Measurement[] = [];
    for (const [label, make] of plan) {
      const file = make();
      if (!file) continue;
      const row = measureInChild(file, label);
      process.stderr.write(`${label}: load ${ms(row.loadMs)} ms, load + analysis ${ms(row.loadMs + row.analysisMs)} ms, RSS ${(row.rss / 1e6).toFixed(0)} MB\n`);
      rows.push(row);
      if (!keep) rmSync(file);
    }
    process.stdout.write(`Command: npm run bench${quick ? " -- --quick" : ""}\n\n${table(rows)}\n\n`);
    process.stdout.write(`Steps of analyze(), each timed from the end of the one before:\n\n${stepTable(rows)}\n`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`snapshots kept in ${dir}\n`);
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exitCode = 1;
});
