"""A module-level object whose instance __dict__ is materialised and whose first attribute shadows a class default.

Real-world bug class: a growing dict attribute of a long-lived service object (port of the shadowed_class_attr
repro). The class has a class-level default `timeout` that __init__ overrides; the instance dict is materialised
(accessed through __dict__), which on 3.11 changes how the attributes are laid out. The growing attribute
`by_key` must still be named.
A right diagnosis names sys.modules['__main__'].registry.by_key as the growing container.
"""
# verdict: leak
# kinds: growing-container
# holder: registry.by_key
import rounds


class JobRegistry:
    timeout = 30  # class-level default ...

    def __init__(self):
        self.timeout = 10  # ... overridden per instance (the first key of the instance dict)
        self.name = "jobs"
        self.by_key = {}

    def add(self, key, value):
        self.__dict__.setdefault("hits", 0)  # any __dict__ access materialises the dict on 3.11
        self.by_key[key] = value


registry = JobRegistry()


def handle(n):
    registry.add("job-%d" % n, {"n": n, "payload": "x" * 200})


rounds.run(handle, 300)
