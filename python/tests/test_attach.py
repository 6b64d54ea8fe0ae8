"""`leakbook attach` up to sys.remote_exec: Python 3.14 is not on every machine that runs these tests, so a
stand-in for sys.remote_exec hands the script to a target process that runs it the way 3.14 would (in its
main thread, at a point of its choosing). What is tested is everything around that call: the script that
is sent, the snapshot it writes inside the target, and what it leaves behind."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import leakbook

from tests.snaptools import Loaded

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))

# The target: holds some marked objects, and runs any script whose path appears in its inbox.
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


class AttachTest(unittest.TestCase):
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
        self.assertEqual(result.stderr.strip(), "leakbook: attach to 1 failed: not allowed")
        self.assertEqual(os.listdir(script_dir), [])


if __name__ == "__main__":
    unittest.main()
