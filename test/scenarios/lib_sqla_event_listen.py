"""An SQLAlchemy engine that gains one event listener per request.

Models the per-request instrumentation bug reported again and again against SQLAlchemy: a web handler wants to time
or tag the statements of the current request, so it calls ``event.listen(engine, "before_cursor_execute", hook)``
with a closure over the request every time it runs and never calls ``event.remove``. The engine is process-wide, so
its dispatcher keeps every hook (and the request context each closure captured) in the deque
``engine.dispatch.before_cursor_execute.listeners``; every later statement also runs all the old hooks, so the service
gets slower as well as bigger. SQLAlchemy's global ``sqlalchemy.event.registry._key_to_collection`` grows alongside
(weak references to the same listeners), but it is the dispatcher's deque that keeps them alive.

A right diagnosis names that listener deque under the module-level engine as the growing holder (a library registry
the program feeds). The remedy: register the listener once at start-up and look the request up from a context
variable inside it, or pair each ``event.listen`` with ``event.remove(engine, "before_cursor_execute", hook)`` when
the request ends.
"""
# verdict: leak
# kinds: library-leak|growing-container
# holder: .dispatch.before_cursor_execute.listeners

import sqlalchemy as sa
from sqlalchemy import event

from rounds import run

engine = sa.create_engine("sqlite://")
with engine.begin() as conn:
    conn.execute(sa.text("CREATE TABLE hits (id INTEGER PRIMARY KEY, path TEXT)"))


class RequestContext:
    def __init__(self, n):
        self.request_id = "req-%06d" % n
        self.path = "/orders/%d" % (n % 97)
        self.headers = {"X-Request-Id": self.request_id, "User-Agent": "bench/1.0", "Accept": "application/json"}
        self.statements = []


def handle(n):
    ctx = RequestContext(n)

    def tag_statement(conn, cursor, statement, parameters, context, executemany):
        # The bug: a closure over this request, registered on the shared engine and never removed.
        ctx.statements.append(statement[:40])

    event.listen(engine, "before_cursor_execute", tag_statement)
    if n % 50 == 0:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO hits (path) VALUES (:p)"), {"p": ctx.path})


run(handle, 150)
