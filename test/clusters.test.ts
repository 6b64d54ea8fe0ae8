// Leak clusters on a real capture: new objects attributed to the holder that keeps them (a cache, the outer dict
// of nested dicts, the head of a linked list, a bounded deque, a weak set), the trend rules they are judged by,
// and how the diagnosis reports each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { diagnose } from "../src/diagnose/index.js";
import { keptTrend, trendOf } from "../src/diagnose/rules.js";
import { caches } from "../src/queries/caches.js";
import { leakClusters } from "../src/queries/clusters.js";
import { holders } from "../src/queries/holders.js";
import { largest } from "../src/queries/objects.js";
import { survivors } from "../src/queries/survivors.js";
import { loadSeries } from "../src/engine/series.js";
import { agentAvailable, runPythonJson, tempDir } from "./helpers/python.js";

test("trends: a rise then two still intervals is filled, not growth; counts decide before bytes", () => {
  assert.equal(trendOf([300, 400, 400, 400]), "filled");
  assert.equal(trendOf([100, 500, 502, 501]), "filled");
  assert.equal(trendOf([100, 200, 300, 400]), "every");
  assert.equal(trendOf([100, 200, 300, 300]), "steady"); // one still interval is not a plateau
  assert.equal(trendOf([1, 5, 5]), "steady"); // three snapshots cannot show two still intervals
  // A container whose entries stay at 1,200 while its table resizes: the bytes rise, the count is filled.
  assert.equal(keptTrend([900, 1200, 1200, 1200], [95_000, 135_000, 135_000, 162_000]), "filled");
  // A string that gets longer is one object: the count holds still, the bytes decide.
  assert.equal(keptTrend([1, 1, 1, 1], [10_000, 20_000, 30_000, 40_000]), "every");
});

const PROGRAM = String.raw`
import collections, gc, json, os, sys, weakref
import leakbook

OUT = sys.argv[1]

class Order:
    def __init__(self, n):
        self.n = n
        self.lines = ["line %d" % n] * 3

class Node:
    def __init__(self, n):
        self.n = n
        self.payload = "node %d" % n
        self.next = None

ORDERS = {}                                  # a cache of instances
BY_USER = {"user-%d" % u: {} for u in range(5)}   # nested dicts: the growth is spread over the inner ones
HEAD = Node(-1)                              # a linked list appended at its tail
RECENT = collections.deque(maxlen=5000)      # bounded, still filling
LIVE = []                                    # the strong holder of what the weak set sees
SEEN = weakref.WeakSet()

class Tracked:
    pass

tail = HEAD
n = 0
for r in range(4):
    for _ in range(300):
        ORDERS["order-%d" % n] = Order(n)
        BY_USER["user-%d" % (n % 5)]["req-%d" % n] = ("GET", "/cart/%d" % n)
        node = Node(n)
        tail.next = node
        tail = node
        RECENT.append({"request": n})
        t = Tracked()
        LIVE.append(t)
        SEEN.add(t)
        n += 1
    node = t = None
    gc.collect()
    leakbook.snapshot(os.path.join(OUT, "s-%d.lbsnap" % r))
print(json.dumps({"orders": id(ORDERS), "by_user": id(BY_USER), "head": id(HEAD), "recent": id(RECENT)}))
`;

test("leak clusters name each holder, and the diagnosis judges each as a leak, bounded or a symptom", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 180_000 }, async () => {
  const dir = tempDir();
  const ids = runPythonJson<Record<string, number>>(PROGRAM, dir);
  const series = await loadSeries(dir);
  const rows = leakClusters(series, { top: 50 }).objects() as { holder_address: string | null; path: string | null; new_objects: number; member_types: string[]; sample_address: string | null }[];
  const at = (id: number) => rows.find((r) => r.holder_address === `0x${id.toString(16)}`);
  const orders = at(ids.orders);
  assert.ok(orders, JSON.stringify(rows.map((r) => r.path)));
  assert.equal(orders.path, "sys.modules['__main__'].ORDERS");
  // 900 Orders, each with its dict or inline values, a list and key strings: all attributed to the cache.
  assert.ok(orders.new_objects >= 900 * 3, String(orders.new_objects));
  assert.ok(orders.member_types.some((t) => t.startsWith("__main__.Order ×900")), orders.member_types.join(", "));
  assert.match(orders.sample_address ?? "", /^0x[0-9a-f]+$/);
  // The inner dicts of BY_USER climb to the outer dict; the list's new nodes to its head.
  assert.equal(at(ids.by_user)?.path, "sys.modules['__main__'].BY_USER");
  assert.equal(rows.filter((r) => (r.path ?? "").startsWith("sys.modules['__main__'].BY_USER[")).length, 0);
  assert.equal(at(ids.head)?.path, "sys.modules['__main__'].HEAD");

  const d = diagnose(series);
  const finding = (path: string) => d.findings.find((f) => f.path === path);
  for (const path of ["ORDERS", "BY_USER", "HEAD"].map((name) => `sys.modules['__main__'].${name}`)) {
    assert.equal(finding(path)?.severity, "high", `${path}: ${JSON.stringify(d.findings.map((f) => [f.severity, f.path]))}`);
  }
  assert.equal(finding("sys.modules['__main__'].ORDERS")?.kind, "growing-container");
  assert.match(finding("sys.modules['__main__'].ORDERS")?.cluster?.entries.join(" ") ?? "", /\['order-\d+'\]: __main__\.Order/);
  // The deque is within its maxlen: not a leak.
  const recent = d.findings.filter((f) => (f.path ?? "").startsWith("sys.modules['__main__'].RECENT"));
  assert.ok(recent.every((f) => f.severity === "info"), JSON.stringify(recent.map((f) => [f.severity, f.kind, f.title])));
  // The weak set only shows that its referents live elsewhere: a low symptom that says so; LIVE is the holder.
  const weak = d.findings.filter((f) => (f.path ?? "").includes(".SEEN"));
  assert.ok(weak.length > 0 && weak.every((f) => f.severity === "low" && /weak/i.test(f.reason ?? "")), JSON.stringify(weak));
  // The capture records each weak reference's referent address, so the symptom names the strong holder.
  assert.match(weak[0].reason ?? "", /kept by a strong holder \(sys\.modules\['__main__'\]\.LIVE\)/);
  assert.equal(finding("sys.modules['__main__'].LIVE")?.severity, "high");
});

const RECORDER_PROGRAM = String.raw`
import os, sys
import leakbook

OUT = sys.argv[1]
recorder = leakbook.start(os.path.join(OUT, "background"), interval=3600)   # a Recorder thread waits the while
CACHE = {}
for r in range(3):
    for k in range(200):
        CACHE["k%d:%d" % (r, k)] = [r, k]
    leakbook.snapshot(os.path.join(OUT, "s-%d.lbsnap" % r))
print("{}")
`;

test("the capture agent's own state (its module, its Recorder thread) is in no table and no finding", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 180_000 }, async () => {
  const dir = tempDir();
  runPythonJson(RECORDER_PROGRAM, dir);
  const series = await loadSeries(dir);
  const last = series.snapshots[series.snapshots.length - 1];
  const tables = [
    caches(series, { top: 500 }), holders(last, undefined, { top: 10_000 }), survivors(series, { top: 500 }),
    largest(last, { top: 500 }), leakClusters(series, { top: 500 }),
  ];
  for (const table of tables) {
    const agentRows = (table.objects() as Record<string, unknown>[]).filter((r) => /leakbook/.test(JSON.stringify(r)));
    assert.deepEqual(agentRows, []);
  }
  const d = diagnose(series);
  assert.equal(d.findings[0].path, "sys.modules['__main__'].CACHE");
  assert.ok(d.findings.every((f) => !/leakbook/.test(`${f.path} ${f.title} ${f.sample?.path ?? ""}`)), JSON.stringify(d.findings.map((f) => f.path)));
});
