"""A service that logs a lot through a fixed set of module loggers, with the request id in the message.

The correct counterpart of leak_logger_per_request: logging.getLogger is called with a handful of names, so
logging's Manager.loggerDict stays at a fixed size; the records go to a handler that formats and drops them.
A right diagnosis says no leak (the logging registry is not growing).
"""
# verdict: no-leak
import logging

import rounds


class CountingHandler(logging.Handler):
    def __init__(self):
        super().__init__()
        self.count = 0

    def emit(self, record):
        self.format(record)
        self.count += 1


logging.root.addHandler(CountingHandler())
logging.root.setLevel(logging.INFO)
NAMES = ["svc.http", "svc.db", "svc.cache", "svc.auth"]


def handle(n):
    log = logging.getLogger(NAMES[n % len(NAMES)])
    log.info("request %d from %s took %d ms", n, "10.0.0.%d" % (n % 250), n % 90)


rounds.run(handle, 400)
