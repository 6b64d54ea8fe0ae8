# Where snapshots go (directories, extensions, checks before the walk), RSS-triggered snapshots,
# and the command line's messages (--help, --tracemalloc's cost, run's advice at exit).
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import leakbook

from tests.snaptools import Loaded

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class PathTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_a_path_ending_in_a_separator_is_a_directory_created_with_parents(self):
        target = os.path.join(self.dir, "snapshots", "deeper") + os.sep
        first = leakbook.snapshot(target, census=True)
        second = leakbook.snapshot(target, census=True)
        self.assertEqual(os.path.dirname(first), target.rstrip(os.sep))
        self.assertNotEqual(first, second)
        for path in (first, second):
            self.assertTrue(path.endswith(leakbook.EXTENSION), path)
            leakbook.read_snapshot(path)
        self.assertEqual(sorted(os.listdir(target)), sorted(map(os.path.basename, (first, second))))

    def test_an_existing_directory_without_separator_gets_a_default_name(self):
        path = leakbook.snapshot(pathlib.Path(self.dir), census=True)
        self.assertEqual(os.path.dirname(path), self.dir)
        self.assertTrue(os.path.basename(path).startswith("leakbook-%d-" % os.getpid()))

    def test_a_file_name_without_extension_gets_lbsnap(self):
        plain = os.path.join(self.dir, "snapshots")
        path = leakbook.snapshot(plain, census=True)
        self.assertEqual(path, plain + leakbook.EXTENSION)
        leakbook.read_snapshot(path)
        # A file name is a file name: the second call refuses to replace it.
        with self.assertRaises(FileExistsError):
            leakbook.snapshot(plain, census=True)
        other = os.path.join(self.dir, "mine.snap")
        self.assertEqual(leakbook.snapshot(other, census=True), other)  # an extension is kept
        self.assertEqual(sorted(os.listdir(self.dir)), ["mine.snap", "snapshots.lbsnap"])

    def failing_calls(self):
        existing = os.path.join(self.dir, "existing.lbsnap")
        with open(existing, "wb") as f:
            f.write(b"mine")
        partial = os.path.join(self.dir, "partial.lbsnap")
        with open(partial + ".partial", "wb") as f:
            f.write(b"not the agent's")
        a_file = os.path.join(self.dir, "a-file")
        with open(a_file, "wb") as f:
            f.write(b"x")
        calls = [
            (existing, FileExistsError),
            (os.path.join(self.dir, "existing"), FileExistsError),  # .lbsnap added, then refused
            (partial, FileExistsError),
            (os.path.join(self.dir, "missing", "x.lbsnap"), FileNotFoundError),
            (os.path.join(a_file, "sub") + os.sep, OSError),  # the directory cannot be created
        ]
        if not ROOT:
            locked = os.path.join(self.dir, "locked")
            os.mkdir(locked)
            os.chmod(locked, 0o500)
            calls.append((locked + os.sep, PermissionError))
            calls.append((os.path.join(locked, "x.lbsnap"), PermissionError))
        return calls

    def test_every_check_runs_before_the_walk(self):
        counted = []
        saved = leakbook._capture_full, leakbook._census, leakbook._memory

        def counting(name, original):
            def wrapper(*args, **kwargs):
                counted.append(name)
                return original(*args, **kwargs)
            return wrapper
        leakbook._capture_full = counting("walk", saved[0])
        leakbook._census = counting("census", saved[1])
        leakbook._memory = counting("memory", saved[2])
        try:
            for census in (False, True):
                for path, error in self.failing_calls():
                    with self.assertRaises(error, msg=path):
                        leakbook.snapshot(path, census=census)
                shutil.rmtree(self.dir, ignore_errors=True)
                os.makedirs(self.dir)
        finally:
            leakbook._capture_full, leakbook._census, leakbook._memory = saved
        self.assertEqual(counted, [])
        self.assertFalse([n for n in os.listdir(self.dir) if n.endswith(".partial")])

    def test_a_failing_call_returns_at_once_on_a_big_heap(self):
        heap = [[i] for i in range(300000)]
        try:
            for path, error in self.failing_calls():
                began = time.perf_counter()
                with self.assertRaises(error):
                    leakbook.snapshot(path)
                self.assertLess(time.perf_counter() - began, 0.05, path)  # a walk takes about 1 s here
        finally:
            del heap

    def test_start_creates_its_directory_and_refuses_one_it_cannot_write(self):
        target = os.path.join(self.dir, "new", "snaps")
        recorder = leakbook.start(target, interval=None, at_exit=False)
        recorder.stop()
        self.assertTrue(os.path.isdir(target))
        a_file = os.path.join(self.dir, "a-file")
        with open(a_file, "wb") as f:
            f.write(b"x")
        with self.assertRaises(OSError):
            leakbook.start(os.path.join(a_file, "sub"), interval=None, at_exit=False)
        if not ROOT:
            os.chmod(target, 0o500)
            with self.assertRaises(PermissionError):
                leakbook.start(target, interval=None, at_exit=False)
        self.assertEqual(leakbook._RECORDERS, [])
        with self.assertRaises(ValueError):
            leakbook.start(self.dir, rss_limit=-1)
        with self.assertRaises(ValueError):
            leakbook.start(self.dir, rss_limit=1 << 30, rss_step=0)


# Grows in steps of 1 MiB up to RSS levels relative to its own, and prints how many snapshots the
# RSS trigger left after each level.
RSS_SCRIPT = r"""
import json, sys, time
import leakbook
leakbook.RSS_POLL_INTERVAL = 0.05
M = 1 << 20
hold = []
def grow_to(target):
    while leakbook._current_rss() < target:
        hold.append(b"\x01" * M)
def count_after(expected):
    deadline = time.time() + 60
    while len(recorder.paths) < expected and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.4)  # eight polls more: nothing else is triggered
    return len(recorder.paths)
base = leakbook._current_rss()
limit = base + 40 * M
interval = float(sys.argv[2]) if len(sys.argv) > 2 else None
recorder = leakbook.start(sys.argv[1], interval=interval, at_exit=False, rss_limit=limit)
counts = []
if interval is not None:  # periodic snapshots come too: wait for the RSS one and two more
    grow_to(limit + 5 * M)
    deadline = time.time() + 120
    while not (recorder.rss_triggers and len(recorder.paths) >= 3) and time.time() < deadline:
        time.sleep(0.02)
    counts.append(count_after(3))
    first = recorder.rss_threshold
else:
    grow_to(base + 20 * M)
    counts.append(count_after(0))
    grow_to(limit + 5 * M)
    counts.append(count_after(1))
    first = recorder.rss_threshold
    grow_to(first - 8 * M)
    counts.append(count_after(1))
    grow_to(first + 8 * M)
    counts.append(count_after(2))
recorder.stop()
print(json.dumps({"counts": counts, "limit": limit, "base": base, "first_threshold": first,
                  "triggers": recorder.rss_triggers, "paths": recorder.paths,
                  "failures": recorder.failures}))
"""


@unittest.skipUnless(os.path.exists("/proc/self/statm"), "the test reads RSS levels from /proc")
class RssTriggerTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")
        self.env = dict(os.environ, PYTHONPATH=AGENT_DIR)
        self.script = os.path.join(self.dir, "grow.py")
        with open(self.script, "w") as f:
            f.write(RSS_SCRIPT)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_script(self, *args):
        out = os.path.join(self.dir, "out")
        result = subprocess.run([sys.executable, self.script, out] + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout), out

    def test_snapshots_at_the_limit_and_at_each_further_step(self):
        report, out = self.run_script()
        self.assertEqual(report["failures"], 0)
        # None below the limit, one at it, none before RSS is 25% over the first trigger's, one after.
        self.assertEqual(report["counts"], [0, 1, 1, 2])
        first, second = report["triggers"]
        self.assertGreaterEqual(first, report["limit"])
        self.assertEqual(report["first_threshold"], int(first * 1.25))
        self.assertGreaterEqual(second, report["first_threshold"])
        files = sorted(os.listdir(out))
        self.assertEqual(files, sorted(os.path.basename(p) for p in report["paths"]))
        for name in files:
            Loaded(os.path.join(out, name))

    def test_with_an_interval_too(self):
        report, out = self.run_script("0.3")
        self.assertEqual(len(report["triggers"]), 1)
        # Periodic snapshots keep coming; one more is RSS's.
        self.assertGreaterEqual(report["counts"][-1], 3)
        self.assertGreaterEqual(report["triggers"][0], report["limit"])


class MessageTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")
        self.env = dict(os.environ, PYTHONPATH=AGENT_DIR)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def leakbook(self, *args):
        result = subprocess.run([sys.executable, "-m", "leakbook"] + list(args), cwd=self.dir,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, timeout=300)
        return result.returncode, result.stdout.decode(), result.stderr.decode()

    def script(self, text):
        path = os.path.join(self.dir, "app.py")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_every_command_has_help(self):
        for command in ("run", "attach", "info"):
            for flag in ("--help", "-h"):
                code, out, err = self.leakbook(command, flag)
                self.assertEqual((code, err), (0, ""), (command, flag))
                self.assertTrue(out.startswith("usage: python3 -m leakbook %s" % command), out)
        code, out, err = self.leakbook("--help")
        self.assertEqual(code, 0)
        self.assertIn("COMMAND --help", out)
        # After the script's name, --help is the script's.
        app = self.script("import sys\nprint(sys.argv[1:])\n")
        code, out, err = self.leakbook("run", "--out", "out/", app, "--help")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "['--help']")

    def test_tracemalloc_says_what_it_costs(self):
        app = self.script("pass\n")
        code, out, err = self.leakbook("run", "--tracemalloc", "--out", "out/", app)
        self.assertEqual(code, 0, err)
        cost = [line for line in err.splitlines() if "tracemalloc" in line]
        self.assertEqual(len(cost), 1, err)
        self.assertIn("10-30x slower", cost[0])
        code, out, err = self.leakbook("run", "--out", "out/", app)
        self.assertNotIn("tracemalloc", err)

    def test_run_advises_an_interval_when_it_left_fewer_than_three_snapshots(self):
        app = self.script("import time\ntime.sleep(1.2)\n")
        code, out, err = self.leakbook("run", "--interval", "100", "--out", "out/", app)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(os.listdir(os.path.join(self.dir, "out"))), 1)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertIn("left 1 snapshot (--interval 100)", lines[0])
        suggested = float(re.search(r"try --interval ([0-9.]+) for about 4", lines[0]).group(1))
        self.assertTrue(0.25 <= suggested <= 0.5, lines[0])
        # Enough snapshots: no advice. The count depends on how long captures take here.
        app = self.script("import time\ntime.sleep(1.5)\n")
        code, out, err = self.leakbook("run", "--interval", "0.1", "--out", "many/", app)
        self.assertEqual(code, 0, err)
        left = len(os.listdir(os.path.join(self.dir, "many")))
        self.assertEqual("a diagnosis needs at least 3" in err, left < 3, (left, err))

    def test_nice_intervals(self):
        self.assertEqual(leakbook._nice_interval(22 / 4.0), "5")
        self.assertEqual(leakbook._nice_interval(137), "130")
        self.assertEqual(leakbook._nice_interval(0.37), "0.37")
        self.assertEqual(leakbook._nice_interval(0.001), "0.01")

    def test_run_refuses_an_out_it_cannot_write_before_the_script_runs(self):
        with open(os.path.join(self.dir, "a-file"), "w") as f:
            f.write("x")
        app = self.script("print('ran')\n")
        code, out, err = self.leakbook("run", "--out", "a-file/sub", app)
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("cannot write snapshots into a-file/sub", err)

    def test_run_rss_limit_option(self):
        app = self.script("pass\n")
        code, out, err = self.leakbook("run", "--rss-limit", "lots", app)
        self.assertEqual(code, 2)
        self.assertIn("--rss-limit needs a size", err)
        self.assertEqual(leakbook._size("512M"), 512 << 20)
        self.assertEqual(leakbook._size("1000"), 1000)
        code, out, err = self.leakbook("run", "--rss-limit", "1G", "--rss-step", "0.5", "--out", "o/", app)
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
