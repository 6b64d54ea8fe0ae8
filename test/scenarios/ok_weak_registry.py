"""A registry of live connections keyed weakly (weakref.WeakValueDictionary): entries go when the connection does.

Each request opens a connection, registers it, uses it and drops it; the weak registry never keeps it. A handful
of long-lived connections stay registered the whole time.
A right diagnosis says no leak.
"""
# verdict: no-leak
import weakref

import rounds


class Connection:
    def __init__(self, n):
        self.id = n
        self.buffer = bytearray(200)
        self.log = ["open %d" % n]


LIVE = weakref.WeakValueDictionary()
POOL = [Connection(-i) for i in range(1, 6)]
for conn in POOL:
    LIVE[conn.id] = conn


def handle(n):
    conn = Connection(n)
    LIVE[n] = conn
    conn.log.append("GET /x/%d" % n)
    return len(LIVE)


rounds.run(handle, 300)
