"""A helper with a mutable default argument that it appends to: the classic `def f(x, seen=[])` bug.

Real-world bug class: mutable default arguments. The default list is created once, when the def runs, and kept
in the function's __defaults__, so every call that relies on the default appends to the same list.
A right diagnosis names the default (sys.modules['__main__'].collect_tags.__defaults__[0]) as a growing mutable
default argument and says to default to None and create the list inside the function.
"""
# verdict: leak
# kinds: default-argument|growing-container
# holder: collect_tags.__defaults__
import rounds


def collect_tags(item, tags=[]):
    tags.append(("tag-%d" % item["id"], item["kind"]))
    return tags


def handle(n):
    item = {"id": n, "kind": "order" if n % 2 else "refund"}
    return len(collect_tags(item))


rounds.run(handle, 400)
