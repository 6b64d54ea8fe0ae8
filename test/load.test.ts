import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSnapshot, detectFormat } from "../src/engine/load.js";
import { SnapshotError } from "../src/common/errors.js";
import { EDGE_INDEX, FLAG_VALUE, NONE, type Snapshot } from "../src/engine/snapshot.js";
import { synthesize, writeLbsnap } from "../bench/synth.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";
import { damagedVariants } from "./helpers/damage.js";

const objectAt = (snap: Snapshot, address: number) => {
  const index = snap.address.indexOf(address);
  assert.ok(index >= 0, `object ${address} is in the snapshot`);
  return index;
};
const typeOf = (snap: Snapshot, i: number) => snap.types[snap.type[i]];

test("synthetic snapshot round-trips column for column", async () => {
  const dir = tempDir();
  const columns = synthesize(20_000, 50_000, 7);
  const path = join(dir, "synthetic.lbsnap");
  writeLbsnap(path, columns);
  let progressCalls = 0;
  const snap = await loadSnapshot(path, { onProgress: (done, total) => { progressCalls++; assert.ok(done <= total); } });
  assert.ok(progressCalls > 0);
  assert.equal(snap.format, "lbsnap");
  assert.equal(snap.objectCount, 20_000);
  assert.equal(snap.edgeCount, 50_000);
  assert.deepEqual(snap.types, columns.types);
  for (const key of ["address", "type", "size", "length", "flags", "name", "edgeStart", "edgeTarget", "edgeKind", "edgeLabel", "rootObject", "rootKind", "rootLabel"] as const) {
    assert.deepEqual(snap[key], columns[key], key);
  }
  assert.equal(snap.strings.count, columns.strings.length);
  for (let k = 0; k < columns.strings.length; k += 97) assert.equal(snap.strings.get(k), columns.strings[k]);
  // Sections are views on one buffer, not copies.
  assert.equal(snap.address.buffer, snap.edgeTarget.buffer);
});

test("bytes at an odd offset load the same (misaligned sections are copied)", async () => {
  const dir = tempDir();
  const path = join(dir, "s.lbsnap");
  writeLbsnap(path, synthesize(3_000, 7_000, 3));
  const file = readFileSync(path);
  const shifted = new Uint8Array(file.length + 1);
  shifted.set(file, 1);
  const fromPath = await loadSnapshot(path);
  const fromBytes = await loadSnapshot(shifted.subarray(1));
  assert.equal(fromBytes.source, null);
  assert.deepEqual(fromBytes.address, fromPath.address);
  assert.deepEqual(fromBytes.edgeTarget, fromPath.edgeTarget);
  assert.equal(fromBytes.strings.get(fromBytes.rootLabel[0]), fromPath.strings.get(fromPath.rootLabel[0]));
});

test("damaged files are rejected with one line naming the file", async () => {
  const dir = tempDir();
  const valid = join(dir, "valid.lbsnap");
  writeLbsnap(valid, synthesize(2_000, 5_000));
  for (const [name, [bytes, expected]] of Object.entries(damagedVariants(readFileSync(valid)))) {
    const path = join(dir, `${name.replace(/ /g, "-")}.lbsnap`);
    writeFileSync(path, bytes);
    await assert.rejects(loadSnapshot(path), (error: unknown) => {
      assert.ok(error instanceof SnapshotError, name);
      assert.match(error.message, new RegExp(expected), name);
      assert.ok(error.message.includes(path), `${name}: message names the file`);
      assert.ok(!error.message.includes("\n"), name);
      return true;
    });
  }
  await assert.rejects(loadSnapshot(join(dir, "missing.lbsnap")), /missing\.lbsnap: no such file/);
});

test("files read in several chunks are checksummed as they come in: a flipped byte in any chunk is caught", async () => {
  const dir = tempDir();
  const valid = join(dir, "large.lbsnap");
  writeLbsnap(valid, synthesize(900_000, 1_300_000, 3)); // about 41 MB: three 16 MB read chunks
  const bytes = readFileSync(valid);
  assert.ok(bytes.length > 32 * 1024 * 1024, `${bytes.length} bytes`);
  assert.equal((await loadSnapshot(valid)).objectCount, 900_000);
  // The last chunk's bytes just before the trailer, then one in the middle of the second chunk.
  for (const at of [bytes.length - 25, 16 * 1024 * 1024 + 12_345]) {
    const damaged = Buffer.from(bytes);
    damaged[at] ^= 0x40;
    const path = join(dir, `flipped-${at}.lbsnap`);
    writeFileSync(path, damaged);
    await assert.rejects(loadSnapshot(path), /corrupted \(checksum mismatch\)/, `byte ${at}`);
  }
});

test("format detection reads the content, not the name", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.equal(detectFormat(enc("LEAKBOOK\x01\x00\x00\x00")), "lbsnap");
  assert.equal(detectFormat(enc('\n  \n{"address": 140, "type": "dict", "size": 64, "refs": []}\n')), "meliae");
  assert.equal(detectFormat(enc('{"type": "dict"}\n')), null);
  assert.equal(detectFormat(enc("address,type\n1,dict\n")), null);
});

test("a snapshot captured by a real Python process has its objects, values and references", { skip: !agentAvailable() && "python/leakbook.py not present" }, async () => {
  const dir = tempDir();
  const facts = runPythonJson<{
    path: string; pid: number; planted: number; planted_value: string; planted_size: number; triple: number;
    items: number[]; marker: number; marker_size: number; marker_type: string; markers: number; big_int: number;
  }>(`
import json, os, sys
import leakbook

class Marker:
    def __init__(self, n):
        self.n = n

PLANTED = "planted-" + str(os.getpid()) + "-value"
MARKERS = [Marker(i) for i in range(1000)]
BIG = 12345678901234567
TRIPLE = [MARKERS[0], PLANTED, BIG]

path = os.path.join(sys.argv[1], "real.lbsnap")
leakbook.snapshot(path)
print(json.dumps({
    "path": path, "pid": os.getpid(), "planted": id(PLANTED), "planted_value": PLANTED,
    "planted_size": sys.getsizeof(PLANTED), "triple": id(TRIPLE), "items": [id(x) for x in TRIPLE],
    "marker": id(MARKERS[0]), "marker_size": sys.getsizeof(MARKERS[0]),
    "marker_type": Marker.__module__ + "." + Marker.__qualname__, "markers": len(MARKERS), "big_int": id(BIG),
}))
`, dir);
  const snap = await loadSnapshot(facts.path);
  assert.equal(snap.format, "lbsnap");
  assert.equal(snap.meta.pid, facts.pid);
  assert.ok(snap.objectCount > 5_000, "a whole interpreter heap");
  assert.ok(snap.rootObject.length > 0);

  const planted = objectAt(snap, facts.planted);
  assert.equal(typeOf(snap, planted), "builtins.str");
  assert.ok(snap.flags[planted] & FLAG_VALUE);
  assert.equal(snap.strings.get(snap.name[planted]), facts.planted_value);
  assert.equal(snap.size[planted], facts.planted_size);
  assert.equal(snap.length[planted], facts.planted_value.length);

  const triple = objectAt(snap, facts.triple);
  assert.equal(typeOf(snap, triple), "builtins.list");
  assert.equal(snap.length[triple], 3);
  const from = snap.edgeStart[triple];
  assert.equal(snap.edgeStart[triple + 1] - from, 3);
  facts.items.forEach((address, k) => {
    assert.equal(snap.address[snap.edgeTarget[from + k]], address);
    assert.equal(snap.edgeKind[from + k], EDGE_INDEX);
    assert.equal(snap.edgeLabel[from + k], k);
  });
  const big = objectAt(snap, facts.big_int);
  assert.equal(snap.strings.get(snap.name[big]), "12345678901234567");

  const markerType = snap.types.indexOf(facts.marker_type);
  assert.ok(markerType >= 0, `type ${facts.marker_type} listed`);
  assert.equal(snap.type.filter((t) => t === markerType).length, facts.markers);
  assert.equal(snap.size[objectAt(snap, facts.marker)], facts.marker_size);
  assert.equal(snap.length[objectAt(snap, facts.marker)], NONE);

  const again = await loadSnapshot(readFileSync(facts.path));
  assert.equal(again.objectCount, snap.objectCount);
  assert.deepEqual(again.edgeTarget, snap.edgeTarget);
});

test("bounds of deques and queues captured by a real Python process load by object", { skip: !agentAvailable() && "python/leakbook.py not present" }, async () => {
  const dir = tempDir();
  const facts = runPythonJson<{ path: string; ids: Record<string, number> }>(`
import collections, json, os, queue, sys
import leakbook

FILLING = collections.deque(maxlen=7)
FILLING.extend(range(4))
FULL = collections.deque(range(10), maxlen=3)
UNBOUNDED = collections.deque(range(10))
JOBS = queue.Queue(maxsize=5)
JOBS.put("job")
ANY = queue.Queue()

path = os.path.join(sys.argv[1], "bounds.lbsnap")
leakbook.snapshot(path)
print(json.dumps({"path": path, "ids": {
    "filling": id(FILLING), "full": id(FULL), "unbounded": id(UNBOUNDED), "jobs": id(JOBS),
    "jobs_queue": id(JOBS.queue), "any": id(ANY), "any_queue": id(ANY.queue)}}))
`, dir);
  const snap = await loadSnapshot(facts.path);
  const bound = (name: string) => snap.bounds.get(objectAt(snap, facts.ids[name])) ?? null;
  assert.deepEqual(Object.fromEntries(Object.keys(facts.ids).map((name) => [name, bound(name)])), {
    filling: 7, full: 3, unbounded: null, jobs: 5, jobs_queue: 5, any: null, any_queue: null,
  });
  assert.equal(typeOf(snap, objectAt(snap, facts.ids.jobs_queue)), "collections.deque");
  assert.equal(snap.length[objectAt(snap, facts.ids.full)], 3, "a full bounded deque is at its bound");
  for (const [object, limit] of snap.bounds) assert.ok(object < snap.objectCount && Number.isInteger(limit) && limit >= 0);
  // A census snapshot and a file without the field load with no bounds.
  const census = runPythonJson<{ path: string }>(`
import json, os, sys
import leakbook
print(json.dumps({"path": leakbook.snapshot(os.path.join(sys.argv[1], "census.lbsnap"), census=True)}))
`, dir);
  assert.equal((await loadSnapshot(census.path)).bounds.size, 0);
  const old = join(dir, "old.lbsnap");
  writeLbsnap(old, synthesize(100, 200, 1));
  assert.equal((await loadSnapshot(old)).bounds.size, 0);
});

test("the header's bounds are checked: an entry for a missing object or of the wrong shape is rejected", async () => {
  const dir = tempDir();
  const write = (name: string, bounds: unknown) => {
    const path = join(dir, `${name}.lbsnap`);
    writeLbsnap(path, { ...synthesize(50, 100, 2), header: { bounds } });
    return path;
  };
  assert.deepEqual([...(await loadSnapshot(write("good", [[3, 7], [10, 0]]))).bounds], [[3, 7], [10, 0]]);
  await assert.rejects(loadSnapshot(write("beyond", [[50, 7]])), /unreadable header \(bounds\[0\]\[0\] is 50, expected an object index below 50\)/);
  await assert.rejects(loadSnapshot(write("shape", [[3, -1]])), /unreadable header \(bounds\[0\] is \[3,-1\], expected \[object index, bound\]\)/);
  await assert.rejects(loadSnapshot(write("list", { 3: 7 })), /unreadable header \(bounds is \{"3":7\}, expected a list\)/);
});
