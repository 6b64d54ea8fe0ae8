"""A serializer built on functools.singledispatch; each request defines a record class and registers a renderer for it.

Real-world bug class: register() called at run time for classes made per request. The dispatch registry (a dict
in the closure of singledispatch, shown read-only as `.registry`) keeps every class and renderer for the life of
the function.
A right diagnosis reaches the registry through sys.modules['__main__'].render.registry and says to register once at
import time, not to capture less in a closure.
"""
# verdict: leak
# kinds: library-leak|closure-retention|growing-container
# holder: sys.modules['__main__'].render.registry
# remedy: Register implementations once
import functools
import rounds


@functools.singledispatch
def render(obj):
    return repr(obj)


def handle(n):
    fields = {"name": "tenant-%d" % n, "rows": [("col-%d" % i, "v" * 20) for i in range(5)]}
    Record = type("Record_%d" % n, (object,), dict(fields))   # a fresh class per request

    @render.register(Record)
    def _render_record(obj, _fields=fields):
        return "%s(%d rows)" % (_fields["name"], len(_fields["rows"]))

    render(Record())


rounds.run(handle, 300)
