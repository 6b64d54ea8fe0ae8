"""Control: singledispatch renderers registered once at import, a request-scoped logging.Filter added and removed per
request, and ChainMap.new_child() per request kept local (never assigned back).

The dispatch registry and the handler's filters are what leak_singledispatch_register and a filter leak would grow;
here they stay the same size.
"""
# verdict: no-leak
import collections
import functools
import io
import logging
import rounds


class Invoice:
    def __init__(self, n):
        self.n = n
        self.rows = [("sku-%d" % i, i) for i in range(5)]


class Refund(Invoice):
    pass


@functools.singledispatch
def render(obj):
    return repr(obj)


@render.register
def _(obj: Invoice):
    return "invoice %d (%d rows)" % (obj.n, len(obj.rows))


@render.register
def _(obj: Refund):
    return "refund %d" % obj.n


@render.register
def _(obj: dict):
    return ",".join(sorted(obj))


log = logging.getLogger("svc.ok")
log.propagate = False
handler = logging.StreamHandler(io.StringIO())
handler.setFormatter(logging.Formatter("%(req)s %(message)s"))
log.addHandler(handler)
log.setLevel(logging.INFO)


class RequestFilter(logging.Filter):
    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx

    def filter(self, record):
        record.req = self.ctx["id"]
        return True


BASE = collections.ChainMap({"timeout": 30, "retries": 3})


def handle(n):
    ctx = {"id": n, "user": "user-%d" % n, "headers": {"h%d" % i: "v" * 10 for i in range(4)}}
    f = RequestFilter(ctx)
    handler.addFilter(f)
    try:
        cfg = BASE.new_child({"request_id": n, "tags": ["t%d" % i for i in range(4)]})
        obj = Refund(n) if n % 3 == 0 else Invoice(n)
        log.info("%s %s %s", render(obj), render(ctx), cfg["timeout"])
    finally:
        handler.removeFilter(f)
    if n % 50 == 0:
        handler.stream.seek(0)
        handler.stream.truncate()


rounds.run(handle, 600)
