// The analysis of a real capture is the same with the helper thread and without, the helper is chosen by the cores
// and the load, and a series diagnosis that lets the earlier snapshots' analyses go gives what it gives with them
// all kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { graphOf } from "../src/engine/analysis-cache.js";
import { analyze, helperPays, PARALLEL_FROM } from "../src/engine/graph.js";
import { loadSnapshot } from "../src/engine/load.js";
import { loadSeries } from "../src/engine/series.js";
import { diagnose } from "../src/diagnose/index.js";
import { diagnosisJson } from "../src/cli/common.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";

const SERVICE = String.raw`
import collections, gc, json, os, sys
import leakbook

REGISTRY = []
QUEUE = collections.deque()

class Session:
    def __init__(self, number):
        self.name = "session-%d" % number
        self.headers = {"user": "user-%d" % (number % 97)}
        self.buffer = [(number, "message %d" % number)]
        REGISTRY.append(self.on_message)
        QUEUE.append((number, self.name))

    def on_message(self, message):
        self.buffer.append(message)

files = []
opened = 0
for moment, count in enumerate(json.loads(sys.argv[2])):
    for k in range(opened, opened + count):
        Session(k)
    opened += count
    gc.collect()
    files.append(leakbook.snapshot(os.path.join(sys.argv[1], "service-%d.lbsnap" % moment)))
print(json.dumps({"files": files}))
`;

function capture(counts: number[]): string[] {
  const dir = tempDir();
  const source = SERVICE.replace("json.loads(sys.argv[2])", JSON.stringify(counts));
  return runPythonJson<{ files: string[] }>(source, dir, 300_000).files.map((f) => (f.startsWith("/") ? f : join(dir, f)));
}

const skip = !agentAvailable() && "python/leakbook.py not present";

test("a real capture large enough for the helper thread is analysed the same with it and without", { skip, timeout: 300_000 }, async () => {
  const [file] = capture([30_000]);
  const snap = await loadSnapshot(file);
  assert.ok(snap.objectCount >= PARALLEL_FROM, `${snap.objectCount} objects, enough for the helper`);
  const alone = analyze(snap, { threads: false });
  const helped = analyze(snap, { threads: true });
  for (const key of ["idom", "retained", "retainedCount", "distance", "bfsEdge", "scc", "cyclic", "unreachable", "typeRetained"] as const) {
    assert.deepEqual(helped[key], alone[key], key);
  }
});

test("the helper thread is used on large heaps only when a core is idle", () => {
  assert.equal(helperPays(PARALLEL_FROM - 1, 2, 0), false, "small heap");
  assert.equal(helperPays(PARALLEL_FROM, 1, 0), false, "one core");
  assert.equal(helperPays(PARALLEL_FROM, 2, 1.5), false, "the other core busy");
  assert.equal(helperPays(PARALLEL_FROM, 2, 0.8), true, "the other core idle");
  assert.equal(helperPays(PARALLEL_FROM, 8, 6.5), true, "one of eight cores idle");
});

test("a series diagnosis that lets the earlier analyses go finds what it finds with every analysis kept", { skip, timeout: 300_000 }, async () => {
  const files = capture([2_000, 500, 500]);
  const released = diagnosisJson(diagnose(await loadSeries(files)));
  const kept = await loadSeries(files);
  for (const snap of kept.snapshots) graphOf(snap);
  const json = JSON.stringify(released);
  assert.equal(json, JSON.stringify(diagnosisJson(diagnose(kept))));
  assert.match(json, /REGISTRY/, "the registry is named");
});
