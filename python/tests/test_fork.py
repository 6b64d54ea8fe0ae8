"""The agent in processes that fork (pre-fork servers, multiprocessing) and under re-entrant
snapshot() calls (the application's signal handler, a second thread). Every scenario runs in a
program of its own, started with subprocess, so that a hang is a timeout, not a stuck suite."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import leakbook

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))
CAN_FORK = hasattr(os, "fork") and hasattr(os, "register_at_fork")

# Shared by the programs: wait for the agent's capture thread (the walk) to be running, and reap
# a child within a deadline (killing it if it hangs).
COMMON = r"""
import json
import os
import signal
import sys
import time

def capture_running():
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "_capture_thread":
                return True
            frame = frame.f_back
    return False

def wait_for_capture(timeout=60.0):
    deadline = time.time() + timeout
    while not capture_running():
        if time.time() > deadline:
            raise SystemExit("no capture started")
        time.sleep(0.001)

def reap(pid, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"
"""

# A capture runs in a thread on a big heap; the main thread forks while it runs. The child must
# see the collector as the application had it, and capture and exit promptly.
FORK_DURING_CAPTURE = COMMON + r"""
import gc
import threading
import leakbook

out, app_gc = sys.argv[1], sys.argv[2] == "on"
if not app_gc:
    gc.disable()
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(150000)]
capture = threading.Thread(target=leakbook.snapshot, args=(out + "/parent.lbsnap",))
capture.start()
wait_for_capture()
pid = os.fork()
if pid == 0:
    facts = {"gc": gc.isenabled()}
    started = time.time()
    facts["path"] = leakbook.snapshot(out + "/child.lbsnap")
    facts["seconds"] = time.time() - started
    with open(out + "/child.json", "w") as f:
        json.dump(facts, f)
    sys.exit(0)  # a normal exit: atexit hooks and threading shutdown run
mid_capture = capture_running()
status = reap(pid, 60)
capture.join()
print(json.dumps({"status": status, "mid_capture": mid_capture, "parent_gc": gc.isenabled()}))
"""

# The main thread captures; its SIGUSR1 handler forks in the middle of that snapshot() call.
FORK_IN_A_SIGNAL_HANDLER = COMMON + r"""
import gc
import threading
import leakbook

out = sys.argv[1]
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(150000)]
forked = []

def handler(signum, frame):
    forked.append(os.fork())

signal.signal(signal.SIGUSR1, handler)

def interrupt():
    wait_for_capture()
    os.kill(os.getpid(), signal.SIGUSR1)

threading.Thread(target=interrupt).start()
try:
    path = leakbook.snapshot(out + "/parent.lbsnap")
    error = None
except RuntimeError as caught:
    path, error = None, str(caught)
if forked == [0]:
    facts = {"path": path, "error": error, "gc": gc.isenabled()}
    started = time.time()
    facts["again"] = leakbook.snapshot(out + "/child.lbsnap")
    facts["seconds"] = time.time() - started
    with open(out + "/child.json", "w") as f:
        json.dump(facts, f)
    sys.exit(0)
status = reap(forked[0], 60)
print(json.dumps({"status": status, "path": path, "error": error, "gc": gc.isenabled()}))
"""

# multiprocessing with the fork start method and a Recorder started before the children.
MULTIPROCESSING = COMMON + r"""
import multiprocessing
import leakbook

out, in_children = sys.argv[1], sys.argv[2] == "1"
recorder = leakbook.start(out, interval=0.1, at_exit=False, in_children=in_children)

def own_files():
    mine = "leakbook-%d-" % os.getpid()
    return [f for f in os.listdir(out) if f.startswith(mine) and f.endswith(".lbsnap")]

def work(results):
    # Long enough for several intervals; with in_children, until the child's own file exists.
    deadline = time.time() + (20.0 if in_children else 1.0)
    while time.time() < deadline and not (in_children and own_files()):
        time.sleep(0.02)
    time.sleep(0.3)  # so that a snapshot being written is complete
    results.put((os.getpid(), len(leakbook._RECORDERS)))

if __name__ == "__main__":
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [context.Process(target=work, args=(results,)) for _ in range(3)]
    for child in children:
        child.start()
    before = len(recorder.paths)
    reported = sorted(results.get(timeout=60) for _ in children)
    for child in children:
        child.join(60)
    time.sleep(0.3)
    print(json.dumps({"children": reported, "codes": [c.exitcode for c in children],
                      "parent": os.getpid(), "parent_before": before,
                      "parent_after": len(recorder.paths), "failures": recorder.failures}))
    recorder.stop()
"""

# A pre-fork server: the parent binds, forks 3 workers (each while the Recorder captures) that
# accept one connection each and exit normally.
PREFORK_SERVER = COMMON + r"""
import socket
import leakbook

out = sys.argv[1]
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(100000)]
recorder = leakbook.start(out, interval=0.01, at_exit=True)
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(8)
port = server.getsockname()[1]
workers = []
for _ in range(3):
    wait_for_capture()
    pid = os.fork()
    if pid == 0:
        connection, _address = server.accept()
        connection.sendall(b"%d\n" % os.getpid())
        connection.close()
        sys.exit(0)
    workers.append(pid)
answers = []
for _ in workers:
    client = socket.create_connection(("127.0.0.1", port), timeout=30)
    answers.append(int(client.makefile().readline()))
    client.close()
statuses = [reap(pid, 30) for pid in workers]
recorder.stop()
print(json.dumps({"workers": workers, "answers": sorted(answers), "statuses": statuses,
                  "parent": os.getpid(), "parent_paths": len(recorder.paths),
                  "failures": recorder.failures}))
"""

# The application's SIGUSR1 handler calls snapshot(); signals arrive rapidly while another
# capture runs, first in a second thread, then in the main thread itself.
REENTRANT = COMMON + r"""
import threading
import leakbook

out = sys.argv[1]
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(60000)]
results = {"written": [], "skipped": 0, "errors": []}

def handler(signum, frame):
    try:
        path = leakbook.snapshot(out)
    except BaseException as error:
        results["errors"].append(repr(error))
        return
    if path is None:
        results["skipped"] += 1
    else:
        results["written"].append(path)

signal.signal(signal.SIGUSR1, handler)
sent = 0

# 1. Another thread captures; this thread signals itself.
other = []
capture = threading.Thread(target=lambda: other.append(leakbook.snapshot(out + "/thread.lbsnap")))
capture.start()
wait_for_capture()
while capture.is_alive():
    os.kill(os.getpid(), signal.SIGUSR1)
    sent += 1
    time.sleep(0.002)
capture.join()
phase_one = results["skipped"]

# 2. This thread captures; another thread signals it (handlers run in the main thread, here
# in the middle of its own snapshot() call).
stop = threading.Event()
def signal_rapidly():
    global sent
    wait_for_capture()
    while not stop.is_set():
        os.kill(os.getpid(), signal.SIGUSR1)
        sent += 1
        time.sleep(0.002)
sender = threading.Thread(target=signal_rapidly)
sender.start()
main_path = leakbook.snapshot(out + "/main.lbsnap")
stop.set()
sender.join()
time.sleep(0.2)  # let a pending signal's handler finish
phase_two = results["skipped"] - phase_one

# 3. Nothing else runs: the handler's snapshot is written.
os.kill(os.getpid(), signal.SIGUSR1)
time.sleep(0.2)
results.update(sent=sent, phase_one=phase_one, phase_two=phase_two, main=main_path,
               thread=other, counter=leakbook.skipped_captures())
print(json.dumps(results))
"""


@unittest.skipUnless(CAN_FORK, "os.fork and os.register_at_fork: POSIX")
class ForkTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_program(self, source, *args, timeout=240):
        script = os.path.join(self.dir, "app.py")
        with open(script, "w") as f:
            f.write(source)
        env = dict(os.environ, PYTHONPATH=AGENT_DIR)
        # -W ignore: 3.12+ warns about fork() with threads running, which is what is tested here.
        # A session of its own: on a timeout the whole group goes, hung forked children included.
        program = subprocess.Popen([sys.executable, "-W", "ignore::DeprecationWarning", script, self.dir]
                                   + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, start_new_session=True)
        try:
            stdout, stderr = program.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(program.pid, signal.SIGKILL)
            program.communicate()
            self.fail("the program did not finish within %d s" % timeout)
        finally:
            try:
                os.killpg(program.pid, signal.SIGKILL)  # whatever it left behind
            except OSError:
                pass
        self.assertEqual(program.returncode, 0, stderr.decode())
        return json.loads(stdout.decode().strip().splitlines()[-1]), stderr.decode()

    def files_of(self, pid):
        prefix = "leakbook-%d-" % pid
        return sorted(os.path.join(self.dir, f) for f in os.listdir(self.dir)
                      if f.startswith(prefix) and f.endswith(leakbook.EXTENSION))

    def assert_fork_during_capture(self, app_gc):
        facts, stderr = self.run_program(FORK_DURING_CAPTURE, app_gc)
        self.assertTrue(facts["mid_capture"], "the fork happened after the capture")
        self.assertEqual(facts["status"], 0, stderr)
        self.assertEqual(facts["parent_gc"], app_gc == "on")
        with open(os.path.join(self.dir, "child.json")) as f:
            child = json.load(f)
        self.assertEqual(child["gc"], app_gc == "on")
        self.assertLess(child["seconds"], 30)
        for name in ("child.lbsnap", "parent.lbsnap"):
            header = leakbook.read_snapshot(os.path.join(self.dir, name))["header"]
            self.assertGreater(header["counts"]["objects"], 150000, name)
        self.assertNotIn("Traceback", stderr)

    def test_fork_during_a_capture_collector_enabled(self):
        self.assert_fork_during_capture("on")

    def test_fork_during_a_capture_collector_disabled_by_the_application(self):
        self.assert_fork_during_capture("off")

    def test_fork_in_a_signal_handler_during_the_handlers_own_capture(self):
        facts, stderr = self.run_program(FORK_IN_A_SIGNAL_HANDLER)
        self.assertEqual(facts["status"], 0, stderr)
        self.assertEqual((facts["path"], facts["error"], facts["gc"]),
                         (os.path.join(self.dir, "parent.lbsnap"), None, True))
        with open(os.path.join(self.dir, "child.json")) as f:
            child = json.load(f)
        # The walk's thread does not exist in the child: the interrupted call fails, it does not hang.
        self.assertIsNone(child["path"])
        self.assertIn("forked during this capture", child["error"])
        self.assertTrue(child["gc"])
        self.assertEqual(child["again"], os.path.join(self.dir, "child.lbsnap"))
        self.assertLess(child["seconds"], 30)
        for name in ("child.lbsnap", "parent.lbsnap"):
            leakbook.read_snapshot(os.path.join(self.dir, name))

    def test_multiprocessing_children_record_only_when_asked(self):
        for in_children in ("1", "0"):
            shutil.rmtree(self.dir)
            os.mkdir(self.dir)
            facts, stderr = self.run_program(MULTIPROCESSING, in_children)
            self.assertEqual(facts["codes"], [0, 0, 0], stderr)
            self.assertEqual(facts["failures"], 0, stderr)
            self.assertGreater(facts["parent_after"], facts["parent_before"], "parent stopped recording")
            self.assertTrue(self.files_of(facts["parent"]))
            for pid, recorders in facts["children"]:
                files = self.files_of(pid)
                if in_children == "1":
                    self.assertEqual(recorders, 1)
                    self.assertTrue(files, "no snapshot of child %d" % pid)
                    for path in files:
                        self.assertEqual(leakbook.read_snapshot(path)["header"]["meta"]["pid"], pid)
                else:
                    self.assertEqual(recorders, 0)
                    self.assertEqual(files, [], "child %d recorded" % pid)
            self.assertNotIn("Traceback", stderr)

    def test_prefork_server_workers_exit_promptly(self):
        facts, stderr = self.run_program(PREFORK_SERVER)
        self.assertEqual(facts["statuses"], [0, 0, 0], stderr)
        self.assertEqual(facts["answers"], sorted(facts["workers"]))
        self.assertGreater(facts["parent_paths"], 0)
        self.assertEqual(facts["failures"], 0, stderr)
        for pid in facts["workers"]:
            self.assertEqual(self.files_of(pid), [], "worker %d recorded" % pid)
        for path in self.files_of(facts["parent"]):
            leakbook.read_snapshot(path)
        self.assertNotIn("Traceback", stderr)


# The program ends while the Recorder's periodic capture runs: the exit snapshot waits for it.
EXIT_DURING_A_CAPTURE = COMMON + r"""
import atexit
import leakbook

out = sys.argv[1]
HEAP = [{"key": str(i), "pair": [i, i + 1]} for i in range(150000)]

def report():  # registered first, so it runs after the Recorder's exit hook
    print(json.dumps({"paths": recorder.paths, "skipped": recorder.skipped,
                      "counter": leakbook.skipped_captures()}))

atexit.register(report)
recorder = leakbook.start(out, interval=0.01)
wait_for_capture()
"""


@unittest.skipUnless(hasattr(signal, "SIGUSR1"), "POSIX signals")
class ReentrantTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    run_program = ForkTest.run_program

    def test_the_exit_snapshot_waits_for_a_running_capture(self):
        facts, stderr = self.run_program(EXIT_DURING_A_CAPTURE)
        self.assertEqual((facts["skipped"], facts["counter"]), (0, 0), stderr)
        self.assertGreaterEqual(len(facts["paths"]), 2)  # the periodic capture, then the exit one
        self.assertEqual(sorted(facts["paths"]), sorted(
            os.path.join(self.dir, f) for f in os.listdir(self.dir) if f.endswith(leakbook.EXTENSION)))
        for path in facts["paths"]:
            leakbook.read_snapshot(path)

    def test_snapshot_from_a_signal_handler_during_a_capture_is_skipped(self):
        facts, stderr = self.run_program(REENTRANT)
        self.assertEqual(facts["errors"], [])
        self.assertGreater(facts["sent"], 10)
        self.assertGreater(facts["phase_one"], 0, "no skip while another thread captured")
        self.assertGreater(facts["phase_two"], 0, "no skip inside the main thread's own capture")
        self.assertEqual(facts["counter"], facts["skipped"])
        self.assertGreaterEqual(len(facts["written"]), 1)
        self.assertEqual(facts["thread"], [os.path.join(self.dir, "thread.lbsnap")])
        self.assertEqual(facts["main"], os.path.join(self.dir, "main.lbsnap"))
        files = sorted(os.path.join(self.dir, f) for f in os.listdir(self.dir)
                       if f.endswith(leakbook.EXTENSION))
        self.assertEqual(files, sorted(facts["written"] + facts["thread"] + [facts["main"]]))
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith(".partial")], [])
        for path in files:
            header = leakbook.read_snapshot(path)["header"]
            self.assertGreater(header["counts"]["objects"], 60000, path)


if __name__ == "__main__":
    unittest.main()
