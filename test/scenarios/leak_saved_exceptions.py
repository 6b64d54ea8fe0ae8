"""A retry helper that keeps the exceptions of failed attempts in self.failures, for a later report.

Real-world bug class: saved exceptions. An exception keeps its __traceback__, the traceback keeps the frames,
and the frames keep their locals: here each failure keeps the request's parsed rows (a few hundred objects).
A right diagnosis names the list (sys.modules['__main__'].retrier.failures) and the tracebacks it keeps, and says
to keep traceback.format_exception(...) text or clear the traceback (exc.__traceback__ = None /
traceback.clear_frames) instead of the live exception.
"""
# verdict: leak
# kinds: traceback-retention|growing-container
# holder: retrier.failures
import rounds


def import_batch(n):
    rows = [{"line": i, "value": "%d;%d" % (n, i)} for i in range(30)]  # kept alive by the frame
    if n % 3 == 0:
        raise ValueError("batch %d: bad row %d" % (n, len(rows) - 1))
    return len(rows)


class Retrier:
    def __init__(self):
        self.failures = []

    def attempt(self, n):
        try:
            return import_batch(n)
        except ValueError as exc:
            self.failures.append(exc)  # the exception, its traceback, the frame and its rows
            return None


retrier = Retrier()
rounds.run(retrier.attempt, 300)
