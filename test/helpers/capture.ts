// A Python program with planted leak shapes, captured as a series of snapshots by the agent: the shared fixture of
// the query-helper tests. The program reports what it planted (ids, lengths, line numbers) so tests assert exact answers.
import { join } from "node:path";
import { loadSeries, type Series } from "../../src/engine/series.js";
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

/**
 * The planted program. With `traced`, tracemalloc runs from the start (the agent then records allocation sites, and
 * captures are much slower, so the traced variant takes one snapshot).
 */
export function plantedProgram(opts: { traced: boolean; steps: number }): string {
  return String.raw`
import collections, functools, gc, json, os, sys, threading, tracemalloc, weakref
${opts.traced ? "tracemalloc.start(4)" : ""}
import leakbook

OUT = sys.argv[1]

class Planted:
    def __init__(self, i):
        self.i = i

PLANTED = [Planted(i) for i in range(1234)]

# CPython 3.11's tracemalloc finds no traceback for instances with a managed __dict__: plant a slotted one.
class Allocated:
    __slots__ = ("tag",)

ALLOC_LINE = sys._getframe().f_lineno + 1
ALLOCATED = Allocated()

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

class Leaky:
    pass

LEAKY = []

# The first capture imports what the agent needs: take it before the series so the series shows only planted growth.
os.remove(leakbook.snapshot(os.path.join(OUT, "warm-up.lbsnap")))

BUFFER = ""
files = []
for step in range(${opts.steps}):
    LEAKY.extend(Leaky() for _ in range(250))
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
}

async function capture(traced: boolean, steps: number): Promise<{ planted: Planted; series: Series }> {
  const dir = tempDir("leakbook-queries-");
  const planted = runPythonJson<Planted>(plantedProgram({ traced, steps }), dir);
  const series = await loadSeries(planted.files.map((f) => (f.startsWith("/") ? f : join(dir, f))));
  return { planted, series };
}

let shared: Promise<{ planted: Planted; series: Series }> | null = null;
let sharedTraced: Promise<{ planted: Planted; series: Series }> | null = null;

/** The planted program's series of STEPS snapshots, captured once per test process and shared. */
export function plantedSeries(): Promise<{ planted: Planted; series: Series }> {
  shared ??= capture(false, STEPS);
  return shared;
}

/** One snapshot of the planted program captured with tracemalloc on, once per test process. */
export function tracedSnapshot(): Promise<{ planted: Planted; series: Series }> {
  sharedTraced ??= capture(true, 1);
  return sharedTraced;
}
