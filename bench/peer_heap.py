"""The heap of the peer benchmark (bench/peers.ts): a service of sessions that leaks through a registry of
bound methods and a module-level queue. Each session holds a dict of headers, a list of buffered messages
(tuples of an int and a str) and a small bytes token; every session registers its `on_message` bound method in
REGISTRY and leaves its last message in QUEUE, so nothing a session holds is ever freed.

    python3 bench/peer_heap.py --objects N --tool TOOL [--moments M] [--out DIR]

The heap grows over M moments (default 3): the first holds about 90% of N objects, each later moment adds
leaked sessions up to N at the last. At each moment the tool measures, and the process prints one JSON line
per moment ({"moment", "objects", "seconds", ...}) and a last line {"done": true}. Tools:

- leakbook: a full snapshot (python/leakbook.py on PYTHONPATH) written to DIR at each moment;
- walker: a bare pure-Python walk of every object (type, size, references by gc.get_referents), no file;
- objgraph-growth: objgraph.show_growth() at each moment (its first call sets the baseline);
- objgraph-paths: at the last moment, objgraph.find_backref_chain() from the oldest session to a module;
- pympler-growth: pympler's SummaryTracker at each moment;
- guppy-heap, guppy-summary, guppy-paths: at the last moment, guppy3's heap() alone, heap() with its dominated
  size (domisize), or the shortest paths (.sp) from the roots to the oldest session.

`--check TOOL` exits 0 when the tool's package can be imported here, 1 otherwise.
"""

import argparse
import collections
import gc
import importlib
import io
import json
import os
import sys
import time

REGISTRY = []
QUEUE = collections.deque()
# Objects one session adds to the heap: the instance and its __dict__, the bound method, the headers dict and
# its two strs, the buffer list, three (int, str) tuples and their strs and ints, the token and the queued message.
OBJECTS_PER_SESSION = 20


class Session:
    def __init__(self, number):
        self.number = number
        self.name = "session-%d" % number
        self.headers = {"user": "user-%d" % (number % 997), "agent": "client/%d" % (number % 13)}
        self.buffer = [(number * 3 + k, "message %d.%d" % (number, k)) for k in range(3)]
        self.token = b"t%07d" % number
        REGISTRY.append(self.on_message)
        QUEUE.append((number, self.buffer[-1][1]))

    def on_message(self, message):
        self.buffer.append(message)


def open_sessions(count, start):
    for k in range(start, start + count):
        Session(k)
    return start + count


def leakbook_tool(out, moment):
    import leakbook
    started = time.perf_counter()
    path = leakbook.snapshot(os.path.join(out, "peer-%d.lbsnap" % moment))
    return {"seconds": time.perf_counter() - started, "file": path}


def walk_tool():
    """Every object the collector knows and everything they refer to, each once: type, size, referents."""
    started = time.perf_counter()
    seen = {}
    stack = gc.get_objects()
    stack.extend(sys.modules.values())
    referents = gc.get_referents
    sizeof = sys.getsizeof
    edges = 0
    while stack:
        o = stack.pop()
        key = id(o)
        if key in seen:
            continue
        targets = referents(o)
        seen[key] = (type(o), sizeof(o), [id(t) for t in targets])
        edges += len(targets)
        stack.extend(targets)
    return {"seconds": time.perf_counter() - started, "walked": len(seen), "edges": edges}


def quietly(call):
    """Runs a tool that prints its report, keeping the report out of this process's JSON lines."""
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        return call()
    finally:
        sys.stdout = saved


def timed(call):
    started = time.perf_counter()
    quietly(call)
    return {"seconds": time.perf_counter() - started}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--moments", type=int, default=3)
    parser.add_argument("--tool", default="leakbook")
    parser.add_argument("--out", default=".")
    parser.add_argument("--check")
    args = parser.parse_args()
    if args.check:
        package = {"objgraph": "objgraph", "pympler": "pympler.tracker", "guppy": "guppy"}[args.check]
        try:
            importlib.import_module(package)
        except ImportError:
            sys.exit(1)
        sys.exit(0)

    sessions = args.objects // OBJECTS_PER_SESSION
    first = sessions * 9 // 10
    step = (sessions - first) // max(1, args.moments - 1)
    tool = args.tool
    tracker = None
    if tool == "objgraph-growth" or tool == "objgraph-paths":
        import objgraph
    if tool == "pympler-growth":
        from pympler.tracker import SummaryTracker
    if tool.startswith("guppy"):
        from guppy import hpy
    opened = 0
    for moment in range(args.moments):
        opened = open_sessions(first if moment == 0 else step, opened)
        gc.collect()
        last = moment == args.moments - 1
        line = {"moment": moment, "objects": len(gc.get_objects())}
        if tool == "leakbook":
            line.update(leakbook_tool(args.out, moment))
        elif tool == "walker":
            line.update(walk_tool())
        elif tool == "objgraph-growth":
            line.update(timed(lambda: objgraph.show_growth(limit=10)))
        elif tool == "pympler-growth":
            if tracker is None:
                started = time.perf_counter()
                tracker = SummaryTracker()
                line["seconds"] = time.perf_counter() - started
            else:
                line.update(timed(tracker.print_diff))
        elif last and tool == "objgraph-paths":
            oldest = REGISTRY[0].__self__
            line.update(timed(lambda: objgraph.find_backref_chain(oldest, objgraph.is_proper_module)))
        elif last and tool == "guppy-heap":
            line.update(timed(lambda: hpy().heap()))
        elif last and tool == "guppy-summary":
            def summary():
                heap = hpy().heap()
                print(heap.bytype, heap.domisize)
            line.update(timed(summary))
        elif last and tool == "guppy-paths":
            oldest = REGISTRY[0].__self__
            line.update(timed(lambda: print(hpy().iso(oldest).sp)))
        print(json.dumps(line), flush=True)
    print(json.dumps({"done": True, "sessions": opened}), flush=True)


if __name__ == "__main__":
    main()
