"""Capture agent tests on heaps built inside the test process (and scripts run by it)."""

import collections
import contextvars
import enum
import functools
import gc
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import weakref

import leakbook

from tests.snaptools import Loaded, direct_walk, evaluate, module_roots

AGENT_DIR = os.path.dirname(os.path.abspath(leakbook.__file__))
MODULE = __name__


class Marker(object):
    """Instances are counted in the snapshot."""

    label = ["class attribute"]

    def __init__(self, i):
        self.name = "lbtest-marker-%d" % i
        self.payload = [i, ("nested", ["deep %d" % i])]


class Slotted(object):
    __slots__ = ("first", "__hidden")

    def __init__(self):
        self.first = ["slot value"]
        self.__hidden = ["mangled slot value"]


def make_closure():
    captured = ["closure value"]

    def inner():
        return captured
    return inner


@functools.lru_cache(maxsize=None)
def cached_square(n):
    return [n * n]


class Bare(object):
    """Its own code sets no attribute: fill_bare does."""


def fill_bare(bare):
    bare.contents = ["set by another function"]
    bare.partner = Slotted()
    setattr(bare, "odd-name", ["non-identifier attribute"])
    setattr(bare, "class", ["keyword attribute"])
    return bare


class Defaulted(object):
    items = None  # a class-level default that the instance attribute hides

    def __init__(self):
        self.items = ["instance value over a class default"]


class Shadowing(object):
    """Instance attributes that hide class attributes of the same name (a class-level default
    overridden in __init__, a method replaced per instance); a property that must never run."""

    timeout = 30
    calls = []

    def handle(self):
        return None

    @property
    def watched(self):
        Shadowing.calls.append("property ran")
        return None

    def __init__(self, materialise=False):
        self.handle = ["per-instance handler"]  # hides a method: a descriptor, never read
        self.timeout = 10
        self.name = "jobs"
        self.by_key = {"lbtest-shadow": ["shadowed holder value"]}
        if materialise:
            self.__dict__.setdefault("hits", 0)  # materialises the dict on 3.11 and 3.12


class Intercepting(object):
    """Overrides attribute access as unittest.mock and proxies do; neither hook may run during a capture."""

    calls = []

    def __init__(self):
        self.__dict__["records"] = ["intercepted holder value"]
        self.__dict__["name"] = "metrics"

    def __getattribute__(self, name):
        Intercepting.calls.append("__getattribute__ %s" % name)
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        Intercepting.calls.append("__getattr__ %s" % name)
        raise AttributeError(name)


class ShadowingSlots(object):
    __slots__ = ("first", "__dict__")
    timeout = 30

    def __init__(self):
        self.first = ["slot"]
        self.timeout = 10
        self.by_key = {"lbtest-shadow": ["slotted holder value"]}


class WatchedDeque(collections.deque):
    """Its `maxlen` property must never run: the bound is read with deque's own getter."""

    calls = []

    @property
    def maxlen(self):
        WatchedDeque.calls.append("property ran")
        return 1


class WatchedQueue(queue.Queue):
    calls = []

    def __getattr__(self, name):
        WatchedQueue.calls.append(name)
        raise AttributeError(name)


@functools.lru_cache(maxsize=16)
def bounded_square(n):
    return [n * n]


WEAKLY_HELD = []
BOUNDED = {
    "deque7": collections.deque(maxlen=7),
    "full3": collections.deque(range(10), maxlen=3),
    "unbounded": collections.deque(range(4)),
    "zero": collections.deque(maxlen=0),
    "queue5": queue.Queue(maxsize=5),
    "queue_unbounded": queue.Queue(),
    "lifo4": queue.LifoQueue(4),
    "priority6": queue.PriorityQueue(6),
    "watched_deque": WatchedDeque([1, 2], maxlen=9),
    "watched_queue": WatchedQueue(11),
}

class Color(enum.Enum):
    RED = 1
    GREEN = 2


MARKERS = [Marker(i) for i in range(300)]
SLOTTED = Slotted()
CLOSURE = make_closure()
TABLE = {"user:42": ["dict value"], 42: ["int key value"], ("a", 1): ["tuple key value"]}
KEYED = {"lbtest-key-%d" % i: i for i in range(1000)}
BARE = fill_bare(Bare())
DEFAULTED = Defaulted()
SHADOWING = (Shadowing(), Shadowing(materialise=True), ShadowingSlots())
INTERCEPTING = Intercepting()
CONTEXT_VARS = []
ODD_KEYS = {None: ["none key"], 2.5: ["float key"], True: ["bool key"], b"raw": ["bytes key"],
            ("t", (1, None)): ["nested tuple key"], 1 + 2j: ["complex key"],
            Color.GREEN: ["enum key"], frozenset([1]): ["frozenset key"], float("nan"): ["nan key"]}


class CaptureTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def capture(self, **options):
        return Loaded(leakbook.snapshot(self.dir, **options))

    def test_an_existing_file_is_never_replaced(self):
        mine = os.path.join(self.dir, "mine.lbsnap")
        with open(mine, "wb") as f:
            f.write(b"the user's own file")
        with self.assertRaises(FileExistsError):
            leakbook.snapshot(mine)
        # Nor is a file that happens to carry the name of the temporary file.
        other = os.path.join(self.dir, "other.lbsnap")
        with open(other + ".partial", "wb") as f:
            f.write(b"not the agent's")
        with self.assertRaises(FileExistsError):
            leakbook.snapshot(other)
        for path, content in ((mine, b"the user's own file"), (other + ".partial", b"not the agent's")):
            with open(path, "rb") as f:
                self.assertEqual(f.read(), content)
        self.assertFalse(os.path.exists(other))
        # The default names never collide: two captures into one directory give two files.
        first, second = leakbook.snapshot(self.dir), leakbook.snapshot(self.dir)
        self.assertNotEqual(first, second)
        self.assertTrue(os.path.exists(first) and os.path.exists(second))

    def assert_evaluates(self, snap, obj, root_ok=module_roots, must_contain=None):
        index = snap.index_of(obj)
        self.assertIsNotNone(index, "object not in the snapshot")
        expression = snap.path_expression(index, root_ok)
        self.assertIsNotNone(expression, "no evaluable path")
        self.assertIs(evaluate(expression), obj, expression)
        if must_contain:
            self.assertIn(must_contain, expression)
        return expression

    def test_type_counts_equal_a_direct_walk(self):
        gc.collect()  # garbage collected between the two walks would make them differ
        path = leakbook.snapshot(os.path.join(self.dir, "snap.lbsnap"))
        direct, _ = direct_walk()  # before reading the file, which allocates a lot
        snap = Loaded(path)
        counts = snap.type_counts()
        for name in (MODULE + ".Marker", MODULE + ".Slotted", "builtins.function", "builtins.type",
                     "builtins.module", "builtins.cell"):
            self.assertEqual(counts[name], direct[name], name)
        self.assertEqual(counts[MODULE + ".Marker"], 300)
        # Whole-heap totals differ only by what the test itself allocated in between.
        difference = (counts - direct) + (direct - counts)
        self.assertLess(sum(difference.values()), 0.02 * sum(direct.values()),
                        difference.most_common(5))

    def test_string_totals_include_dict_keys(self):
        snap = self.capture()
        # CPython's traversal of a str-keyed dict skips the keys: they must be there anyway.
        self.assertEqual(gc.get_referents(KEYED), list(KEYED.values()))
        found = [snap.index_of(k) for k in KEYED]
        self.assertNotIn(None, found)
        self.assertTrue(all(snap.type_name(i) == "builtins.str" for i in found))
        self.assertEqual(sum(snap.columns["obj_size"][i] for i in found),
                         sum(sys.getsizeof(k) for k in KEYED))
        self.assertEqual([snap.value(i) for i in found], list(KEYED))
        self.assertEqual([snap.columns["obj_length"][i] for i in found], [len(k) for k in KEYED])
        str_type = snap.types.index("builtins.str")
        total = sum(s for t, s in zip(snap.columns["obj_type"], snap.columns["obj_size"])
                    if t == str_type)
        self.assertGreater(total, sum(sys.getsizeof(k) for k in KEYED))

    def test_labels_evaluate_to_the_recorded_object(self):
        snap = self.capture()
        self.assert_evaluates(snap, TABLE["user:42"], must_contain="['user:42']")
        self.assert_evaluates(snap, TABLE[42], must_contain="[42]")
        self.assert_evaluates(snap, TABLE[("a", 1)], must_contain="[('a', 1)]")
        self.assert_evaluates(snap, Marker.label, must_contain="__dict__['label']")
        self.assert_evaluates(snap, SLOTTED.first, must_contain=".first")
        self.assert_evaluates(snap, SLOTTED._Slotted__hidden, must_contain="._Slotted__hidden")
        self.assert_evaluates(snap, CLOSURE.__closure__[0].cell_contents,
                              must_contain=".__closure__[0].cell_contents")
        self.assert_evaluates(snap, MARKERS[7].payload[1][1], must_contain="[1][1]")
        self.assert_evaluates(snap, MARKERS[7].name)

    @unittest.skipUnless(sys.version_info >= (3, 11), "inline attribute values are 3.11+")
    def test_inline_attributes_are_named_without_materialising_dict(self):
        before = [type(r) for r in gc.get_referents(MARKERS[3])]
        snap = self.capture()
        after = [type(r) for r in gc.get_referents(MARKERS[3])]
        self.assertEqual(before, after)
        self.assertNotIn(dict, after)
        expression = self.assert_evaluates(snap, MARKERS[3].payload)
        self.assertTrue(expression.endswith("[3].payload"), expression)

    def test_attributes_set_outside_the_class_are_named(self):
        before = [type(r) for r in gc.get_referents(BARE)]
        other = fill_bare(Bare())  # named with the names learned on the first instance searched
        snap = self.capture()
        self.assertEqual([type(r) for r in gc.get_referents(BARE)], before)
        if sys.version_info >= (3, 11):
            self.assertNotIn(dict, before)  # inline values, no __dict__ materialised
        holder = snap.index_of(BARE)
        labels = {snap.label_text(kind, label): target for target, kind, label in snap.edges(holder)
                  if kind != leakbook.EDGE_OPAQUE}
        if sys.version_info >= (3, 11):
            other_labels = {snap.label_text(kind, label): target
                            for target, kind, label in snap.edges(snap.index_of(other))}
            self.assertEqual(other_labels[".contents"], snap.index_of(other.contents))
            self.assertEqual(other_labels[".partner"], snap.index_of(other.partner))
            defaulted = snap.index_of(DEFAULTED)
            self.assertIn((snap.index_of(DEFAULTED.items), leakbook.EDGE_SUFFIX, ".items"),
                          [(t, k, snap.label_text(k, l)) for t, k, l in snap.edges(defaulted)])
            self.assertEqual(labels[".contents"], snap.index_of(BARE.contents))
            self.assertEqual(labels[".partner"], snap.index_of(BARE.partner))
        # Evaluating `.__dict__[...]` materialises the dict: these come last.
        self.assert_evaluates(snap, BARE.partner.first, must_contain="partner")
        self.assert_evaluates(snap, BARE.contents, must_contain="contents")
        self.assert_evaluates(snap, DEFAULTED.items, must_contain="items")
        self.assert_evaluates(snap, getattr(BARE, "odd-name"), must_contain="['odd-name']")
        self.assert_evaluates(snap, getattr(BARE, "class"), must_contain="['class']")

    def test_instance_dict_that_shadows_class_attributes_is_labelled(self):
        plain, materialised, slotted = SHADOWING
        before = [[type(r) for r in gc.get_referents(o)] for o in (plain, materialised, slotted)]
        snap = self.capture()
        self.assertEqual([[type(r) for r in gc.get_referents(o)] for o in (plain, materialised, slotted)],
                         before, "the capture materialised a __dict__")
        self.assertEqual(Shadowing.calls, [])
        materialised_seen = []
        for holder in (plain, materialised, slotted):
            labels = [snap.label_text(kind, label) for target, kind, label in snap.edges(snap.index_of(holder))]
            self.assertNotIn("<referent>", labels)
            if any(type(r) is dict and "by_key" in r for r in gc.get_referents(holder)):
                self.assertIn(".__dict__", labels)  # a materialised dict, reached as such
                materialised_seen.append(holder)
            expression = self.assert_evaluates(snap, holder.by_key)
            self.assertTrue(expression.endswith((".by_key", ".__dict__['by_key']")), expression)
        # Before 3.11 every instance has its dict; 3.11 and 3.12 materialise it on __dict__ access.
        if sys.version_info < (3, 13):
            self.assertIn(materialised, materialised_seen)

    @unittest.skipIf(sys.version_info >= (3, 13), "3.13+: such a dict is not reported by the GC, and adopting it "
                     "needs the names learned for generic classes only (docs/capture.md)")
    def test_instance_dict_of_a_class_that_intercepts_attribute_access_is_labelled(self):
        del Intercepting.calls[:]  # unittest's loader asks every module global for its __class__
        snap = self.capture()
        self.assertEqual(Intercepting.calls, [])
        labels = [snap.label_text(kind, label) for target, kind, label in snap.edges(snap.index_of(INTERCEPTING))]
        self.assertIn(".__dict__", labels)
        records = object.__getattribute__(INTERCEPTING, "__dict__")["records"]
        expression = self.assert_evaluates(snap, records)
        self.assertRegex(expression, r"INTERCEPTING('\])?\.(records|__dict__\['records'\])$")

    def test_a_context_variable_leads_to_its_value_in_the_capturing_thread(self):
        var = contextvars.ContextVar("lbtest_context")
        value = ["lbtest context value"]
        token = var.set(value)
        CONTEXT_VARS.append(var)
        try:
            snap = self.capture()
            edges = {snap.label_text(kind, label): target for target, kind, label in snap.edges(snap.index_of(var))}
            self.assertEqual(edges.get(".get()"), snap.index_of(value))
            self.assertTrue(self.assert_evaluates(snap, value).endswith(".get()"))
        finally:
            CONTEXT_VARS.remove(var)
            var.reset(token)

    def test_dict_keys_of_other_types(self):
        snap = self.capture()
        for key, text in ((None, "[None]"), (2.5, "[2.5]"), (True, "[True]"),
                          (b"raw", "[b'raw']"), (("t", (1, None)), "[('t', (1, None))]"),
                          (1 + 2j, "[(1+2j)]"), (Color.GREEN, "[sys.modules[%r].Color['GREEN']]" % MODULE)):
            self.assert_evaluates(snap, ODD_KEYS[key], must_contain="['ODD_KEYS']" + text)
        # Keys with no literal form: an opaque label naming the key object.
        table = snap.index_of(ODD_KEYS)
        for key, value in ODD_KEYS.items():
            if type(key) in (frozenset, float) and key != 2.5:
                edges = [(kind, snap.label_text(kind, label)) for target, kind, label
                         in snap.edges(table) if target == snap.index_of(value)]
                self.assertEqual(edges, [(leakbook.EDGE_OPAQUE,
                                          "<value of key #%d>" % snap.index_of(key))])

    def test_frame_locals_of_another_thread(self):
        ready = threading.Event()
        release = threading.Event()
        box = []

        def worker():
            local_object = ["thread local value"]
            box.append(local_object)
            ready.set()
            release.wait(30)

        thread = threading.Thread(target=worker, name="lbtest-worker")
        thread.start()
        try:
            ready.wait(10)
            snap = self.capture()
            root = "sys._current_frames()[%d]" % thread.ident
            expression = self.assert_evaluates(snap, box[0],
                                               root_ok=lambda text, kind: text == root,
                                               must_contain=".f_locals['local_object']")
            self.assertTrue(expression.startswith(root))
            threads = {t["name"]: t for t in snap.header["threads"]}
            self.assertEqual(threads["lbtest-worker"]["ident"], thread.ident)
            self.assertIsNotNone(threads["lbtest-worker"]["frame"])
        finally:
            release.set()
            thread.join()

    def test_lru_cache_info(self):
        cached_square.cache_clear()
        for n in range(12):
            cached_square(n)
        cached_square(3)
        snap = self.capture()
        entries = [c for c in snap.header["lru_caches"] if c["name"] == MODULE + ".cached_square"]
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertEqual((entry["hits"], entry["misses"], entry["currsize"], entry["maxsize"]),
                         (1, 12, 12, None))
        self.assertEqual(snap.type_name(entry["object"]), "functools._lru_cache_wrapper")
        labels = [snap.label_text(k, l) for _, k, l in snap.edges(entry["object"])]
        self.assertIn("<lru_cache storage>", labels)
        self.assertIn(".__wrapped__", labels)

    def test_bounds_of_deques_queues_and_caches(self):
        bounded_square(3)
        referents = {name: [type(r) for r in gc.get_referents(o)] for name, o in BOUNDED.items()}
        snap = self.capture()
        bounds = {}
        for index, bound in snap.header["bounds"]:
            self.assertNotIn(index, bounds)
            bounds[index] = bound

        def bound(obj):
            index = snap.index_of(obj)
            self.assertIsNotNone(index)
            return bounds.get(index)

        expected = {"deque7": 7, "full3": 3, "unbounded": None, "zero": 0, "queue5": 5,
                    "queue_unbounded": None, "lifo4": 4, "priority6": 6, "watched_deque": 9,
                    "watched_queue": 11}
        self.assertEqual({name: bound(o) for name, o in BOUNDED.items()}, expected)
        # A Queue's bound is also its container's (a deque, a list for Lifo and Priority).
        self.assertEqual({name: bound(o.queue) for name, o in BOUNDED.items() if isinstance(o, queue.Queue)},
                         {"queue5": 5, "queue_unbounded": None, "lifo4": 4, "priority6": 6, "watched_queue": 11})
        self.assertEqual(snap.type_name(snap.index_of(BOUNDED["priority6"].queue)), "builtins.list")
        # The lru_cache's storage dict carries its maxsize, as does the header's lru_caches entry.
        wrapper = snap.index_of(bounded_square)
        storage = [t for t, kind, label in snap.edges(wrapper) if snap.label_text(kind, label) == "<lru_cache storage>"]
        self.assertEqual([bounds.get(t) for t in storage], [16])
        self.assertEqual([c["maxsize"] for c in snap.header["lru_caches"] if c["object"] == wrapper], [16])
        # The module caches of re are bounded by the module's own constant.
        import re
        self.assertEqual(bound(re._cache), re._MAXCACHE)
        # Nothing of the program ran and no __dict__ was materialised.
        self.assertEqual((WatchedDeque.calls, WatchedQueue.calls), ([], []))
        self.assertEqual({name: [type(r) for r in gc.get_referents(o)] for name, o in BOUNDED.items()}, referents)
        for index, value in bounds.items():
            self.assertTrue(0 <= index < len(snap.columns["obj_type"]) and type(value) is int and value >= 0)

    def test_weak_references_keep_nothing_alive(self):
        # Objects held only weakly; each in a cycle of its own, with the collector off, so that
        # they outlive their last strong reference from the roots.
        class Target(object):
            def method(self):
                return None

        class Key(object):
            pass

        was_enabled = gc.isenabled()
        gc.disable()
        try:
            target, key, strong_value = Target(), Key(), ["lbtest strong value"]
            target.cycle, key.cycle = target, key
            held = {
                "ref": weakref.ref(target), "proxy": weakref.proxy(target),
                "method": weakref.WeakMethod(target.method), "set": weakref.WeakSet([target]),
                "values": weakref.WeakValueDictionary({"lbtest-weak": target}),
                "keys": weakref.WeakKeyDictionary({key: strong_value}),
            }
            WEAKLY_HELD[:] = [held]
            ids = {"target": id(target), "key": id(key)}
            keyed_key = held["values"].data["lbtest-weak"].key  # a KeyedRef holds its key strongly
            refs = [held["ref"], held["method"], held["values"].data["lbtest-weak"]] + list(held["set"].data)
            del target, key
            snap = self.capture()
        finally:
            WEAKLY_HELD[:] = []
            if was_enabled:
                gc.enable()
        # Strong edges only: anything but the referent is reached (the KeyedRef's key, the
        # WeakKeyDictionary's value), the weakly held objects are not.
        roots = [r for r in snap.columns["root_object"]]
        reached = set(roots)
        stack = list(roots)
        while stack:
            for j, _kind, _label in snap.edges(stack.pop()):
                if j not in reached:
                    reached.add(j)
                    stack.append(j)
        for name, holder in held.items():
            self.assertIn(snap.index_of(holder), reached, name)  # the weak holders themselves are held
        self.assertIn(snap.index_of(keyed_key), reached)
        self.assertIn(snap.index_of(strong_value), reached)
        for name in ("target", "key"):
            index = snap.by_address.get(ids[name])
            self.assertIsNotNone(index, "%s is alive in a cycle and recorded" % name)
            self.assertNotIn(index, reached, name)
            # The only edges into it come from itself (its own __dict__ or inline attribute).
            sources = [i for i in range(len(snap.columns["obj_type"])) for j, _k, _l in snap.edges(i) if j == index]
            self.assertTrue(all(snap.type_name(i) in ("builtins.dict", snap.type_name(index)) for i in sources),
                            [snap.type_name(i) for i in sources])
        # Each weak reference names its referent by address instead: the reader finds who else keeps it.
        target_address = "0x%x" % ids["target"]
        for ref in refs:
            self.assertEqual(snap.value(snap.index_of(ref)), target_address, type(ref).__name__)

    def test_sequence_counts_every_capture_and_recorder_state_is_the_agents_own(self):
        first = leakbook.read_snapshot(leakbook.snapshot(self.dir))["header"]["meta"]["sequence"]
        recorder = leakbook.start(self.dir, interval=None, at_exit=False)
        recorder.capture()
        leakbook.snapshot(self.dir, census=True)
        recorder.capture()
        ids = {"recorder": id(recorder), "paths": id(recorder.paths)}
        del recorder
        try:
            path = leakbook.snapshot(self.dir)
        finally:
            leakbook._RECORDERS[-1].stop()
        snap = Loaded(path)
        sequences = [leakbook.read_snapshot(p)["header"]["meta"]["sequence"]
                     for p in sorted(os.path.join(self.dir, f) for f in os.listdir(self.dir))]
        self.assertEqual(sorted(sequences), list(range(first, first + 5)))
        self.assertEqual(snap.header["meta"]["sequence"], first + 4)
        # The Recorder and what it keeps are reached through the agent's module only: not through
        # its thread (threading._active), nor any other root. Other modules may hold the module.
        agent_roots = ("sys.modules['leakbook']", "sys.modules[%r]" % leakbook.__name__)
        reached = {snap.index_of(leakbook), snap.index_of(vars(leakbook))}
        stack = [r for r, label in zip(snap.columns["root_object"], snap.columns["root_label"])
                 if snap.strings[label] not in agent_roots]
        while stack:
            i = stack.pop()
            if i in reached:
                continue
            reached.add(i)
            stack.extend(j for j, _kind, _label in snap.edges(i))
        for name, address in ids.items():
            index = snap.by_address.get(address)
            self.assertIsNotNone(index, name)
            self.assertFalse(index in reached, name)
        self.assertIsNotNone(snap.path_expression(snap.by_address[ids["paths"]],
                                                  lambda text, kind: text in agent_roots))

    def test_census_agrees_with_full_snapshot(self):
        full = self.capture()
        census_path = leakbook.snapshot(os.path.join(self.dir, "census.lbsnap"), census=True)
        census = leakbook.read_snapshot(census_path)["header"]
        self.assertEqual(census["kind"], "census")
        self.assertIsNone(census["sections"] or None)
        types = census["census"]["types"]
        tracked = full.type_counts(tracked_only=True)
        self.assertEqual(types[MODULE + ".Marker"][0], tracked[MODULE + ".Marker"])
        self.assertEqual(types[MODULE + ".Marker"][1], 300 * sys.getsizeof(MARKERS[0]))
        self.assertLess(abs(census["census"]["objects"] - sum(tracked.values())),
                        0.05 * census["census"]["objects"])
        self.assertIsNotNone(census["memory"]["gc"])

    def test_census_sizes_are_exact_per_type(self):
        # Variable-size types (lists of different capacities, dicts, tuples) and fixed-size ones.
        lists = [list(range(n)) for n in range(40)]
        dicts = [{str(k): k for k in range(n)} for n in range(20)]
        census_path = leakbook.snapshot(os.path.join(self.dir, "census.lbsnap"), census=True)
        expected = collections.Counter()
        counts = collections.Counter()
        for o in gc.get_objects():
            if type(o) in (list, dict, Marker):
                expected[type(o).__name__] += sys.getsizeof(o)
                counts[type(o).__name__] += 1
        types = leakbook.read_snapshot(census_path)["header"]["census"]["types"]
        self.assertEqual(types[MODULE + ".Marker"], [300, 300 * sys.getsizeof(MARKERS[0])])
        # Between the census and the direct walk the test allocated a few lists and dicts itself.
        for name in ("list", "dict"):
            count, size = types["builtins." + name]
            self.assertLess(abs(count - counts[name]), 20, name)
            self.assertLess(abs(size - expected[name]), 20 * 1024, name)
        self.assertEqual(len(lists) + len(dicts), 60)

    def test_every_object_is_recorded_once(self):
        # The walk indexes by id only the objects that more than one reference may lead to; these
        # references do not each hold a count of their own, and must not record an object twice:
        # the keys of split-table dicts (the shared keys of a class's instance dicts), 3.13+ inline
        # values of a materialised __dict__, a suspended generator's locals (reported by the
        # generator and by its frame), a ContextVar's value (its context holds it, `.get()` leads
        # to it). And a list of objects each referenced once only.
        class Split(object):
            pass

        names = ["".join(["lbtest-split-", str(i)]) for i in range(4)]
        instances = []
        for k in range(6):
            instance = Split()
            for name in names:
                setattr(instance, name, ["split value %d" % k])
            instances.append(instance)
        # Far apart in the walk's order (strs between them): each dict in a chunk of its own.
        materialised = []
        for instance in instances[:3]:
            materialised.append(vars(instance))
            materialised.extend("lbtest filler %d" % i for i in range(100))
        del names, instance, name

        def generator():
            local = ["lbtest generator local"]
            yield len(local)
            yield local

        suspended = generator()
        next(suspended)
        frame = suspended.gi_frame
        variable = contextvars.ContextVar("lbtest_once")
        variable.set(["lbtest context value"])
        lone = [["lbtest lone %d" % i] for i in range(2000)]
        # Chunks of 4 objects: the dicts of `materialised` are resolved in batches of their own.
        chunk = leakbook.CHUNK
        leakbook.CHUNK = 4
        try:
            snap = self.capture()
        finally:
            leakbook.CHUNK = chunk
        addresses = list(snap.columns["obj_address"])
        self.assertEqual(len(addresses), len(set(addresses)))
        for held in (materialised[0], frame, lone[-1], lone[-1][0]):
            self.assertIsNotNone(snap.index_of(held))
        self.assertEqual(snap.type_counts()["%s.%s" % (MODULE, Split.__qualname__)], 6)

    def test_no_references_kept_and_no_bookkeeping_recorded(self):
        def capture_with_victim():
            # In a frame of its own: on 3.11/3.12 reading f_locals of a running frame stores
            # a locals dict on that frame until it returns (documented in docs/capture.md).
            victim = Marker(-1)
            return weakref.ref(victim), self.capture(), id(victim)

        ref, snap, address = capture_with_victim()
        self.assertIn(address, snap.by_address)
        # Frame objects made for running frames can sit in reference cycles: collect them.
        gc.collect()
        self.assertIsNone(ref())
        names = set(snap.types)
        self.assertNotIn("leakbook._Graph", names)
        self.assertNotIn("leakbook._TypeInfo", names)

    def test_capture_while_another_thread_inserts(self):
        shared = {i: i for i in range(100000)}
        stop = threading.Event()

        def mutate():
            n = 100000
            while not stop.is_set():
                shared[n] = [n]
                n += 1
                if n % 5000 == 0:
                    for k in range(n - 5000, n - 2500):
                        shared.pop(k, None)

        thread = threading.Thread(target=mutate)
        thread.start()
        try:
            snap = self.capture()
        finally:
            stop.set()
            thread.join()
        index = snap.index_of(shared)
        self.assertIsNotNone(index)
        self.assertGreaterEqual(snap.columns["obj_length"][index], 100000)

    def test_number_values_and_equal_values_share_an_entry(self):
        digits = "1234567"
        numbers = [int(digits), int(digits), -0.0, 0.0, 1.0, 1, 10 ** 40 - 1, -10 ** 40 + 1,
                   10 ** 40, float("inf"), "".join(["lbtest ", "same text"]),
                   "".join(["lbtest same ", "text"])]
        self.assertIsNot(numbers[0], numbers[1])
        self.assertIsNot(numbers[-1], numbers[-2])
        snap = self.capture()
        found = [snap.index_of(x) for x in numbers]
        self.assertNotIn(None, found)
        self.assertEqual([snap.value(i) for i in found],
                         [digits, digits, "-0.0", "0.0", "1.0", "1", "9" * 40, "-" + "9" * 40,
                          None, "inf", "lbtest same text", "lbtest same text"])
        names = snap.columns["obj_name"]
        self.assertEqual(names[found[0]], names[found[1]])
        self.assertEqual(names[found[-1]], names[found[-2]])
        self.assertEqual(len({names[i] for i in found[2:6]}), 4)  # -0.0, 0.0, 1.0 and 1 differ
        for i in found:
            self.assertEqual(snap.columns["obj_flags"][i] & leakbook.FLAG_VALUE,
                             0 if snap.value(i) is None else leakbook.FLAG_VALUE)

    def test_values_kept_aside_in_small_chunks(self):
        # The walk keeps sizes as 32-bit ints and larger ones aside, in chunks of CHUNK objects;
        # chunks of 100 objects put these far past the first chunk and chunk boundaries
        # everywhere. Sizes of 4 GiB are faked (allocating them is no test); 70000 filler type
        # names and lists around 2**15 items check type indexes and lengths past 16 bits.
        huge = [Marker(-2 - k) for k in range(4)]
        expected = [2 ** 32 - 1, 2 ** 32, 5 << 30, 2 ** 52 + 1]
        sizes = dict(zip(map(id, huge), expected))
        lists = [[None] * n for n in (32767, 32768, 70000)]
        bare = fill_bare(Bare())
        real_size, real_init, chunk = leakbook._size_function, leakbook._Graph.__init__, leakbook.CHUNK

        def fake_size(t):
            size = real_size(t)
            return (lambda o: sizes.get(id(o)) or size(o)) if t is Marker else size

        def padded_init(graph, *args):
            real_init(graph, *args)
            graph.type_names.extend(["lbtest.filler"] * 70000)

        leakbook._size_function, leakbook._Graph.__init__, leakbook.CHUNK = fake_size, padded_init, 100
        try:
            snap = self.capture()
        finally:
            leakbook._size_function, leakbook._Graph.__init__, leakbook.CHUNK = real_size, real_init, chunk
        found = [snap.index_of(m) for m in huge]
        self.assertGreater(min(found), 100)
        self.assertEqual([snap.columns["obj_size"][i] for i in found], expected)
        self.assertEqual([snap.type_name(i) for i in found], [MODULE + ".Marker"] * 4)
        self.assertEqual(snap.columns["obj_size"][snap.index_of(MARKERS[0])], sys.getsizeof(MARKERS[0]))
        self.assertEqual([snap.columns["obj_length"][snap.index_of(x)] for x in lists], [32767, 32768, 70000])
        self.assertEqual(snap.columns["obj_length"][snap.index_of(MARKERS[0])], leakbook.NONE)
        self.assertEqual(snap.type_name(snap.index_of(lists[0])), "builtins.list")
        starts = snap.columns["edge_start"]
        self.assertEqual(starts[-1], len(snap.columns["edge_target"]))
        self.assertTrue(all(a <= b for a, b in zip(starts, starts[1:])))
        self.assert_evaluates(snap, MARKERS[3].payload)
        if sys.version_info >= (3, 11):  # inline attributes named after the walk, in their chunk
            labels = [snap.label_text(k, l) for _, k, l in snap.edges(snap.index_of(bare))]
            self.assertIn(".contents", labels)

    def test_values_none_stores_no_contents(self):
        secret = "hunter2-" + "x" * 7 + "-lbtest-secret"
        holder = {"password": secret, secret + "-as-key": 1, "blob": secret.encode() + b"!"}
        for values, expect in (("prefix", True), ("none", False)):
            path = leakbook.snapshot(os.path.join(self.dir, values + ".lbsnap"), values=values)
            with open(path, "rb") as f:
                data = f.read()
            self.assertEqual(b"hunter2-xxxxxxx" in data, expect, values)
        snap = Loaded(path)
        self.assertIsNotNone(snap.index_of(holder))
        self.assertNotIn("argv", snap.header["meta"])


    def test_prefix_mode_cuts_every_text(self):
        holder = Secretive()
        setattr(holder, "pw=hunter2", ["non-identifier attribute"])
        holder.visible_name = {"ab": ["short key"], "abcdefgh": ["long key"], 123456: ["int key"],
                               12: ["small int key"], "num": [int("9876543"), float("0.123456")]}
        SECRET_HOLDER[:] = [holder]
        try:
            snap = self.capture(value_len=4)
            table = holder.visible_name
            expression = self.assert_evaluates(snap, table["ab"], must_contain="visible_name")
            self.assertTrue(expression.endswith("['ab']"), expression)
            self.assert_evaluates(snap, table[12], must_contain="[12]")
            for key in ("abcdefgh", 123456):
                edges = [(kind, snap.label_text(kind, label)) for target, kind, label
                         in snap.edges(snap.index_of(table)) if target == snap.index_of(table[key])]
                self.assertEqual(edges, [(leakbook.EDGE_OPAQUE,
                                          "<value of key #%d>" % snap.index_of(key))])
            number, ratio = table["num"]
            for obj, text in ((number, "9876"), (ratio, "0.12")):
                i = snap.index_of(obj)
                self.assertEqual(snap.value(i), text)
                self.assertTrue(snap.columns["obj_flags"][i] & leakbook.FLAG_TRUNCATED)
            self.assert_no_edge_names(snap, getattr(holder, "pw=hunter2"), "hunter2")
            self.assertFalse(any("hunter2" in text for text in snap.strings))
            self.assertTrue(all(len(a) <= 4 for a in snap.header["meta"]["argv"]))
            self.assertTrue(all(len(t["name"]) <= 4 for t in snap.header["threads"] if t["name"]))
        finally:
            del SECRET_HOLDER[:]

    def assert_no_edge_names(self, snap, obj, text):
        """Every edge to obj is opaque, and none names it with text."""
        target = snap.index_of(obj)
        self.assertIsNotNone(target)
        found = [(kind, snap.label_text(kind, label)) for i in range(len(snap.columns["obj_type"]))
                 for j, kind, label in snap.edges(i) if j == target]
        self.assertTrue(found)
        for kind, label in found:
            self.assertEqual(kind, leakbook.EDGE_OPAQUE, label)
            self.assertNotIn(text, label)

    def test_none_mode_keeps_code_names_only(self):
        holder = Secretive()
        setattr(holder, "pw=hunter2", ["non-identifier attribute"])
        holder.visible_name = {"ab": ["short key"], None: ["None key"]}
        SECRET_HOLDER[:] = [holder]
        try:
            snap = self.capture(values="none")
            expression = self.assert_evaluates(snap, holder.visible_name[None], must_contain="visible_name")
            self.assertTrue(expression.endswith("[None]"), expression)
            self.assert_evaluates(snap, ODD_KEYS[Color.GREEN],
                                  must_contain="['ODD_KEYS'][sys.modules[%r].Color['GREEN']]" % MODULE)
            self.assert_no_edge_names(snap, holder.visible_name["ab"], "ab")
            self.assert_no_edge_names(snap, getattr(holder, "pw=hunter2"), "hunter2")
            self.assertFalse(any("hunter2" in text for text in snap.strings))
            self.assertTrue(all(t["name"] is None for t in snap.header["threads"]))
        finally:
            del SECRET_HOLDER[:]

    def test_planted_markers_reach_no_file(self):
        """A program plants markers wherever it keeps text; each mode's file, as raw bytes (the
        format has no compression), holds only the ones that are names of the code."""
        script = os.path.join(self.dir, "planted.py")
        with open(script, "w") as f:
            f.write(PLANTED)
        env = dict(os.environ, PYTHONPATH=AGENT_DIR, lbsecret11="lbsecret12")
        subprocess.run([sys.executable, script, self.dir, "lbsecret09", "--token=lbsecret10"],
                       env=env, check=True, timeout=300)
        markers = {"lbsecret%02d" % i: i for i in range(40)}
        markers[str(PLANTED_CARD)] = "card"
        for mode in ("none", "prefix"):
            with open(os.path.join(self.dir, mode + ".lbsnap"), "rb") as f:
                data = f.read()
            present = {m for m in markers if m.encode() in data}
            self.assertEqual(sorted(markers[m] for m in present - PLANTED_CODE_NAMES), [], mode)
            self.assertEqual(present & PLANTED_CODE_NAMES, PLANTED_CODE_NAMES, mode)


class Secretive(object):
    """Its attributes are set by the tests of values modes."""


SECRET_HOLDER = []
# Markers of the planted program that are names of its code, written in both modes: an identifier
# attribute name set on an instance (05, also in a materialised __dict__: 06), an enum member's
# identifier name (13), a class name (19), a function name (20), a module name (21), a local variable
# name (24), a class attribute (26), a module global (29 and the long one 38), a slot (37).
PLANTED_CODE_NAMES = {"lbsecret%02d" % i for i in (5, 6, 13, 19, 20, 21, 24, 26, 29, 37, 38)}
PLANTED_CARD = 4111222233334444
PLANTED = r"""
import enum, functools, os, sys, threading, types
import leakbook

M = ["lbsecret%02d" % i for i in range(40)]
CARD = 4111222233334444

class Plain(object):
    def __init__(self):
        self.normal = 1

class Slotted(object):
    __slots__ = ("lbsecret37",)

class Spaced(object):
    pass

class E(enum.Enum):
    lbsecret13 = "lbsecret14"

E2 = enum.Enum("E2", [("x-lbsecret15", 1)])

@functools.lru_cache(maxsize=None)
def cached(*args, **kwargs):
    return len(args)

def lbsecret20():
    return 1

inline = Plain()
setattr(inline, "pw=lbsecret04", ["v4"])
inline.lbsecret05 = ["v5"]
mat = Plain()
vars(mat)["lbsecret06"] = ["v6"]
vars(mat)["x-lbsecret07"] = ["v7"]
slotted = Slotted()
slotted.lbsecret37 = ["v37"]
setattr(Spaced, "a-lbsecret27", ["v27"])
Spaced.lbsecret26 = ["v26"]
globals()["g-lbsecret28"] = ["v28"]
lbsecret29 = ["v29"]
globals()["lbsecret38_" + "a" * 100] = ["v38"]
HOLD = {
    "s": ["pre " + M[0]],
    "b": [M[1].encode()],
    M[2]: ["v2"],
    M[3] + "x" * 150: ["v3"],
    "n": ["x" + M[23]],
    (M[30], 1): ["v30"],
    M[33].encode(): ["v33"],
    "ba": bytearray(M[34].encode()),
    "exc": ValueError(M[35]),
    "nested": {"inner": {M[36]: [M[31]]}},
    CARD: ["card key"],
    "cardint": [CARD * 1, CARD + 1],
    "cardfloat": [float(CARD)],
    E.lbsecret13: ["enum key"],
    E2["x-lbsecret15"]: ["enum2 key"],
    "cls": type("lbsecret19", (), {}),
    "str-sub": type("S", (str,), {})(M[32]),
    "weird-keys": {M[22] + "=1": 1, "k": M[25]},
}
sys.modules["lbsecret21"] = types.ModuleType("lbsecret21")
cached(M[16]); cached(M[17], 2); cached(key=M[18])

stop = threading.Event()
def worker():
    lbsecret24 = ["v24"]
    stop.wait()
t = threading.Thread(target=worker, name=M[8], daemon=True)
t.start()
threading.current_thread().name = M[39]
for mode in ("none", "prefix"):
    leakbook.snapshot(os.path.join(sys.argv[1], mode + ".lbsnap"), values=mode, value_len=4)
stop.set()
t.join()
"""


class FileCheckTest(unittest.TestCase):
    """The reader behind `info` rejects damaged files with one line on stderr and exit 2."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="leakbook-test-")
        cls.good = leakbook.snapshot(os.path.join(cls.dir, "good.lbsnap"))
        with open(cls.good, "rb") as f:
            cls.data = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def info(self, *args):
        env = dict(os.environ, PYTHONPATH=AGENT_DIR)
        return subprocess.run([sys.executable, "-m", "leakbook", "info"] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_rejected(self, path, words):
        result = self.info(path)
        self.assertEqual(result.returncode, 2)
        err = result.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn(words, err)
        self.assertNotIn("Traceback", err)

    def test_good_file_json(self):
        result = self.info(self.good, "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout.decode())
        header = leakbook.read_snapshot(self.good)["header"]
        self.assertEqual(summary["objects"], header["counts"]["objects"])
        self.assertEqual(summary["edges"], header["counts"]["edges"])
        self.assertEqual(sum(t["count"] for t in summary["types"].values()), summary["objects"])
        self.assertGreater(summary["types"]["builtins.str"]["size"], 0)
        text = self.info(self.good)
        self.assertEqual(text.returncode, 0)
        self.assertIn("builtins.str", text.stdout.decode())

    def test_truncated(self):
        for cut in (len(self.data) - 1, len(self.data) // 2, 30, 5):
            self.assert_rejected(self.write("cut%d.lbsnap" % cut, self.data[:cut]), "truncated")

    def test_corrupted(self):
        data = bytearray(self.data)
        data[len(data) // 2] ^= 0x40
        self.assert_rejected(self.write("flip.lbsnap", bytes(data)), "corrupted")

    def test_missing_empty_foreign(self):
        self.assert_rejected(os.path.join(self.dir, "absent.lbsnap"), "no such file")
        self.assert_rejected(self.write("empty.lbsnap", b""), "empty")
        self.assert_rejected(self.write("other.json", b'{"address": 1}\n' * 10), "not a leakbook")

    def test_version_check(self):
        data = bytearray(self.data)
        data[8] = 9
        self.assert_rejected(self.write("v9.lbsnap", bytes(data)), "version")


SCRIPT = r"""
import sys
class Precious(object):
    pass
KEEP = [Precious() for _ in range(17)]
BLOB = bytearray(100000)
print(" ".join(sys.argv))
print(sys.path[0])
"""


class CommandLineTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")
        self.env = dict(os.environ, PYTHONPATH=AGENT_DIR)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_run_script_snapshots_at_exit(self):
        script = os.path.join(self.dir, "app.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        out = os.path.join(self.dir, "out")
        result = subprocess.run(
            [sys.executable, "-m", "leakbook", "run", "--out", out, "--tracemalloc", script, "a", "b"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.decode().splitlines()
        self.assertEqual(lines[0], script + " a b")
        self.assertEqual(lines[1], self.dir)
        files = [f for f in os.listdir(out) if f.endswith(leakbook.EXTENSION)]
        self.assertEqual(len(files), 1)
        snap = Loaded(os.path.join(out, files[0]))
        self.assertEqual(snap.type_counts()["__main__.Precious"], 17)
        sites = snap.header["alloc_sites"]
        self.assertTrue(sites)
        blob = [i for i in range(len(snap.columns["obj_type"]))
                if snap.type_name(i) == "builtins.bytearray" and snap.columns["obj_length"][i] == 100000]
        self.assertEqual(len(blob), 1)
        site = sites[snap.columns["obj_alloc"][blob[0]]]
        self.assertEqual((site[0]["file"], site[0]["line"]), (script, 6))
        traced = snap.header["memory"]["tracemalloc"]
        # The 100 kB bytearray is traced; tracemalloc's own bookkeeping is counted apart from it.
        self.assertGreaterEqual(traced["current"], 100000)
        self.assertGreater(traced["overhead"], 0)

    def test_run_exit_code_and_missing_script(self):
        script = os.path.join(self.dir, "fail.py")
        with open(script, "w") as f:
            f.write("import sys\nsys.exit(3)\n")
        result = subprocess.run([sys.executable, "-m", "leakbook", "run", "--out", self.dir, script],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        self.assertEqual(result.returncode, 3)
        self.assertEqual(len([f for f in os.listdir(self.dir) if f.endswith(".lbsnap")]), 1)
        result = subprocess.run([sys.executable, "-m", "leakbook", "run", "nope.py"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        self.assertEqual(result.returncode, 2)
        self.assertNotIn(b"Traceback", result.stderr)

    @unittest.skipIf(hasattr(sys, "remote_exec"), "3.14+ attaches through sys.remote_exec")
    def test_attach_names_alternatives(self):
        # Without gdb on PATH (tests/test_attach.py attaches for real, to processes of its own).
        nothing = os.path.join(self.dir, "empty")
        os.mkdir(nothing)
        result = subprocess.run([sys.executable, "-m", "leakbook", "attach", str(os.getpid())],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(self.env, PATH=nothing))
        self.assertEqual(result.returncode, 2)
        err = result.stderr.decode()
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn("leakbook run", err)
        self.assertIn("SIGUSR2", err)

    @unittest.skipUnless(hasattr(signal, "SIGUSR2"), "needs SIGUSR2")
    def test_recorder_signal_and_stop(self):
        recorder = leakbook.start(self.dir, interval=None, signal=signal.SIGUSR2, at_exit=False)
        try:
            os.kill(os.getpid(), signal.SIGUSR2)
            deadline = time.time() + 60
            while not recorder.paths and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(len(recorder.paths), 1)
            self.assertEqual(recorder.failures, 0)
            Loaded(recorder.paths[0])
        finally:
            recorder.stop()
        self.assertIsNot(signal.getsignal(signal.SIGUSR2), recorder._on_signal)


if __name__ == "__main__":
    unittest.main()
