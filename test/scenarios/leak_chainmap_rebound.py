"""Request-scoped settings layered with ChainMap.new_child(), the child assigned back to the module-level settings.

Real-world bug class: a global rebound each time to a new object built from the old one (x = x.new_child(...),
x = x + [item], x = {**x, key: value}). No container grows in place: each new ChainMap's list of maps is one longer
than the one before, and only the module's namespace is there in every snapshot.
A right diagnosis names the rebound global (sys.modules['__main__'].settings), not the module's namespace, and says
to keep the base and derive per-request values in a local.
"""
# verdict: leak
# kinds: growing-container|long-lived-large
# holder: sys.modules['__main__'].settings
# remedy: rebound|new, larger object
import collections
import rounds

settings = collections.ChainMap({"timeout": 30, "retries": 3})


def handle(n):
    global settings
    settings = settings.new_child({"request_id": n, "user": "user-%d" % n, "tags": ["t%d" % i for i in range(4)]})
    return settings["timeout"]


rounds.run(handle, 300)
