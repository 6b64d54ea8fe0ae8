"""Benchmark of the capture agent (python/leakbook.py): speed, file size, extra peak memory,
and census time, on synthetic heaps of about 100k, 1M and 3M objects (and, for the census,
heaps of that many GC-tracked lists).

    python3 bench/capture_bench.py [--sizes 100000,1000000,3000000] [--traced 100000] [--json]
                                   [--agent DIR]

Each size runs in a fresh interpreter. `--traced N` (default 100000, 0 to skip) adds a capture of
an N-object heap built while tracemalloc traces (8 frames), so that every object has an
allocation site. `--agent DIR` measures the leakbook.py found in DIR instead of python/ (to
compare two versions). The heap imitates an application: instances of a
class holding a str, an int, a list and a small dict; str-keyed dicts mapping ids to records;
lists of tuples. Peak memory: the process's peak RSS is reset (`echo 5 > /proc/self/clear_refs`)
after the heap is built and the collector has run, so VmHWM after the capture minus VmRSS
before it is the capture's extra peak.
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
import gc, json, os, sys, time
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

HEAP = build(TARGET)
gc.collect()
out = os.path.join(OUT_DIR, "bench-%d.lbsnap" % TARGET)
rss_before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
started = time.perf_counter()
leakbook.snapshot(out)
elapsed = time.perf_counter() - started
peak = status("VmHWM")
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
    "total_s": elapsed, "file_bytes": size, "extra_peak": peak - rss_before,
    "rss_before": rss_before, "tracked": tracked, "census_s": census_s,
}))
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
    if "--sizes" in argv:
        sizes = [int(s) for s in argv[argv.index("--sizes") + 1].split(",")]
    if "--traced" in argv:
        traced = int(argv[argv.index("--traced") + 1])
    if "--agent" in argv:
        agent_dir = os.path.abspath(argv[argv.index("--agent") + 1])
    out_dir = tempfile.mkdtemp(prefix="leakbook-bench-")  # the agent never replaces a file: start empty
    try:
        rows = [run_one(size, out_dir, agent_dir) for size in sizes]
        census = [run_census(size, out_dir, agent_dir) for size in sizes]
        traced_row = run_one(traced, out_dir, agent_dir, trace=True) if traced else None
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if as_json:
        print(json.dumps({"full": rows, "census": census, "traced": traced_row}, indent=1))
        return
    print("Python %s, %d CPUs" % (sys.version.split()[0], os.cpu_count()))
    print("| objects | references | capture s (walk s) | objects/s | file MB | file bytes/object "
          "after 10/ref | extra peak MB | extra peak bytes/object | census s (tracked objects) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        n, e = r["objects"], r["edges"]
        print("| %d | %d | %.2f (%.2f) | %d | %.1f | %.1f | %.1f | %.0f | %.3f (%d) |" % (
            n, e, r["total_s"], r["walk_s"], n / r["total_s"], r["file_bytes"] / 1e6,
            (r["file_bytes"] - 10 * e) / n, r["extra_peak"] / 1e6, r["extra_peak"] / n,
            r["census_s"], r["tracked"]))
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
