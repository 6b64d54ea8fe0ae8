"""Control: weakref.finalize whose callback does not refer to its object (so it fires), copy.deepcopy with a fresh memo
per call, and a caching descriptor that keeps values in a WeakKeyDictionary.

The finalizer registry is what leak_finalize_self_ref grows; here finalizers fire and leave it.
"""
# verdict: no-leak
import copy
import weakref
import rounds


def release(buffer):
    buffer.clear()


class Connection:
    def __init__(self, n):
        self.n = n
        self.buffer = ["chunk-%d-%d" % (n, i) for i in range(8)]
        weakref.finalize(self, release, self.buffer)   # holds the buffer, not the connection


class cached:
    def __init__(self, func):
        self.func = func
        self.values = weakref.WeakKeyDictionary()

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        try:
            return self.values[obj]
        except KeyError:
            v = self.values[obj] = self.func(obj)
            return v


class Order:
    def __init__(self, n):
        self.n = n
        self.lines = [("sku-%d" % (n * 10 + i), i + 1) for i in range(5)]

    @cached
    def summary(self):
        return {"order": self.n, "lines": [("%s x%d" % l) for l in self.lines]}


TEMPLATE = {"header": {"v": 1, "tags": ["a", "b"]}, "body": []}


def handle(n):
    conn = Connection(n)
    doc = {"id": n, "user": "user-%d" % n, "items": [{"sku": "s%d" % i, "qty": i} for i in range(4)]}
    clone = copy.deepcopy(doc)          # fresh memo each call
    tmpl = copy.deepcopy(TEMPLATE, {})  # explicit but per-call memo
    o = Order(n)
    s = o.summary
    return len(conn.buffer) + clone["id"] + len(tmpl) + len(s["lines"])


rounds.run(handle, 500)
