"""`leakbook attach`.

Through gdb (Python 3.8-3.13): a live target process of each interpreter on the machine, attached while its
main thread sleeps in time.sleep (another thread spinning meanwhile) and then while it spins itself; each
time the snapshot must hold the target's objects, and the target must go on as before with its data intact.
Also the one-line errors: no gdb, no process, not a Python process, ptrace refused.

Through sys.remote_exec (3.14): Python 3.14 is not on every machine that runs these tests, so a stand-in for
sys.remote_exec hands the script to a target process that runs it the way 3.14 would (in its main thread,
at a point of its choosing). What is tested is everything around that call: the script that is sent, the
snapshot it writes inside the target, and what it leaves behind."""

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

import leakbook

from tests.snaptools import Loaded

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))
GDB = shutil.which("gdb")
# Generous bounds for a machine that other jobs keep busy: they stop a hung run, they time nothing.
PATIENCE = 120

# The target for the remote_exec stand-in: holds some marked objects, and runs any script whose path
# appears in its inbox.
TARGET = r"""
import os, sys, time
class AttachMarker:
    pass
HELD = [AttachMarker() for _ in range(321)]
inbox = sys.argv[1]
path_before = list(sys.path)
print("ready", flush=True)
deadline = time.time() + 60
while time.time() < deadline:
    if os.path.exists(inbox + ".ready"):
        with open(inbox) as f:
            script = f.read().strip()
        exec(compile(open(script).read(), script, "exec"), {"__name__": "__main__"})
        print("sys.path unchanged" if sys.path == path_before else "sys.path changed", flush=True)
        print("script removed" if not os.path.exists(script) else "script left", flush=True)
        break
    time.sleep(0.02)
"""

# The attach command, with sys.remote_exec standing in for 3.14's: it passes the script to the target.
ATTACH = r"""
import sys
def remote_exec(pid, script):
    inbox = sys.argv[1]
    with open(inbox, "w") as f:
        f.write(script)
    open(inbox + ".ready", "w").close()
sys.remote_exec = remote_exec
import leakbook
sys.exit(leakbook.main(["attach", sys.argv[2], "--out", sys.argv[3]]))
"""


def held_data():
    """What the live target holds besides its markers (built the same way on both sides)."""
    data = {"attach-key-%d" % i: "attach-value-%d" % (i * i) for i in range(50)}
    data["attach-canary"] = "leakbook-attach-canary-5e1f"
    return data


def checksum(held, data):
    return "%d-%08x" % (held, zlib.crc32(repr(sorted(data.items())).encode()))


# The live target, in two phases. First its main thread sleeps in time.sleep(1000) while another thread
# spins, holding the GIL most of the time; SIGUSR2 ends the sleep. Then the main thread spins itself. SIGUSR1
# prints a report: a checksum of its data, the counter the spinning thread increments, and whether sys.path
# and the names in __main__ are as they were.
LIVE_TARGET = r"""
import os, signal, sys, threading, time, zlib

class AttachMarker(object):
    pass

class NextPhase(Exception):
    pass

HELD = [AttachMarker() for _ in range(321)]
DATA = %(data)r
PATH = list(sys.path)
count = 0
spin = True

def report(signum, frame):
    held = sum(1 for item in HELD if type(item) is AttachMarker)
    print("report %%d-%%08x %%d %%s %%s" %% (held, zlib.crc32(repr(sorted(DATA.items())).encode()), count,
                                         sys.path == PATH, set(globals()) == NAMES), flush=True)

def next_phase(signum, frame):
    raise NextPhase()

def worker():
    global count
    while spin:
        count += 1

signal.signal(signal.SIGUSR1, report)
signal.signal(signal.SIGUSR2, next_phase)
thread = threading.Thread(target=worker)
thread.start()
NAMES = set(globals()) | {"NAMES"}
print("sleeping", flush=True)
try:
    time.sleep(1000)
    print("woke", flush=True)
except NextPhase:
    print("sleep interrupted", flush=True)
spin = False
thread.join()
print("spinning", flush=True)
while True:
    count += 1
""" % {"data": held_data()}


def interpreters():
    """(label, path) of each interpreter to attach to: the running one, Debian's, pyenv's; a path that is
    the same binary as an earlier one is left out."""
    candidates = [("running", sys.executable), ("debian", "/usr/bin/python3")]
    for version in ("3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"):
        candidates.append(("pyenv_" + version.replace(".", "_"),
                           os.path.expanduser("~/.pyenv/versions/%s/bin/python" % version)))
    seen = set()
    for label, path in candidates:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield label, path


def ptrace_problem():
    """Why gdb cannot attach on this machine, None when it should."""
    if GDB is None:
        return "gdb is not installed (apt-get install gdb)"
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            scope = f.read().strip()
    except OSError:
        scope = "0"
    if scope == "3":
        return "kernel.yama.ptrace_scope is 3: no ptrace on this machine"
    if scope in ("1", "2") and not leakbook._has_cap_sys_ptrace():
        return "kernel.yama.ptrace_scope is %s and this process lacks CAP_SYS_PTRACE" % scope
    return None


class Lines(object):
    """A child's stdout, line by line, without blocking the test forever."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        self.seen = []
        thread = threading.Thread(target=self._read, args=(stream,))
        thread.daemon = True
        thread.start()

    def _read(self, stream):
        for line in stream:
            self.queue.put(line.rstrip("\n"))
        self.queue.put(None)

    def next(self):
        try:
            line = self.queue.get(timeout=PATIENCE)
        except queue.Empty:
            line = "<nothing within %d s>" % PATIENCE
        self.seen.append(line)
        return line


class GdbBase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-attach-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        # The attach command's temporary files go here: what it leaves behind is visible.
        self.tmp = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmp)
        self.env = dict(os.environ, PYTHONPATH=AGENT_DIR, TMPDIR=self.tmp)

    def attach(self, pid, out, *options, **kwargs):
        return subprocess.run([sys.executable, "-m", "leakbook", "attach", str(pid), "--gdb", "--out", out]
                              + list(options), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=kwargs.get("env", self.env), universal_newlines=True, timeout=4 * PATIENCE)

    def start(self, argv, **kwargs):
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, universal_newlines=True,
                                   **kwargs)
        # Run last to first: the reader thread's pipe closes once the process is gone.
        self.addCleanup(process.stdout.close)
        self.addCleanup(process.wait)
        self.addCleanup(process.kill)
        return process

    def assertOneLineError(self, result, start):
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertTrue(result.stderr.startswith("leakbook: " + start), result.stderr)


class GdbAttachTest(GdbBase):
    def live(self, python):
        if not os.path.exists(python):
            self.skipTest("%s is not installed" % python)
        problem = ptrace_problem()
        if problem:
            self.skipTest(problem)
        # The target does not have the agent on its path: the request must find it by itself.
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        target = self.start([python, "-c", LIVE_TARGET], env=env, cwd=self.dir)
        lines = Lines(target.stdout)
        expected = checksum(321, held_data())
        count = 0  # the target's counter, as last reported
        for phase, mechanism, left in (("sleeping", "now", "sleep interrupted"), ("spinning", "pending", None)):
            self.assertEqual(lines.next(), phase, lines.seen)
            out = os.path.join(self.dir, "out-" + phase)
            result = self.attach(target.pid, out, "--verbose", "--timeout", str(PATIENCE))
            if result.returncode == 2 and "ptrace is not allowed" in result.stderr:
                self.skipTest(result.stderr.strip())
            self.assertEqual(result.returncode, 0, result.stderr)
            # The way in depends on where gdb found the main thread: without the GIL in a system call, or not.
            self.assertIn("LEAKBOOK %s" % mechanism, result.stderr)
            files = os.listdir(out)
            self.assertEqual(len(files), 1, files)
            path = os.path.join(out, files[0])
            self.assertTrue(result.stdout.startswith("snapshot of process %d (Python " % target.pid), result.stdout)
            self.assertTrue(result.stdout.rstrip().endswith(": " + path), result.stdout)
            snap = Loaded(path)
            self.assertEqual(snap.header["meta"]["pid"], target.pid)
            self.assertEqual(snap.type_counts().get("__main__.AttachMarker"), 321)
            self.assertIn("leakbook-attach-canary-5e1f", snap.strings)
            self.assertEqual(os.listdir(self.tmp), [])  # the request's files are gone
            # The target goes on: its data as it was, sys.path too, and the spinning code still spins (when
            # the machine gives it a moment: the counter is asked for again until it has moved).
            def report():
                target.send_signal(signal.SIGUSR1)
                words = lines.next().split()
                self.assertEqual(words[:2], ["report", expected], lines.seen)
                self.assertEqual(words[3:], ["True", "True"], lines.seen)
                self.assertGreaterEqual(int(words[2]), count, lines.seen)
                return int(words[2])
            before = count = report()
            deadline = time.monotonic() + PATIENCE
            while count == before:
                self.assertLess(time.monotonic(), deadline, lines.seen)
                time.sleep(0.05)
                count = report()
            if left:
                # time.sleep(1000) did not return early: only the signal ends it.
                target.send_signal(signal.SIGUSR2)
                self.assertEqual(lines.next(), left, lines.seen)
        self.assertIsNone(target.poll())


    def test_a_signal_while_gdb_holds_the_target(self):
        # A signal that comes while gdb holds the process has its C handler run during gdb's calls; its Python
        # handler must still run in the application, and end the sleep as it would have without gdb.
        problem = ptrace_problem()
        if problem:
            self.skipTest(problem)
        source = ("import signal, sys, time\n"
                  "class Stop(Exception):\n    pass\n"
                  "def stop(signum, frame):\n    raise Stop()\n"
                  "signal.signal(signal.SIGUSR1, stop)\n"
                  "print('sleeping', flush=True)\n"
                  "try:\n    time.sleep(1000)\n    print('woke', flush=True)\n"
                  "except Stop:\n    print('stopped', flush=True)\n"
                  "sys.stdin.read()\n")
        target = subprocess.Popen([sys.executable, "-c", source], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  universal_newlines=True)
        self.addCleanup(target.stdout.close)
        self.addCleanup(target.stdin.close)
        self.addCleanup(target.wait)
        self.addCleanup(target.kill)
        lines = Lines(target.stdout)
        self.assertEqual(lines.next(), "sleeping")
        out = os.path.join(self.dir, "out")
        attach = subprocess.Popen([sys.executable, "-m", "leakbook", "attach", str(target.pid), "--gdb", "--out", out,
                                   "--timeout", str(PATIENCE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=self.env, universal_newlines=True)
        self.addCleanup(attach.wait)
        self.addCleanup(attach.kill)
        deadline = time.monotonic() + PATIENCE
        while leakbook._proc_status(target.pid).get("TracerPid", "0") == "0" and attach.poll() is None:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)
        target.send_signal(signal.SIGUSR1)
        stdout, stderr = attach.communicate(timeout=4 * PATIENCE)
        self.assertEqual(attach.returncode, 0, stderr)
        self.assertEqual(lines.next(), "stopped", lines.seen)
        self.assertEqual(len(os.listdir(out)), 1)
        self.assertIsNone(target.poll())


def _add_live_tests():
    for label, python in interpreters():
        def test(self, python=python):
            self.live(python)
        test.__name__ = "test_live_target_%s" % label
        test.__doc__ = "attach through gdb to %s: asleep, then spinning" % python
        setattr(GdbAttachTest, test.__name__, test)


_add_live_tests()


class GdbAttachErrorTest(GdbBase):
    def test_no_gdb_on_path(self):
        sleeper = self.start(["sleep", "100"])
        env = dict(self.env, PATH=self.tmp)
        result = self.attach(sleeper.pid, self.dir, env=env)
        self.assertOneLineError(result, "attach on Python 3.8-3.13 needs gdb (apt-get install gdb)")
        self.assertIn("signal=signal.SIGUSR2", result.stderr)
        self.assertIn("remote_exec", result.stderr)
        self.assertEqual(os.listdir(self.tmp), [])

    def test_no_such_process(self):
        with open("/proc/sys/kernel/pid_max") as f:
            pid = int(f.read()) + 1
        result = self.attach(pid, self.dir)
        self.assertOneLineError(result, "no process %d" % pid)

    def test_bad_pid(self):
        for pid in ("abc", "0", "-5"):
            result = self.attach(pid, self.dir)
            self.assertOneLineError(result, "attach needs a")

    @unittest.skipIf(GDB is None, "gdb is not installed")
    def test_not_a_python_process(self):
        problem = ptrace_problem()
        if problem:
            self.skipTest(problem)
        sleeper = self.start(["sleep", "100"])
        result = self.attach(sleeper.pid, self.dir, "--timeout", str(PATIENCE))
        self.assertOneLineError(result, "process %d does not look like CPython 3.8+" % sleeper.pid)
        self.assertIsNone(sleeper.poll())
        self.assertEqual(os.listdir(self.tmp), [])

    @unittest.skipIf(GDB is None, "gdb is not installed")
    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
    def test_ptrace_refused(self):
        # An unprivileged user may not trace root's process.
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        os.chmod(self.dir, 0o755)
        os.chmod(self.tmp, 0o1777)
        for python in (sys.executable, "/usr/bin/python3"):  # pyenv's may live where that user cannot read
            check = subprocess.run(nobody + [python, "-c", "import leakbook"], env=self.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
            if not check.returncode:
                break
        else:
            self.skipTest("user 65534 cannot run %s with the agent: %s" % (python, check.stdout.strip()))
        sleeper = self.start(["sleep", "100"])
        result = subprocess.run(nobody + [python, "-m", "leakbook", "attach", str(sleeper.pid), "--gdb",
                                          "--out", self.tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.env, universal_newlines=True, timeout=4 * PATIENCE)
        self.assertOneLineError(result, "ptrace is not allowed on process %d" % sleeper.pid)
        self.assertIn("kernel.yama.ptrace_scope", result.stderr)
        self.assertIn("CAP_SYS_PTRACE", result.stderr)
        self.assertIn("--cap-add=SYS_PTRACE", result.stderr)
        self.assertIn("signal=signal.SIGUSR2", result.stderr)
        self.assertIsNone(sleeper.poll())
        self.assertEqual(os.listdir(self.tmp), [])


class RemoteExecAttachTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-attach-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.env = dict(os.environ, PYTHONPATH=AGENT_DIR)

    def test_attach_writes_a_snapshot_inside_the_target(self):
        inbox = os.path.join(self.dir, "inbox")
        out = os.path.join(self.dir, "out")
        os.mkdir(out)
        # The target does not have the agent on its path: the script must find it by itself.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        target = subprocess.Popen([sys.executable, "-c", TARGET, inbox], stdout=subprocess.PIPE, env=env,
                                  universal_newlines=True)
        self.addCleanup(target.kill)
        self.assertEqual(target.stdout.readline().strip(), "ready")
        attach = subprocess.run([sys.executable, "-c", ATTACH, inbox, str(target.pid), out],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                                universal_newlines=True)
        self.assertEqual(attach.returncode, 0, attach.stderr)
        self.assertIn("process %d writes it into %s" % (target.pid, out), attach.stdout)
        remaining = target.communicate(timeout=120)[0]
        self.assertEqual(remaining.split(), ["sys.path", "unchanged", "script", "removed"])
        files = [f for f in os.listdir(out) if f.endswith(".lbsnap")]
        self.assertEqual(len(files), 1)
        snap = Loaded(os.path.join(out, files[0]))
        self.assertEqual(snap.header["meta"]["pid"], target.pid)
        self.assertEqual(snap.type_counts().get("__main__.AttachMarker"), 321)

    def test_a_failed_request_leaves_no_script_behind(self):
        script_dir = os.path.join(self.dir, "tmp")
        os.mkdir(script_dir)
        failing = "import sys\ndef remote_exec(pid, script):\n    raise PermissionError('not allowed')\n" \
                  "sys.remote_exec = remote_exec\nimport leakbook\nsys.exit(leakbook.main(['attach', '1']))\n"
        env = dict(self.env, TMPDIR=script_dir)
        result = subprocess.run([sys.executable, "-c", failing], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, universal_newlines=True)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip(),
                         "leakbook: attach to 1 failed: not allowed (a process older than 3.14: add --gdb)")
        self.assertEqual(os.listdir(script_dir), [])


if __name__ == "__main__":
    unittest.main()
