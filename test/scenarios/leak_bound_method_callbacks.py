"""Per-request session objects that register their own close method in a module-level shutdown hook list.

Real-world bug class: bound methods in callback lists (observer / signal patterns without unsubscribe). A bound
method keeps its __self__, so the list keeps every session, with its buffers, long after the request ended.
A right diagnosis names the list (sys.modules['__main__'].ON_SHUTDOWN) holding bound methods whose __self__ are
__main__.Session objects, and says to unregister in close(), or store weakref.WeakMethod instead.
"""
# verdict: leak
# kinds: bound-method-retention|growing-container
# holder: __main__'].ON_SHUTDOWN
import rounds

ON_SHUTDOWN = []


class Session:
    def __init__(self, n):
        self.user = "user-%d" % n
        self.cart = [("sku-%d" % (n + i), i) for i in range(5)]
        ON_SHUTDOWN.append(self.flush)  # registered, never removed

    def flush(self):
        self.cart.clear()


def handle(n):
    session = Session(n)
    return len(session.cart)


rounds.run(handle, 300)
