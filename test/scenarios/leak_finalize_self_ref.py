"""Connections register a weakref.finalize cleanup whose callback is the connection's own bound method.

Real-world bug class: weakref.finalize(obj, obj.close). The callback refers to the object, so the finalizer's
registry keeps the object alive, it is never collected, and the finalizer never runs.
A right diagnosis names weakref.finalize's registry and says that the callback and its arguments must not refer to
the object.
"""
# verdict: leak
# kinds: library-leak|class-attribute|growing-container
# holder: finalize._registry
# remedy: never the object itself
import weakref
import rounds


class Connection:
    def __init__(self, n):
        self.n = n
        self.buffer = ["chunk-%d-%d" % (n, i) for i in range(8)]

    def close(self):
        self.buffer.clear()


def handle(n):
    conn = Connection(n)
    weakref.finalize(conn, conn.close)   # the callback keeps conn alive: the finalizer never fires
    sum(len(c) for c in conn.buffer)


rounds.run(handle, 300)
