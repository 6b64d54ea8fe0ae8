// leakbook fleet on a fleet of real processes: a pre-fork server whose four workers run the same handler, two of
// them filling a module-level dict (full snapshots in one folder per host and pid), and the same with census
// snapshots in one flat folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { agentAvailable, CLI, runPythonJson, tempDir } from "./helpers/python.js";
import { runPreforkServer, type PreforkRun } from "./helpers/fleet.js";
import { workerCount } from "../src/fleet/pool.js";
import type { ProcessJob } from "../src/export/rows.js";

const skip = !agentAvailable() && "the capture agent is missing";

function leakbook(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface FleetJson {
  summary: string;
  processes: { pid: number; verdict: string | null; error: string; leaks: boolean; outlier: boolean; bytes_per_hour: number; snapshots: number }[];
  leaking: { pid: number }[];
  holders: { path: string; processes: number; in: { pid: number }[] }[];
  types: { type: string; growing_in: number; processes: number }[];
  merged_census: { ordinal: number; processes: number }[];
  skipped: { file: string; reason: string }[];
  workers: number;
}

function fleetJson(...args: string[]): FleetJson {
  const r = leakbook("fleet", ...args, "--json");
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as FleetJson;
}

const pidsOf = (run: PreforkRun, leaks: boolean) => run.workers.filter((w) => w.leaks === leaks).map((w) => w.pid).sort();

interface FullFleet {
  run: PreforkRun;
  /** `fleet DIR --json --workers 2 -o REPORT`, and `fleet DIR --json --workers 1`. */
  threads: FleetJson;
  inline: FleetJson;
  report: string;
  again: ReturnType<typeof leakbook>;
}

let full: FullFleet | null = null;
/** The full-snapshot fleet, captured and analysed once for the tests below (a diagnosis per worker takes seconds). */
function fullFleet(): FullFleet {
  if (!full) {
    const dir = tempDir("leakbook-fleet-");
    const run = runPreforkServer(dir);
    const report = join(tempDir("leakbook-fleet-report-"), "fleet.html");
    const threads = fleetJson(dir, "--workers", "2", "-o", report);
    const inline = fleetJson(dir, "--workers", "1");
    full = { run, threads, inline, report, again: leakbook("fleet", dir, "-o", report) };
  }
  return full;
}

test("fleet names the leaking workers of a pre-fork server and the holder they share, and no other", { skip }, () => {
  const { run, threads: f } = fullFleet();
  assert.ok(run.workers.every((w) => w.files.length >= 3), "each worker leaves three snapshots or more");
  assert.equal(f.processes.length, 4);
  assert.deepEqual(f.leaking.map((p) => p.pid).sort(), pidsOf(run, true));
  for (const pid of pidsOf(run, false)) assert.equal(f.processes.find((p) => p.pid === pid)?.verdict, "no-leak");
  assert.equal(f.holders[0].path, run.holder);
  assert.deepEqual(f.holders[0].in.map((p) => p.pid).sort(), pidsOf(run, true));
  assert.ok(f.holders.every((h) => h.in.every((p) => pidsOf(run, true).includes(p.pid))), "no holder is named in a steady worker");
  assert.match(f.summary, /^2 of 4 processes leak: /);
  assert.ok(f.summary.includes(run.holder), f.summary);
  assert.equal(f.types.find((t) => t.type === "__main__.Session")?.growing_in, 2);
  // Two of four is half the fleet, not an outlier.
  assert.ok(f.processes.every((p) => !p.outlier));
});

test("fleet gives the same answer with worker threads and without", { skip }, () => {
  const { threads, inline } = fullFleet();
  assert.equal(threads.workers, 2);
  assert.equal(inline.workers, 1);
  assert.deepEqual({ ...threads, workers: 0 }, { ...inline, workers: 0 });
});

test("fleet -o writes the fleet report and never replaces a file", { skip }, () => {
  const { run, report, again } = fullFleet();
  const html = readFileSync(report, "utf8");
  assert.match(html, /<section class="fleet" id="fleet">/);
  assert.match(html, /data-chart="fleet-rate"><svg/);
  assert.match(html, /data-chart="fleet-heatmap"><svg/);
  for (const w of run.workers) assert.ok(html.includes(String(w.pid)), `pid ${w.pid} in the report`);
  assert.ok(html.includes(run.holder.replace(/'/g, "&#39;")), "the holder in the report, escaped");
  assert.equal(again.status, 2);
  assert.match(again.stderr, /^leakbook: .* exists; pass --force/);
  assert.equal(readFileSync(report, "utf8"), html);
});

test("fleet on census snapshots in one flat folder names the leaking workers, the type that grows, an outlier", { skip }, () => {
  const dir = tempDir("leakbook-fleet-census-");
  const run = runPreforkServer(dir, ["--census", "--flat"]);
  writeFileSync(join(dir, "broken.lbsnap"), "not a snapshot");
  const f = fleetJson(dir);
  assert.deepEqual(f.leaking.map((p) => p.pid).sort(), pidsOf(run, true));
  assert.deepEqual(f.holders, [], "census snapshots have no object graph, so no holder");
  assert.equal(f.types.find((t) => t.type === "__main__.Session")?.growing_in, 2);
  assert.ok(f.types.every((t) => t.growing_in <= 2), "no type grows in the steady workers");
  assert.deepEqual(f.skipped.map((s) => s.file), [join(dir, "broken.lbsnap")]);
  // Every worker has its k-th snapshot: the merged census sums four processes at each ordinal.
  assert.deepEqual(f.merged_census.map((m) => m.processes), run.workers[0].files.map(() => 4));

  // --tables keeps the Parquet files the queries ran on: one per table and process, under host=/pid= folders.
  const kept = join(tempDir("leakbook-fleet-tables-"), "tables");
  assert.deepEqual(fleetJson(dir, "--tables", kept).leaking, f.leaking);
  assert.deepEqual(readdirSync(kept).sort(), ["census", "clusters", "findings", "processes", "snapshots"]);
  for (const table of readdirSync(kept)) {
    const files = readdirSync(join(kept, table), { recursive: true, encoding: "utf8" }).filter((name) => name.endsWith(".parquet"));
    assert.deepEqual(files.map((name) => Number(/pid=(\d+)/.exec(name)![1])).sort(), run.workers.map((w) => w.pid).sort(), table);
  }
  const used = leakbook("fleet", dir, "--tables", kept);
  assert.equal(used.status, 2);
  assert.match(used.stderr, /^leakbook: .* is not empty; give a new or empty directory\n$/);

  // The two steady workers and one leaking worker, given as files: the leaking one is far from the median rate.
  const leaking = run.workers.find((w) => w.leaks)!;
  const three = fleetJson(...run.workers.filter((w) => !w.leaks).flatMap((w) => w.files), ...leaking.files);
  assert.equal(three.processes.length, 3);
  assert.deepEqual(three.processes.filter((p) => p.outlier).map((p) => p.pid), [leaking.pid]);

  // A damaged file (its trailer's checksum no longer matches) takes its process out, not the fleet.
  const steady = run.workers.find((w) => !w.leaks)!;
  const damaged = steady.files[steady.files.length - 1];
  const bytes = readFileSync(damaged);
  bytes[bytes.length - 3] ^= 0xff;
  writeFileSync(damaged, bytes);
  const rest = fleetJson(dir);
  const failed = rest.processes.find((p) => p.pid === steady.pid)!;
  assert.equal(failed.verdict, null);
  assert.ok(failed.error.includes(damaged), failed.error);
  assert.deepEqual(rest.leaking.map((p) => p.pid).sort(), pidsOf(run, true));
  assert.match(rest.summary, /1 could not be read: /);
});

test("fleet reports bad input in one line", () => {
  const missing = leakbook("fleet", join(tempDir(), "nowhere"));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^leakbook: .*nowhere: no such file or directory\n$/);
  const empty = leakbook("fleet", tempDir());
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /^leakbook: no leakbook snapshots in /);
  const workers = leakbook("fleet", tempDir(), "--workers", "zero");
  assert.equal(workers.status, 2);
  assert.match(workers.stderr, /^leakbook: bad --workers 'zero'/);
});

test("worker threads are used where they pay: two or more processes of full snapshots, a thread per idle core", () => {
  const job = (kind: "full" | "census", k: number): ProcessJob => ({
    process: { host: "h", pid: k, process_start: 0, files: ["a", "b", "c"], times: [0, 1, 2], kinds: [kind, kind, kind] },
    ids: [0, 1, 2],
  });
  const many = (kind: "full" | "census", n: number) => Array.from({ length: n }, (_, k) => job(kind, k));
  assert.equal(workerCount(many("census", 50), undefined, 2, 0), 1, "census series take milliseconds");
  assert.equal(workerCount(many("full", 1), undefined, 2, 0), 1, "one process");
  assert.equal(workerCount(many("full", 5), undefined, 2, 0), 2, "a thread per idle core");
  assert.equal(workerCount(many("full", 5), undefined, 2, 0.6), 1, "a core that other work keeps busy is not idle");
  assert.equal(workerCount(many("full", 5), undefined, 2, 9), 1, "at least one");
  assert.equal(workerCount(many("full", 8), undefined, 8, 2.5), 5);
  assert.equal(workerCount(many("full", 3), undefined, 8, 0), 3, "no more threads than processes");
  assert.equal(workerCount(many("census", 4), 3, 2), 3, "asked for");
  assert.equal(workerCount(many("full", 2), 9, 2), 2, "asked for, up to the processes");
});

test("a hostile host name is escaped in text, kept in JSON, and one safe folder in the tables", { skip }, () => {
  const dir = tempDir("leakbook-fleet-hostile-");
  const host = "evil\u001b[2J/../<b>host";
  runPythonJson(`
import json, os, sys
import leakbook
leakbook._HOSTNAME = ${JSON.stringify(host)}
KEPT = []
for i in range(3):
    KEPT.extend(object() for _ in range(300))
    leakbook.snapshot(os.path.join(sys.argv[1], "s%d.lbsnap" % i), census=True)
print(json.dumps({}))
`, dir);
  const text = leakbook("fleet", dir);
  assert.equal(text.status, 0, text.stderr);
  assert.ok(!text.stdout.includes("\u001b"), "no escape character reaches the terminal");
  assert.ok(text.stdout.includes("evil\\x1b[2J/../<b>host:"), text.stdout);
  const kept = join(tempDir("leakbook-fleet-hostile-tables-"), "tables");
  const json = JSON.parse(leakbook("fleet", dir, "--json", "--tables", kept).stdout) as { processes: { host: string }[] };
  assert.equal(json.processes[0].host, host);
  const folders = readdirSync(join(kept, "census"));
  assert.deepEqual(folders, ["host=evil%1B%5B2J%2F..%2F%3Cb%3Ehost"]);
});
