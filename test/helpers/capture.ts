// A Python program with planted leak shapes, captured as a series of snapshots by the agent: the shared fixture of
// the query-helper tests. The program reports what it planted (ids, lengths, line numbers) so tests assert exact answers.
import { join } from "node:path";
import { loadSeries, type Series } from "../../src/series.js";
import { runPythonJson, tempDir } from "./python.js";

/** Snapshots taken by the planted program. */
export const STEPS = 4;

/** What the program planted, as it reports it. */
export interface Planted {
  files: string[];
  /** id() of planted objects, by name. */
  ids: Record<string, number>;
  /** Line of the statement that allocated the ALLOCATED object. */
  alloc_line: number;
  script: string;
  pid: number;
}

export const PLANTED_PROGRAM = String.raw`
import collections, functools, gc, json, os, sys, threading, tracemalloc, weakref
tracemalloc.start(4)
import leakbook

OUT = sys.argv[1]

class Planted:
    def __init__(self, i):
        self.i = i

PLANTED = [Planted(i) for i in range(1234)]

ALLOC_LINE = sys._getframe().f_lineno + 1
ALLOCATED = Planted(-1)

CACHE = {}

def grow_cache(step):
    for k in range(100):
        CACHE["key:%d:%d" % (step, k)] = [step, k]

@functools.lru_cache(maxsize=None)
def square(n):
    return n * n

for n in range(57):
    square(n)

@functools.lru_cache(maxsize=16)
def cube(n):
    return n * n * n

for n in range(5):
    cube(n)

class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)

TREE = Node()
for i in range(10):
    child = Node(TREE)
    for j in range(10):
        Node(child)
del child

def fail():
    traceback_payload = bytearray(300000)
    raise ValueError("planted")

try:
    fail()
except ValueError as error:
    SAVED_ERROR = error

def make_counter():
    cell_payload = [0] * 5000
    def counter():
        return len(cell_payload)
    return counter

COUNTER = make_counter()

class Listener:
    def __init__(self):
        self.payload = bytearray(200000)
    def on_event(self):
        return None

CALLBACKS = [Listener().on_event]

def append_to(item, bucket=[]):
    bucket.append(item)
    return bucket

for i in range(77):
    append_to(i)

class Registry:
    items = []

for i in range(33):
    Registry.items.append(Planted(1000 + i))

WEAK = weakref.WeakValueDictionary()
for i in range(10):
    WEAK[i] = PLANTED[i]

HOSTILE = {"<img src=x onerror=alert(1)>": "<script>alert('x')</script>"}
DUPLICATES = ["".join(["dup-", "z" * 100]) for _ in range(50)]

gc.set_debug(gc.DEBUG_SAVEALL)
class Garbage:
    pass
junk = Garbage()
junk.me = junk
del junk
gc.collect()
gc.set_debug(0)

ready = threading.Event()
stop = threading.Event()
def worker():
    thread_payload = bytearray(123456)
    ready.set()
    stop.wait()
    return thread_payload
WORKER = threading.Thread(target=worker, name="planted-worker", daemon=True)
WORKER.start()
ready.wait()

BUFFER = ""
files = []
for step in range(${STEPS}):
    grow_cache(step)
    BUFFER = BUFFER + "x" * 1000
    files.append(leakbook.snapshot(os.path.join(OUT, "snap-%d.lbsnap" % step)))
stop.set()
WORKER.join()

ids = {name: id(obj) for name, obj in [
    ("CACHE", CACHE), ("TREE", TREE), ("SAVED_ERROR", SAVED_ERROR), ("COUNTER", COUNTER), ("CALLBACKS", CALLBACKS),
    ("ALLOCATED", ALLOCATED), ("PLANTED0", PLANTED[0]), ("WEAK", WEAK), ("square", square), ("cube", cube),
    ("append_to", append_to), ("REGISTRY_ITEMS", Registry.items), ("BUFFER", BUFFER), ("HOSTILE", HOSTILE),
]}
print(json.dumps({"files": files, "ids": ids, "alloc_line": ALLOC_LINE, "script": os.path.abspath(__file__), "pid": os.getpid()}))
`;

let shared: Promise<{ planted: Planted; series: Series }> | null = null;

/** Runs the planted program once per test process and loads its series (later calls share the result). */
export function plantedSeries(): Promise<{ planted: Planted; series: Series }> {
  shared ??= (async () => {
    const dir = tempDir("leakbook-queries-");
    const planted = runPythonJson<Planted>(PLANTED_PROGRAM, dir);
    const series = await loadSeries(planted.files.map((f) => (f.startsWith("/") ? f : join(dir, f))));
    return { planted, series };
  })();
  return shared;
}
