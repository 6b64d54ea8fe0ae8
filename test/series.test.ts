import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSeries, matchSurvivors, typeSeries, followPath, ProcessSelectionError, seriesProcesses } from "../src/engine/series.js";
import { SnapshotError } from "../src/common/errors.js";
import { NONE } from "../src/engine/snapshot.js";
import { analyze } from "../src/engine/graph.js";
import { shortestPaths } from "../src/engine/paths.js";
import { synthesize, writeLbsnap, type SnapshotColumns } from "../bench/synth.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";
import { captureProcesses, copyAsReusedPid } from "./helpers/processes.js";

function write(dir: string, name: string, columns: SnapshotColumns): string {
  const path = join(dir, name);
  writeLbsnap(path, columns);
  return path;
}

test("a series is ordered by capture time; snapshots of another process are refused unless asked for", async () => {
  const dir = tempDir();
  const t = 1_700_000_000;
  write(dir, "a.lbsnap", { ...synthesize(3_000, 7_000, 1), meta: { time_unix: t + 20, pid: 10, process_start: t } });
  write(dir, "b.lbsnap", { ...synthesize(2_000, 5_000, 2), meta: { time_unix: t + 10, pid: 10, process_start: t } });
  write(dir, "c.lbsnap", { ...synthesize(4_000, 9_000, 3), meta: { time_unix: t + 30, pid: 10, process_start: t } });
  const same = await loadSeries(dir);
  assert.deepEqual(same.snapshots.map((s) => s.objectCount), [2_000, 3_000, 4_000]);
  assert.deepEqual(same.warnings, []);

  write(dir, "d.lbsnap", { ...synthesize(1_000, 2_000, 4), meta: { time_unix: t + 40, pid: 11, process_start: t + 5 } });
  const both = [join(dir, "d.lbsnap"), join(dir, "a.lbsnap")];
  await assert.rejects(loadSeries(both), (e: unknown) => e instanceof ProcessSelectionError && e instanceof SnapshotError &&
    e.kind === "mixed-processes" && e.processes.map((p) => p.pid).join() === "10,11" && /pid 10 .*a\.lbsnap.*pid 11 .*d\.lbsnap/.test(e.message));
  assert.deepEqual((await loadSeries(dir, { pid: 11 })).snapshots.map((s) => s.objectCount), [1_000]);
  await assert.rejects(loadSeries(dir, { pid: 12 }), (e: unknown) => e instanceof ProcessSelectionError && e.kind === "unknown-pid" && e.processes.length === 2);
  const mixed = await loadSeries(both, { allowMixedProcesses: true });
  assert.deepEqual(mixed.snapshots.map((s) => s.objectCount), [3_000, 1_000]);
  assert.equal(mixed.warnings.length, 1);
  assert.match(mixed.warnings[0], /snapshots of 2 processes/);

  const empty = join(dir, "empty");
  mkdirSync(empty);
  await assert.rejects(loadSeries(empty), (e: unknown) => e instanceof SnapshotError && /empty directory/.test(e.message));
});

test("snapshots of two real processes in one folder: refused, listed, and one picked by pid", { skip: !agentAvailable() && "python/leakbook.py not present" }, async () => {
  const dir = tempDir();
  const [a, b] = captureProcesses(dir, 2);
  let refused: unknown;
  await loadSeries(dir).catch((e: unknown) => (refused = e));
  assert.ok(refused instanceof ProcessSelectionError, `refused: ${refused}`);
  assert.equal(refused.kind, "mixed-processes");
  assert.deepEqual(refused.processes.map((p) => [p.pid, p.files]), [[a.pid, a.files], [b.pid, b.files]]);
  assert.ok(refused.processes.every((p) => p.process_start > 0 && p.times.length === 3));
  const picked = await loadSeries(dir, { pid: b.pid });
  assert.deepEqual(picked.snapshots.map((s) => s.source), b.files);
  assert.deepEqual(picked.warnings, []);
  assert.deepEqual((await seriesProcesses(dir)).map((p) => p.pid), [a.pid, b.pid]);

  // The same pid with another start time is another process, which the pid alone cannot pick.
  const reused = join(dir, "reused.lbsnap");
  copyAsReusedPid(b.files[2], reused);
  await assert.rejects(loadSeries(dir, { pid: b.pid }), (e: unknown) => e instanceof ProcessSelectionError &&
    e.kind === "mixed-processes" && e.processes.length === 2 && e.processes.every((p) => p.pid === b.pid) &&
    /name one process's files/.test(e.message));
  assert.equal((await loadSeries([reused])).snapshots[0].objectCount, picked.snapshots[2].objectCount);
});

test("a snapshot saved without the .lbsnap extension is found in its directory by its magic; meliae dumps and .partial files are not", async () => {
  const dir = tempDir();
  const t = 1_700_000_000;
  write(dir, "a.lbsnap", { ...synthesize(2_000, 5_000, 1), meta: { time_unix: t + 10, pid: 10, process_start: t } });
  write(dir, "b.lbsnap", { ...synthesize(3_000, 7_000, 2), meta: { time_unix: t + 20, pid: 10, process_start: t } });
  renameSync(join(dir, "b.lbsnap"), join(dir, "snap1"));
  write(dir, "c.lbsnap", { ...synthesize(4_000, 9_000, 3), meta: { time_unix: t + 30, pid: 10, process_start: t } });
  renameSync(join(dir, "c.lbsnap"), join(dir, "c.lbsnap.partial"));
  writeFileSync(join(dir, "dump"), '{"address": 1, "type": "dict", "size": 100, "refs": []}\n');
  writeFileSync(join(dir, "notes.txt"), "LEAK");
  mkdirSync(join(dir, "sub"));
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; }) as typeof process.stderr.write;
  try {
    const series = await loadSeries(dir);
    assert.deepEqual(series.snapshots.map((s) => s.objectCount), [2_000, 3_000]);
    await loadSeries(dir);
  } finally {
    process.stderr.write = original;
  }
  assert.deepEqual(written, [`leakbook: ${join(dir, "snap1")} has no .lbsnap extension; read as a snapshot\n`]);
});

test("typeSeries counts objects and bytes per type in each snapshot", async () => {
  const dir = tempDir();
  const first = synthesize(3_000, 7_000, 1);
  const second = synthesize(6_000, 14_000, 2);
  write(dir, "1.lbsnap", { ...first, meta: { time_unix: 100 } });
  write(dir, "2.lbsnap", { ...second, meta: { time_unix: 200 } });
  const series = typeSeries(await loadSeries(dir));
  assert.deepEqual(series.times, [100, 200]);
  for (const [k, columns] of [first, second].entries()) {
    for (const [t, name] of columns.types.entries()) {
      const row = series.types.find((r) => r.type === name);
      let count = 0, bytes = 0;
      columns.type.forEach((x, i) => { if (x === t) { count++; bytes += columns.size[i]; } });
      assert.equal(row?.counts[k] ?? 0, count, name);
      assert.equal(row?.bytes[k] ?? 0, bytes, name);
    }
  }
});

test("matchSurvivors pairs objects with the same address and type, whatever their order", async () => {
  const dir = tempDir();
  const a = synthesize(8_000, 20_000, 9);
  // b: a reversed, with some objects moved to new addresses and some given another type (address reuse).
  const n = a.address.length;
  const b = { ...a, address: a.address.slice().reverse(), type: a.type.slice().reverse() };
  for (let j = 0; j < n; j += 7) b.address[j] += 8;
  for (let j = 3; j < n; j += 11) b.type[j] = (b.type[j] + 1) % a.types.length;
  const snapA = (await loadSeries(write(dir, "a.lbsnap", a))).snapshots[0];
  const snapB = (await loadSeries(write(dir, "b.lbsnap", b))).snapshots[0];
  const match = matchSurvivors(snapA, snapB);
  let matched = 0;
  for (let i = 0; i < n; i++) {
    const j = n - 1 - i;
    const expected = j % 7 !== 0 && (j - 3) % 11 !== 0 ? j : NONE;
    assert.equal(match[i], expected, `object ${i}`);
    if (expected !== NONE) matched++;
  }
  assert.ok(matched > n / 2);
});

test("objects of a real process match across two of its snapshots", { skip: !agentAvailable() && "python/leakbook.py not present" }, async () => {
  const dir = tempDir();
  const facts = runPythonJson<{ survivor: number; cache: number; freed_type: string }>(`
import json, os, sys
import leakbook

class Session:
    pass

class Temporary:
    pass

CACHE = {}
SURVIVOR = Session()
CACHE['first'] = SURVIVOR
temporary = [Temporary() for _ in range(50)]
leakbook.snapshot(os.path.join(sys.argv[1], '1.lbsnap'))
del temporary
CACHE['second'] = Session()
leakbook.snapshot(os.path.join(sys.argv[1], '2.lbsnap'))
print(json.dumps({'survivor': id(SURVIVOR), 'cache': id(CACHE), 'freed_type': Temporary.__module__ + '.' + Temporary.__qualname__}))
`, dir);
  const series = await loadSeries(dir);
  assert.deepEqual(series.warnings, []);
  const [first, second] = series.snapshots;
  assert.ok(first.meta.time_unix <= second.meta.time_unix);
  const match = matchSurvivors(first, second);
  const survivor = first.address.indexOf(facts.survivor);
  assert.equal(second.address[match[survivor]], facts.survivor);
  const temporaries = first.types.indexOf(facts.freed_type);
  for (let i = 0; i < first.objectCount; i++) {
    if (first.type[i] === temporaries) assert.equal(match[i], NONE, "freed objects have no survivor");
  }
  // The holder (CACHE) is found in the second snapshot by its retention path from the first.
  const cache = first.address.indexOf(facts.cache);
  const [path] = shortestPaths(analyze(first), cache, { k: 1 });
  assert.equal(second.address[followPath(second, path)], facts.cache);
  const counts = typeSeries(series).types.find((r) => r.type === facts.freed_type)!;
  assert.deepEqual(counts.counts, [50, 0]);
});
