"""Failure isolation and hostile classes: one odd object never ends a capture, a failed capture
keeps nothing alive, and no hook a class can define is ever called by the agent."""

import collections
import functools
import gc
import io
import shutil
import sys
import tempfile
import time
import unittest
import warnings
import weakref

import leakbook

from tests.snaptools import Loaded

CALLS = collections.Counter()


def count(name):
    CALLS[name] += 1


class Plain(object):
    """The layout the hostile classes below share (an instance dict): their sizes must be its."""

    def __init__(self):
        self.items = ["plain"]


class PythonSizeof(Plain):
    def __sizeof__(self):
        count("PythonSizeof.__sizeof__")
        return 10 ** 9


class PrintSizeof(Plain):
    __sizeof__ = print  # sys.getsizeof would call print(): a write to sys.stdout


class ListSizeof(Plain):
    __sizeof__ = list.__sizeof__  # sys.getsizeof raises TypeError: not a list


class PlainList(list):
    pass


class PythonSizeofList(list):
    def __sizeof__(self):
        count("PythonSizeofList.__sizeof__")
        return 3


class HostileMeta(type):
    def __getattr__(cls, name):
        count("HostileMeta.__getattr__")
        raise AttributeError(name)

    def __eq__(cls, other):
        count("HostileMeta.__eq__")
        return False

    def __hash__(cls):
        count("HostileMeta.__hash__")
        return 1

    def __repr__(cls):
        count("HostileMeta.__repr__")
        return "hostile class"

    def __instancecheck__(cls, obj):
        count("HostileMeta.__instancecheck__")
        return False

    def __subclasscheck__(cls, sub):
        count("HostileMeta.__subclasscheck__")
        return False


class Hostile(Plain, metaclass=HostileMeta):
    """Every hook a class can define, each counting its calls."""

    def __init__(self):
        object.__setattr__(self, "items", ["hostile"])
        object.__setattr__(self, "other", {"key": "value"})

    def __sizeof__(self):
        count("Hostile.__sizeof__")
        return 1

    def __repr__(self):
        count("Hostile.__repr__")
        return "hostile"

    def __str__(self):
        count("Hostile.__str__")
        return "hostile"

    def __eq__(self, other):
        count("Hostile.__eq__")
        return False

    def __hash__(self):
        count("Hostile.__hash__")
        return 1

    def __getattribute__(self, name):
        count("Hostile.__getattribute__")
        return object.__getattribute__(self, name)

    def __getattr__(self, name):
        count("Hostile.__getattr__")
        raise AttributeError(name)

    def __len__(self):
        count("Hostile.__len__")
        return 5

    def __iter__(self):
        count("Hostile.__iter__")
        return iter(())

    def __bool__(self):
        count("Hostile.__bool__")
        return True

    def __dir__(self):
        count("Hostile.__dir__")
        return []

    def __reduce__(self):
        count("Hostile.__reduce__")
        return (Hostile, ())

    @property
    def prop(self):
        count("Hostile.prop")
        return 1

    @property
    def __class__(self):
        count("Hostile.__class__")
        return Plain

    @property
    def __dict__(self):
        count("Hostile.__dict__")
        return {}


class HostileDict(dict):
    def __getitem__(self, key):
        count("HostileDict.__getitem__")
        return None

    def __iter__(self):
        count("HostileDict.__iter__")
        return iter(())

    def items(self):
        count("HostileDict.items")
        return []

    def keys(self):
        count("HostileDict.keys")
        return []

    def __len__(self):
        count("HostileDict.__len__")
        return 0


class HostileList(list):
    def __iter__(self):
        count("HostileList.__iter__")
        return iter(())

    def __getitem__(self, i):
        count("HostileList.__getitem__")
        return None

    def __len__(self):
        count("HostileList.__len__")
        return 0


@functools.lru_cache(maxsize=5, typed=True)
def hostile_cached(n):
    return [n]


@functools.lru_cache(maxsize=6, typed=True)
def honest_cached(n):
    return [n]


def counting_cache_info():
    count("hostile_cached.cache_info")
    return functools._CacheInfo(100, 100, 100, 100)


def counting_cache_parameters():
    count("hostile_cached.cache_parameters")
    return {"maxsize": 100, "typed": False}


hostile_cached.cache_info = counting_cache_info
hostile_cached.cache_parameters = counting_cache_parameters


class CountingStream(io.StringIO):
    def write(self, text):
        count("sys.stdout.write")
        return super().write(text)


class Unreadable(object):
    """Instances whose type information the tests make fail (see test_one_odd_object...)."""

    def __init__(self, i):
        self.payload = ["unreadable %d" % i]


class Big(object):
    def __init__(self):
        self.data = bytearray(50 * 1024 * 1024)


HELD = []


def fail(*args):
    raise RuntimeError("injected capture failure")


class IsolationTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="leakbook-test-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def patch(self, owner, name, value):
        old = owner.__dict__[name]
        setattr(owner, name, value)
        self.addCleanup(setattr, owner, name, old)

    def test_one_odd_object_is_recorded_incomplete_and_the_capture_goes_on(self):
        huge = range(10 ** 20)  # len() raises OverflowError
        unreadable = [Unreadable(i) for i in range(3)]
        marker = ["lbtest-isolation-marker"]
        setup = leakbook._Graph.instance_setup

        def failing_setup(graph, t, info):
            if t is Unreadable:
                raise ValueError("injected type failure")
            return setup(graph, t, info)
        self.patch(leakbook._Graph, "instance_setup", failing_setup)
        snap = Loaded(leakbook.snapshot(self.dir))
        meta = snap.header["meta"]
        kinds = {(k["type"], k["error"]): k["count"] for k in meta["failed_kinds"]}
        self.assertEqual(kinds.get(("builtins.range", "OverflowError")), 1)
        self.assertEqual(kinds.get((__name__ + ".Unreadable", "ValueError")), 3)
        self.assertEqual(meta["failed_objects"], sum(kinds.values()))
        flags, sizes, lengths = snap.columns["obj_flags"], snap.columns["obj_size"], snap.columns["obj_length"]
        i = snap.index_of(huge)
        self.assertIsNotNone(i)
        self.assertEqual(snap.type_name(i), "builtins.range")
        self.assertTrue(flags[i] & leakbook.FLAG_INCOMPLETE)
        self.assertEqual(sizes[i], sys.getsizeof(huge))  # read before len() failed
        self.assertEqual(lengths[i], leakbook.NONE)
        for obj in unreadable:
            i = snap.index_of(obj)
            self.assertIsNotNone(i)
            self.assertEqual(snap.type_name(i), __name__ + ".Unreadable")
            self.assertEqual(flags[i] & (leakbook.FLAG_INCOMPLETE | leakbook.FLAG_TRACKED),
                             leakbook.FLAG_INCOMPLETE | leakbook.FLAG_TRACKED)
            self.assertEqual(sizes[i], 0)
            # What the instance holds is still in the snapshot (found through the GC's list).
            self.assertIsNotNone(snap.index_of(obj.payload))
        incomplete = sum(1 for f in flags if f & leakbook.FLAG_INCOMPLETE)
        self.assertEqual(incomplete, meta["failed_objects"])
        i = snap.index_of(marker)
        self.assertEqual(flags[i] & leakbook.FLAG_INCOMPLETE, 0)
        self.assertEqual(snap.value(list(snap.edges(i))[0][0]), marker[0])
        # Every column still has one entry per object and the edges are consistent.
        n = snap.header["counts"]["objects"]
        self.assertEqual(len(snap.columns["edge_start"]), n + 1)
        self.assertEqual(snap.columns["edge_start"][n], snap.header["counts"]["edges"])

    def test_a_snapshot_without_failures_says_so(self):
        snap = Loaded(leakbook.snapshot(self.dir))
        self.assertEqual(snap.header["meta"]["failed_objects"], 0)
        self.assertEqual(snap.header["meta"]["failed_kinds"], [])
        self.assertFalse(any(f & leakbook.FLAG_INCOMPLETE for f in snap.columns["obj_flags"]))

    def test_census_with_odd_objects(self):
        objs = [ListSizeof(), PrintSizeof(), PythonSizeof()]
        census = leakbook.read_snapshot(leakbook.snapshot(self.dir, census=True))["header"]["census"]
        self.assertEqual(census["failed_objects"], 0)
        for obj in objs:
            entry = census["types"][__name__ + "." + type(obj).__name__]
            self.assertEqual(entry, [1, sys.getsizeof(Plain())])

    def test_census_counts_objects_whose_size_fails(self):
        unreadable = [Unreadable(i) for i in range(3)]
        sizer = leakbook._size_function

        def failing_sizer(t):
            if t is Unreadable:
                return fail
            return sizer(t)
        self.patch(leakbook, "_size_function", failing_sizer)
        header = leakbook.read_snapshot(leakbook.snapshot(self.dir, census=True))["header"]
        self.assertEqual(header["census"]["failed_objects"], len(unreadable))
        self.assertEqual(header["meta"]["failed_objects"], len(unreadable))
        self.assertEqual(header["census"]["types"][__name__ + ".Unreadable"], [3, 0])
        self.assertGreater(header["census"]["types"]["builtins.list"][0], 0)

    def assert_freed_after_a_failed_capture(self, owner, name):
        self.patch(owner, name, fail)
        was_enabled = gc.isenabled()
        gc.disable()  # freed by reference counting alone: no cycle may hold the heap
        try:
            # Held by a global only: a frame's local would stay in the locals dict that reading
            # f_locals stores on a running frame on 3.11 and 3.12 (see capture.md, Frames).
            HELD.append(Big())
            ref = weakref.ref(HELD[0])
            # Not assertRaises: it clears the traceback's frames, which would hide a reference
            # that the capture left in them.
            failed = False
            try:
                leakbook.snapshot(self.dir)
            except RuntimeError as error:
                failed = "injected capture failure" in str(error)
            self.assertTrue(failed)
            del HELD[:]
            self.assertIsNone(ref())
        finally:
            if was_enabled:
                gc.enable()

    def test_a_capture_failing_after_the_walk_keeps_nothing_alive(self):
        # The walk has reached every object (and still holds the GC's object list) when it fails.
        self.assert_freed_after_a_failed_capture(leakbook._Graph, "module_bounds")

    def test_a_capture_failing_in_the_layout_keeps_nothing_alive(self):
        self.assert_freed_after_a_failed_capture(leakbook, "_full_layout")

    def test_a_capture_failing_to_write_keeps_nothing_alive(self):
        self.assert_freed_after_a_failed_capture(leakbook, "_write_file")

    def wait(self, condition, seconds=60):
        deadline = time.time() + seconds
        while not condition() and time.time() < deadline:
            time.sleep(0.02)
        self.assertTrue(condition())

    def test_a_recorder_reports_a_run_of_failures_once_and_keeps_trying(self):
        walk_end = leakbook._Graph.__dict__["module_bounds"]
        self.patch(leakbook._Graph, "module_bounds", fail)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            recorder = leakbook.start(self.dir, interval=0.05, at_exit=False)
            try:
                self.wait(lambda: recorder.failures >= 3)
                self.assertEqual(recorder.paths, [])
                self.assertIn("injected capture failure", recorder.last_error)
                leakbook._Graph.module_bounds = walk_end
                self.wait(lambda: len(recorder.paths) >= 1)
                Loaded(recorder.paths[0])
                leakbook._Graph.module_bounds = fail
                failures = recorder.failures
                self.wait(lambda: recorder.failures >= failures + 2)
            finally:
                recorder.stop()
        messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        self.assertEqual(len(messages), 2, messages)  # one per run of failures
        for message in messages:
            self.assertIn("injected capture failure", message)

    def test_no_hook_of_a_hostile_class_runs(self):
        plain = Plain()
        objs = {
            "python_sizeof": PythonSizeof(),
            "print_sizeof": PrintSizeof(),
            "list_sizeof": ListSizeof(),
            "hostile": Hostile(),
            "hostile_dict": HostileDict(a=["in hostile dict"]),
            "hostile_list": HostileList([["in hostile list"]]),
            "sized_list": PythonSizeofList(range(100)),
        }
        type_names = {"python_sizeof": "PythonSizeof", "print_sizeof": "PrintSizeof",
                      "list_sizeof": "ListSizeof", "hostile": "Hostile", "hostile_dict": "HostileDict",
                      "hostile_list": "HostileList", "sized_list": "PythonSizeofList"}
        plain_list = PlainList(range(100))
        for n in (1, 2, 1, 1):
            hostile_cached(n)
            honest_cached(n)
        stdout = sys.stdout
        sys.stdout = CountingStream()
        CALLS.clear()
        try:
            snap = Loaded(leakbook.snapshot(self.dir))
        finally:
            calls = dict(CALLS)
            sys.stdout = stdout
        self.assertEqual(calls, {})
        self.assertEqual(snap.header["meta"]["failed_objects"], 0)
        flags, sizes = snap.columns["obj_flags"], snap.columns["obj_size"]
        for name, obj in objs.items():
            i = snap.index_of(obj)
            self.assertIsNotNone(i, name)
            self.assertEqual(snap.type_name(i), __name__ + "." + type_names[name], name)
            self.assertEqual(flags[i] & leakbook.FLAG_INCOMPLETE, 0, name)
        # The layout of an instance with a dict, as sys.getsizeof reports it without an override.
        for name in ("python_sizeof", "print_sizeof", "list_sizeof", "hostile"):
            self.assertEqual(sizes[snap.index_of(objs[name])], sys.getsizeof(plain), name)
        self.assertEqual(sizes[snap.index_of(objs["sized_list"])], sys.getsizeof(plain_list))
        # The hostile instance's attributes are still found, by identity.
        hostile_dict = object.__getattribute__(objs["hostile"], "other")
        self.assertIsNotNone(snap.index_of(hostile_dict))
        self.assertIsNotNone(snap.index_of(dict.__getitem__(objs["hostile_dict"], "a")))
        self.assertIsNotNone(snap.index_of(list.__getitem__(objs["hostile_list"], 0)))
        # lru_cache figures come from the C wrapper, not from the replaced attributes.
        entries = {c["name"]: c for c in snap.header["lru_caches"]}
        hostile = entries[__name__ + ".hostile_cached"]
        self.assertEqual((hostile["hits"], hostile["misses"], hostile["maxsize"], hostile["currsize"]),
                         (2, 2, 5, 2))
        self.assertIsNone(hostile["typed"])  # only the replaced cache_parameters could tell
        honest = entries[__name__ + ".honest_cached"]
        self.assertEqual((honest["hits"], honest["misses"], honest["maxsize"], honest["currsize"]),
                         (2, 2, 6, 2))
        self.assertEqual(honest["typed"], True if sys.version_info >= (3, 9) else None)


if __name__ == "__main__":
    unittest.main()
