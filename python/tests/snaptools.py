"""Helpers for the capture tests: look objects up in a read snapshot and turn retention paths
into Python expressions."""

import builtins
import collections
import gc
import sys
import types

import leakbook


class Loaded(object):
    """A snapshot read back with leakbook.read_snapshot, with lookups by address."""

    def __init__(self, path):
        snap = leakbook.read_snapshot(path)
        self.header = snap["header"]
        self.columns = snap["columns"]
        self.strings = snap["strings"]
        self.types = self.header["types"]
        self.by_address = {int(a): i for i, a in enumerate(self.columns["obj_address"])}

    def index_of(self, obj):
        return self.by_address.get(id(obj))

    def type_name(self, i):
        return self.types[self.columns["obj_type"][i]]

    def value(self, i):
        name = self.columns["obj_name"][i]
        return None if name == leakbook.NONE else self.strings[name]

    def edges(self, i):
        c = self.columns
        for e in range(c["edge_start"][i], c["edge_start"][i + 1]):
            yield c["edge_target"][e], c["edge_kind"][e], c["edge_label"][e]

    def label_text(self, kind, label):
        if kind == leakbook.EDGE_INDEX:
            return "[%d]" % label
        return self.strings[label]

    def type_counts(self, tracked_only=False):
        counts = collections.Counter()
        flags = self.columns["obj_flags"]
        for i, t in enumerate(self.columns["obj_type"]):
            if not tracked_only or flags[i] & leakbook.FLAG_TRACKED:
                counts[self.types[t]] += 1
        return counts

    def global_index(self, module, name):
        """Index of the object bound to `name` in the module's namespace."""
        c = self.columns
        root = "sys.modules[%r]" % module
        for r, label in zip(c["root_object"], c["root_label"]):
            if self.strings[label] == root:
                for namespace, kind, label in self.edges(r):
                    if self.label_text(kind, label) == ".__dict__":
                        for j, kind, label in self.edges(namespace):
                            if self.label_text(kind, label) == "[%r]" % name:
                                return j
        return None

    def path_expression(self, target, root_ok):
        """Shortest evaluable expression from an accepted root to object index `target`."""
        c = self.columns
        parent = {}
        queue = collections.deque()
        for r, kind, label in zip(c["root_object"], c["root_kind"], c["root_label"]):
            text = self.strings[label]
            if r not in parent and root_ok(text, kind):
                parent[r] = (None, text)
                queue.append(r)
        while queue and target not in parent:
            i = queue.popleft()
            for j, kind, label in self.edges(i):
                if kind == leakbook.EDGE_OPAQUE or j in parent:
                    continue
                parent[j] = (i, self.label_text(kind, label))
                queue.append(j)
        if target not in parent:
            return None
        parts = []
        i = target
        while i is not None:
            i, text = parent[i]
            parts.append(text)
        return "".join(reversed(parts))


def evaluate(expression):
    return eval(expression, {"sys": sys, "gc": gc, "builtins": builtins})


def module_roots(text, kind):
    return kind == leakbook.ROOT_MODULE


def direct_walk():
    """An independent walk of the heap: every GC-tracked object, their referents recursively,
    the keys of every dict and the constants and names of code objects. Returns a Counter of type names and the objects' ids."""
    seen = {}
    stack = list(gc.get_objects())
    own = {id(seen), id(stack)}
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in own:
            continue
        seen[id(obj)] = obj
        stack.extend(gc.get_referents(obj))
        if type(obj) is dict:
            stack.extend(list(obj))
        elif type(obj) is types.CodeType:  # not a GC type: get_referents sees nothing inside
            stack.extend([obj.co_consts, obj.co_names, obj.co_filename, obj.co_name,
                          getattr(obj, "co_qualname", None)])
    counts = collections.Counter()
    for obj in seen.values():
        t = type(obj)
        counts["%s.%s" % (t.__module__, t.__qualname__)] += 1
    return counts, seen
