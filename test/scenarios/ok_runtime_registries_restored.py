"""Control: the interpreter-level registries of the leak programs used correctly. Per request: a handler added to
the 'app' logger and removed in finally; filters changed only inside warnings.catch_warnings(); a gc callback
appended and removed; a generated-source linecache entry evicted after use; a dynamic module put in sys.modules
and deleted; sys.path extended temporarily and restored.
"""
# verdict: no-leak
import gc
import io
import linecache
import logging
import sys
import types
import warnings

import rounds

log = logging.getLogger("app")
log.setLevel(logging.INFO)
log.propagate = False


class Mon:
    def __init__(self, n):
        self.n = n
        self.pauses = []

    def on_gc(self, phase, info):
        pass


def handle(n):
    h = logging.StreamHandler(io.StringIO())
    h.setFormatter(logging.Formatter("[req %d] %%(message)s" % n))
    log.addHandler(h)
    try:
        log.info("request %d", n)
    finally:
        log.removeHandler(h)
        h.close()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"endpoint /api/%d .*" % n, category=DeprecationWarning)
        warnings.warn("endpoint /api/%d is deprecated" % n, DeprecationWarning)
    mon = Mon(n)
    gc.callbacks.append(mon.on_gc)
    gc.callbacks.remove(mon.on_gc)
    src = "def f(x):\n    return x * %d\n" % n
    fn = "<generated %d>" % n
    linecache.cache[fn] = (len(src), None, src.splitlines(True), fn)
    ns = {}
    exec(compile(src, fn, "exec"), ns)
    linecache.cache.pop(fn, None)
    name = "tenant_plugins.p%d" % n
    mod = types.ModuleType(name)
    mod.data = ["d%d" % i for i in range(5)]
    sys.modules[name] = mod
    del sys.modules[name]
    sys.path.append("/srv/plugins/%d" % n)
    sys.path.remove("/srv/plugins/%d" % n)
    return ns["f"](2)


rounds.run(handle, 400)
