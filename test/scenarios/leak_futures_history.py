"""A job service that submits work to a ThreadPoolExecutor and keeps every Future in self.history for a status page.

Real-world bug class: futures kept after use. A Future holds its result, or its exception with the traceback and
the worker's frames, so a history of futures grows with every job; the failed ones keep whole stacks.
A right diagnosis names the instance attribute list (sys.modules['__main__'].service.history) as the holder,
growing with concurrent.futures.Future objects, and says to keep only a bounded summary (a deque(maxlen=N) of
(id, state) pairs) or to drop futures once collected.
"""
# verdict: leak
# kinds: growing-container|traceback-retention
# holder: service.history
import concurrent.futures

import rounds


def resize(job):
    pixels = [job % 251] * 40
    if job % 5 == 0:
        raise ValueError("job %d: image too large" % job)
    return {"job": job, "checksum": sum(pixels)}


class JobService:
    def __init__(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="resize")
        self.history = []

    def run(self, job):
        future = self.pool.submit(resize, job)
        self.history.append(future)  # kept for the status page, never trimmed
        try:
            return future.result()
        except ValueError:
            return None


service = JobService()
rounds.run(service.run, 300)
