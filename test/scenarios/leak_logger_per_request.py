"""A service that names a logger after each connection (logging.getLogger("svc.conn.<id>")) and gives it a filter.

Real-world bug class: per-request or per-connection logger names. logging.Manager keeps every logger ever asked
for in Manager.loggerDict for the life of the process, so each new name is a Logger (and its filters) that never
goes away. Nothing in the program holds the loggers; only the standard library does.
A right diagnosis names logging's registry (sys.modules['logging'].root.manager.loggerDict or the same dict
through Logger.manager) as the holder, as a library registry the program feeds, and says to use one logger with
the connection id in the message (or a LoggerAdapter) instead of a logger per connection.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: .manager.loggerDict
import logging

import rounds

logging.basicConfig(level=logging.WARNING)


def handle(n):
    log = logging.getLogger("svc.conn.%d" % n)  # a new logger per connection
    log.addFilter(logging.Filter("peer-%d" % n))
    log.debug("accepted connection %d", n)
    payload = [("header-%d" % i, "v" * 20) for i in range(10)]
    return len(payload)


rounds.run(handle, 300)
