"""A blinker Namespace makes a new named signal per job, each with a strong (weak=False) receiver.

Real-world bug class: per-object signal names. blinker's Namespace is a plain dict of every signal it has named,
so each job's signal, its receiver closure and the job stay alive.
A right diagnosis names sys.modules['__main__'].job_events and says to use a fixed set of signals (tell jobs apart
by sender) or drop the per-job names, not merely to capture less in the closure.
"""
# verdict: leak
# kinds: library-leak|closure-retention|growing-container
# holder: sys.modules['__main__'].job_events
# remedy: Namespace
import blinker
from rounds import run

job_events = blinker.Namespace()


class Job:
    def __init__(self, n):
        self.id = "job-%06d" % n
        self.args = {"n": n, "payload": ["x%d" % i for i in range(5)]}
        self.result = None


def on_done(job, **kw):
    job.result = "done"


def run_job(n):
    job = Job(n)
    sig = job_events.signal("done.%s" % job.id)  # bug: one signal per job, Namespace is a plain dict
    sig.connect(lambda sender, **kw: on_done(job), weak=False)
    sig.send(job)


run(run_job, 200)
