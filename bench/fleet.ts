// Benchmark of `leakbook fleet` and `leakbook export` (`npm run build && node dist/bench/fleet.js [--quick]`).
// Captures real fleets with examples/fleet/app.py (a pre-fork server): 50 workers x 4 census snapshots, and 8 workers
// x 4 full snapshots of about 250k objects each (a preloaded app the workers share, as gunicorn --preload does).
// Then times the fleet on growing parts of each (10, 25, 50 and 2, 4, 8 processes; the full ones without worker
// threads and with two), and the export of one 1M-object snapshot to Parquet and to Arrow. Each run is a fresh
// child process, which reports its wall time, its phases and its peak resident set size. Prints markdown tables
// for docs/performance.md.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesize, writeLbsnap } from "./synth.js";
import { analyseFleet } from "../src/fleet/index.js";
import { exportSnapshots, type ExportFormat } from "../src/export/write.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const PYTHON = process.env.LEAKBOOK_PYTHON || "python3";

interface Run {
  wallMs: number;
  peakRssMB: number;
  phases: Record<string, number>;
  workers?: number;
}

/** Child mode: one fleet analysis or one export, reported as one JSON line. */
async function child(args: string[]): Promise<void> {
  const [mode, a, b] = args;
  const started = performance.now();
  let phases: Record<string, number> = {};
  let workers: number | undefined;
  if (mode === "fleet") {
    const fleet = await analyseFleet([a], { workers: b === "auto" ? undefined : Number(b) });
    phases = fleet.timings;
    workers = fleet.workers;
  } else {
    phases = (await exportSnapshots([a], { to: b, format: mode as ExportFormat })).timings;
  }
  const run: Run = { wallMs: performance.now() - started, peakRssMB: process.resourceUsage().maxRSS / 1024, phases, workers };
  process.stdout.write(JSON.stringify(run) + "\n");
}

function measure(args: string[]): Run {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", ...args], { encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`child ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Run;
}

/** Runs the pre-fork server; `preload` objects are made in the parent before it forks (every worker has them). */
function captureFleet(dir: string, flags: string[], preload: number): { pid: number; files: string[] }[] {
  const script = join(dir, "..", `preload-${preload}.py`);
  writeFileSync(script, `import runpy, sys
class Record(object):
    __slots__ = ("key", "values")
    def __init__(self, key):
        self.key = "record-%d" % key
        self.values = (key, float(key))
PRELOADED = {i: Record(i) for i in range(${Math.floor(preload / 5)})}
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
`);
  const env = { ...process.env, PYTHONPATH: join(REPO, "python") };
  const r = spawnSync(PYTHON, [script, join(REPO, "examples", "fleet", "app.py"), dir, ...flags], { encoding: "utf8", env, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`capture failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { workers: { pid: number; files: string[] }[] }).workers;
}

/** A folder of links to the first `n` workers' files. */
function part(root: string, workers: { pid: number; files: string[] }[], n: number): string {
  const dir = join(root, `part-${n}`);
  mkdirSync(dir);
  for (const w of workers.slice(0, n)) for (const f of w.files) symlinkSync(f, join(dir, `${w.pid}-${f.split("/").pop()}`));
  return dir;
}

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function sizeOf(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).reduce((n, f) => n + (statSync(join(dir, f)).isFile() ? statSync(join(dir, f)).size : 0), 0);
}

async function main(quick: boolean): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "leakbook-fleet-bench-"));
  try {
    const censusCounts = quick ? [5, 10] : [10, 25, 50];
    const fullCounts = quick ? [2] : [2, 4, 8];
    const censusDir = join(root, "census");
    const census = captureFleet(censusDir, ["--workers", String(censusCounts.at(-1)), "--census", "--rounds", "4", "--flat"], 0);
    const fullDir = join(root, "full");
    const preload = quick ? 50_000 : 250_000;
    const full = captureFleet(fullDir, ["--workers", String(fullCounts.at(-1)), "--rounds", "4"], preload);
    const fullFile = full[0].files[0];

    const out: string[] = [];
    out.push(`| fleet | snapshots | files MB | workers | wall | diagnose | write Parquet | DuckDB queries | peak RSS MB |`, `|---|---|---|---|---|---|---|---|---|`);
    const line = (label: string, dir: string, snapshots: number, r: Run) => {
      out.push(`| ${label} | ${snapshots} | ${mb(sizeOfLinks(dir))} | ${r.workers} | ${ms(r.wallMs)} | ${ms(r.phases.diagnose)} | ` +
        `${ms(r.phases.write)} | ${ms(r.phases.query)} | ${r.peakRssMB.toFixed(0)} |`);
      process.stderr.write(`${label} workers=${r.workers}: ${ms(r.wallMs)}\n`);
    };
    for (const n of censusCounts) {
      const dir = part(root, census, n);
      line(`census ${n} x 4`, dir, n * 4, measure(["fleet", dir, "auto"]));
    }
    // Without threads and with two, alternating, so that both see the same load; the median of each and their ratio.
    const pairs: string[] = ["", `| fleet | wall without threads (runs) | wall with 2 threads (runs) | with / without, medians |`, `|---|---|---|---|`];
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const n of fullCounts) {
      const dir = part(root, full, n);
      const walls: Record<string, number[]> = { 1: [], 2: [] };
      for (let round = 0; round < (quick ? 1 : 3); round++) {
        for (const workers of ["1", "2"]) {
          const r = measure(["fleet", dir, workers]);
          walls[workers].push(r.wallMs);
          if (round === 0) line(`full ${n} x 4`, dir, n * 4, r);
        }
      }
      pairs.push(`| full ${n} x 4 | ${walls[1].map(ms).join(" / ")} | ${walls[2].map(ms).join(" / ")} | ${(median(walls[2]) / median(walls[1])).toFixed(2)} |`);
    }
    out.push(...pairs);

    // Export of one snapshot of about 1M objects (synthetic, 2.5M references).
    const big = join(root, "big");
    mkdirSync(big);
    writeLbsnap(join(big, "one-million.lbsnap"), { ...synthesize(1_000_000, 2_500_000, 7), meta: { hostname: "bench", pid: 4242 } });
    out.push("", `| export | objects | references | snapshot file MB | wall | load and diagnose | rows | write | output MB | peak RSS MB |`, `|---|---|---|---|---|---|---|---|---|---|`);
    const phases = (r: Run) => ["diagnose", "rows", "write"].map((k) => ms(r.phases[k])).join(" | ");
    for (const format of ["parquet", "arrow"] as ExportFormat[]) {
      const to = join(root, `export-${format}`);
      const r = measure([format, big, to]);
      out.push(`| ${format} | 1,000,000 | 2,500,000 | ${mb(sizeOf(big))} | ${ms(r.wallMs)} | ${phases(r)} | ${mb(sizeOf(to))} | ${r.peakRssMB.toFixed(0)} |`);
    }
    const real = measure(["parquet", dirname(fullFile), join(root, "export-real")]);
    out.push(`| parquet, one worker's 4 full snapshots (${preload / 1000}k preloaded objects) | | | ${mb(sizeOf(dirname(fullFile)))} | ${ms(real.wallMs)} | ${phases(real)} | ${mb(sizeOf(join(root, "export-real")))} | ${real.peakRssMB.toFixed(0)} |`);
    process.stdout.write(out.join("\n") + "\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Bytes of the files a folder of links points at. */
function sizeOfLinks(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

if (process.argv[2] === "--child") await child(process.argv.slice(3));
else await main(process.argv.includes("--quick"));
