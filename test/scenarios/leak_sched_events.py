"""A retry planner enters a sched.scheduler event per failed request, but nothing ever runs the scheduler.

Real-world bug class: a scheduler whose run() was never wired in. Every event, with the job it retries, waits in
the scheduler's queue.
A right diagnosis names the scheduler's queue (sys.modules['__main__'].planner._queue) and says to run the
scheduler or cancel events.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: sys.modules['__main__'].planner._queue
# remedy: scheduler.run()
import sched
import time
import rounds

planner = sched.scheduler(time.monotonic, time.sleep)


def retry(job):
    job["attempts"] += 1


def handle(n):
    job = {"id": n, "url": "https://svc/%d" % n, "attempts": 0}
    if n % 3:  # two failures in three
        planner.enter(60, 1, retry, argument=(job,))


rounds.run(handle, 450)
