"""A request handler that attaches a fresh StreamHandler (with its own buffer and formatter) to the shared 'app'
logger on every request, to tag that request's log lines, and never removes it.

True holder: logging.getLogger('app').handlers
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: .log.handlers
# remedy: removeHandler
import io
import logging

import rounds

log = logging.getLogger("app")
log.setLevel(logging.INFO)
log.propagate = False


class RequestTagFilter(logging.Filter):
    def __init__(self, req_id):
        super().__init__()
        self.req_id = req_id

    def filter(self, record):
        record.req_id = self.req_id
        return True


def handle(n):
    h = logging.StreamHandler(io.StringIO())
    h.setFormatter(logging.Formatter("[req %d] %%(message)s" % n))
    h.addFilter(RequestTagFilter("req-%d" % n))
    log.addHandler(h)  # bug: never log.removeHandler(h)
    body = ["line-%d" % i for i in range(5)]
    return len(body)


rounds.run(handle, 400)
