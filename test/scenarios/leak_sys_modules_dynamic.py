"""A plugin host that materialises each uploaded script as a module object (types.ModuleType), execs its code into
it and registers it in sys.modules so other code can import it by name. Each upload gets a unique name and the
modules are never removed.

True holder: sys.modules
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules
# type: builtins.module
# remedy: del sys.modules[name]
import sys
import types

import rounds

SRC = """
RULES = [("rule-%d-" + str(i), i * 3) for i in range(8)]
def apply(x):
    return sum(v for _, v in RULES) + x
"""


def load_plugin(n):
    name = "tenant_plugins.p%d" % n
    mod = types.ModuleType(name)
    mod.__file__ = "<upload %d>" % n
    exec(compile(SRC % n, mod.__file__, "exec"), mod.__dict__)
    sys.modules[name] = mod  # bug: never removed
    return mod.apply(n)


rounds.run(load_plugin, 250)
