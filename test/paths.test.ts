// Retention paths: rendering rules on hand-built snapshots (prettified attributes, index and opaque edges,
// hostile keys, unreachable roots), k shortest distinct paths, lookups; and expressions evaluated in a live
// Python process that captured itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { analyze } from "../src/graph.js";
import { loadSnapshot } from "../src/load.js";
import { dominatedBy, edgeLabel, findObject, referents, referrers, shortestPaths } from "../src/paths.js";
import { EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, ROOT_THREAD, ROOT_UNREACHABLE } from "../src/snapshot.js";
import { makeSnapshot, type EdgeSpec, type ObjectSpec } from "./helpers/make-snapshot.js";
import { PYTHON, agentAvailable, runPythonJson, startPython, tempDir } from "./helpers/python.js";

const TYPES = ["builtins.module", "builtins.dict", "app.User", "builtins.list", "builtins.set", "builtins.staticmethod", "builtins.str", "builtins.function"];
const T = Object.fromEntries(TYPES.map((t, i) => [t.split(".")[1], i]));
const S = EDGE_SUFFIX;

/** A module `app` (0) with CACHE (2) holding a User (3) whose parent (5) is another User; more hangs off them. */
function appHeap(extraObjects: ObjectSpec[] = [], extraEdges: EdgeSpec[] = []) {
  const objects: ObjectSpec[] = [
    { type: T.module }, { type: T.dict }, { type: T.dict }, { type: T.User }, { type: T.dict }, { type: T.User },
    ...extraObjects,
  ];
  const edges: EdgeSpec[] = [
    [0, 1, S, ".__dict__"], [1, 2, S, "['CACHE']"], [2, 3, S, "['user:42']"], [3, 4, S, ".__dict__"], [4, 5, S, "['parent']"],
    ...extraEdges,
  ];
  return makeSnapshot({ types: TYPES, objects, edges, roots: [{ object: 0, label: "sys.modules['app']" }] });
}

const only = (snap: ReturnType<typeof appHeap>, object: number) => shortestPaths(analyze(snap), object)[0];

test("module namespace and instance attributes render as attribute access; dict keys stay subscripts", () => {
  const path = only(appHeap(), 5);
  assert.equal(path.expr, "sys.modules['app'].CACHE['user:42'].parent");
  assert.deepEqual(path.steps.map((s) => [s.object, s.label, s.type, s.evaluable]), [
    [0, "sys.modules['app']", "builtins.module", true],
    [1, ".__dict__", "builtins.dict", true],
    [2, "['CACHE']", "builtins.dict", true],
    [3, "['user:42']", "app.User", true],
    [4, ".__dict__", "builtins.dict", true],
    [5, "['parent']", "app.User", true],
  ]);
  assert.equal(path.steps[5].address, 0x1000 + 16 * 5);
  assert.deepEqual(path.imports, ["sys"]);
  assert.equal(path.root, 0);
});

test("keywords, non-identifiers, hostile keys and staticmethods are not turned into attributes", () => {
  const snap = appHeap(
    [{ type: T.str }, { type: T.str }, { type: T.str }, { type: T.staticmethod }, { type: T.str }],
    [
      [4, 6, S, "['class']"], // a keyword
      [4, 7, S, "['it\\'s \"quoted\"\\n']"], // repr() of a key with quotes and a newline, as the agent writes it
      [4, 8, S, "['naïve']"], // not an ASCII identifier: left as a subscript
      [1, 9, S, "['helper']"], // a staticmethod object in a namespace: attribute access would unwrap it
      [3, 10, S, ".__slots_value"], // a slot: a plain suffix
    ],
  );
  const g = analyze(snap);
  const expr = (o: number) => shortestPaths(g, o)[0].expr;
  assert.equal(expr(6), "sys.modules['app'].CACHE['user:42'].__dict__['class']");
  assert.equal(expr(7), "sys.modules['app'].CACHE['user:42'].__dict__['it\\'s \"quoted\"\\n']");
  assert.equal(expr(8), "sys.modules['app'].CACHE['user:42'].__dict__['naïve']");
  assert.equal(expr(9), "sys.modules['app'].__dict__['helper']");
  assert.equal(expr(10), "sys.modules['app'].CACHE['user:42'].__slots_value");
});

test("index edges render as [i]; set members, dict keys and other referents as lookups by id()", () => {
  const snap = appHeap(
    [{ type: T.list }, { type: T.set }, { type: T.User, address: 123456789 }, { type: T.str, address: 987654321 }, { type: T.function, address: 555 }],
    [
      [1, 6, S, "['ITEMS']"], [6, 7, EDGE_INDEX, 3], [7, 8, EDGE_OPAQUE, "<set member>"],
      [2, 9, EDGE_OPAQUE, "<dict key>"], [8, 10, EDGE_OPAQUE, "<referent>"],
    ],
  );
  const g = analyze(snap);
  const set = shortestPaths(g, 8)[0];
  assert.equal(set.expr, "next(x for x in sys.modules['app'].ITEMS[3] if id(x) == 123456789)");
  assert.deepEqual(set.steps.slice(3).map((s) => s.label), ["[3]", "<set member>"]);
  assert.ok(set.steps.every((s) => s.evaluable));
  assert.deepEqual(set.imports, ["sys"]);
  assert.equal(shortestPaths(g, 9)[0].expr, "next(x for x in sys.modules['app'].CACHE if id(x) == 987654321)");
  const referent = shortestPaths(g, 10)[0];
  assert.equal(
    referent.expr,
    "next(x for x in gc.get_referents(next(x for x in sys.modules['app'].ITEMS[3] if id(x) == 123456789)) if id(x) == 555)",
  );
  assert.deepEqual(referent.imports, ["gc", "sys"]);
  assert.equal(edgeLabel(snap, snap.edgeStart[7]), "<set member>");
});

test("each root entry of an object gives its own path; a root object's path is its root expression", () => {
  const snap = makeSnapshot({
    types: TYPES,
    objects: [{ type: T.module }, { type: T.dict }],
    edges: [[0, 1, S, ".__dict__"]],
    roots: [{ object: 0, label: "sys.modules['a']" }, { object: 1, label: "sys._current_frames()[7].f_locals", kind: ROOT_THREAD }, { object: 0, label: "sys.modules['alias']" }],
  });
  const g = analyze(snap);
  assert.deepEqual(shortestPaths(g, 0, { k: 5 }).map((p) => [p.root, p.expr, p.steps.length]), [
    [0, "sys.modules['a']", 1],
    [2, "sys.modules['alias']", 1],
  ]);
  const dict = shortestPaths(g, 1, { k: 5 });
  assert.deepEqual(dict.map((p) => [p.expr, p.rootKind]), [
    ["sys._current_frames()[7].f_locals", ROOT_THREAD],
    ["sys.modules['a'].__dict__", 0],
    ["sys.modules['alias'].__dict__", 0],
  ]);
});

test("unreachable objects: tracked ones are found through gc.get_objects(), untracked ones are marked not evaluable", () => {
  const snap = makeSnapshot({
    types: TYPES,
    objects: [{ type: T.module }, { type: T.list, address: 4096 }, { type: T.str }, { type: T.str, flags: 0, address: 255 }, { type: T.str }],
    edges: [[1, 2, EDGE_INDEX, 0], [3, 4, EDGE_INDEX, 0]],
    roots: [0],
  });
  const g = analyze(snap);
  const tracked = shortestPaths(g, 2)[0];
  assert.equal(tracked.expr, "next(x for x in gc.get_objects() if id(x) == 4096)[0]");
  assert.deepEqual(tracked.imports, ["gc"]);
  assert.equal(tracked.rootKind, ROOT_UNREACHABLE);
  assert.equal(tracked.root, snap.rootObject.length + [...g.extraRoots].indexOf(1));
  const untracked = shortestPaths(g, 4)[0];
  assert.equal(untracked.expr, "<unreachable object at 0xff>[0]");
  assert.deepEqual(untracked.steps.map((s) => s.evaluable), [false, false]);
});

test("k shortest paths come shortest first, distinct, simple, within maxDepth", () => {
  // Root 0 reaches 5 by 0-1-5 and 0-2-5 (length 2), 0-3-4-5 (3), and through a cycle 5-6-5 that must not repeat.
  const edges: EdgeSpec[] = [
    [0, 1, S, ".a"], [0, 2, S, ".b"], [0, 3, S, ".c"], [1, 5, S, ".x"], [2, 5, S, ".y"], [3, 4, S, ".d"], [4, 5, S, ".z"],
    [5, 6, S, ".loop"], [6, 5, S, ".back"],
  ];
  const snap = makeSnapshot({ types: TYPES, objects: Array.from({ length: 7 }, () => ({ type: T.User })), edges, roots: [{ object: 0, label: "R" }] });
  const g = analyze(snap);
  const exprs = (k: number, maxDepth?: number) => shortestPaths(g, 5, { k, maxDepth }).map((p) => p.expr);
  assert.deepEqual(exprs(1), ["R.a.x"]);
  assert.deepEqual(exprs(10), ["R.a.x", "R.b.y", "R.c.d.z"]);
  assert.deepEqual(exprs(10, 2), ["R.a.x", "R.b.y"]);
  assert.deepEqual(shortestPaths(g, 6, { k: 10 }).map((p) => p.expr), ["R.a.x.loop", "R.b.y.loop", "R.c.d.z.loop"]);
});

test("referrers, referents, findObject and dominatedBy", () => {
  const snap = appHeap([{ type: T.list, address: 2 ** 52 + 16 }], [[2, 6, S, "['big']"], [6, 5, EDGE_INDEX, 0]]);
  const g = analyze(snap);
  assert.deepEqual(referrers(g, 5), [{ object: 4, edge: 5, label: "['parent']" }, { object: 6, edge: 6, label: "[0]" }]);
  assert.deepEqual(referents(snap, 2), [{ object: 3, edge: 2, label: "['user:42']" }, { object: 6, edge: 3, label: "['big']" }]);
  for (let i = 0; i < snap.objectCount; i++) assert.equal(findObject(snap, snap.address[i]), i);
  assert.equal(findObject(snap, 2 ** 52 + 16), 6);
  assert.equal(findObject(snap, 12345), -1);

  const tree = dominatedBy(g, snap.objectCount);
  assert.deepEqual(tree[0], { object: snap.objectCount, parent: -1, retained: 16 * 7 });
  assert.deepEqual(tree.slice(1, 4).map((r) => [r.object, r.parent, r.retained]), [[0, 7, 112], [1, 0, 96], [2, 1, 80]]);
  assert.equal(tree.length, 8);
  const seen = new Set([snap.objectCount]);
  for (const row of tree.slice(1)) {
    assert.ok(seen.has(row.parent), "parents come before children");
    assert.equal(g.idom[row.object], row.parent);
    seen.add(row.object);
  }
  assert.deepEqual(dominatedBy(g, 2, { maxNodes: 2 }).map((r) => r.object), [2, 3]);
});

test("rendered expressions with hostile keys are valid Python", () => {
  const keys = ["'plain'", "'it\\'s'", "\"say \\\"hi\\\"\"", "'line\\nbreak'", "'tab\\t\\x00'", "('tuple', 1)", "42", "-1.5", "None", "b'\\xff'", "'ünïcode'"];
  const snap = appHeap(
    keys.map(() => ({ type: T.str })),
    keys.map((key, i): EdgeSpec => [4, 6 + i, S, `[${key}]`]),
  );
  const g = analyze(snap);
  const exprs = keys.map((_, i) => shortestPaths(g, 6 + i)[0].expr);
  const check = spawnSync(PYTHON, ["-c", "import ast, json, sys\nfor e in json.load(sys.stdin): ast.parse(e, mode='eval')\nprint('ok')"], {
    input: JSON.stringify(exprs),
    encoding: "utf8",
  });
  assert.equal(check.stderr, "");
  assert.equal(check.stdout.trim(), "ok");
});

const LIVE_SCRIPT = `
import _thread, gc, importlib, json, os, sys
import leakbook

class Node:
    pass

class Helpers:
    @staticmethod
    def tool():
        pass

class Key:
    pass

app = type(sys)('app')
sys.modules['app'] = app
app.CACHE = {'user:42': Node(), ('tuple', 1): [Node(), Node()], Key(): Node()}
KEY = next(k for k in app.CACHE if isinstance(k, Key))
app.CACHE['user:42'].parent = Node()
setattr(app.CACHE['user:42'], 'class', Node())
app.MEMBERS = {frozenset(['x']), ('in', 'set')}
app.SHARED = Node()
app.A = [app.SHARED]
app.B = {'shared': app.SHARED}
app.Helpers = Helpers

targets = {
    'attribute': app.CACHE['user:42'].parent,
    'keyword attribute': getattr(app.CACHE['user:42'], 'class'),
    'tuple key list item': app.CACHE[('tuple', 1)][1],
    'value of object key': app.CACHE[KEY],
    'dict key': KEY,
    'set member': next(m for m in app.MEMBERS if isinstance(m, frozenset)),
    'staticmethod': Helpers.__dict__['tool'],
    'shared': app.SHARED,
}
ids = {name: id(obj) for name, obj in targets.items()}
del targets, KEY  # so the objects are held only through app
path = leakbook.snapshot(os.path.join(sys.argv[1], 'paths.lbsnap'))
print(json.dumps({'path': path, 'ids': ids}), flush=True)

def evaluate():
    request = json.loads(sys.stdin.readline())
    results = []
    for name, expr, imports in request:
        try:
            scope = {module: importlib.import_module(module) for module in imports}
            results.append(id(eval(expr, scope)) == ids[name] or 'another object')
        except Exception as error:
            results.append(repr(error))
    print(json.dumps(results), flush=True)
    done.release()

# Evaluate in another thread while this one waits in C code in the same top-level frame it was captured in,
# so that expressions rooted at this thread's innermost frame (sys._current_frames()[...]) still hold.
done = _thread.allocate_lock()
done.acquire()
_thread.start_new_thread(evaluate, ())
done.acquire()
`;

test("expressions evaluate to the very object in the live process that captured itself", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 120_000 }, async () => {
  const live = startPython(LIVE_SCRIPT, tempDir());
  try {
    const { path, ids } = await live.nextMessage<{ path: string; ids: Record<string, number> }>();
    const snap = await loadSnapshot(path);
    const g = analyze(snap);
    const request: [string, string, string[]][] = [];
    for (const [name, address] of Object.entries(ids)) {
      const object = findObject(snap, address);
      assert.ok(object >= 0, `${name} is in the snapshot`);
      const paths = shortestPaths(g, object, { k: 3 });
      assert.ok(paths.length >= (name === "shared" ? 2 : 1), `${name}: ${paths.length} paths`);
      for (const p of paths) request.push([name, p.expr, p.imports]);
    }
    const byName = (name: string) => request.filter((r) => r[0] === name).map((r) => r[1]);
    // Module namespaces are real dicts: their keys become attribute access. (Instance attributes kept inline
    // by CPython 3.11+ come as opaque referents from the agent and render as gc.get_referents lookups.)
    assert.deepEqual(byName("shared"), ["sys.modules['app'].SHARED", "sys.modules['app'].A[0]", "sys.modules['app'].B['shared']"]);
    assert.match(byName("staticmethod")[0], /\.Helpers\.__dict__\['tool'\]$/, "a staticmethod stays a namespace lookup");
    live.send(request);
    const results = await live.nextMessage<(boolean | string)[]>();
    request.forEach(([name, expr], i) => assert.equal(results[i], true, `${name}: ${expr} -> ${results[i]}`));
  } finally {
    const code = await live.finish();
    if (code !== 0) process.stderr.write(live.stderr()); // an assertion above may have cut the exchange short
  }
});

test("an instance whose __dict__ shadows class attributes is held through .__dict__: the path names the attribute", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 120_000 }, async () => {
  // A class-level default overridden in __init__ is the instance dict's first key; add() materialises the dict
  // on 3.11 and 3.12, and __slots__ with __dict__ has one on every version.
  const { path, ids } = runPythonJson<{ path: string; ids: Record<string, number> }>(`
import json, os, sys
import leakbook

class Registry:
    timeout = 30
    def __init__(self):
        self.timeout = 10
        self.name = "jobs"
        self.by_key = {}
    def add(self, key, value):
        self.__dict__.setdefault("hits", 0)
        self.by_key[key] = value

class Slotted:
    __slots__ = ("first", "__dict__")
    timeout = 30
    def __init__(self):
        self.first = 1
        self.timeout = 10
        self.by_key = {}

registry = Registry()
inline = Registry()
slotted = Slotted()
for i in range(50):
    registry.add("job-%d" % i, {"n": i})
    inline.by_key["job-%d" % i] = {"n": i}
    slotted.by_key["job-%d" % i] = {"n": i}
path = os.path.join(sys.argv[1], "shadowed.lbsnap")
leakbook.snapshot(path)
print(json.dumps({"path": path, "ids": {"registry": id(registry.by_key), "inline": id(inline.by_key), "slotted": id(slotted.by_key)}}))
`, tempDir());
  const snap = await loadSnapshot(path);
  const g = analyze(snap);
  const expressions = Object.fromEntries(Object.entries(ids).map(([name, address]) => [name, shortestPaths(g, findObject(snap, address), { k: 1 })[0]?.expr]));
  assert.deepEqual(expressions, {
    registry: "sys.modules['__main__'].registry.by_key",
    inline: "sys.modules['__main__'].inline.by_key",
    slotted: "sys.modules['__main__'].slotted.by_key",
  });
});
