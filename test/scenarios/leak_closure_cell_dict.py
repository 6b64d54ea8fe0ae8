"""A memoising lookup built by a factory: the cache is a dict in the closure of the returned function.

Real-world bug class: hand-rolled memoisation in a closure (`def make_lookup(): cache = {}; def lookup(k): ...`).
The dict is reached only through the function's __closure__ cell, not from any module or class attribute,
and the keys (per-request ids) never repeat.
A right diagnosis names the closure cell's dict (sys.modules['__main__'].lookup_user.__closure__[0].cell_contents)
as a growing container and says to bound it (functools.lru_cache(maxsize=N)) or key it by something bounded.
"""
# verdict: leak
# kinds: growing-container|closure-retention
# holder: lookup_user.__closure__
import rounds


def make_lookup():
    cache = {}

    def lookup(key):
        if key not in cache:
            cache[key] = {"key": key, "name": "user %s" % key, "roles": ["reader"]}
        return cache[key]

    return lookup


lookup_user = make_lookup()


def handle(n):
    return lookup_user("session-%d" % n)["name"]


rounds.run(handle, 300)
