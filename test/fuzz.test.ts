// Fuzzing the readers with damaged and crafted files, seeded so that a failure repeats: truncations at many offsets,
// bit flips with the checksum recomputed (so the damage reaches the checks behind it), and every header field set to
// values of the wrong type or range. No input may end in anything but a snapshot or a one-line SnapshotError: no
// other exception from loading, analysing or diagnosing what was accepted, and through the CLI no exit code 3, no
// stack trace and no hang. Most cases run in this process; a sample runs through the CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSnapshot } from "../src/engine/load.js";
import { analyze, retainedByType } from "../src/engine/graph.js";
import { shortestPaths } from "../src/engine/paths.js";
import { typeSeries } from "../src/engine/series.js";
import { cycles } from "../src/queries/cycles.js";
import { diagnose } from "../src/diagnose/index.js";
import { SnapshotError } from "../src/common/errors.js";
import type { Snapshot } from "../src/engine/snapshot.js";
import { random, synthesize, writeLbsnap } from "../bench/synth.js";
import { agentAvailable, CLI, runPythonJson, tempDir } from "./helpers/python.js";
import { headerOf, resealed, withHeader } from "./helpers/damage.js";

const SEED = 0x1eadb00c;

const CAPTURE = `
import functools, json, os, sys, threading
import leakbook
@functools.lru_cache(maxsize=4)
def cached(n):
    return n
cached(1)
ready, stop = threading.Event(), threading.Event()
def work():
    ready.set()
    stop.wait()
worker = threading.Thread(target=work, name="worker")
worker.start()
ready.wait()
import collections
BOUNDED = collections.deque(range(3), maxlen=5)
full = leakbook.snapshot(os.path.join(sys.argv[1], "full.lbsnap"))
census = leakbook.snapshot(os.path.join(sys.argv[1], "census.lbsnap"), census=True)
stop.set()
worker.join()
print(json.dumps({"full": full, "census": census}))
`;

/** Values of the wrong type or range for any header field; `undefined` deletes the field. */
const WRONG: unknown[] = [undefined, "x", "", null, true, [], {}, -1, 0.5, 1e300, 2 ** 53 + 2, 4294967295, 0, 2 ** 31];

/** Every path into the header, arrays by their first two entries. */
function fieldPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== "object" || prefix.length > 5) return [];
  const keys: (string | number)[] = Array.isArray(value) ? [0, 1].filter((k) => k < value.length) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...fieldPaths((value as Record<string | number, unknown>)[k], [...prefix, k])]);
}

function setAt(header: Record<string, any>, path: (string | number)[], value: unknown): void {
  let node: any = header;
  for (const k of path.slice(0, -1)) node = node[k];
  const last = path[path.length - 1];
  if (value === undefined && !Array.isArray(node)) delete node[last];
  else node[last] = value;
}

interface Outcome {
  accepted: number;
  rejected: number;
  /** A few accepted and rejected inputs, for the CLI. */
  samples: { what: string; bytes: Uint8Array; accepted: boolean }[];
}

/** What an accepted snapshot must survive: the analysis, the summary's queries, a path, and sometimes the diagnosis. */
function exercise(snap: Snapshot, pick: () => number, withDiagnosis: boolean): void {
  if (snap.kind === "full") {
    const graph = analyze(snap, { threads: false });
    retainedByType(graph);
    cycles(snap, { top: 10, structural: false });
    if (snap.objectCount > 0) shortestPaths(graph, Math.floor(pick() * snap.objectCount), { k: 2 });
  } else {
    typeSeries({ snapshots: [snap], warnings: [] });
  }
  if (withDiagnosis) diagnose({ snapshots: [snap], warnings: [] });
}

/** Loads one input (from bytes, or every few cases from a file) and exercises it; anything but a SnapshotError fails. */
async function attempt(bytes: Uint8Array, what: string, out: Outcome, pick: () => number, opts: { fromFile: boolean; diagnose: boolean }): Promise<void> {
  let input: string | Uint8Array = bytes;
  if (opts.fromFile) {
    input = join(tempDir("leakbook-fuzz-"), "case.lbsnap");
    writeFileSync(input, bytes);
  }
  try {
    exercise(await loadSnapshot(input), pick, opts.diagnose);
    out.accepted++;
    if (out.samples.filter((s) => s.accepted).length < 3 && pick() < 0.2) out.samples.push({ what, bytes, accepted: true });
  } catch (error) {
    if (!(error instanceof SnapshotError)) assert.fail(`${what}: ${error instanceof Error ? error.stack : String(error)}`);
    assert.ok(!error.message.includes("\n"), `${what}: one line: ${error.message}`);
    out.rejected++;
    if (out.samples.filter((s) => !s.accepted).length < 4 && pick() < 0.05) out.samples.push({ what, bytes, accepted: false });
  }
}

function leakbook(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
}

test("fuzz: truncated, bit-flipped and crafted files load or fail with one line; never an internal error, a trace or a hang", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 600_000 }, async () => {
  const pick = random(SEED);
  const dir = tempDir("leakbook-fuzz-");
  const real = runPythonJson<{ full: string; census: string }>(CAPTURE, dir);
  const full = new Uint8Array(readFileSync(real.full));
  const census = new Uint8Array(readFileSync(real.census));
  // A small file with the real capture's header fields (threads, lru caches, bounds, meta, memory): every header
  // mutation is cheap to load and analyse on it.
  const realHeader = headerOf(full);
  const small = join(dir, "small.lbsnap");
  writeLbsnap(small, {
    ...synthesize(3_000, 7_500, 5),
    meta: realHeader.meta,
    header: {
      memory: realHeader.memory,
      threads: realHeader.threads.map((t: Record<string, unknown>, k: number) => ({ ...t, frame: t.frame === null ? null : 100 + k })),
      lru_caches: realHeader.lru_caches.slice(0, 3).map((c: Record<string, unknown>, k: number) => ({ ...c, object: 200 + k })),
      bounds: [[300, 5], [301, 0]],
      alloc_sites: [[{ file: "app.py", line: 3 }]],
    },
  });
  const synthetic = new Uint8Array(readFileSync(small));
  const bases: [string, Uint8Array][] = [["synthetic", synthetic], ["real", full], ["census", census]];
  const outcome: Outcome = { accepted: 0, rejected: 0, samples: [] };
  let cases = 0;
  const run = async (bytes: Uint8Array, what: string, diagnoseIt = false) => {
    cases++;
    await attempt(bytes, what, outcome, pick, { fromFile: cases % 5 === 0, diagnose: diagnoseIt });
  };

  // Truncations: every length up to the end of the header, then at random, and around the trailer.
  for (const [name, bytes] of bases) {
    const headerEnd = 16 + new DataView(bytes.buffer).getUint32(12, true);
    const lengths = new Set<number>();
    for (let n = 0; n <= Math.min(headerEnd + 8, 200); n++) lengths.add(n);
    for (let k = 0; k < 60; k++) lengths.add(Math.floor(pick() * bytes.length));
    for (let n = bytes.length - 30; n < bytes.length; n++) lengths.add(n);
    const before = outcome.accepted;
    for (const n of lengths) await run(bytes.subarray(0, n), `${name} cut to ${n} bytes`);
    assert.equal(outcome.accepted, before, `${name}: no truncated file is accepted`);
  }

  // Bit flips anywhere before the trailer, the checksum recomputed.
  for (const [name, bytes, flips] of [["synthetic", synthetic, 300], ["real", full, 60], ["census", census, 40]] as const) {
    for (let k = 0; k < flips; k++) {
      const at = Math.floor(pick() * (bytes.length - 24));
      const bit = Math.floor(pick() * 8);
      const copy = new Uint8Array(bytes);
      copy[at] ^= 1 << bit;
      await run(resealed(copy), `${name}: bit ${bit} of byte ${at} flipped`, k % 15 === 0);
    }
    // And without the checksum recomputed: always "corrupted".
    const copy = new Uint8Array(bytes);
    copy[Math.floor(bytes.length / 3)] ^= 4;
    await assert.rejects(loadSnapshot(copy), /corrupted \(checksum mismatch\)/, name);
  }

  // Every header field of the synthetic and the census file, each set to every wrong value.
  for (const [name, bytes] of [["synthetic", synthetic], ["census", census]] as const) {
    // The diagnosis (slower) runs on the first mutation of each top-level field.
    const diagnosed = new Set<string>();
    for (const path of fieldPaths(headerOf(bytes))) {
      for (const value of WRONG) {
        const mutated = withHeader(bytes, (h) => { setAt(h, path, value); });
        const first = !diagnosed.has(String(path[0]));
        diagnosed.add(String(path[0]));
        await run(mutated, `${name}: ${path.join(".")} = ${JSON.stringify(value) ?? "deleted"}`, first);
      }
    }
    // Literals Python's json writes and JSON does not allow.
    for (const literal of ["NaN", "Infinity", "-Infinity"]) {
      await run(withHeader(bytes, (h) => JSON.stringify(h).replace('"pid":', `"pid":${literal},"was":`)), `${name}: pid ${literal}`);
    }
  }
  assert.ok(cases > 3_000, `${cases} cases`);
  assert.ok(outcome.accepted > 100 && outcome.rejected > 1_000, `accepted ${outcome.accepted}, rejected ${outcome.rejected}: the mutations reach both outcomes`);

  // A sample through the CLI: exit 0 or 2 (1 is check's alone), no trace, one line on failure, within the timeout.
  const samples = [...outcome.samples, { what: "real cut in its header", bytes: full.subarray(0, 300), accepted: false }];
  assert.ok(samples.some((s) => s.accepted) && samples.filter((s) => !s.accepted).length >= 2, "samples of both outcomes");
  for (const [k, sample] of samples.entries()) {
    const file = join(dir, `sample-${k}.lbsnap`);
    writeFileSync(file, sample.bytes);
    for (const args of [["summary", file], ...(k % 2 === 0 ? [["diagnose", file]] : [])]) {
      const result = leakbook(...args);
      const what = `${args[0]} of ${sample.what}`;
      assert.equal(result.error, undefined, `${what}: ${result.error?.message} (a hang?)`);
      assert.ok(result.status === 0 || result.status === 2, `${what}: exit ${result.status} ${result.signal ?? ""}: ${result.stderr}`);
      assert.equal(result.status === 0, sample.accepted, `${what}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at |internal error/, what);
      if (result.status === 2) assert.match(result.stderr, /^leakbook: [^\n]+\n$/, what);
    }
  }
});
