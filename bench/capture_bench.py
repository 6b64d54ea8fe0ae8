"""Benchmark of the capture agent (python/leakbook.py): speed, file size, extra peak memory,
the longest stall of another thread, and census time, on synthetic heaps of about 100k, 1M and
3M objects (and, for the census, heaps of that many GC-tracked lists), against a peer walking the
same heap.

    python3 bench/capture_bench.py [--sizes 100000,1000000,3000000] [--traced 100000] [--json]
                                   [--agent DIR] [--no-peer]

Each size runs in a fresh interpreter. `--traced N` (default 100000, 0 to skip) adds a capture of
an N-object heap built while tracemalloc traces (8 frames), so that every object has an
allocation site. `--agent DIR` measures the leakbook.py found in DIR instead of python/ (to
compare two versions). The heap imitates an application: instances of a
class holding a str, an int, a list and a small dict; str-keyed dicts mapping ids to records;
lists of tuples. Peak memory: the process's peak RSS is reset (`echo 5 > /proc/self/clear_refs`)
after the heap is built and the collector has run, so VmHWM after the capture minus VmRSS
before it is the capture's extra peak. Stall: while the capture runs, another thread sleeps 1 ms
at a time; its longest wait beyond the 1 ms is the longest the capture kept it from running (the
interpreter's switch interval is 5 ms; a long C call holds the GIL throughout).

Peer (unless --no-peer): in another fresh interpreter, the same heap walked by guppy3's C walker
(`guppy.hpy().heap()`) when guppy3 can be imported, else by a bare pure-Python walker (every
object the collector lists and everything they refer to, each once: type, sys.getsizeof and the
ids of its gc.get_referents; no labels, no file). "peer / capture" above 1 means the capture is
the faster.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
AGENT_DIR = os.path.join(os.path.dirname(HERE), "python")

CHILD = r"""
import gc, json, os, sys, threading, time
sys.path.insert(0, AGENT_DIR)
if TRACE:
    import tracemalloc
    tracemalloc.start(8)
import leakbook

class Record:
    def __init__(self, i):
        self.name = "record-%d" % i
        self.serial = i * 7919 + 100000
        self.tags = ["tag", self.name]
        self.extra = {"k": i}

def build(target):
    # Each unit below adds about 10 objects to the heap.
    records = {}
    pairs = []
    n = 0
    i = 0
    while n < target:
        r = Record(i)
        records["id-%d" % i] = r
        pairs.append((i + 1000, r.name))
        i += 1
        n += 10
    return records, pairs

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

def probe(stop, worst):
    while not stop.is_set():
        started = time.perf_counter()
        time.sleep(0.001)
        late = time.perf_counter() - started - 0.001
        if late > worst[0]:
            worst[0] = late

HEAP = build(TARGET)
gc.collect()
out = os.path.join(OUT_DIR, "bench-%d.lbsnap" % TARGET)
stop = threading.Event()
worst = [0.0]
prober = threading.Thread(target=probe, args=(stop, worst), daemon=True)
prober.start()
time.sleep(0.05)
worst[0] = 0.0
rss_before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
started = time.perf_counter()
cpu = time.process_time()
leakbook.snapshot(out)
elapsed = time.perf_counter() - started
cpu = time.process_time() - cpu
peak = status("VmHWM")
stall = worst[0]
stop.set()
prober.join()
header = leakbook.read_snapshot(out)["header"]
size = os.path.getsize(out)
tracked = len(gc.get_objects())
started = time.perf_counter()
census = leakbook.snapshot(os.path.join(OUT_DIR, "census-%d.lbsnap" % TARGET), census=True)
census_s = time.perf_counter() - started
os.unlink(out)
os.unlink(census)
print(json.dumps({
    "target": TARGET, "objects": header["counts"]["objects"], "edges": header["counts"]["edges"],
    "strings": header["counts"]["strings"], "walk_s": header["meta"]["duration_s"],
    "total_s": elapsed, "cpu_s": cpu, "file_bytes": size, "extra_peak": peak - rss_before,
    "rss_before": rss_before, "tracked": tracked, "census_s": census_s, "stall_s": stall,
}))
"""

PEER_CHILD = r"""
import gc, json, sys, time
HEAP = build(TARGET)
gc.collect()

def walk():
    # Every object the collector lists (and the modules), then everything they refer to, each once.
    seen = {}
    pending = gc.get_objects()
    pending.extend(sys.modules.values())
    referents = gc.get_referents
    sizeof = sys.getsizeof
    edges = 0
    while pending:
        o = pending.pop()
        key = id(o)
        if key in seen:
            continue
        targets = referents(o)
        seen[key] = (type(o), sizeof(o), [id(t) for t in targets])
        edges += len(targets)
        pending.extend(targets)
    return len(seen), edges

try:
    from guppy import hpy
except ImportError:
    hpy = None
started = time.perf_counter()
if hpy is not None:
    heap = hpy().heap()
    count, edges, peer = heap.count, None, "guppy3 heap()"
else:
    count, edges = walk()
    peer = "bare Python walker"
print(json.dumps({"peer": peer, "peer_s": time.perf_counter() - started, "peer_objects": count,
                  "peer_edges": edges}))
"""


CENSUS_CHILD = r"""
import gc, json, os, sys, time
sys.path.insert(0, AGENT_DIR)
import leakbook
HEAP = [[i] for i in range(TARGET)]  # GC-tracked objects
tracked = len(gc.get_objects())
started = time.perf_counter()
path = leakbook.snapshot(os.path.join(OUT_DIR, "census-only-%d.lbsnap" % TARGET), census=True)
print(json.dumps({"tracked": tracked, "census_s": time.perf_counter() - started}))
os.unlink(path)
"""


def heap_builder():
    """The heap builder of CHILD (class Record and build()), for the peer's interpreter."""
    start = CHILD.index("class Record:")
    return CHILD[start:CHILD.index("def status(key):")]


def run_peer(target):
    code = heap_builder() + PEER_CHILD.replace("TARGET", str(target))
    result = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE)
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def run_census(target, out_dir, agent_dir):
    code = (CENSUS_CHILD.replace("AGENT_DIR", repr(agent_dir)).replace("TARGET", str(target))
            .replace("OUT_DIR", repr(out_dir)))
    result = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE)
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def run_one(target, out_dir, agent_dir, trace=False):
    code = (CHILD.replace("AGENT_DIR", repr(agent_dir)).replace("TARGET", str(target))
            .replace("OUT_DIR", repr(out_dir)).replace("TRACE", repr(trace)))
    result = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE)
    return json.loads(result.stdout.decode().strip().splitlines()[-1])


def main(argv):
    sizes = [100000, 1000000, 3000000]
    traced = 100000
    agent_dir = AGENT_DIR
    as_json = "--json" in argv
    peer = "--no-peer" not in argv
    if "--sizes" in argv:
        sizes = [int(s) for s in argv[argv.index("--sizes") + 1].split(",")]
    if "--traced" in argv:
        traced = int(argv[argv.index("--traced") + 1])
    if "--agent" in argv:
        agent_dir = os.path.abspath(argv[argv.index("--agent") + 1])
    out_dir = tempfile.mkdtemp(prefix="leakbook-bench-")  # the agent never replaces a file: start empty
    try:
        rows = []
        for size in sizes:
            # Peer first and capture second, or the other way round, alternately: a slow minute of
            # a shared machine then falls on both sides alike.
            first = run_peer(size) if peer and len(rows) % 2 else None
            row = run_one(size, out_dir, agent_dir)
            row.update(first or (run_peer(size) if peer else {}))
            rows.append(row)
        census = [run_census(size, out_dir, agent_dir) for size in sizes]
        traced_row = run_one(traced, out_dir, agent_dir, trace=True) if traced else None
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if as_json:
        print(json.dumps({"full": rows, "census": census, "traced": traced_row}, indent=1))
        return
    print("Python %s, %d CPUs" % (sys.version.split()[0], os.cpu_count()))
    print("| objects | references | capture s (walk s) | capture CPU s | objects/s | file MB | file bytes/object "
          "after 10/ref | extra peak MB | extra peak bytes/object | longest stall ms | census s (tracked objects) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n, e = r["objects"], r["edges"]
        print("| %d | %d | %.2f (%.2f) | %.2f | %d | %.1f | %.1f | %.1f | %.0f | %.0f | %.3f (%d) |" % (
            n, e, r["total_s"], r["walk_s"], r["cpu_s"], n / r["total_s"], r["file_bytes"] / 1e6,
            (r["file_bytes"] - 10 * e) / n, r["extra_peak"] / 1e6, r["extra_peak"] / n,
            r["stall_s"] * 1e3, r["census_s"], r["tracked"]))
    if peer:
        print()
        print("| objects | peer | peer objects | peer s | capture s | peer / capture |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print("| %d | %s | %d | %.2f | %.2f | %.2f |" % (
                r["objects"], r["peer"], r["peer_objects"], r["peer_s"], r["total_s"],
                r["peer_s"] / r["total_s"]))
    print()
    print("| GC-tracked objects | census s |")
    print("|---|---|")
    for c in census:
        print("| %d | %.3f |" % (c["tracked"], c["census_s"]))
    if traced_row:
        r = traced_row
        print()
        print("| objects, tracemalloc tracing (8 frames) | capture s (walk s) | objects/s |")
        print("|---|---|---|")
        print("| %d | %.2f (%.2f) | %d |" % (r["objects"], r["total_s"], r["walk_s"],
                                           r["objects"] / r["total_s"]))


if __name__ == "__main__":
    main(sys.argv[1:])
