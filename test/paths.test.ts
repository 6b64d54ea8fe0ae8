// Retention paths: rendering rules on hand-built snapshots (prettified attributes, index and opaque edges,
// hostile keys, unreachable roots), k shortest distinct paths, lookups; and expressions evaluated in a live
// Python process that captured itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { analyze } from "../src/engine/graph.js";
import { loadSnapshot } from "../src/engine/load.js";
import { dominatedBy, edgeLabel, findObject, referents, referrers, shortestPaths, type PathOptions, type RetentionPath } from "../src/engine/paths.js";
import { EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, ROOT_BUILTINS, ROOT_MODULE, ROOT_THREAD, ROOT_UNREACHABLE } from "../src/engine/snapshot.js";
import { makeSnapshot, type EdgeSpec, type ObjectSpec } from "./helpers/make-snapshot.js";
import { PYTHON, agentAvailable, runPythonJson, startPython, tempDir } from "./helpers/python.js";

const TYPES = [
  "builtins.module", "builtins.dict", "app.User", "builtins.list", "builtins.set", "builtins.staticmethod", "builtins.str", "builtins.function",
  "builtins.frame",
];
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
  // The dict is also module a's namespace: every path to it restarts at the module, the thread's entry included.
  const dict = shortestPaths(g, 1, { k: 5 });
  assert.deepEqual(dict.map((p) => [p.expr, p.rootKind, p.note]), [
    ["sys.modules['a'].__dict__", 0, null],
    ["sys.modules['alias'].__dict__", 0, null],
  ]);
});

/**
 * Module `app` (0, namespace 1) holds CACHE (4) and odd keys; the thread frame 3 reaches app's namespace through
 * `.f_globals` and through a function's `.__globals__`; module `pkg` (5) has app as an attribute; builtins (12,
 * namespace 11, also the `builtins.__dict__` root) holds HOLD (13) = [[the function]]; an unreachable dict 14
 * (like the copy of a C module's dict CPython keeps) points at CACHE and at 15, which nothing else holds.
 */
function moduleHeap() {
  const objects: ObjectSpec[] = [
    { type: T.module, name: "app" }, { type: T.dict }, { type: T.function, name: "app.fn" }, { type: T.frame, name: "run /app.py:10" },
    { type: T.dict }, { type: T.module, name: "pkg" }, { type: T.dict }, { type: T.User }, { type: T.User }, { type: T.User },
    { type: T.User }, { type: T.dict }, { type: T.module, name: "builtins" }, { type: T.list }, { type: T.dict, address: 777 },
    { type: T.User }, { type: T.frame, name: "wait /threading.py:320" }, { type: T.User }, { type: T.list },
  ];
  const edges: EdgeSpec[] = [
    [3, 2, S, ".f_locals['fn']"], [3, 1, S, ".f_globals"], [2, 1, S, ".__globals__"], [16, 3, S, ".f_back"],
    [0, 1, S, ".__dict__"], [1, 4, S, "['CACHE']"], [1, 7, S, "['class']"], [1, 8, S, "['a-b']"], [1, 9, S, "['__class__']"],
    [1, 10, S, "['plain']"], [5, 6, S, ".__dict__"], [6, 0, S, "['app']"], [12, 11, S, ".__dict__"], [11, 13, S, "['HOLD']"],
    [13, 18, EDGE_INDEX, 0], [18, 2, EDGE_INDEX, 0], [14, 4, S, "['CACHE']"], [14, 15, S, "['ONLY']"], [3, 17, S, ".f_locals['mine']"],
  ];
  const snap = makeSnapshot({
    types: TYPES, objects, edges,
    roots: [
      { object: 0, label: "sys.modules['app']" }, { object: 5, label: "sys.modules['pkg']" },
      { object: 12, label: "sys.modules['builtins']" }, { object: 11, label: "builtins.__dict__", kind: ROOT_BUILTINS },
      { object: 16, label: "sys._current_frames()[7]", kind: ROOT_THREAD },
    ],
  });
  snap.threads = [{ ident: 7, name: "worker", daemon: false, frame: 16 }];
  return snap;
}

test("paths restart at the last module namespace on them, however the walk reached it", () => {
  const snap = moduleHeap();
  const g = analyze(snap);
  // Through the frame's f_globals, the function's __globals__, pkg.app and builtins.HOLD[0].__globals__: one path.
  assert.deepEqual(shortestPaths(g, 4, { k: 10 }).map((p) => [p.expr, p.rootKind, p.note]), [["sys.modules['app'].CACHE", ROOT_MODULE, null]]);
  assert.deepEqual(shortestPaths(g, 4)[0].steps.map((s) => s.label), ["sys.modules['app']", ".__dict__", "['CACHE']"]);
  // The builtins dict is the namespace of the builtins module.
  const hold = shortestPaths(g, 13, { k: 3 });
  assert.deepEqual(hold.map((p) => [p.expr, p.imports]), [["sys.modules['builtins'].HOLD", ["sys"]]]);
  // A module object met on the way is a restart too: pkg.app is sys.modules['app'].
  assert.deepEqual(shortestPaths(g, 0, { k: 3 }).map((p) => p.expr), ["sys.modules['app']"]);
});

test("module globals: identifiers become attributes; keywords, non-identifiers and __class__ stay subscripts", () => {
  const g = analyze(moduleHeap());
  const expr = (o: number) => shortestPaths(g, o)[0].expr;
  assert.equal(expr(7), "sys.modules['app'].__dict__['class']");
  assert.equal(expr(8), "sys.modules['app'].__dict__['a-b']");
  assert.equal(expr(9), "sys.modules['app'].__dict__['__class__']");
  assert.equal(expr(10), "sys.modules['app'].plain");
});

test("an unreachable object that points into the reachable heap does not take over its paths", () => {
  const snap = moduleHeap();
  const g = analyze(snap);
  // The engine searches from the unreachable dict only after the roots: CACHE is two edges from app, not one
  // from the dict.
  assert.equal(g.distance[4], 2);
  assert.deepEqual(shortestPaths(g, 4, { k: 3 }).map((p) => p.expr), ["sys.modules['app'].CACHE"]);
  const only = shortestPaths(g, 15, { k: 3 });
  assert.deepEqual(only.map((p) => [p.expr, p.rootKind]), [["next(x for x in gc.get_objects() if id(x) == 777)['ONLY']", ROOT_UNREACHABLE]]);
  assert.match(only[0].note ?? "", /^not reachable from any root the capture sees: held from C code .*gc\.get_objects\(\)$/);
});

test("a thread's path gives way to a module-rooted one at most preferModuleRoots edges longer, and says which frame it needs", () => {
  const g = analyze(moduleHeap());
  const exprs = (o: number, opts: PathOptions) => shortestPaths(g, o, { k: 3, ...opts }).map((p) => p.expr);
  const frame = "sys._current_frames()[7].f_back.f_locals['fn']";
  // The function: 2 edges from the thread, 4 from the builtins module.
  const held = "sys.modules['builtins'].HOLD[0][0]";
  assert.deepEqual(exprs(2, {}), [held, frame]);
  assert.deepEqual(exprs(2, { preferModuleRoots: 2 }), [held, frame]);
  assert.deepEqual(exprs(2, { preferModuleRoots: true }), [held, frame]);
  assert.deepEqual(exprs(2, { preferModuleRoots: 1 }), [frame, held]);
  assert.deepEqual(exprs(2, { preferModuleRoots: false }), [frame, held]);
  assert.deepEqual(shortestPaths(g, 2, { preferModuleRoots: false }).map((p) => p.expr), [frame]);
  const [, thread] = shortestPaths(g, 2, { k: 2 });
  assert.equal(thread.rootKind, ROOT_THREAD);
  assert.equal(
    thread.note,
    "holds only while this frame of thread worker runs: run /app.py:10 (1 frame below wait /threading.py:320); " +
      "sys._current_frames() gives the frame the thread is in when evaluated, so evaluate it from another thread while this one is still there",
  );
  // Held by the frame alone: the thread's path, with its note.
  const mine = shortestPaths(g, 17, { k: 3 });
  assert.deepEqual(mine.map((p) => p.expr), ["sys._current_frames()[7].f_back.f_locals['mine']"]);
  assert.match(mine[0].note ?? "", /^holds only while this frame of thread worker runs: run \/app\.py:10 /);
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
  assert.match(tracked.note ?? "", /^not reachable from any root the capture sees: held from C code \(a C extension, atexit, a signal handler\)/);
  assert.match(untracked.note ?? "", /not tracked by the garbage collector, so it cannot be looked up in the live process$/);
  assert.equal(shortestPaths(g, 0)[0].note, null);
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
setattr(Helpers, 'not-an-identifier', Node())  # hidden (opaque) in values='none': a class's __dict__ is a mappingproxy

targets = {
    'hidden class attribute': getattr(Helpers, 'not-an-identifier'),
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

for (const [mode, options] of [["prefix", "values='prefix', value_len=4"], ["none", "values='none'"]]) {
  test(`values=${mode}: hidden keys and names are opaque lookups that still evaluate to the object`, { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 120_000 }, async () => {
    const script = LIVE_SCRIPT.replace("'paths.lbsnap'))", `'paths.lbsnap'), ${options})`);
    const live = startPython(script, tempDir());
    try {
      const { path, ids } = await live.nextMessage<{ path: string; ids: Record<string, number> }>();
      const snap = await loadSnapshot(path);
      const g = analyze(snap);
      const request: [string, string, string[]][] = [];
      for (const [name, address] of Object.entries(ids)) {
        const object = findObject(snap, address);
        assert.ok(object >= 0, `${name} is in the snapshot`);
        for (const p of shortestPaths(g, object, { k: 3 })) request.push([name, p.expr, p.imports]);
      }
      const exprs = request.map((r) => r[1]);
      assert.ok(exprs.every((e) => !e.includes("user:42")), "a key longer than value_len is never written");
      assert.ok(exprs.some((e) => e.startsWith("sys.modules['app'].SHARED")), "module globals keep their names");
      live.send(request);
      const results = await live.nextMessage<(boolean | string)[]>();
      request.forEach(([name, expr], i) => assert.equal(results[i], true, `${name}: ${expr} -> ${results[i]}`));
    } finally {
      const code = await live.finish();
      if (code !== 0) process.stderr.write(live.stderr());
    }
  });
}

const MODULES_SCRIPT = `
import _thread, asyncio, atexit, builtins, importlib, json, os, sys, threading
import leakbook

class Node:
    pass

_all_tasks = set()

def register(task):
    _all_tasks.add(task)

builtins.HOLD = [register]  # a function, and so __main__'s namespace, from builtins
atexit.register(lambda: _all_tasks.clear())  # and from a function only C code holds
callback = lambda held=[Node()]: None
atexit.register(callback)
globals()['class'] = Node()
globals()['not an identifier'] = Node()
HOLDER = {'a': {'b': Node()}}
ids = {
    'module set': id(_all_tasks),
    'keyword global': id(globals()['class']),
    'non-identifier global': id(globals()['not an identifier']),
    'held by atexit only': id(callback.__defaults__[0]),
}
del callback

ready = threading.Event()
stop = threading.Event()

def worker():
    mine = Node()
    deep = HOLDER['a']['b']
    ids['frame local'] = id(mine)
    ids['frame local also in a module'] = id(deep)
    ready.set()
    stop.wait()

threading.Thread(target=worker, name='worker-thread', daemon=True).start()
ready.wait()

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
    stop.set()
    done.release()

done = _thread.allocate_lock()

async def main():
    task = asyncio.ensure_future(asyncio.sleep(100))
    await asyncio.sleep(0)
    tasks = importlib.import_module('asyncio.tasks')
    if hasattr(tasks, '_all_tasks'):
        ids['asyncio.tasks._all_tasks'] = id(tasks._all_tasks)
    path = leakbook.snapshot(os.path.join(sys.argv[1], 'modules.lbsnap'))
    print(json.dumps({'path': path, 'ids': ids, 'atexit_untraversed': sys.version_info >= (3, 10)}), flush=True)
    # Evaluate in another thread while this one (and the worker) wait in C code in the frames they were
    # captured in, so that paths from their frames still hold.
    done.acquire()
    _thread.start_new_thread(evaluate, ())
    done.acquire()
    task.cancel()

asyncio.run(main())
`;

test("real capture: module globals however reached, C-held objects, thread frames; every path evaluates", { skip: !agentAvailable() && "python/leakbook.py not present", timeout: 120_000 }, async () => {
  const live = startPython(MODULES_SCRIPT, tempDir());
  try {
    const { path, ids, atexit_untraversed } = await live.nextMessage<{ path: string; ids: Record<string, number>; atexit_untraversed: boolean }>();
    const snap = await loadSnapshot(path);
    const g = analyze(snap);
    const found: Record<string, RetentionPath[]> = {};
    const request: [string, string, string[]][] = [];
    for (const [name, address] of Object.entries(ids)) {
      const object = findObject(snap, address);
      assert.ok(object >= 0, `${name} is in the snapshot`);
      found[name] = shortestPaths(g, object, { k: 5 });
      for (const p of found[name]) request.push([name, p.expr, p.imports]);
    }
    const exprs = (name: string) => found[name].map((p) => p.expr);

    // Reached through builtins.HOLD[0].__globals__, the worker's frames' f_globals, the atexit lambda's
    // __globals__: all of them are sys.modules['__main__']'s namespace.
    assert.deepEqual(exprs("module set"), ["sys.modules['__main__']._all_tasks"]);
    assert.equal(exprs("keyword global")[0], "sys.modules['__main__'].__dict__['class']");
    assert.equal(exprs("non-identifier global")[0], "sys.modules['__main__'].__dict__['not an identifier']");
    for (const name of ["module set", "keyword global", "non-identifier global"]) assert.equal(found[name][0].note, null);

    if ("asyncio.tasks._all_tasks" in ids) {
      // The copy of _asyncio's module dict that CPython keeps for re-imports reaches it in one edge; it is no root.
      const tasks = found["asyncio.tasks._all_tasks"];
      assert.match(tasks[0].expr, /^sys\.modules\['(_asyncio|asyncio\.tasks|asyncio)'\]\._all_tasks$/);
      assert.ok(tasks.every((p) => p.rootKind !== ROOT_UNREACHABLE && p.note === null), exprs("asyncio.tasks._all_tasks").join("\n"));
    }

    const atexitHeld = found["held by atexit only"][0];
    if (atexit_untraversed) {
      assert.equal(atexitHeld.rootKind, ROOT_UNREACHABLE);
      assert.match(atexitHeld.expr, /^next\(x for x in gc\.get_objects\(\) if id\(x\) == \d+\)\.__defaults__\[0\]$/);
      assert.match(atexitHeld.note ?? "", /^not reachable from any root the capture sees: held from C code/);
    }

    // Held by the worker's frame alone: its frame path, with the frame named.
    const local = found["frame local"];
    assert.equal(local[0].rootKind, ROOT_THREAD);
    assert.match(local[0].expr, /^sys\._current_frames\(\)\[\d+\](\.f_back)+\.f_locals\['mine'\]$/);
    assert.match(local[0].note ?? "", /^holds only while this frame of thread worker-thread runs: worker \S*script\.py:\d+ \(\d frames? below /);
    // Held by the frame and 4 edges down from __main__: the module path first, the frame's after it.
    assert.deepEqual(exprs("frame local also in a module").slice(0, 2).map((e) => e.replace(/\[\d+\](\.f_back)+/, "[T]")), [
      "sys.modules['__main__'].HOLDER['a']['b']",
      "sys._current_frames()[T].f_locals['deep']",
    ]);
    assert.equal(found["frame local also in a module"][1].rootKind, ROOT_THREAD);
    assert.ok(Object.values(found).flat().every((p) => !/\.f_globals|\.__globals__/.test(p.expr)), "no path through a namespace another way");

    live.send(request);
    const results = await live.nextMessage<(boolean | string)[]>();
    request.forEach(([name, expr], i) => assert.equal(results[i], true, `${name}: ${expr} -> ${results[i]}`));
  } finally {
    const code = await live.finish();
    if (code !== 0) process.stderr.write(live.stderr());
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
