"""A long-lived worker thread that keeps per-request data in a threading.local and never clears it.

Real-world bug class: thread-local state in pooled threads. The worker stays alive for the life of the process,
so whatever a request leaves in threading.local (here a list of the requests it served, with their payloads)
accumulates; the storage is reached only through the local object and the thread.
A right diagnosis names the thread-local's list `served` (reached from sys.modules['__main__'].state, the local,
through the worker thread's storage: the path ends at that list, not at the per-thread dict above it) as a
growing container and says to clear the per-request state at the end of each request.
"""
# verdict: leak
# kinds: growing-container
# holder: served
import queue
import threading

import rounds

state = threading.local()
requests = queue.Queue()
done = queue.Queue()


def worker():
    state.served = []
    while True:
        n = requests.get()  # blocked here while the snapshots are taken
        if n is None:
            return
        state.served.append({"request": n, "body": "b" * 80})  # never cleared between requests
        done.put(n)


thread = threading.Thread(target=worker, name="request-worker", daemon=True)
thread.start()


def handle(n):
    requests.put(n)
    done.get()


rounds.run(handle, 300)
requests.put(None)
thread.join()
