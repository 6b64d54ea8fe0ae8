"""A logging.handlers.MemoryHandler with a huge capacity and a flush level that is never reached, on the root logger.

Real-world bug class: buffering log handlers that never flush (capacity set "high enough", flushLevel=CRITICAL,
no target). The handler's buffer keeps every LogRecord, with its args and message, for ever.
A right diagnosis names the handler's buffer list (reached from sys.modules['logging'].root.handlers[0].buffer)
as the growing holder, a library structure the program feeds, and says to give it a target and a sane capacity
(or flush it periodically).
"""
# verdict: leak
# kinds: growing-container|library-leak
# holder: .buffer
import logging
import logging.handlers

import rounds

handler = logging.handlers.MemoryHandler(capacity=10_000_000, flushLevel=logging.CRITICAL)
logging.root.addHandler(handler)
logging.root.setLevel(logging.INFO)
log = logging.getLogger("orders")


def handle(n):
    log.info("order %d placed by %s for %d items", n, "user-%d" % (n % 50), n % 7 + 1)


rounds.run(handle, 300)
