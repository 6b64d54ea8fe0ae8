"""What the agent itself adds to the heap it measures: no fake growth between snapshots and
none of its own bookkeeping or frames in a snapshot."""

import collections
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import unittest

import leakbook

from tests.snaptools import Loaded

AGENT_SOURCE = os.path.abspath(leakbook.__file__)

THREE_SNAPSHOTS = r"""
import gc
import sys
import leakbook
out = sys.argv[1]
gc.collect()  # garbage left by start-up would be freed after the first snapshot
leakbook.snapshot(out + "/0.lbsnap")
leakbook.snapshot(out + "/1.lbsnap")
leakbook.snapshot(out + "/2.lbsnap")
"""

# Objects allocated while tracemalloc traces, each on a line of its own.
TRACED = r"""
import sys
import leakbook
class Item(object):
    pass
ITEM = Item()
GROUP = set(range(3))
TEXT = "-".join(["lbtest traced text"] * 3)
NUMBER = int("1234567890123")
leakbook.snapshot(sys.argv[1] + "/traced.lbsnap")
"""

# Holds a local worth finding, then captures from inside a function.
CAPTURE_IN_FUNCTION = r"""
import sys
import leakbook

def handler(out):
    request = ["lbtest request local"]
    return leakbook.snapshot(out)

handler(sys.argv[1] + "/a.lbsnap")
handler(sys.argv[1] + "/b.lbsnap")
"""


# A heap of about 800k objects captured three times with nothing in between.
RSS_SERIES = r"""
import sys
import leakbook
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(200000)]

def rss():
    with open("/proc/self/status") as f:
        return [int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")][0]

seen = []
for i in range(3):
    seen.append(rss())
    leakbook.snapshot(sys.argv[1] + "/rss-%d.lbsnap" % i)
print(seen)
"""


def _glibc_linux():
    import platform
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


class AgentFootprintTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_script(self, source, agent_dir, *python_options):
        script = os.path.join(self.dir, "app.py")
        with open(script, "w") as f:
            f.write(source)
        env = dict(os.environ, PYTHONPATH=agent_dir)
        result = subprocess.run([sys.executable] + list(python_options) + [script, self.dir],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result.stdout.decode()

    def assert_no_growth(self, *python_options):
        self.run_script(THREE_SNAPSHOTS, os.path.dirname(AGENT_SOURCE), *python_options)
        counts = [Loaded(os.path.join(self.dir, "%d.lbsnap" % i)).type_counts() for i in range(3)]
        for before, after in ((counts[0], counts[1]), (counts[1], counts[2])):
            changed = (after - before) + (before - after)
            # Nothing runs between the captures; each one leaves only what it must: the
            # sequence number and the recorded options (small ints and interned strs).
            self.assertLessEqual(sum(changed.values()), 12, changed.most_common(8))

    def test_no_growth_between_the_first_snapshots(self):
        self.assert_no_growth()

    def test_no_growth_while_tracemalloc_traces(self):
        self.assert_no_growth("-X", "tracemalloc=8")

    @unittest.skipUnless(_glibc_linux(), "RSS from /proc and malloc_trim: Linux with glibc")
    def test_captures_do_not_show_up_in_the_rss_of_later_snapshots(self):
        seen = json.loads(self.run_script(RSS_SERIES, os.path.dirname(AGENT_SOURCE)))
        recorded = [leakbook.read_snapshot(os.path.join(self.dir, "rss-%d.lbsnap" % i))["header"]["memory"]["rss"]
                    for i in range(3)]
        mib = 1024 * 1024
        # Each walk takes about 200 bytes per object (~150 MB here) at its peak. The snapshot records the RSS the
        # application had when it asked for the capture, not the walk's...
        for before, rss in zip(seen, recorded):
            self.assertLess(abs(rss - before), 4 * mib, (seen, recorded))
        # ...and what the walk freed is not kept by the process: later captures find RSS near where the first one
        # did (pymalloc's free lists and glibc keep some MB, more on some runs), not a walk's worth higher.
        self.assertLess(max(seen) - seen[0], 48 * mib, seen)

    def test_sourceless_agent_leaves_no_frames_or_bookkeeping(self):
        # Deployed as a .pyc compiled elsewhere: the code's file name is not the module's.
        agent_dir = os.path.join(self.dir, "deployed")
        os.mkdir(agent_dir)
        py_compile.compile(AGENT_SOURCE, cfile=os.path.join(agent_dir, "leakbook.pyc"),
                           dfile="/build/elsewhere/leakbook.py", doraise=True)
        self.run_script(CAPTURE_IN_FUNCTION, agent_dir)
        first = Loaded(os.path.join(self.dir, "a.lbsnap"))
        second = Loaded(os.path.join(self.dir, "b.lbsnap"))
        for snap in (first, second):
            self.assert_no_agent_objects(snap, ("/build/elsewhere/leakbook.py",))
            # The application's own frame and its locals are still there.
            frames = self.frame_names(snap)
            self.assertTrue(any(name.startswith("handler ") for name in frames), frames)
            values = [snap.value(i) for i in range(len(snap.columns["obj_type"]))
                      if snap.type_name(i) == "builtins.str"]
            self.assertIn("lbtest request local", values)
        self.assert_same_container_bytes(first, second)

    def test_in_process_capture_leaves_no_frames_or_bookkeeping(self):
        def handler():
            request = ["lbtest request local"]
            return Loaded(leakbook.snapshot(os.path.join(self.dir, "s.lbsnap"))), request

        snap, request = handler()
        self.assert_no_agent_objects(snap, (AGENT_SOURCE,))
        self.assertIsNotNone(snap.index_of(request))

    def test_allocation_sites_of_containers_instances_and_strings(self):
        self.run_script(TRACED, os.path.dirname(AGENT_SOURCE), "-X", "tracemalloc=8")
        script = os.path.join(self.dir, "app.py")
        snap = Loaded(os.path.join(self.dir, "traced.lbsnap"))
        sites = snap.header["alloc_sites"]
        lines = TRACED.splitlines()

        def site_line(name):
            """Line of the innermost allocation frame of the script's global `name`."""
            i = snap.global_index("__main__", name)
            if snap.columns["obj_alloc"][i] == leakbook.NONE:
                return None
            innermost = sites[snap.columns["obj_alloc"][i]][0]
            return innermost["line"] if innermost["file"] == script else innermost

        def line_of(name):
            return [n for n, line in enumerate(lines, 1) if line.startswith(name + " = ")][0]

        self.assertEqual(site_line("GROUP"), line_of("GROUP"))
        self.assertEqual(site_line("TEXT"), line_of("TEXT"))
        if sys.version_info[:2] != (3, 11):
            # 3.11's tracemalloc finds no trace for objects with a managed-dict pre-header.
            self.assertEqual(site_line("ITEM"), line_of("ITEM"))
        # Small atoms are not looked up: a lookup costs several traced allocations per object.
        self.assertIsNone(site_line("NUMBER"))

    def frame_names(self, snap):
        return [snap.value(i) or "" for i in range(len(snap.columns["obj_type"]))
                if snap.type_name(i) == "builtins.frame"]

    def assert_no_agent_objects(self, snap, agent_files):
        types = snap.type_counts()
        self.assertEqual([t for t in types if t.startswith("leakbook.")], [])
        # The walk's columns are arrays; the application has none.
        self.assertEqual(types["array.array"], 0)
        for name in self.frame_names(snap):
            self.assertFalse(any(" " + path + ":" in name for path in agent_files), name)

    def assert_same_container_bytes(self, first, second):
        """The two captures ran in the same state: dict/list/array bytes must agree closely
        (the walk's own bookkeeping would add megabytes)."""
        def container_bytes(snap):
            totals = collections.Counter()
            for i, t in enumerate(snap.columns["obj_type"]):
                name = snap.types[t]
                if name in ("builtins.dict", "builtins.list", "array.array"):
                    totals[name] += snap.columns["obj_size"][i]
            return totals

        before, after = container_bytes(first), container_bytes(second)
        for name in ("builtins.dict", "builtins.list"):
            self.assertLess(abs(after[name] - before[name]), 4096, (name, before, after))


if __name__ == "__main__":
    unittest.main()
