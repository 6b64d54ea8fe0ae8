"""A ThreadPoolExecutor that does real work each request; the results are used and then dropped.

The pool's threads, its work queue and the futures all come and go: a thread pool at steady state. The futures
are collected and discarded, nothing keeps them (the counterpart of leak_futures_history).
A right diagnosis says no leak.
"""
# verdict: no-leak
import concurrent.futures

import rounds

pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")


def render(n):
    rows = [{"i": i, "label": "row %d of %d" % (i, n)} for i in range(25)]
    return sum(len(r["label"]) for r in rows)


def handle(n):
    futures = [pool.submit(render, n + k) for k in range(3)]
    return sum(f.result() for f in futures)


rounds.run(handle, 150)
pool.shutdown()
