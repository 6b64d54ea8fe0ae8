"""A werkzeug ``LocalStack`` pushed for every job and popped only on the success path.

Models a job runner that copies Flask's old context-stack idiom: a module-level ``werkzeug.local.LocalStack`` holds
"the current job" so helpers deep in the call chain can reach it through a ``LocalProxy``; ``run_job`` pushes the
job's context, runs it, and pops at the end, but not in a ``finally``, so every job that raises leaves its context on
the stack. The runner executes all jobs inside one worker ``contextvars.Context`` made at start-up
(``worker_ctx.run(...)``, as thread pools and event loops do with their callbacks). Since werkzeug 2.x the stack is a
list stored in a ``ContextVar`` (``LocalStack._storage``): each push copies the list and sets the copy as the
variable's value in the running context, so the growing list lives inside ``worker_ctx`` (in its HAMT nodes),
reachable from Python only as ``worker_ctx[job_stack._storage]``. Failed jobs keep their payloads alive there.

A right diagnosis names the worker context ``sys.modules['__main__'].worker_ctx`` (or the stack list inside it) as
what keeps the growth: a library structure the program feeds without a named attribute in between. The remedy:
``try: ... finally: job_stack.pop()`` (or a context manager); with contextvars directly, ``token = var.set(...)`` and
``var.reset(token)``.
"""
# verdict: leak
# kinds: library-leak|growing-container|long-lived-large
# holder: worker_ctx

import contextvars

from werkzeug.local import LocalProxy, LocalStack

from rounds import run

job_stack = LocalStack()
current_job = LocalProxy(lambda: job_stack.top)
worker_ctx = contextvars.copy_context()


class JobContext:
    def __init__(self, n):
        self.job_id = "job-%06d" % n
        self.payload = {"rows": [(i, "row %d of job %d" % (i, n)) for i in range(4)], "attempt": 1}
        self.log = []


class JobFailed(Exception):
    pass


def step():
    current_job.log.append("processing %s" % current_job.job_id)
    if current_job.payload["rows"][0][1].endswith(("1", "3", "5", "7", "9")):
        raise JobFailed(current_job.job_id)


def run_job(n):
    job_stack.push(JobContext(n))
    step()
    job_stack.pop()  # the bug: skipped when step() raises


def run_guarded(n):
    try:
        run_job(n)
    except JobFailed:
        pass


def handle(n):
    worker_ctx.run(run_guarded, n)


run(handle, 100)
