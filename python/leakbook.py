"""leakbook capture agent: heap snapshots of a running Python process.

One file, standard library only, Python 3.8+. Copy it next to an application or put
its directory on PYTHONPATH. Usage and guarantees: docs/capture.md. File format:
docs/snapshot-format.md.

    import leakbook
    leakbook.snapshot()                       # one full snapshot in the current directory
    leakbook.start("/tmp/snaps", interval=60) # periodic snapshots plus one at exit

    python3 -m leakbook run [--out DIR] [--interval S] [--tracemalloc] script.py [args...]
    python3 -m leakbook attach PID [--out DIR] [--timeout S]  # gdb on 3.8-3.13, sys.remote_exec on 3.14
    python3 -m leakbook info FILE [--json]
"""

import _thread
import _weakref  # weakref.ref without importing weakref.py
import array
import atexit
import bisect
import builtins
import collections
import errno
import functools
import gc
import io
import itertools
import json
import keyword
import operator
import os
import struct
import sys
import threading
import time
import types
import warnings
import zlib

# Everything a capture needs is imported here, not on first use: an import during the first
# capture would add thousands of objects between the first and the second snapshot.
try:
    import _tracemalloc  # the C module behind tracemalloc; importing it adds a few objects only
except ImportError:  # pragma: no cover - not CPython
    _tracemalloc = None
try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None
try:
    # glibc's malloc_trim: after a capture, hands the walk's freed heap back to the OS so that the next
    # snapshot's RSS shows the application, not what the last capture left behind.
    import ctypes
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (ImportError, OSError, AttributeError):  # not glibc (macOS, musl, Windows) or no ctypes
    _malloc_trim = None

__all__ = ["snapshot", "start", "Recorder", "read_snapshot", "SnapshotError", "main"]

AGENT_VERSION = "0.1.0"
FORMAT_VERSION = 1
EXTENSION = ".lbsnap"
MAGIC = b"LEAKBOOK"
TRAILER_MAGIC = b"LBEND001"
TRAILER_SIZE = 24

NONE = 0xFFFFFFFF
_KEY_LABEL = 0xFFFFFFFE  # walk-time edge label: `['key']` of the key edge just before (see _key_labels)
MAX_LENGTH = 0xFFFFFFFE
FLAG_TRACKED = 1
FLAG_TRUNCATED = 2
FLAG_VALUE = 4
FLAG_INCOMPLETE = 8       # reading the object failed: size 0, length or name unknown
EDGE_SUFFIX = 0
EDGE_INDEX = 1
EDGE_OPAQUE = 2
ROOT_MODULE = 0
ROOT_THREAD = 1
ROOT_GARBAGE = 2
ROOT_LAST_EXC = 3
ROOT_BUILTINS = 4
ROOT_OTHER = 5

ALLOC_FRAMES = 8
KEY_REPR_LIMIT = 200
NAME_LIMIT = 100           # longer strings are not tried as attribute names
ADOPT_TRIES = 20           # 3.13+: instances tried as the owner of one unreached dict
POOL_TRIES = 3             # instances per type searched with every name of the heap's code
INT_VALUE_DIGITS = 40
# The walk's columns grow in chunks of this many objects (and the edges of those objects): one
# big array grown by realloc is copied around the allocator's heap and leaves the old copies
# behind as free memory that the walk's other buffers do not fill (27 bytes/object of peak).
CHUNK = 1 << 14
# discover() resolves references this many at a time: its C loops run a few milliseconds each.
DISCOVER_STEP = 1 << 15

_LITTLE = sys.byteorder == "little"
_PREAMBLE = struct.Struct("<II")        # format version, header length
_TRAILER = struct.Struct("<IIQ")        # CRC-32, zero, file length
_PY311 = sys.version_info >= (3, 11)
# Since 3.13 an instance whose __dict__ was materialised keeps its values inline and the GC
# visits those values, not the dict: nothing reports the dict as the instance's referent.
_PY313 = sys.version_info >= (3, 13)
_IMPORT_TIME = time.time()

if array.array("I").itemsize != 4:  # pragma: no cover - no supported platform has this
    raise ImportError("leakbook needs a 4-byte array('I')")

# Descriptors of builtin types, called directly so that no metaclass or user override runs.
_TYPE_DICT = type.__dict__["__dict__"].__get__
_TYPE_MRO = type.__dict__["__mro__"].__get__
_TYPE_BASES = type.__dict__["__bases__"].__get__
_TYPE_BASE = type.__dict__["__base__"].__get__
_TYPE_MODULE = type.__dict__["__module__"].__get__
_TYPE_QUALNAME = type.__dict__["__qualname__"].__get__
_TYPE_NAME = type.__dict__["__name__"].__get__
_TYPE_FLAGS = type.__dict__["__flags__"].__get__
_MODULE_DICT = types.ModuleType.__dict__["__dict__"].__get__
_EXC_ATTRS = tuple(
    (BaseException.__dict__[name].__get__, "." + name)
    for name in ("args", "__traceback__", "__context__", "__cause__")
)
_EXC_DICT = BaseException.__dict__["__dict__"].__get__
_STR_SLICE = str.__getitem__
_STR_COPY = str.__str__
_INT_REPR = int.__repr__
_FLOAT_REPR = float.__repr__

_HEAPTYPE = 1 << 9
_HAVE_GC = 1 << 14
_MANAGED_DICT = 1 << 4  # Py_TPFLAGS_MANAGED_DICT, 3.11+
_GC_HEADER = sys.getsizeof([]) - [].__sizeof__()
_PRE_HEADER = 2 * struct.calcsize("P")
_PRE_HEADER_FLAGS = 0 if not _PY311 else _MANAGED_DICT | (1 << 3 if sys.version_info >= (3, 12) else 0)

_C_CALLABLES = (
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ClassMethodDescriptorType,
)
_SIZED = (
    str, bytes, bytearray, list, tuple, dict, set, frozenset,
    collections.deque, memoryview, array.array, range,
)
_MISSING = object()

_LRU_TYPE = getattr(functools, "_lru_cache_wrapper", None)
_FUNC_CODE = types.FunctionType.__dict__["__code__"].__get__
_FUNC_CLOSURE = types.FunctionType.__dict__["__closure__"].__get__
_CELL_CONTENTS = types.CellType.__dict__["cell_contents"].__get__
_CODE_FREEVARS = types.CodeType.__dict__["co_freevars"].__get__


def _lru_parameter_codes():
    """The code objects of functools.lru_cache's `cache_parameters` lambdas (3.9+), whose
    closure holds `maxsize` and `typed`: read from the cells, never called."""
    found = []
    pending = [functools.__dict__.get("lru_cache")]
    pending = [_FUNC_CODE(pending[0])] if type(pending[0]) is types.FunctionType else []
    while pending:
        code = pending.pop()
        for const in code.co_consts:
            if type(const) is types.CodeType:
                if const.co_name == "<lambda>" and "typed" in const.co_freevars:
                    found.append(const)
                pending.append(const)
    return tuple(found)


if _LRU_TYPE is not None:
    # The C wrapper's own methods, called on the wrapper: an instance attribute of the same
    # name (the wrapper has a __dict__) is never looked at.
    _LRU_CACHE_INFO = _LRU_TYPE.__dict__["cache_info"]
    _LRU_PARAMETER_CODES = _lru_parameter_codes()
_PARTIAL_TYPE = functools.partial
try:
    import _contextvars
    _CONTEXTVAR_TYPE = _contextvars.ContextVar
    _CONTEXTVAR_GET = _contextvars.ContextVar.get  # C: a lookup by identity in the current context
except ImportError:  # pragma: no cover - every CPython 3.7+ has it
    _CONTEXTVAR_TYPE = _CONTEXTVAR_GET = None
_DEQUE_MAXLEN = collections.deque.__dict__["maxlen"].__get__  # a C getter: None or an int

# Bounded containers of the standard library, recorded in the header's `bounds`. Classes:
# (module, class, attribute holding the bound, attribute holding the container it bounds),
# read only when a module of that name is already imported (the agent imports none of them).
_BOUNDED_CLASSES = (
    ("queue", "Queue", "maxsize", "queue"),            # and LifoQueue, PriorityQueue
    ("asyncio.queues", "Queue", "_maxsize", "_queue"),  # `maxsize` is a property there
)
# Module-level caches the module itself keeps to a size: (module, dict name, bound name).
_BOUNDED_MODULE_DICTS = (
    ("re", "_cache", "_MAXCACHE"),
    ("re", "_cache2", "_MAXCACHE2"),                    # 3.12+
    ("urllib.parse", "_parse_cache", "MAX_CACHE_SIZE"),  # before 3.11
)

# Attributes of exact builtin types that are plain C members or getters returning a stored
# reference; reading them runs no user code and allocates nothing.
_BUILTIN_ATTRS = {
    types.FunctionType: (
        "__code__", "__globals__", "__defaults__", "__kwdefaults__", "__closure__",
        "__module__", "__name__", "__qualname__", "__doc__", "__builtins__", "__type_params__",
    ),
    types.MethodType: ("__self__", "__func__"),
    types.BuiltinFunctionType: ("__self__", "__module__"),
    types.CellType if hasattr(types, "CellType") else type((lambda x: lambda: x)(0).__closure__[0]): (
        "cell_contents",
    ),
    types.TracebackType: ("tb_frame", "tb_next"),
    staticmethod: ("__func__",),
    classmethod: ("__func__",),
    property: ("fget", "fset", "fdel", "__doc__"),
    _PARTIAL_TYPE: ("func", "args", "keywords"),
    types.GeneratorType: ("gi_code", "__name__", "__qualname__") + (() if _PY311 else ("gi_frame",)),
    types.CoroutineType: ("cr_code", "__name__", "__qualname__") + (() if _PY311 else ("cr_frame",)),
    types.AsyncGeneratorType: ("ag_code", "__name__", "__qualname__") + (() if _PY311 else ("ag_frame",)),
}
if _LRU_TYPE is not None:
    _BUILTIN_ATTRS[_LRU_TYPE] = ("__wrapped__",)
if _CONTEXTVAR_TYPE is not None:
    _BUILTIN_ATTRS[_CONTEXTVAR_TYPE] = ("name",)
# Keep only attributes this interpreter has.
_BUILTIN_ATTRS = {
    t: tuple(name for name in names if name in _TYPE_DICT(t) or name in getattr(t, "__dict__", {}))
    for t, names in _BUILTIN_ATTRS.items()
}
if _LRU_TYPE is not None:
    _BUILTIN_ATTRS[_LRU_TYPE] = ("__wrapped__",)  # stored in the instance dict, not the type
_BUILTIN_ATTRS = {id(t): names for t, names in _BUILTIN_ATTRS.items()}
_CODE_ATTRS = tuple(n for n in ("co_consts", "co_names", "co_filename", "co_name", "co_qualname")
                    if hasattr(types.CodeType, n))

# Handling kinds of the walk's hot loop.
_K_LEAF = 0      # no referents (not a GC type), nothing to label
_K_SEQ = 1       # exact list/tuple/deque: items with index labels
_K_DICT = 2      # exact dict: keys and values
_K_OTHER = 3     # a handler method labels the referents

# What a position of an instance pattern holds (see _Graph.learn_pattern).
_P_CLASS = 0
_P_SLOT = 1
_P_ATTRIBUTE = 2
_P_DICT = 3
# Objects that report a frame's locals as their own referents (and ContextVar, whose `.get()`
# value its context holds): their edges are never lone references (see _Graph.discover).
_FRAME_HOLDERS = tuple(t for t in (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType,
                                   _CONTEXTVAR_TYPE) if t is not None)
# Instances of subclasses of these have more edges than their slots and attributes.
_PLAIN_INSTANCE_EXCLUDED = (dict, list, tuple, collections.deque, BaseException)

# Name kinds.
_N_NONE = 0
_N_STR = 1
_N_CALL = 2      # a function returns (text, is_value, truncated)


class SnapshotError(Exception):
    """A file that is not a complete, intact leakbook snapshot."""


# ----------------------------------------------------------------------------------------------
# Small helpers

def _one_of(t, choices):
    """`t in choices` by identity: == on a class could run its metaclass's __eq__."""
    for c in choices:
        if t is c:
            return True
    return False


def _class_items(c):
    """(name, value) pairs of a class's own namespace."""
    try:
        return list(_class_dict(c).items())
    except Exception:
        return []


def _class_dict(c):
    """A class's namespace (read-only proxy); empty for a type not ready yet."""
    try:
        d = _TYPE_DICT(c)
    except Exception:
        d = None
    return d if d is not None else {}


def _mro(t):
    try:
        mro = _TYPE_MRO(t)
    except Exception:
        mro = None
    return mro if mro is not None else (t,)


def _mro_lookup(t, name):
    """The value of `name` in the first class dict of t's MRO that has it, or _MISSING."""
    for c in _mro(t):
        d = _class_dict(c)
        if name in d:
            return d[name]
    return _MISSING


def _type_name(t):
    try:
        mod = _TYPE_MODULE(t)
    except Exception:
        mod = None
    try:
        qual = _TYPE_QUALNAME(t)
    except Exception:
        qual = None
    if type(qual) is not str:
        qual = _TYPE_NAME(t)
    if type(mod) is not str:
        mod = "?"
    return mod + "." + qual


def _exact_name(module, qualname):
    if type(qualname) is not str:
        return None
    if type(module) is str and module:
        return module + "." + qualname
    return qualname


_KEYWORDS = frozenset(keyword.kwlist)


def _attribute_label(name, other=".__dict__[%r]"):
    """`.name`, or for a name that is not an identifier or is a keyword (set by setattr) the
    `other` form: `.__dict__['a-b']` evaluates also when the attribute is stored inline; slots
    have no __dict__ and pass `.__getattribute__(%r)`."""
    if name.isidentifier() and name not in _KEYWORDS:
        return "." + name
    return other % name


def _enum_key_repr(key, limit):
    """`sys.modules['m'].Color['RED']` for an enum member whose class is reachable by its module
    and qualified name, else None. Only dicts are read, no attribute lookup runs. A member name
    that is not an identifier is program text: kept only when it has at most `limit` characters."""
    enum_module = sys.modules.get("enum")
    if enum_module is None or type(enum_module) is not types.ModuleType:
        return None
    enum_base = _MODULE_DICT(enum_module).get("Enum")
    cls = type(key)
    if enum_base is None or cls is enum_base or not _one_of(enum_base, _mro(cls)):
        return None
    members = _class_dict(cls).get("_member_map_")
    if type(members) is not dict:
        return None
    name = None
    for member_name, member in _dict_items(members):
        if member is key and type(member_name) is str:
            name = member_name
            break
    try:
        module_name = _TYPE_MODULE(cls)
        qualname = _TYPE_QUALNAME(cls)
    except Exception:
        return None
    if type(module_name) is not str or type(qualname) is not str or name is None:
        return None
    if len(name) > limit and not name.isidentifier():
        return None
    module = sys.modules.get(module_name)
    if type(module) is not types.ModuleType:
        return None
    found = module
    namespace = _MODULE_DICT(module)
    for part in qualname.split("."):
        found = namespace.get(part) if part.isidentifier() else None
        if found is None or not issubclass(type(found), type):
            return None
        namespace = _class_dict(found)
    if found is not cls:
        return None
    return "sys.modules[%r].%s[%r]" % (module_name, qualname, name)


def _key_repr(key, enum_texts, limit):
    """An expression for a dict key: repr() of an exact builtin atom type (or a tuple of them),
    an enum member by its class (enum_texts caches those by id), else None. A str or bytes key
    longer than `limit`, and a number whose text is, give None (-1: no program text at all)."""
    t = type(key)
    if t is str or t is bytes:
        if len(key) > limit or len(key) > KEY_REPR_LIMIT:
            return None
        text = repr(key)
    elif t is int:
        if key.bit_length() > 600:
            return None
        text = _INT_REPR(key)
        if len(text) > limit:
            return None
    elif t is bool or key is None:
        text = repr(key)
    elif t is float:
        if key != key or key in (float("inf"), float("-inf")):
            return None
        text = _FLOAT_REPR(key)
        if len(text) > limit:
            return None
    elif t is complex:
        if any(part != part or part in (float("inf"), float("-inf"))
               for part in (key.real, key.imag)):
            return None
        text = complex.__repr__(key)
        if len(text) > limit:
            return None
    elif t is tuple:
        if len(key) > KEY_REPR_LIMIT:
            return None
        parts = []
        for item in key:
            part = _key_repr(item, enum_texts, limit)
            if part is None:
                return None
            parts.append(part)
        text = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    else:
        found = enum_texts.get(id(key))
        if found is None or found[0] is not key:  # the member is held: its id stays its own
            found = enum_texts[id(key)] = (key, _enum_key_repr(key, limit))
        text = found[1]
        if text is None:
            return None
    return text if len(text) <= KEY_REPR_LIMIT else None


def _length_function(t):
    """A function returning len() for instances of sized builtins without running overrides."""
    if _one_of(t, _SIZED):
        return len if t is not memoryview else _memoryview_len
    for c in _mro(t):
        if _one_of(c, _SIZED):
            return _memoryview_len if c is memoryview else c.__len__
    return None


def _memoryview_len(view):
    try:
        return len(view)
    except ValueError:  # released
        return 0


_METHOD_OBJCLASS = types.MethodDescriptorType.__dict__["__objclass__"].__get__


def _own_c_sizeof(c):
    """c's own C-level __sizeof__ (a method descriptor made for c itself), or None."""
    found = _class_dict(c).get("__sizeof__")
    if type(found) is types.MethodDescriptorType and _METHOD_OBJCLASS(found) is c:
        return found
    return None


def _size_function(t):
    """sys.getsizeof when the __sizeof__ it would call is the C slot of a class in t's MRO;
    otherwise (a Python function, `__sizeof__ = print`, another type's method) the C __sizeof__
    of the nearest class in the MRO that defines its own, which reads the layout only:
    tp_basicsize plus tp_itemsize times the item count (plus inline values on 3.12+),
    as sys.getsizeof would report had the class not overridden it."""
    mro = _mro(t)
    found = _mro_lookup(t, "__sizeof__")
    if type(found) is types.MethodDescriptorType:
        owner = _METHOD_OBJCLASS(found)
        for c in mro:
            if c is owner:
                if _class_dict(c).get("__sizeof__") is found:
                    return sys.getsizeof
                break
    base = object.__sizeof__
    for c in mro:
        own = _own_c_sizeof(c)
        if own is not None:
            base = own
            break
    # What sys.getsizeof adds to __sizeof__: the GC header of a GC type and, since 3.11, the
    # two pre-header words of a managed dict (3.12+: or managed weak reference list).
    flags = _TYPE_FLAGS(t)
    extra = (_GC_HEADER if flags & _HAVE_GC else 0) + (_PRE_HEADER if flags & _PRE_HEADER_FLAGS else 0)

    def size(obj, base=base, extra=extra):
        return base(obj) + extra
    return size


def _code_strings(code):
    """Names and short str constants of a code object: the attribute names it may set
    (`obj.name = ...` uses co_names, `setattr(obj, "a-b", ...)` a constant)."""
    for name in code.co_names:
        yield name
    for const in code.co_consts:
        if type(const) is str and 0 < len(const) <= NAME_LIMIT:
            yield const


def _harmless_descriptor(value):
    """A class value whose __get__ is C code that runs nothing of the program's: a plain
    function, static or class method of one, or a builtin method (reading such a name on an
    instance that lacks it makes a bound method, which is dropped)."""
    t = type(value)
    if t is types.FunctionType or _one_of(t, _C_CALLABLES):
        return True
    if t is staticmethod or t is classmethod:
        try:
            func = value.__func__
        except Exception:
            return False
        return type(func) is types.FunctionType or _one_of(type(func), _C_CALLABLES)
    return False


def _descriptor_names(mro):
    """Names the classes of an MRO define with a value whose type has __get__ (other than the
    harmless ones above): reading such a name on an instance could run it. Plain class values
    (defaults such as `cache = None`) are safe, as an instance attribute of the same name hides
    them without a call."""
    names = set()
    for c in mro:
        for key, value in _class_items(c):
            if (type(key) is str and _mro_lookup(type(value), "__get__") is not _MISSING
                    and not _harmless_descriptor(value)):
                names.add(key)
    return frozenset(names)


def _parameter_names(code):
    """A code object's parameter names. Not from co_varnames: since 3.12 reading it creates a
    tuple that stays cached on the code object (growth the next snapshot would show)."""
    flags = code.co_flags
    count = code.co_argcount + code.co_kwonlyargcount + bool(flags & 4) + bool(flags & 8)
    name_of = getattr(code, "_varname_from_oparg", None)  # 3.11+: a name, nothing cached
    if name_of is None:
        return set(code.co_varnames[:count])
    return {name_of(i) for i in range(count)}


def _dict_items(d):
    """A C-level copy of a dict's items: no __iter__/items() override runs."""
    for _ in range(10):
        try:
            return list(dict.items(d))
        except RuntimeError:  # resized by another thread while copying
            continue
    return []


def _bounded_classes():
    """The classes of _BOUNDED_CLASSES whose modules are imported."""
    found = []
    for module_name, class_name, size_name, container_name in _BOUNDED_CLASSES:
        module = sys.modules.get(module_name)
        if type(module) is not types.ModuleType:
            continue
        cls = _MODULE_DICT(module).get(class_name)
        if cls is not None and issubclass(type(cls), type):
            found.append((cls, size_name, container_name))
    return found


# Module namespaces of the agent's own code: this module's, plus the `__main__` copy when run
# as `python -m leakbook`. A frame runs agent code when its globals are one of them (file names
# are not reliable: a .pyc compiled elsewhere, a relative path and a chdir, a zip).
_AGENT_NAMESPACES = [globals()]


def _is_agent_frame(frame):
    namespace = frame.f_globals
    for own in _AGENT_NAMESPACES:
        if namespace is own:
            return True
    return False


# ----------------------------------------------------------------------------------------------
# Process and memory facts

def _process_start():
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[19])
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    boot = int(line.split()[1])
                    return boot + ticks / os.sysconf("SC_CLK_TCK")
    except Exception:
        pass
    return _IMPORT_TIME


_PROCESS_START = _process_start()


def _rss():
    try:
        with open("/proc/self/status", "rb") as f:
            values = {}
            for line in f:
                if line.startswith((b"VmRSS:", b"VmHWM:")):
                    key, value = line.split(b":", 1)
                    values[key] = int(value.split()[0]) * 1024
        return values.get(b"VmRSS"), values.get(b"VmHWM"), "proc"
    except Exception:
        pass
    try:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return None, peak if sys.platform == "darwin" else peak * 1024, "getrusage"
    except Exception:
        return None, None, None


_PYMALLOC_KEYS = (
    ("# arenas allocated total", "arenas_allocated_total"),
    ("# arenas reclaimed", "arenas_reclaimed"),
    ("# arenas highwater mark", "arenas_highwater"),
    ("# arenas allocated current", "arenas_in_use"),
    ("# bytes in allocated blocks", "bytes_in_allocated_blocks"),
    ("# bytes in available blocks", "bytes_in_free_blocks"),
    ("# bytes lost to pool headers", "bytes_lost_pool_headers"),
    ("# bytes lost to quantization", "bytes_lost_quantization"),
    ("# bytes lost to arena alignment", "bytes_lost_arena_alignment"),
)


def _parse_mallocstats(text):
    stats = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        left, right = line.split("=", 1)
        left = left.strip()
        try:
            value = int(right.strip().replace(",", ""))
        except ValueError:
            continue
        for prefix, key in _PYMALLOC_KEYS:
            if left == prefix and key not in stats:
                stats[key] = value
        if "arenas *" in left and "bytes/arena" in left and "arena_bytes" not in stats:
            stats["arena_bytes"] = value
        elif "unused pools *" in left and "bytes_in_free_pools" not in stats:
            stats["bytes_in_free_pools"] = value
    return stats or None


def _pymalloc_stats(scratch):
    """sys._debugmallocstats() writes to C-level stderr: redirect fd 2 briefly to the file
    `scratch` (next to the snapshot, so no tempfile import is needed) to read it."""
    if not hasattr(sys, "_debugmallocstats"):
        return None
    try:
        sys.stderr.flush()
    except Exception:
        pass
    try:
        fd = os.open(scratch, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return None
    try:
        saved = os.dup(2)
        try:
            os.dup2(fd, 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        text = b"".join(chunks).decode("ascii", "replace")
    except Exception:
        return None
    finally:
        os.close(fd)
        try:
            os.unlink(scratch)
        except OSError:
            pass
    return _parse_mallocstats(text)


def _tracing():
    return _tracemalloc is not None and _tracemalloc.is_tracing()


def _memory(scratch):
    rss, peak, source = _rss()
    tracing = None
    if _tracing():
        current, traced_peak = _tracemalloc.get_traced_memory()
        # tracemalloc's own bookkeeping: native memory that grows with every live traced block.
        tracing = {"current": current, "peak": traced_peak, "overhead": _tracemalloc.get_tracemalloc_memory()}
    return {
        "rss": rss,
        "rss_peak": peak,
        "source": source,
        "pymalloc": _pymalloc_stats(scratch),
        "gc": {
            "enabled": gc.isenabled(),
            "count": list(gc.get_count()),
            "stats": gc.get_stats(),
            "garbage": len(gc.garbage),
        },
        "tracemalloc": tracing,
    }


def _platform_and_host():
    """Once per process, from os.uname() where it exists: importing platform and socket
    would add thousands of objects to the heap being measured."""
    try:
        name = os.uname()
        return ("%s %s-%s-%s" % (sys.platform, name.sysname, name.release, name.machine),
                name.nodename)
    except AttributeError:  # Windows
        pass
    try:
        import platform
        import socket
        return sys.platform + " " + platform.platform(), socket.gethostname()
    except Exception:
        return sys.platform, None


_PLATFORM, _HOSTNAME = _platform_and_host()


def _meta(started, options, values):
    version = sys.version_info
    meta = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started))
                + ".%06dZ" % int((started % 1) * 1e6),
        "time_unix": started,
        "pid": os.getpid(),
        "process_start": _PROCESS_START,
        "sequence": None,
        "python": {
            "version": "%d.%d.%d" % version[:3],
            "implementation": sys.implementation.name,
            "hexversion": sys.hexversion,
        },
        "platform": _PLATFORM,
        "hostname": _HOSTNAME,
        "options": options,
    }
    if values != "none":  # argv may hold secrets: prefixes only
        limit = options["value_len"]
        meta["argv"] = [(a if type(a) is str else str(a))[:limit] for a in sys.argv]
    return meta


# ----------------------------------------------------------------------------------------------
# The walk

class _TypeInfo(object):
    """What the walk needs to know about one type; computed once per type per capture."""

    __slots__ = ("index", "kind", "size", "length", "name_kind", "name", "handler",
                 "slots", "dict_get", "managed", "generic", "learned", "candidates", "attrs",
                 "misses", "unsafe", "pool_tries", "bound", "bulk", "number_range", "traced",
                 "pattern", "cls", "eligible", "sizeof")


class _Graph(object):
    """Walks the heap into columns. Holds strong references to every object until released."""

    __slots__ = (
        "values", "value_len", "objs", "index", "excluded", "types", "type_names", "strings", "string_ids",
        "address", "type_col", "size", "big_sizes", "length", "flags", "name", "alloc", "edge_start",
        "edge_target", "edge_kind", "edge_label", "root_object", "root_kind", "root_label",
        "namespaces", "threads", "lru", "alloc_sites", "alloc_site_ids",
        "trace", "held", "sid_referent", "sid_dict_key", "sid_set_member", "sid_class",
        "sid_dict", "sid_lru", "opaque", "enum_texts", "code_names", "unnamed", "value_list",
        "key_label_sids", "bounds", "bounded_classes", "named_types", "key_len", "name_labels",
        "hidden_names", "failed", "failed_kinds", "pending", "pending_el", "edge_base", "lone_count",
        "type_order", "by_index", "pinned", "position", "value_eligible", "segments", "next_types", "const_edges",
        "dropped",
        "next_base",
    )

    def __init__(self, values, value_len, trace):
        self.named_types = _named_types()
        self.failed = 0            # objects recorded with FLAG_INCOMPLETE
        self.failed_kinds = {}     # (type name, exception name) -> count
        self.values = values
        self.value_len = value_len
        # Program text (dict keys, attribute names that are not identifiers) is written only up
        # to this many characters: the value prefix length, none at all with values="none".
        self.key_len = min(value_len, KEY_REPR_LIMIT) if values != "none" else -1
        self.objs = []
        # id(obj) -> object index, for the objects that more than one reference may lead to
        # (see discover(): most of the others never enter it).
        self.index = {}
        self.excluded = set()    # ids of the agent's own bookkeeping
        self.types = {}          # id(type) -> _TypeInfo
        self.type_order = {}     # id(type) -> its type index
        self.by_index = {}       # type index -> _TypeInfo
        self.pending = []        # referents of the objects recorded since the last discover()
        self.pending_el = bytearray()  # per pending referent: 1 if it may be a lone reference
        # How the pending references make the chunk's next edges, in edge order: (count, 0, None)
        # for `count` pending references in edge order; (rows, width, columns) for rows of `width`
        # edges given column by column, each column either pending references (-1) or all to one
        # object already indexed (its index: then not in pending).
        self.segments = []
        self.const_edges = 0     # edges of the segments that are not in pending
        self.dropped = False     # a resolved reference was to the agent's bookkeeping
        self.next_types = array.array("I")  # type index of objects next_base, next_base + 1, ...
        self.next_base = 0
        self.edge_base = 0       # edges in the chunks before the current one
        self.lone_count = _lone_count()
        # Whether a dict value or an instance attribute may be a lone reference (see discover()).
        self.value_eligible = b"\0" if _PY313 else b"\1"
        self.pinned = []         # objects whose index is looked up after the walk
        self.position = None     # index of the object visit() is recording
        self.type_names = []
        self.strings = []
        self.string_ids = {}     # interned names and labels -> string index
        # Values (str prefixes, and int and float objects turned into text only when the file is
        # written: no str per number while the walk holds everything); obj_name indexes this
        # list until the layout appends them, deduplicated, to the string table.
        self.value_list = []
        self.name_labels = {}    # longer identifier key of a namespace -> label string index
        self.hidden_names = {}   # (kind, name too long to write) -> string index of `<kind #N>`
        self.key_label_sids = array.array("I")  # string indices that hold a key, not its label
        self.bounds = {}         # object index -> the most items it can hold (header `bounds`)
        self.bounded_classes = _bounded_classes()
        self.enum_texts = {}     # id(enum member used as a key) -> (member, expression or None)
        self.code_names = {}     # names and short str constants of the code objects reached
        self.unnamed = []        # indices of instances with inline attributes left unnamed
        self.namespaces = set()  # ids of module/class/instance dicts (labelled even with values="none")
        # Object columns and edge columns: lists of chunks. Chunk k of an object column holds
        # objects k * CHUNK to (k + 1) * CHUNK - 1; chunk k of an edge column their edges.
        self.address = []        # 'd', as in the file
        self.type_col = []
        # Sizes are 'I' during the walk, half the file's 'd' (an 'I' append is also faster);
        # a size of 4 GiB or more is kept aside (object index -> size) with 0 in the column.
        self.size = []
        self.big_sizes = {}
        self.length = []
        self.flags = []
        self.name = []
        self.alloc = [] if trace else None
        self.edge_start = []
        self.edge_target = []
        self.edge_kind = []
        self.edge_label = []
        self.root_object = array.array("I")
        self.root_kind = array.array("B")
        self.root_label = array.array("I")
        self.threads = []
        self.lru = []
        self.alloc_sites = [] if trace else None
        self.alloc_site_ids = {}
        self.trace = trace
        self.held = []           # agent frames, kept alive so their ids stay excluded
        self.sid_referent = self.sid("<referent>")
        self.sid_dict_key = self.sid("<dict key>")
        self.sid_set_member = self.sid("<set member>")
        self.sid_class = self.sid(".__class__")
        self.sid_dict = self.sid(".__dict__")
        self.sid_lru = self.sid("<lru_cache storage>")
        self.opaque = {self.sid_referent, self.sid_dict_key, self.sid_set_member, self.sid_lru}
        # The bookkeeping itself (its containers and columns) never enters the snapshot.
        self.exclude(self)
        self.exclude(_SLOT)  # the capture lock's context manager (an instance of an agent class)
        for name in _Graph.__slots__:
            own = getattr(self, name)
            if type(own) in (list, dict, set, array.array):
                self.exclude(own)
        self.new_chunk()

    def object_columns(self):
        columns = [(self.type_col, "I"), (self.size, "I"), (self.length, "I"), (self.flags, "B"),
                   (self.name, "I"), (self.edge_start, "I")]
        return columns + [(self.alloc, "I")] if self.alloc is not None else columns

    def new_chunk(self):
        """Starts the next chunk of every object and edge column."""
        if self.edge_target:
            self.edge_base += len(self.edge_target[-1])
        for column, code in self.object_columns() + [(self.address, "d"),
                (self.edge_target, "I"), (self.edge_kind, "B"), (self.edge_label, "I")]:
            chunk = array.array(code)
            self.exclude(chunk)
            column.append(chunk)

    def edge_count(self):
        return sum(map(len, self.edge_target))

    def exclude(self, obj):
        if obj is not None:
            self.excluded.add(id(obj))

    def sid(self, text):
        found = self.string_ids.get(text)
        if found is None:
            found = self.string_ids[text] = len(self.strings)
            self.strings.append(text)
        return found

    def add(self, obj):
        """Index of obj, adding it to the walk if new; -1 if excluded."""
        found = self.index.get(id(obj))
        if found is None:
            if id(obj) in self.excluded:
                return -1
            found = self.index[id(obj)] = len(self.objs)
            self.objs.append(obj)
            self.next_types.append(self.info_of(type(obj)).index)
        return found

    # -- roots --------------------------------------------------------------------------------

    def add_root(self, obj, kind, label):
        found = self.add(obj)
        if found >= 0:
            self.root_object.append(found)
            self.root_kind.append(kind)
            self.root_label.append(self.sid(label))

    def add_roots(self):
        for name, module in _dict_items(sys.modules):
            if type(name) is str and module is not None:
                self.add_root(module, ROOT_MODULE, "sys.modules[%r]" % name)
                if isinstance(module, types.ModuleType):
                    self.namespaces.add(id(_MODULE_DICT(module)))
        self.add_thread_roots()
        for i, item in enumerate(list(gc.garbage)):
            self.add_root(item, ROOT_GARBAGE, "gc.garbage[%d]" % i)
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            value = sys.__dict__.get(name)
            if value is not None:
                self.add_root(value, ROOT_LAST_EXC, "sys." + name)
        self.add_root(_MODULE_DICT(builtins), ROOT_BUILTINS, "builtins.__dict__")

    def add_thread_roots(self):
        frames = sys._current_frames()
        try:
            self.add_threads(frames)
        finally:
            # The dict holds this very frame: clear it or frame and dict form a cycle that
            # keeps the whole graph alive until the next collection.
            frames.clear()

    def add_threads(self, frames):
        self.exclude(frames)
        names = {}
        for thread in threading.enumerate():
            try:
                names[object.__getattribute__(thread, "_ident")] = thread
            except Exception:
                pass
        capturing = _thread.get_ident()
        for ident, frame in _dict_items(frames):
            innermost = None
            while frame is not None:
                if _is_agent_frame(frame):
                    self.held.append(frame)
                    self.exclude(frame)
                elif innermost is None:
                    innermost = frame
                frame = frame.f_back
            if innermost is None and ident == capturing:
                continue  # the capture's own thread: nothing but agent frames
            index = None
            if innermost is not None:
                self.add_root(innermost, ROOT_THREAD, "sys._current_frames()[%d]" % ident)
                index = self.index.get(id(innermost))
            thread = names.get(ident)
            info = {"ident": ident, "name": None, "daemon": None, "frame": index}
            if thread is not None:
                try:
                    name = str(object.__getattribute__(thread, "_name"))
                    info["name"] = name[:self.value_len] if self.values != "none" else None
                    info["daemon"] = bool(object.__getattribute__(thread, "_daemonic"))
                except Exception:
                    pass
            self.threads.append(info)
        del frame, innermost

    # -- per-type information -----------------------------------------------------------------

    def type_info(self, t):
        info = _TypeInfo()
        info.index = len(self.type_names)
        self.type_names.append(_type_name(t))
        flags = _TYPE_FLAGS(t)
        info.size = _size_function(t)
        info.length = _length_function(t)
        info.name_kind, info.name = _N_NONE, None
        info.handler = None
        info.slots = ()
        info.dict_get = None
        info.managed = False
        info.generic = False
        info.learned = []
        info.candidates = []
        info.attrs = ()
        info.misses = 0
        info.unsafe = frozenset()
        info.pool_tries = 0
        info.bound = None
        info.bulk = None
        info.number_range = (None, None)
        info.traced = t is str or t is bytes or t is bytearray
        info.pattern = None
        info.cls = t
        info.sizeof = None
        # Whether the handler's edges may be lone references (see discover()): each is a
        # reference the object holds, reported once, except a frame's locals (a suspended
        # generator's frame reports them, and so does the generator), a generator's and a
        # ContextVar's `.get()` value (the context holds it). 3.13+ instances: their inline
        # values are also their materialised dict's.
        info.eligible = 1
        if t is str:
            info.name_kind = _N_STR
        elif self.values != "none" and id(t) in _VALUE_NAMES:
            info.name_kind, info.name = _N_CALL, _value_function(t, self.value_len)
        elif id(t) in self.named_types:
            info.name_kind, info.name = _N_CALL, self.named_types[id(t)]
        elif issubclass(t, type):
            info.name_kind, info.name = _N_CALL, _type_object_name
        elif issubclass(t, str) and self.values != "none":
            info.name_kind, info.name = _N_CALL, _str_subclass_value
        if not flags & _HAVE_GC:
            info.kind = _K_LEAF
            if t is types.CodeType:
                info.kind, info.handler = _K_OTHER, self.code_edges
                info.attrs = tuple((name, self.sid("." + name)) for name in _CODE_ATTRS)
            self.choose_bulk(t, info)
            return self.remember(t, info)
        info.kind = _K_OTHER
        if t is list or t is tuple or t is collections.deque:
            info.kind = _K_SEQ
        elif t is dict:
            info.kind = _K_DICT
        elif t is types.FrameType:
            info.handler = self.frame_edges
            info.eligible = 0
        elif t is types.ModuleType:
            info.handler = self.module_edges
        elif t is set or t is frozenset:
            info.handler = self.set_edges
        elif id(t) in _BUILTIN_ATTRS:
            info.attrs = tuple((name, self.sid("." + name)) for name in _BUILTIN_ATTRS[id(t)])
            info.handler = self.builtin_edges
            if _one_of(t, _FRAME_HOLDERS):
                info.eligible = 0
        elif issubclass(t, type):
            info.handler = self.type_edges
        else:
            self.instance_setup(t, info)
            info.handler = self.instance_edges
            info.eligible = 0 if _PY313 else 1
        self.choose_bulk(t, info)
        return self.remember(t, info)

    def choose_bulk(self, t, info):
        """The bulk step for a run of t's instances (see record()), if t has one."""
        if info.size is not sys.getsizeof:
            return
        # sys.getsizeof looks __sizeof__ up and calls it bound, then adds what the type's
        # headers take; the C method itself, called unbound, costs a third of that.
        flags = _TYPE_FLAGS(t)
        info.sizeof = (_mro_lookup(t, "__sizeof__"),
                       (_GC_HEADER if flags & _HAVE_GC else 0) + (_PRE_HEADER if flags & _PRE_HEADER_FLAGS else 0))
        if t is str:
            info.bulk = self.bulk_str
        elif info.name_kind == _N_NONE and info.kind == _K_LEAF and (info.length is None or info.length is len):
            info.bulk = self.bulk_leaf  # int and float too when values="none"
        elif t is int:
            limit = self.value_len
            if limit >= INT_VALUE_DIGITS:
                info.number_range = (-_INT_VALUE_LIMIT, _INT_VALUE_LIMIT)
            else:  # the bounds of _short_int_value()
                info.number_range = (-10 ** (limit - 1) if limit > 1 else -limit,
                                     10 ** limit if limit > 0 else 0)
            info.bulk = self.bulk_number
        elif t is float and self.value_len >= _FLOAT_TEXT_MAX:
            info.bulk = self.bulk_number
        elif t is list or t is tuple:
            info.bulk = self.bulk_sequence
        elif t is dict:
            info.bulk = self.bulk_dict
        elif t is set or t is frozenset:
            info.bulk = self.bulk_set
        elif (info.handler == self.instance_edges and info.name_kind == _N_NONE and info.bound is None
              and not any(_one_of(c, _PLAIN_INSTANCE_EXCLUDED) for c in _mro(t))):
            info.bulk = self.record_instances

    def remember(self, t, info):
        self.types[id(t)] = info
        self.type_order[id(t)] = info.index
        self.by_index[info.index] = info
        self.held.append(t)  # types must outlive the walk's id-keyed cache
        return info

    def instance_setup(self, t, info):
        mro = _mro(t)
        slots = []
        for c in mro:
            for name, value in _class_items(c):
                if type(value) is types.MemberDescriptorType and type(name) is str:
                    slots.append((value.__get__, self.sid(_attribute_label(name, ".__getattribute__(%r)"))))
        info.slots = tuple(slots)
        found = _mro_lookup(t, "__dict__")
        if _one_of(type(found), (types.GetSetDescriptorType, types.MemberDescriptorType)):
            info.dict_get = found.__get__
        info.managed = bool(_TYPE_FLAGS(t) & _MANAGED_DICT) and _PY311
        overrides = False
        for c in mro:
            if c is object:
                continue
            d = _class_dict(c)
            if "__getattribute__" in d or "__getattr__" in d:
                overrides = True
        info.generic = not overrides
        if info.managed:
            info.unsafe = _descriptor_names(mro)
        if info.managed and info.generic:
            info.candidates = self.attribute_candidates(mro, info.unsafe)
        for cls, size_name, container_name in self.bounded_classes:
            # Read with the generic getattr: only when no class in the MRO defines either name
            # (a property of a subclass would run), so the instance's own values are found.
            if (_one_of(cls, mro) and _mro_lookup(t, size_name) is _MISSING
                    and _mro_lookup(t, container_name) is _MISSING):
                info.bound = (size_name, container_name)
                break

    def attribute_candidates(self, mro, unsafe):
        """Likely instance attribute names: names and str constants (setattr) in the class's own
        code, minus the class's descriptors (reading those would run them)."""
        names = []
        seen = set()
        for c in mro:
            if not _TYPE_FLAGS(c) & _HEAPTYPE:
                continue
            codes = []
            for _name, value in _class_items(c):
                if type(value) is staticmethod or type(value) is classmethod:
                    value = value.__func__
                elif type(value) is property:
                    codes.extend(f.__code__ for f in (value.fget, value.fset, value.fdel)
                                 if type(f) is types.FunctionType)
                    continue
                if type(value) is types.FunctionType:
                    codes.append(value.__code__)
            while codes:
                code = codes.pop()
                for name in _code_strings(code):
                    if name not in seen and name not in unsafe:
                        seen.add(name)
                        names.append(name)
                codes.extend(k for k in code.co_consts if type(k) is types.CodeType)
        return names

    def learn(self, info, name):
        """Remember an attribute name of this type (learned names are tried first); returns
        the string index of its label."""
        for known, sid in info.learned:
            if name == known:
                return sid
        if name.isidentifier() or len(name) <= self.key_len:
            sid = self.sid(_attribute_label(name))
        else:
            sid = self.hidden_name("attribute", name)
        info.learned.append((name, sid))
        if name in info.candidates:
            info.candidates.remove(name)
        return sid

    def hidden_name(self, kind, name):
        """The string index of the opaque label `<attribute #N>` (kind attribute) standing for a
        name that is not written: one number per distinct name and kind in the snapshot."""
        found = self.hidden_names.get((kind, name))
        if found is None:
            found = self.hidden_names[(kind, name)] = self.sid(
                "<%s #%d>" % (kind, len(self.hidden_names)))
            self.opaque.add(found)
        return found

    # -- edge handlers: each returns a list of (target, kind, label) -------------------------

    def label_refs(self, refs, labels, out):
        """Edges for refs, labelled from labels (id -> string index); the rest get <referent>."""
        get = labels.get
        referent = self.sid_referent
        opaque = self.opaque
        for r in refs:
            sid = get(id(r), referent)
            out.append((r, EDGE_OPAQUE if sid in opaque else EDGE_SUFFIX, sid))
        return out

    def builtin_edges(self, o, t, info):
        labels = {}
        for name, sid in info.attrs:
            try:
                value = getattr(o, name)
            except Exception:
                continue
            labels.setdefault(id(value), sid)
        refs = gc.get_referents(o)
        if t is _LRU_TYPE:
            self.lru_cache(o, refs, labels)
        elif t is _CONTEXTVAR_TYPE:
            self.context_value(o, refs, labels)
        elif t is types.FunctionType:
            self.function_dicts(o, refs, labels)
        else:
            self.dict_attribute(o, refs, labels, getattr(t, "__dict__", {}).get("__dict__"))
        return self.label_refs(refs, labels, [])

    def context_value(self, o, refs, labels):
        """A ContextVar's value in the capturing thread's context, as its `.get()` edge: the context
        that holds it is reached only from the thread state (C), so this is the path a program
        names it by. It evaluates to that object in the same thread (docs/snapshot-format.md)."""
        value = _CONTEXTVAR_GET(o, _MISSING)
        if value is not _MISSING and id(value) not in labels:
            refs.append(value)
            labels[id(value)] = self.sid(".get()")

    def dict_attribute(self, o, refs, labels, descriptor):
        """Label an unlabelled dict referent as `.__dict__` when it is the object's __dict__."""
        if not _one_of(type(descriptor), (types.GetSetDescriptorType, types.MemberDescriptorType)):
            return
        if any(type(r) is dict and id(r) not in labels for r in refs):
            try:
                d = descriptor.__get__(o)
            except Exception:
                return
            labels.setdefault(id(d), self.sid_dict)
            self.namespaces.add(id(d))

    def function_dicts(self, o, refs, labels):
        """Label a function's __dict__ and __annotations__ among its unlabelled dict referents
        without calling their getters: both create an empty dict when there is none, which
        would show up as growth in the next snapshot. CPython visits __dict__ before
        __annotations__; annotation keys are parameter names or 'return'."""
        dicts = [r for r in refs if type(r) is dict and id(r) not in labels]
        if not dicts:
            return
        if len(dicts) == 1:
            keys = [k for k, _v in _dict_items(dicts[0])]
            if not keys:
                return  # an empty dict could be either: leave it unlabelled
            names = _parameter_names(o.__code__)
            names.add("return")
            if all(type(k) is str and k in names for k in keys):
                dicts.insert(0, None)
        if dicts[0] is not None:
            labels[id(dicts[0])] = self.sid_dict
            self.namespaces.add(id(dicts[0]))
        if len(dicts) > 1:
            labels.setdefault(id(dicts[1]), self.sid(".__annotations__"))

    def set_bound(self, obj, bound, i=None):
        """Records that obj (object i, when known) holds at most `bound` items (the smallest bound
        found wins)."""
        if i is None:
            i = self.add(obj)
        if i >= 0:
            known = self.bounds.get(i)
            if known is None or bound < known:
                self.bounds[i] = bound

    def deque_bound(self, o):
        try:
            maxlen = _DEQUE_MAXLEN(o)
        except Exception:
            return
        if type(maxlen) is int:
            self.set_bound(o, maxlen, self.position)

    def queue_bound(self, o, names):
        """queue.Queue and asyncio.Queue: maxsize > 0 bounds the Queue and its container."""
        size_name, container_name = names
        try:
            size = object.__getattribute__(o, size_name)
            if type(size) is not int or size <= 0:
                return
            container = object.__getattribute__(o, container_name)
        except Exception:
            return
        self.set_bound(o, size, self.position)
        if type(container) is not int:
            self.set_bound(container, size)

    def pin_bounded_caches(self):
        """The module caches that module_bounds() looks up after the walk are held by the walk, so
        that they are in the id map (see discover())."""
        for module_name, dict_name, _bound_name in _BOUNDED_MODULE_DICTS:
            module = sys.modules.get(module_name)
            if type(module) is types.ModuleType:
                cache = _MODULE_DICT(module).get(dict_name)
                if type(cache) is dict:
                    self.pinned.append(cache)

    def module_bounds(self):
        """Module-level caches that their module keeps below a size of its own."""
        for module_name, dict_name, bound_name in _BOUNDED_MODULE_DICTS:
            module = sys.modules.get(module_name)
            if type(module) is not types.ModuleType:
                continue
            namespace = _MODULE_DICT(module)
            cache, bound = namespace.get(dict_name), namespace.get(bound_name)
            if type(cache) is dict and type(bound) is int and bound >= 0 and id(cache) in self.index:
                self.set_bound(cache, bound)

    def lru_cache(self, o, refs, labels):
        self.dict_attribute(o, refs, labels, _class_dict(_LRU_TYPE).get("__dict__"))
        storage = None
        for r in refs:
            if type(r) is dict and id(r) not in labels:
                labels[id(r)] = self.sid_lru
                storage = r
        entry = {"object": self.position, "name": None}
        try:
            wrapped = o.__wrapped__
            if type(wrapped) is types.FunctionType:
                entry["name"] = _exact_name(wrapped.__module__, wrapped.__qualname__)
        except Exception:
            pass
        try:
            hits, misses, maxsize, currsize = tuple.__iter__(_LRU_CACHE_INFO(o))
            entry.update(hits=hits, misses=misses, maxsize=maxsize, currsize=currsize)
            if storage is not None and type(maxsize) is int:
                self.set_bound(storage, maxsize)
        except Exception:
            pass
        entry["typed"] = _lru_typed(o)
        self.lru.append(entry)

    def set_edges(self, o, t, info):
        member = self.sid_set_member
        return [(r, EDGE_OPAQUE, member) for r in gc.get_referents(o)]

    def module_edges(self, o, t, info):
        labels = {}
        d = _MODULE_DICT(o)
        labels[id(d)] = self.sid_dict
        self.namespaces.add(id(d))
        return self.label_refs(gc.get_referents(o), labels, [])

    def type_edges(self, o, t, info):
        labels = {}
        try:
            real = gc.get_referents(_TYPE_DICT(o))
            if real:
                labels[id(real[0])] = self.sid_dict
                self.namespaces.add(id(real[0]))
        except Exception:
            pass
        for get, label in ((_TYPE_MRO, ".__mro__"), (_TYPE_BASES, ".__bases__"),
                           (_TYPE_BASE, ".__base__")):
            try:
                labels.setdefault(id(get(o)), self.sid(label))
            except Exception:
                pass
        labels.setdefault(id(t), self.sid_class)
        return self.label_refs(gc.get_referents(o), labels, [])

    def code_edges(self, o, t, info):
        self.code_names.update(dict.fromkeys(_code_strings(o)))
        return [(getattr(o, name), EDGE_SUFFIX, sid) for name, sid in info.attrs]

    def frame_edges(self, o, t, info):
        """Frames: attributes plus locals. Since 3.11 a running frame reports no referents to
        the GC, so the edges are built from its attributes."""
        if _is_agent_frame(o):
            # Reached from outside the stacks (a traceback of a failed capture, say): its
            # locals would be the agent's bookkeeping. Reading f_locals would also create them.
            return []
        out = []
        seen = set()
        for name in ("f_back", "f_code", "f_globals", "f_builtins", "f_trace"):
            try:
                value = getattr(o, name)
            except Exception:
                continue
            if value is not None:
                out.append((value, EDGE_SUFFIX, self.sid("." + name)))
                seen.add(id(value))
        try:
            local = o.f_locals
            if local is not o.f_globals:
                items = _dict_items(local) if type(local) is dict else list(local.items())
                for key, value in items:
                    if type(key) is not str:
                        continue
                    if key.isidentifier() or len(key) <= self.key_len:
                        out.append((value, EDGE_SUFFIX, self.sid(".f_locals[%r]" % key)))
                    else:
                        out.append((value, EDGE_OPAQUE, self.hidden_name("local", key)))
                    seen.add(id(value))
        except Exception:
            pass
        referent = self.sid_referent
        for r in gc.get_referents(o):
            if id(r) not in seen:
                out.append((r, EDGE_OPAQUE, referent))
        return out

    def instance_edges(self, o, t, info):
        """Instances of classes and subclasses of builtins: slots, __dict__, inline attributes,
        then container contents for dict/list/tuple/deque/exception subclasses."""
        refs = gc.get_referents(o)
        out = []
        explicit = None
        if info.bound is not None:
            self.queue_bound(o, info.bound)
        if issubclass(t, dict):
            explicit = self.dict_edges(o, out)
        labels = {id(t): self.sid_class}
        for get, sid in info.slots:
            try:
                labels.setdefault(id(get(o)), sid)
            except Exception:
                pass
        if issubclass(t, BaseException):
            for get, label in _EXC_ATTRS:
                try:
                    labels.setdefault(id(get(o)), self.sid(label))
                except Exception:
                    pass
        elif issubclass(t, (list, tuple, collections.deque)):
            base = list if issubclass(t, list) else tuple if issubclass(t, tuple) else collections.deque
            if base is collections.deque:
                self.deque_bound(o)
            for i, item in enumerate(list(base.__iter__(o))):
                labels.setdefault(id(item), self.sid("[%d]" % i))
        if explicit is not None:
            refs = [r for r in refs if id(r) not in explicit]
        unlabelled = [r for r in refs if id(r) not in labels]
        if unlabelled and info.dict_get is not None:
            self.instance_dict(o, info, unlabelled, labels)
            unlabelled = [r for r in unlabelled if id(r) not in labels]
        if unlabelled and info.managed and info.generic:
            if self.inline_attributes(o, info, unlabelled, labels):
                self.unnamed.append(self.position)
        if info.bulk is not None:
            self.learn_pattern(o, t, info, refs, labels)
        return self.label_refs(refs, labels, out)

    def learn_pattern(self, o, t, info, refs, labels):
        """When every referent of instance o has a label that a builtin can check on another
        instance (the class, a slot, a learned attribute name, a plain class's __dict__), the
        labels by position become the type's pattern: record_instances() records the next instances
        that match it without labelling each."""
        names = {sid: name for name, sid in info.learned}
        slots = {sid: get for get, sid in info.slots}
        pattern = []
        for r in refs:
            sid = labels.get(id(r))
            if r is t and sid == self.sid_class:
                pattern.append((_P_CLASS, None, sid))
            elif sid in slots:
                pattern.append((_P_SLOT, slots[sid], sid))
            elif sid in names:
                pattern.append((_P_ATTRIBUTE, names[sid], sid))
            elif sid == self.sid_dict and not info.managed and info.dict_get is not None:
                pattern.append((_P_DICT, info.dict_get, sid))
            else:
                return
        info.pattern = tuple(pattern)

    def instance_dict(self, o, info, unlabelled, labels):
        dicts = [r for r in unlabelled if type(r) is dict]
        if not dicts:
            return
        if info.managed:
            # Reading __dict__ would materialise it: only call the getter on a dict proven to
            # be the instance's (its str keys read back as the same objects).
            if len(dicts) != 1 or len(unlabelled) != 1:
                return
            # A key that the class also defines is read too when its class value is not a
            # descriptor: `timeout = 30` on the class and `self.timeout = 10` in __init__ is the
            # common case, and the generic getattr returns the instance's value without a call.
            # Descriptors (properties, methods, slots) could run code and are skipped. The
            # generic getattr is object's own, so a class's __getattr__ or __getattribute__
            # (unittest.mock's, a proxy's) never runs.
            unsafe = info.unsafe
            checked = 0
            for key, value in _dict_items(dicts[0]):
                if type(key) is not str or key in unsafe:
                    continue
                try:
                    found = object.__getattribute__(o, key)
                except Exception:
                    return
                if found is not value:
                    return
                checked += 1
                if checked == 3:
                    break
            if not checked:
                return
        try:
            d = info.dict_get(o)
        except Exception:
            return
        if type(d) is dict and any(d is r for r in dicts):
            labels[id(d)] = self.sid_dict
            self.namespaces.add(id(d))
            if info.managed:
                for key in list(dict.keys(d)):
                    if type(key) is str and len(key) <= NAME_LIMIT and key not in info.unsafe:
                        self.learn(info, key)

    def inline_attributes(self, o, info, unlabelled, labels):
        """3.11+: attributes stored inline (no materialised __dict__) are referents without a
        name; find the names by reading likely attribute names through the generic getattr.
        Returns True when some referents are still unnamed."""
        want = {id(r) for r in unlabelled}
        for name, sid in info.learned:
            value = getattr(o, name, _MISSING)
            if id(value) in want:
                want.discard(id(value))
                labels[id(value)] = sid
                if not want:
                    return False
        # Types whose attribute names never show up among the candidates stop paying for them.
        if info.misses > 20:
            return True
        if not self.try_names(o, info, info.candidates, want, labels):
            info.misses += 1
        return bool(want)

    def try_names(self, o, info, names, want, labels):
        """Reads each name (never one of the class's descriptors) on o; a value among `want`
        (ids) is labelled and its name learned. Returns whether any was found."""
        found = False
        unsafe = info.unsafe
        for name in list(names):
            if name in unsafe:
                continue
            value = getattr(o, name, _MISSING)
            if value is not _MISSING and id(value) in want:
                want.discard(id(value))
                labels[id(value)] = self.learn(info, name)
                found = True
                if not want:
                    break
        return found

    def name_unnamed_attributes(self):
        """After the walk: inline attributes that the class's own code does not name (set by
        other functions, or by setattr) are searched among the names and str constants of every
        code object the walk reached, on a few instances per type (names found are learned for
        the others). Their `<referent>` edges are then relabelled."""
        objs = self.objs
        pool = list(self.code_names)
        for i in self.unnamed:
            if i is None:
                continue
            o = objs[i]
            info = self.types.get(id(type(o)))  # None if another thread changed its class
            if info is None or not (info.managed and info.generic):
                continue
            # Object i's edges, as positions in the edge chunk that holds them.
            k, j = divmod(i, CHUNK)
            starts, targets = self.edge_start[k], self.edge_target[k]
            kinds, chunk_labels = self.edge_kind[k], self.edge_label[k]
            end = starts[j + 1] - starts[0] if j + 1 < len(starts) else len(targets)
            edges = {}
            for e in range(starts[j] - starts[0], end):
                if kinds[e] == EDGE_OPAQUE and chunk_labels[e] == self.sid_referent:
                    edges.setdefault(id(objs[targets[e]]), []).append(e)
            want = set(edges)
            labels = {}
            try:
                self.try_names(o, info, [name for name, _sid in info.learned], want, labels)
                if want and info.pool_tries < POOL_TRIES:
                    info.pool_tries += 1
                    self.try_names(o, info, pool, want, labels)
            except Exception:
                continue
            for target, sid in labels.items():
                for e in edges[target]:
                    kinds[e] = EDGE_OPAQUE if sid in self.opaque else EDGE_SUFFIX
                    chunk_labels[e] = sid

    def dict_edges(self, d, out):
        """Edges of a dict's keys and values, appended to out; returns the ids covered."""
        covered = set()
        for key, value in _dict_items(d):
            covered.add(id(key))
            covered.add(id(value))
            out.append((key, EDGE_OPAQUE, self.sid_dict_key))
            kind, label = self.value_label(d, key)
            out.append((value, kind, label))
        return covered

    def value_label(self, d, key):
        """A str key is written when it has at most key_len characters (the label _KEY_LABEL: the
        layout makes `['key']` from the key's value, see _key_labels()), or when it is an identifier
        of a module, class or instance namespace (a name of the code, kept in both modes)."""
        if type(key) is str:
            if len(key) <= self.key_len:
                return EDGE_SUFFIX, _KEY_LABEL
            if id(d) in self.namespaces and len(key) <= KEY_REPR_LIMIT and key.isidentifier():
                labels = self.name_labels
            else:
                return EDGE_OPAQUE, self.sid("<value of key #%d>" % self.add(key))
            found = labels.get(key)
            if found is None:
                # The walk keeps the key itself (a heap object it holds anyway) in the string
                # table instead of a new str per distinct key; the layout turns it into `['key']`.
                found = labels[key] = len(self.strings)
                self.strings.append(key)
                self.key_label_sids.append(found)
            return EDGE_SUFFIX, found
        text = _key_repr(key, self.enum_texts, self.key_len)
        if text is None:
            return EDGE_OPAQUE, self.sid("<value of key #%d>" % self.add(key))
        return EDGE_SUFFIX, self.sid("[" + text + "]")

    # -- the walk -------------------------------------------------------------------------------

    def walk(self, tracked):
        """Breadth-first from the roots, then from every GC-tracked object not yet reached."""
        self.exclude(tracked)
        self.pin_bounded_caches()
        self.add_roots()
        self.run()
        if _PY313:
            self.adopt_instance_dicts(tracked)
        self.add_unreached(tracked)
        del tracked[:]  # every object of it is now in objs and the id map
        self.run()
        self.edge_start[-1].append(self.edge_count())
        self.name_unnamed_attributes()
        self.module_bounds()

    def adopt_instance_dicts(self, tracked):
        """3.13+: dicts the roots did not reach whose values are the inline values of a walked
        instance are that instance's materialised __dict__. One of the instance's edges to those
        values becomes its `.__dict__` edge (the dict has edges to all of them), so that the dict
        is reached through its owner, not as an object of its own found by gc.get_objects()."""
        index = self.index
        # The owner's inline values were labelled with names learned for its type: a dict whose
        # first key is no such name (a type's namespace, say) is not tried, nor are other types.
        learned = {}
        for info in self.types.values():
            if info.managed and info.generic and info.dict_get is not None:
                for name, _sid in info.learned:
                    learned.setdefault(name, set()).add(info.index)
        if not learned:
            return
        owners = set()
        # Index of one of a dict's values -> the unreached dicts holding it. The value is a
        # GC-tracked one where there is one (a list, an instance: rarely shared by many objects),
        # so that few instances are candidates.
        orphans = {}
        for obj in tracked:
            if type(obj) is dict and id(obj) not in index:
                keys = list(dict.keys(obj))
                types_of = learned.get(keys[0]) if keys and type(keys[0]) is str else None
                if types_of is None:
                    continue
                values = list(dict.values(obj))
                if values:
                    pick = values[0]
                    for v in values:
                        if gc.is_tracked(v):
                            pick = v
                            break
                    found = index.get(id(pick))
                    if found is not None:
                        orphans.setdefault(found, []).append(obj)
                        owners.update(types_of)
        if not orphans:
            return
        objs = self.objs
        isdisjoint = orphans.keys().isdisjoint
        tries = {}
        for k, chunk in enumerate(self.type_col):
            starts, targets = self.edge_start[k], self.edge_target[k]
            base = starts[0] if len(starts) else 0
            for j in itertools.compress(range(len(chunk)), map(owners.__contains__, chunk)):
                end = starts[j + 1] - base if j + 1 < len(starts) else len(targets)
                edges = targets[starts[j] - base:end]
                if isdisjoint(edges):
                    continue
                o = objs[k * CHUNK + j]
                ids = set(map(id, gc.get_referents(o)))
                for first in set(edges):
                    found = orphans.get(first)
                    if found is None:
                        continue
                    for d in found:
                        if self.adopt(o, k * CHUNK + j, d, ids):
                            found.remove(d)
                            break
                    else:
                        # A value many instances hold (and no dict of theirs): stop trying it.
                        tries[first] = tries.get(first, 0) + 1
                        if tries[first] > ADOPT_TRIES:
                            del orphans[first]
                        continue
                    if not found:
                        del orphans[first]
                    break  # an instance has one __dict__
                if not orphans:
                    return

    def adopt(self, o, i, d, ids):
        """Makes d instance o's (object i's) `.__dict__` when it is: all its values are o's
        referents and its str keys read back on o as those values."""
        info = self.types.get(id(type(o)))
        if info is None or len(d) > len(ids):
            return False
        items = _dict_items(d)
        if not all(id(v) in ids for _k, v in items):
            return False
        checked = 0
        for key, value in items:
            if type(key) is not str or key in info.unsafe:
                continue
            if getattr(o, key, _MISSING) is not value:
                return False
            checked += 1
        if not checked:
            return False
        try:
            if info.dict_get(o) is not d:
                return False
        except Exception:
            return False
        k, j = divmod(i, CHUNK)
        starts, targets = self.edge_start[k], self.edge_target[k]
        end = starts[j + 1] - starts[0] if j + 1 < len(starts) else len(targets)
        value = self.index.get(id(items[0][1]))
        for e in range(starts[j] - starts[0], end):
            if targets[e] == value:
                targets[e] = self.add(d)
                self.edge_kind[k][e] = EDGE_SUFFIX
                self.edge_label[k][e] = self.sid_dict
                self.namespaces.add(id(d))
                return True
        return False

    # -- recording: chunks of objects, runs of one type ----------------------------------------
    #
    # The objects are recorded a chunk at a time, and a chunk a run at a time: consecutive objects
    # of one type. discover() makes the runs long: it appends the objects that a chunk's
    # references lead to in the order of those references, which the bulk steps give column by
    # column (every instance's first attribute, then every second one...; a dict's keys, then its
    # values), and groups the objects that are not GC-tracked by type when that order still mixes
    # types (see append_grouped()). For the common exact builtin types (str, int, float, list,
    # tuple, dict, set, objects with nothing to label) and instances labelled alike, a run's
    # columns are computed by builtins mapped over the whole run (C loops: sys.getsizeof, len,
    # gc.get_referents, dict.items, getattr); other types, and a run whose bulk step raises, go
    # through visit(), one object at a time. References are kept as objects (`pending`) until the
    # chunk is recorded, then turned into object indices at once.

    def run(self):
        """Record every object from the first one not yet recorded to the end of objs, which
        grows as discover() appends the objects the recorded ones refer to."""
        objs = self.objs
        while True:
            if len(self.type_col[-1]) == CHUNK:
                self.new_chunk()
            start = self.recorded()
            if start == len(objs):
                return
            end = min(len(objs), start + CHUNK - len(self.type_col[-1]))
            self.record(objs[start:end], start)
            self.discover()

    def recorded(self):
        return (len(self.type_col) - 1) * CHUNK + len(self.type_col[-1])

    def info_of(self, t):
        """t's _TypeInfo; a type whose information fails gets one that records its instances
        incomplete (visit() reports the error for each)."""
        info = self.types.get(id(t))
        if info is None:
            try:
                info = self.type_info(t)
            except Exception as error:
                name = None
                try:
                    name = _type_name(t)
                except Exception:
                    pass
                self.fallback_type(t, name, type(error).__name__)
                info = self.types[id(t)]
        return info

    def type_indexes(self, kinds):
        """The type index of each of the types kinds (types met for the first time get their
        information)."""
        order = self.type_order
        found = list(map(order.get, map(id, kinds), itertools.repeat(-1)))
        if found and min(found) < 0:
            for j in itertools.compress(range(len(found)), map(operator.gt, itertools.repeat(0), found)):
                self.info_of(kinds[j])
            found = list(map(order.get, map(id, kinds), itertools.repeat(-1)))
        return found

    def record(self, chunk, start):
        """Records chunk (objects start, start + 1, ...) run by run, with the type indexes
        discover() or add() noted for them (checked: a class can be reassigned meanwhile)."""
        offset = start - self.next_base
        noted = self.next_types[offset:offset + len(chunk)]
        if offset > CHUNK:
            del self.next_types[:offset]
            self.next_base = start
        by_index = self.by_index
        is_ = operator.is_
        pos = 0
        for ti, run in itertools.groupby(noted):
            n = len(list(run))
            info = by_index[ti]
            objs = chunk[pos:pos + n]
            if info.bulk is None or not all(map(is_, map(type, objs), itertools.repeat(info.cls))):
                self.one_by_one(objs, start + pos)
            elif info.bulk == self.record_instances:
                self.record_instances(info, objs, start + pos)
            elif info.kind != _K_LEAF and max(map(len, objs)) > DISCOVER_STEP:
                self.record_big(info, objs, start + pos)
            elif not self.bulk(info, objs, start + pos):
                self.one_by_one(objs, start + pos)
            pos += n

    def record_big(self, info, objs, start):
        """A run of containers some of which are big (see big_container())."""
        big = bytes(map(DISCOVER_STEP.__lt__, map(len, objs)))
        pos = 0
        for is_big, group in itertools.groupby(big):
            n = len(list(group))
            if is_big:
                for j in range(pos, pos + n):
                    try:
                        self.big_container(info, objs[j], start + j)
                    except Exception as error:
                        self.incomplete(objs[j], start + j, error)
            elif not self.bulk(info, objs[pos:pos + n], start + pos):
                self.one_by_one(objs[pos:pos + n], start + pos)
            pos += n

    def one_by_one(self, objs, start):
        visit = self.visitor()
        before = len(self.pending)
        i = start
        for o in objs:
            try:
                visit(o, i)
            except Exception as error:  # reading o failed: recorded incomplete, the walk goes on
                self.incomplete(o, i, error)
            i += 1
        if len(self.pending) > before:
            self.segments.append((len(self.pending) - before, 0, None))

    # -- bulk recording of a run of one type ---------------------------------------------------
    #
    # Each bulk step returns (sizes, lengths, flags, names, counts, targets, kinds, labels,
    # eligible, width): the run's column entries, the number of edges of each object (None: no
    # edges), and the edges' targets (objects), kinds and labels. kinds and labels are in edge
    # order; targets and eligible (see discover()) too when width is 0, and column by column when
    # it is w (the edges form rows of w: all first edges, then all second edges, ...).

    def bulk(self, info, objs, start, step=None):
        """Records a run of objects of one type with builtins mapped over the run (with `step`,
        info.bulk by default); returns False, having recorded nothing, when a step raises
        (visit() then records them one by one)."""
        try:
            columns = (step or info.bulk)(info, objs)
        except Exception:
            return False
        if columns is None:
            return False
        sizes, lengths, flags, names, counts, targets, kinds, labels, eligible, width = columns
        n = len(objs)
        self.type_col[-1].extend(array.array("I", [info.index]) * n)
        self.address[-1].extend(_addresses(objs))
        self.size[-1].extend(sizes)
        self.length[-1].extend(lengths)
        self.flags[-1].frombytes(flags)
        self.name[-1].extend(names)
        edge_kind = self.edge_kind[-1]
        first = self.edge_base + len(edge_kind)
        if counts is None:
            self.edge_start[-1].extend(array.array("I", [first]) * n)
        else:
            self.edge_start[-1].extend(itertools.islice(itertools.accumulate(counts, initial=first), n))
            edge_kind.frombytes(kinds)
            self.edge_label[-1].extend(labels)
            if width:
                self.add_columns(targets, eligible)
            else:
                self.segments.append((len(targets), 0, None))
                self.pending.extend(targets)
                self.pending_el.extend(eligible)
        if self.alloc is not None:
            alloc_site = self.alloc_site
            if info.traced:
                self.alloc[-1].extend(map(alloc_site, objs))
            elif info.kind != _K_LEAF:  # containers: only the GC-tracked ones
                self.alloc[-1].extend([alloc_site(o) if flag & FLAG_TRACKED else NONE
                                       for o, flag in zip(objs, flags)])
            else:
                self.alloc[-1].extend(array.array("I", [NONE]) * n)
        return True

    def add_columns(self, columns, eligible):
        """Pending references given column by column (eligible: one byte per column). A column whose
        references all lead to one object with an index (an instance's class, the key of a run of
        one-item dicts) is resolved here."""
        rows = len(columns[0])
        spec = []
        index_get = self.index.get
        pending, pending_el = self.pending, self.pending_el
        for column, flag in zip(columns, eligible):
            first = column[0] if rows else None
            known = index_get(id(first)) if rows else None
            if known is not None and all(map(operator.is_, column, itertools.repeat(first))):
                spec.append(known)
                self.const_edges += rows
            else:
                spec.append(-1)
                pending.extend(column)
                pending_el.extend(bytes([flag]) * rows)
        self.segments.append((rows, len(columns), spec))

    def bulk_str(self, info, objs):
        n = len(objs)
        lengths = array.array("I", map(len, objs))
        sizes = self.sizes(info, objs)
        if self.values == "none":
            return sizes, lengths, bytes(n), array.array("I", [NONE]) * n, None, None, None, None, None, 0
        values = self.value_list
        names = array.array("I", range(len(values), len(values) + n))
        flags = bytearray([FLAG_VALUE]) * n
        limit = self.value_len
        if lengths and max(lengths) > limit:
            objs = list(objs)
            for j in itertools.compress(range(n), map(limit.__lt__, lengths)):
                objs[j] = objs[j][:limit]
                flags[j] = FLAG_VALUE | FLAG_TRUNCATED
        values.extend(objs)
        return sizes, self.check_lengths(lengths), flags, names, None, None, None, None, None, 0

    def bulk_number(self, info, objs):
        """int and float: the value is the object itself (written as text with the file) when every
        one of the run has one that fits the values mode; otherwise visit() decides each."""
        low, high = info.number_range
        if low is not None and not (low < min(objs) and max(objs) < high):
            return None
        n = len(objs)
        sizes = self.sizes(info, objs)
        values = self.value_list
        names = array.array("I", range(len(values), len(values) + n))
        values.extend(objs)
        return (sizes, array.array("I", [NONE]) * n, bytes([FLAG_VALUE]) * n, names,
                None, None, None, None, None, 0)

    def bulk_leaf(self, info, objs):
        """Objects without references or names (the sizes and lengths of exact builtin types)."""
        n = len(objs)
        sizes = self.sizes(info, objs)
        if info.length is None:
            lengths = array.array("I", [NONE]) * n
        else:
            lengths = self.check_lengths(array.array("I", map(len, objs)))
        return sizes, lengths, bytes(n), array.array("I", [NONE]) * n, None, None, None, None, None, 0

    def bulk_sequence(self, info, objs):
        """Exact lists and tuples: items with index labels (copied with list(): gc.get_referents
        lists them last first). Items of sequences of one length are given column by column."""
        items = list(map(list, objs))
        counts = array.array("I", map(len, items))
        sizes = self.sizes(info, objs)
        flags = bytes(map(gc.is_tracked, objs))
        width = counts[0] if counts and 1 < counts[0] <= 16 and min(counts) == max(counts) else 0
        if width:
            targets = [list(map(operator.itemgetter(k), items)) for k in range(width)]
            labels = array.array("I", range(width)) * len(items)
            e = width * len(items)
            eligible = b"\1" * width
        else:
            targets = list(itertools.chain.from_iterable(items))
            labels = array.array("I", itertools.chain.from_iterable(map(range, counts)))
            e = len(targets)
            eligible = b"\1" * e
        del items
        return (sizes, self.check_lengths(counts), flags, array.array("I", [NONE]) * len(objs), counts,
                targets, bytes([EDGE_INDEX]) * e, labels, eligible, width)

    def bulk_set(self, info, objs):
        """Exact sets and frozensets: members, opaque edges."""
        items = list(map(gc.get_referents, objs))
        counts = array.array("I", map(len, items))
        targets = list(itertools.chain.from_iterable(items))
        del items
        e = len(targets)
        return (self.sizes(info, objs), self.check_lengths(counts),
                bytes(map(gc.is_tracked, objs)), array.array("I", [NONE]) * len(objs), counts,
                targets, bytes([EDGE_OPAQUE]) * e, array.array("I", [self.sid_set_member]) * e,
                b"\1" * e, 0)

    def bulk_dict(self, info, objs):
        """Exact dicts: per item a `<dict key>` edge to the key and an edge to the value labelled
        by the key, the keys given first, then the values (see item_labels())."""
        items = list(map(list, map(dict.items, objs)))  # one C call: lengths and items agree
        sizes = self.sizes(info, objs)
        counts = array.array("I", map(len, items))
        flat = list(itertools.chain.from_iterable(itertools.chain.from_iterable(items)))
        del items
        keys = flat[0::2]
        kinds, labels = self.item_labels(objs, counts, keys)
        values = flat[1::2]
        del flat
        return (sizes, self.check_lengths(counts), bytes(map(gc.is_tracked, objs)),
                array.array("I", [NONE]) * len(objs), array.array("I", map((2).__mul__, counts)),
                [keys, values], kinds, labels, b"\0" + self.value_eligible, 2)

    def item_labels(self, objs, counts, keys):
        """Edge kinds and labels of dict items (key edge, value edge, ...): the keys are those of
        objs, counts[k] of them for objs[k]."""
        m = len(keys)
        labels = array.array("I", [self.sid_dict_key, 0]) * m
        kinds = bytearray([EDGE_OPAQUE, EDGE_SUFFIX]) * m
        found = None
        if self.values != "none" and all(map(operator.is_, map(type, keys), itertools.repeat(str))):
            # Exact str keys of at most key_len characters: _KEY_LABEL (see value_label()).
            found = list(map((-1, _KEY_LABEL).__getitem__, map(self.key_len.__ge__, map(len, keys))))
        if found is None or (found and min(found) < 0):
            if found is None:
                found = [-1] * m
            # Keys the bulk step cannot label: value_label() with the dict each belongs to.
            ends = list(itertools.accumulate(counts))
            for j in itertools.compress(range(m), map(operator.gt, itertools.repeat(0), found)):
                kind, found[j] = self.value_label(objs[bisect.bisect_right(ends, j)], keys[j])
                kinds[2 * j + 1] = kind
        labels[1::2] = array.array("I", found)
        return kinds, labels

    def big_container(self, info, o, i):
        """An exact dict, list, tuple, set or frozenset of more than DISCOVER_STEP items: its items
        copied in one C call, then labelled and resolved a slice at a time (with discover()), so
        that no C loop holds the GIL long."""
        t = info.cls
        if t is dict:
            items = list(dict.items(o))
        elif t is list or t is tuple:
            items = list(o)
        else:
            items = gc.get_referents(o)
        total = len(items)
        self.type_col[-1].append(info.index)
        self.address[-1].append(id(o))
        self.edge_start[-1].append(self.edge_base + len(self.edge_kind[-1]))
        self.size[-1].append(sys.getsizeof(o))
        self.length[-1].append(min(total, MAX_LENGTH))
        self.flags[-1].append(FLAG_TRACKED if gc.is_tracked(o) else 0)
        self.name[-1].append(NONE)
        if self.alloc is not None:
            self.alloc[-1].append(self.alloc_site(o) if gc.is_tracked(o) else NONE)
        step = DISCOVER_STEP
        # Each slice leaves `items` before it is resolved: discover() counts one reference of the
        # agent's to each object.
        for start in range(0, total, step):
            part = items[:step]
            del items[:step]
            n = len(part)
            if t is dict:
                flat = list(itertools.chain.from_iterable(part))
                del part
                keys = flat[0::2]
                kinds, labels = self.item_labels([o], [n], keys)
                self.edge_kind[-1].frombytes(kinds)
                self.edge_label[-1].extend(labels)
                self.add_columns([keys, flat[1::2]], b"\0" + self.value_eligible)
                del flat, keys
            else:
                sequence = t is list or t is tuple
                self.edge_kind[-1].frombytes(bytes([EDGE_INDEX if sequence else EDGE_OPAQUE]) * n)
                self.edge_label[-1].extend(array.array("I", range(start, start + n)) if sequence
                                           else array.array("I", [self.sid_set_member]) * n)
                self.segments.append((n, 0, None))
                self.pending.extend(part)
                self.pending_el.extend(b"\1" * n)
                del part
            self.discover()

    def record_instances(self, info, objs, start):
        """A run of instances: those that match the type's pattern (learn_pattern()) in bulk,
        the others (and the first one, while the type has no pattern) one by one."""
        if info.pattern is None:
            self.one_by_one(objs[:1], start)
            objs = objs[1:]
            start += 1
        if not objs:
            return
        if info.pattern is None:
            self.one_by_one(objs, start)
            return
        pattern = info.pattern
        try:
            columns, matches = self.match_pattern(info, pattern, objs)
        except Exception:
            self.one_by_one(objs, start)
            return
        pos = 0
        for ok, group in itertools.groupby(matches):
            n = len(list(group))
            part = objs[pos:pos + n]
            if not (ok and self.bulk(info, part, start + pos, functools.partial(
                    self.instance_columns, pattern, [column[pos:pos + n] for column in columns]))):
                self.one_by_one(part, start + pos)
            pos += n

    def match_pattern(self, info, pattern, objs):
        """The referents of objs by position (columns), and per instance a byte, 1 when its
        referents are, position by position and by identity, what the pattern says: the class,
        slot values read with the slot's descriptor, attributes read with the generic getattr
        (classes with no __getattr__/__getattribute__, names that are no descriptor of the
        class: what inline_attributes() reads), the __dict__ of a class without a managed dict."""
        width = len(pattern)
        items = list(map(gc.get_referents, objs))
        n = len(items)
        whole = int.from_bytes(bytes(map(width.__eq__, map(len, items))), "little")
        columns = list(itertools.islice(itertools.zip_longest(*items, fillvalue=_MISSING), width))
        del items
        is_ = operator.is_
        for (code, arg, _sid), column in zip(pattern, columns):
            if code == _P_CLASS:
                expected = itertools.repeat(info.cls)
            elif code == _P_SLOT:
                expected = map(arg, objs)
            elif code == _P_ATTRIBUTE:
                expected = map(getattr, objs, itertools.repeat(arg), itertools.repeat(_MISSING))
            else:
                # The getter makes a __dict__ when there is none: called only when every instance
                # has a dict there.
                if not all(map(is_, map(type, column), itertools.repeat(dict))):
                    return columns, bytes(n)
                expected = map(arg, objs)
            whole &= int.from_bytes(bytes(map(is_, column, expected)), "little")
        return columns, whole.to_bytes(n, "little")

    def instance_columns(self, pattern, columns, info, objs):
        """The bulk step of a run of instances that match the pattern (their referents: columns)."""
        n = len(objs)
        for (code, _a, _s), column in zip(pattern, columns):
            if code == _P_DICT:
                self.namespaces.update(map(id, column))
        opaque = self.opaque
        kinds = bytes([EDGE_OPAQUE if sid in opaque else EDGE_SUFFIX for _c, _a, sid in pattern]) * n
        labels = array.array("I", [sid for _c, _a, sid in pattern]) * n
        eligible = b"".join(b"\0" if code == _P_CLASS else self.value_eligible for code, _a, _s in pattern)
        if info.length is None:
            lengths = array.array("I", [NONE]) * n
        else:
            lengths = self.check_lengths(array.array("I", map(info.length, objs)))
        return (self.sizes(info, objs), lengths, bytes(map(gc.is_tracked, objs)),
                array.array("I", [NONE]) * n, array.array("I", [len(pattern)]) * n,
                columns, kinds, labels, eligible, len(pattern))

    def sizes(self, info, objs):
        """sys.getsizeof of each of objs (of type info.cls, a bulk type): the type's C __sizeof__
        plus its headers, once the first one agrees with sys.getsizeof."""
        method, extra = info.sizeof
        if not objs or sys.getsizeof(objs[0]) != method(objs[0]) + extra:
            return array.array("I", map(sys.getsizeof, objs))
        if not extra:
            return array.array("I", map(method, objs))
        return array.array("I", map(extra.__add__, map(method, objs)))

    def check_lengths(self, lengths):
        """Lengths above MAX_LENGTH are recorded as MAX_LENGTH (NONE means no length)."""
        if lengths and max(lengths) > MAX_LENGTH:
            lengths = array.array("I", [min(n, MAX_LENGTH) for n in lengths])
        return lengths

    # -- discovery: references to object indices -----------------------------------------------

    def discover(self):
        """Turns the pending references of the chunk recorded last into object indices, appending
        the objects not seen before to objs.

        The id -> index map holds only the objects that more than one reference may lead to. A
        reference from an exact list, tuple, set or dict value (or an instance's own attribute,
        before 3.13) to an object whose reference count is 1 apart from the agent's own list of
        pending references is the only way to that object: it cannot be met again, so it gets the
        next index without an entry in the map (most strs, ints and small containers of a heap).
        Objects the map must know (anything GC-tracked when the walk started, which the GC's list
        holds once more, and anything in objs) always have more references. Not eligible: dict
        keys (a split table's keys are shared by the dicts of a class, with one reference), 3.13+
        instances and dicts (an instance's inline values are also its materialised dict's), and the
        edges visit() makes (a ContextVar's `.get()` value is also held by the context)."""
        pending = self.pending
        segments = self.segments
        if not segments:
            return
        eligible = self.pending_el
        self.pending = []
        self.pending_el = bytearray()
        self.segments = []
        self.const_edges = 0
        # In slices, so that no C loop holds the GIL long (a dict of a million items). Each slice
        # leaves `pending` before it is resolved: resolve() counts one reference of the agent's.
        step = DISCOVER_STEP
        if len(pending) <= step:
            targets = self.resolve(pending, eligible)
        else:
            targets = array.array("I")
            while pending:
                part = pending[:step]
                del pending[:step]
                targets.extend(self.resolve(part, eligible[:step]))
                del part, eligible[:step]
        del pending, eligible
        edge_target = self.edge_target[-1]
        first = len(edge_target)
        if len(segments) == 1 and not segments[0][1]:
            edge_target.extend(targets)
        else:
            pos = 0
            for rows, width, columns in segments:
                if not width:
                    edge_target.extend(targets[pos:pos + rows])
                    pos += rows
                    continue
                block = array.array("I", bytes(4 * rows * width))
                for k, known in enumerate(columns):
                    if known < 0:
                        block[k::width] = targets[pos:pos + rows]
                        pos += rows
                    else:
                        block[k::width] = array.array("I", [known]) * rows
                edge_target.extend(block)
        if self.dropped:
            self.drop_edges(first)

    def resolve(self, pending, eligible):
        """Object indices of the pending references (see discover()); NONE for a reference to
        the agent's bookkeeping (its edge is dropped)."""
        n = len(pending)
        lone = None
        if eligible.count(1):
            alone = bytes(map(self.lone_count.__eq__, map(sys.getrefcount, pending)))
            mask = int.from_bytes(alone, "little") & int.from_bytes(eligible, "little")
            del alone
            if mask:
                lone = mask.to_bytes(n, "little")
            del mask
        if lone is None:
            shared, singles = pending, ()
        else:
            shared = list(itertools.compress(pending, map(operator.not_, lone)))
            singles = list(itertools.compress(pending, lone))
        ids = list(map(id, shared))
        index = self.index
        found = list(map(index.get, ids, itertools.repeat(-1)))
        excluded = self.excluded
        if not excluded.isdisjoint(ids):  # rare: a reference to the agent's bookkeeping
            for j, key in enumerate(ids):
                if key in excluded:
                    found[j] = NONE
            self.dropped = True
        fresh = missing = None
        if found and min(found) < 0:
            missing = list(itertools.compress(range(len(found)), map(operator.gt, itertools.repeat(0), found)))
            fresh = dict(zip(map(ids.__getitem__, missing), map(shared.__getitem__, missing)))
        del shared
        if singles or fresh:
            found = self.add_new(singles, fresh, ids, found, missing, lone)
            fresh = missing = None
        return array.array("I", found)

    def add_new(self, singles, fresh, ids, found, missing, lone):
        """Appends the objects of lone references (singles) and the new ones among the others
        (fresh: id -> object), indexing the latter; returns the indices of all pending
        references, in pending order (found has those of the others, -1 at the positions
        `missing` of the new ones)."""
        new = list(singles)
        first = len(new)
        if fresh:
            new.extend(fresh.values())
        where = self.append_grouped(new)
        del new
        if fresh:
            indices = where[first:]
            self.index.update(zip(fresh, indices))
            if len(fresh) < len(missing):  # some new object is referenced more than once here
                # Looked up in a dict of this slice's new objects: the id map's table is far
                # bigger than the caches, and every probe of it misses.
                indices = map(dict(zip(fresh, indices)).__getitem__, map(ids.__getitem__, missing))
            # Otherwise fresh, made from the missing positions in order, is in their order.
            collections.deque(map(found.__setitem__, missing, indices), 0)
        if lone is None:
            return found
        return map(next, map((iter(found), iter(where[:first])).__getitem__, lone))

    def append_grouped(self, new):
        """Appends new to objs and notes their type indexes for record(); returns each one's index.
        They stay in order unless that mixes types; then the objects that are not GC-tracked (strs,
        ints, untracked tuples and dicts: most of a heap) are moved after the others, grouped by
        type, while the GC-tracked ones (containers, instances) keep the order of the references
        that led to them, which is the order a reader's breadth-first searches meet them in."""
        objs = self.objs
        first = len(objs)
        kinds = list(map(type, new))
        m = len(kinds)
        # changes[j]: whether new[j + 1] is of another type than new[j] (by identity: no
        # metaclass's __eq__ runs).
        changes = bytes(map(operator.is_not, itertools.islice(kinds, 1, None), kinds))
        if changes.count(1) <= m // 64 + 4:
            objs.extend(new)
            # Type indexes looked up once per run of one type.
            next_types = self.next_types
            start = 0
            while start < m:
                end = changes.find(1, start) + 1 or m
                next_types.extend(array.array("I", self.type_indexes(kinds[start:start + 1])) * (end - start))
                start = end
            return range(first, first + m)
        order = self.type_indexes(kinds)
        del kinds, changes
        keys = list(map(operator.mul, map(operator.not_, map(gc.is_tracked, new)), map((1).__add__, order)))
        permutation = sorted(range(m), key=keys.__getitem__)
        del keys
        objs.extend(map(new.__getitem__, permutation))
        self.next_types.extend(map(order.__getitem__, permutation))
        del order
        where = [0] * m
        collections.deque(map(where.__setitem__, permutation, range(first, first + m)), 0)
        return where

    def add_unreached(self, tracked):
        """GC-tracked objects the roots do not lead to (looked up a slice at a time: no C loop
        over the whole list holds the GIL)."""
        index = self.index
        missing = []
        for start in range(0, len(tracked), DISCOVER_STEP):
            part = tracked[start:start + DISCOVER_STEP]
            missing.extend(itertools.compress(part, map(operator.not_, map(index.__contains__, map(id, part)))))
        del part
        ids = list(map(id, missing))
        if not self.excluded.isdisjoint(ids):
            excluded = self.excluded
            missing = [o for o in missing if id(o) not in excluded]
            ids = list(map(id, missing))
        index.update(zip(ids, self.append_grouped(missing)))

    def drop_edges(self, first):
        """Removes the edges from position `first` of the chunk on whose target is NONE (references
        to the agent's bookkeeping), moving the edge starts of the objects recorded since."""
        self.dropped = False
        targets, kinds, labels = self.edge_target[-1], self.edge_kind[-1], self.edge_label[-1]
        keep = list(map(NONE.__ne__, targets[first:]))
        for column in (targets, kinds, labels):
            tail = column[first:]
            del column[first:]
            column.extend(itertools.compress(tail, keep))
        kept = list(itertools.accumulate(keep, initial=0))
        base = self.edge_base + first
        starts = self.edge_start[-1]
        for j in range(len(starts) - 1, -1, -1):
            if starts[j] < base:
                break
            starts[j] = base + kept[starts[j] - base]

    def visitor(self):
        """The per-object step of one_by_one(), as short closures over the columns. While
        tracemalloc traces, every allocation looks up the line number of each of the innermost
        frames, at a cost that grows with how far into its function the frame is: one long loop
        function made each allocation several times dearer. References go to `pending` (none of
        them eligible: see discover())."""
        pending_append = self.pending.append
        el_append = self.pending_el.append
        edge_kind = self.edge_kind[-1]
        edge_base = self.edge_base
        kind_append = edge_kind.append
        label_append = self.edge_label[-1].append
        types_get = self.types.get
        info_of = self.info_of
        type_append = self.type_col[-1].append
        address_append = self.address[-1].append
        size_chunk = self.size[-1]
        size_append = size_chunk.append
        first = (len(self.size) - 1) * CHUNK  # index of the chunk's first object
        big_sizes = self.big_sizes
        length_append = self.length[-1].append
        start_append = self.edge_start[-1].append
        flags_append = self.flags[-1].append
        name_append = self.name[-1].append
        is_tracked = gc.is_tracked
        alloc_append = self.alloc[-1].append if self.alloc is not None else None
        alloc_site = self.alloc_site
        name_and_flags = self.name_and_flags
        value_label = self.value_label
        key_len = self.key_len
        dict_key = self.sid_dict_key
        str_labels = self.values != "none"
        sid_referent = self.sid_referent
        bounds = self.bounds
        deque_maxlen = _DEQUE_MAXLEN

        value_eligible = self.value_eligible[0]

        def edge(r, kind, label, eligible):
            pending_append(r)
            kind_append(kind)
            label_append(label)
            el_append(eligible)

        def sequence(o, t, i):
            if t is collections.deque:
                maxlen = deque_maxlen(o)
                if maxlen is not None and bounds.get(i, maxlen) >= maxlen:  # a Queue's may be smaller
                    bounds[i] = maxlen
                o = list(o)
            for j, r in enumerate(o):
                edge(r, EDGE_INDEX, j, 1)

        def mapping(o):
            for k, v in _dict_items(o):
                edge(k, EDGE_OPAQUE, dict_key, 0)
                if str_labels and type(k) is str and len(k) <= key_len:
                    edge(v, EDGE_SUFFIX, _KEY_LABEL, value_eligible)
                else:
                    kind, label = value_label(o, k)
                    edge(v, kind, label, value_eligible)

        def other(o, t, info, i):
            self.position = i
            try:
                edges = info.handler(o, t, info)
            except Exception:
                edges = [(r, EDGE_OPAQUE, sid_referent) for r in gc.get_referents(o)]
            eligible = info.eligible
            for r, kind, label in edges:
                # A dict subclass's keys are never eligible (see discover()).
                edge(r, kind, label, 0 if label == dict_key and kind == EDGE_OPAQUE else eligible)

        def visit(o, i):
            t = type(o)
            info = types_get(id(t))
            if info is None:
                info = info_of(t)
            type_append(info.index)
            address_append(id(o))
            start_append(edge_base + len(edge_kind))
            size = info.size(o)
            try:
                size_append(size)
            except OverflowError:
                big_sizes[first + len(size_chunk)] = size
                size_append(0)
            if info.length is None:
                length_append(NONE)
            else:
                n = info.length(o)
                length_append(n if n <= MAX_LENGTH else MAX_LENGTH)
            kind = info.kind
            flag = 0 if kind == _K_LEAF else is_tracked(o)
            if info.name_kind == _N_NONE:
                name_append(NONE)
            else:
                flag |= name_and_flags(o, info)
            flags_append(flag)
            if alloc_append is not None:
                # Allocation sites of containers, instances and str/bytes data: the objects a
                # leak is made of. Small atoms (int, float, untracked tuples) are skipped.
                if flag & FLAG_TRACKED or t is str or t is bytes or t is bytearray:
                    alloc_append(alloc_site(o))
                else:
                    alloc_append(NONE)
            if kind == _K_LEAF:
                return
            if kind == _K_SEQ:
                sequence(o, t, i)
            elif kind == _K_DICT:
                mapping(o)
            else:
                other(o, t, info, i)

        return visit

    def incomplete(self, o, i, error):
        """Reading o (object i) failed part-way: its columns get what was recorded before the
        failure (type, size, length, edges found so far) and defaults for the rest (size 0, no
        length, no name), with FLAG_INCOMPLETE. One odd object never ends the capture."""
        pos = i - (len(self.size) - 1) * CHUNK  # one_by_one() never leaves the current chunk
        self.failed += 1
        t = type(o)
        name = None
        try:
            name = _type_name(t)
        except Exception:
            pass
        key = (name, error.args[0] if type(error) is _Unreadable else type(error).__name__)
        self.failed_kinds[key] = self.failed_kinds.get(key, 0) + 1
        types_col, sizes, lengths = self.type_col[-1], self.size[-1], self.length[-1]
        flags, names, starts = self.flags[-1], self.name[-1], self.edge_start[-1]
        # A name is kept only together with the flags that say whether it is a value.
        keep_name = len(flags) > pos and len(names) > pos
        if len(types_col) <= pos:
            types_col.append(self.fallback_type(t, name, key[1]))
        if len(self.address[-1]) <= pos:
            self.address[-1].append(id(o))
        # An edge whose target was appended but not its kind or label is dropped.
        resolved = len(self.edge_target[-1])
        kinds, labels = self.edge_kind[-1], self.edge_label[-1]
        resolved += self.const_edges  # edges of this chunk that are not in pending
        count = min(len(kinds) - resolved, len(labels) - resolved, len(self.pending), len(self.pending_el))
        del kinds[resolved + count:], labels[resolved + count:]
        del self.pending[count:], self.pending_el[count:]
        if len(starts) <= pos:
            starts.append(self.edge_base + len(kinds))
        if len(sizes) <= pos:
            sizes.append(0)
            self.big_sizes.pop(i, None)
        if len(lengths) <= pos:
            lengths.append(NONE)
        if len(flags) <= pos:
            flag = 0
            try:
                flag = FLAG_TRACKED if gc.is_tracked(o) else 0
            except Exception:
                pass
            flags.append(flag)
        flags[pos] |= FLAG_INCOMPLETE
        if not keep_name:
            flags[pos] &= ~(FLAG_VALUE | FLAG_TRUNCATED)
            del names[pos:]
            names.append(NONE)
        if self.alloc is not None and len(self.alloc[-1]) <= pos:
            self.alloc[-1].append(NONE)
        for column in (types_col, self.address[-1], sizes, lengths, flags, names, starts):
            del column[pos + 1:]
        if self.alloc is not None:
            del self.alloc[-1][pos + 1:]

    def fallback_type(self, t, name, error_name):
        """A type index for an object whose type information could not be computed. The type
        is remembered with a size function that fails, so that its other instances are
        recorded the same way without computing its information again."""
        info = self.types.get(id(t))
        if info is not None:
            return info.index
        info = _TypeInfo()
        info.index = len(self.type_names)
        self.type_names.append(name if type(name) is str else "<unknown type>")
        info.size = _unreadable_size(error_name)
        # The fields other passes read (an instance type with nothing known about it).
        info.kind, info.length, info.name_kind, info.name, info.handler = _K_LEAF, None, _N_NONE, None, None
        info.slots, info.dict_get, info.managed, info.generic = (), None, False, False
        info.learned, info.candidates, info.attrs, info.misses = [], [], (), 0
        info.unsafe, info.pool_tries, info.bound = frozenset(), 0, None
        info.bulk, info.number_range, info.traced, info.pattern = None, (None, None), False, None
        info.cls, info.eligible = t, 0
        self.remember(t, info)
        return info.index

    def name_and_flags(self, o, info):
        """Appends o's name or value to the name column; returns its FLAG_VALUE/TRUNCATED bits.
        A value's entry indexes value_list."""
        values = self.value_list
        name = self.name[-1]
        if info.name_kind == _N_STR:
            if self.values == "none":
                name.append(NONE)
                return 0
            name.append(len(values))
            if len(o) > self.value_len:
                values.append(o[:self.value_len])
                return FLAG_VALUE | FLAG_TRUNCATED
            values.append(o)
            return FLAG_VALUE
        try:
            text, is_value, cut = info.name(o, self.value_len)
        except Exception:
            text = None
        if text is None:
            name.append(NONE)
            return 0
        if is_value:
            name.append(len(values))
            values.append(text)
            return FLAG_VALUE | (FLAG_TRUNCATED if cut else 0)
        name.append(self.sid(text))
        return 0

    def alloc_site(self, o):
        """Index of o's allocation site (raw tracemalloc frames, innermost first), or NONE."""
        try:
            frames = _tracemalloc._get_object_traceback(o)
        except Exception:
            frames = None
        if not frames:
            return NONE
        key = frames[:ALLOC_FRAMES]
        found = self.alloc_site_ids.get(key)
        if found is None:
            found = self.alloc_site_ids[key] = len(self.alloc_sites)
            self.alloc_sites.append([{"file": f, "line": n} for f, n in key])
        return found

    def release(self):
        """Drop every reference to heap objects."""
        objs = self.objs
        while objs:  # from the end, a slice at a time: no C loop over the whole list
            del objs[-DISCOVER_STEP:]
        del self.pending[:], self.pinned[:]
        self.excluded.clear()
        self.types.clear()
        self.by_index.clear()
        self.type_order.clear()
        del self.held[:]
        self.name_labels.clear()
        self.hidden_names.clear()
        self.enum_texts.clear()
        self.code_names.clear()
        del self.unnamed[:]
        self.string_ids.clear()
        self.namespaces.clear()
        # One C call, about 20 ms for the 1.2M entries of a 2.7M-object heap (as long as the
        # gc.get_objects() at the start); popping them a few thousand at a time cost 15 times that.
        self.index.clear()

    def widen_sizes(self):
        """The file's size column is 'd': the walk's 'I' chunks are converted once the id map is
        freed (here, not in the long layout function: under tracemalloc each of the ints made
        here looks up the line number of every frame on the stack)."""
        sizes = self.size
        for k, chunk in enumerate(sizes):
            sizes[k] = array.array("d", chunk.tolist())
        for i, size in self.big_sizes.items():
            sizes[i // CHUNK][i % CHUNK] = size


def _addresses(objs):
    """The ids of objs as the file's f64 column. When they lie in one binade [2**k, 2**(k+1)),
    k <= 52 (all addresses of a run, nearly always), they are converted with one big-integer
    shift and add over the whole array: the double of such a v has the bits
    (1022 + k) << 52 plus v << (52 - k), which never carries into the next element."""
    ids = array.array("Q", map(id, objs))
    n = len(ids)
    if not n:
        return array.array("d")
    k = ids[0].bit_length() - 1
    order = sys.byteorder
    if 0 <= k <= 52:
        whole = int.from_bytes(ids.tobytes(), order)
        above, bit, exponent = (int.from_bytes(value.to_bytes(8, order) * n, order) for value in
                                (-(1 << (k + 1)) & 0xFFFFFFFFFFFFFFFF, 1 << k, (1022 + k) << 52))
        if not whole & above and whole & bit == bit:
            result = array.array("d")
            result.frombytes(((whole << (52 - k)) + exponent).to_bytes(8 * n, order))
            return result
    return array.array("d", map(float, ids))


def _lone_count():
    """sys.getrefcount of an object held by one reference and by the list discover() checks,
    counted the way discover() counts (mapped over that list). -1 (no reference is taken for a
    lone one) on a free-threaded build, whose counts other threads change without the GIL."""
    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None and not gil():
        return -1
    holder = [object()]
    pending = list(holder)
    return list(map(sys.getrefcount, pending))[0]


class _Unreadable(Exception):
    """Raised for the instances of a type whose information failed; args[0] names that error."""


def _unreadable_size(error_name):
    def size(obj):
        raise _Unreadable(error_name)
    return size


# Names and values for the obj_name column: each returns (text, is_value, truncated).

def _bytes_value(o, limit):
    head = bytes(o[:limit])
    return repr(head), True, len(o) > limit


_INT_VALUE_LIMIT = 10 ** INT_VALUE_DIGITS


def _int_value(o, limit):
    """The int itself (written as decimal text with the file) when it has at most 40 digits."""
    return (o if -_INT_VALUE_LIMIT < o < _INT_VALUE_LIMIT else None), True, False


def _short_int_value(limit):
    """_int_value for value_len <= 40: an int whose decimal text is longer than `limit` gives its
    first `limit` characters, flagged as cut (made in the walk: rare), or nothing past 40 digits."""
    high = 10 ** limit if limit > 0 else 0        # 0 <= o < high: at most limit digits
    low = -10 ** (limit - 1) if limit > 1 else -limit  # low < o < 0: at most limit characters with '-'

    def value(o, limit):
        if low < o < high:
            return o, True, False
        if -_INT_VALUE_LIMIT < o < _INT_VALUE_LIMIT:
            return _INT_REPR(o)[:limit], True, True
        return None, True, False
    return value


_FLOAT_TEXT_MAX = 24  # the longest repr() of a float: '-2.2250738585072014e-308'


def _short_float_value(o, limit):
    """_float_value for value_len < 24: the repr's first `limit` characters."""
    text = _FLOAT_REPR(o)
    return text[:limit], True, len(text) > limit


def _value_function(t, limit):
    """The value function of an exact int, bool, float, bytes or bytearray for value_len `limit`."""
    if t is int and limit <= INT_VALUE_DIGITS:
        return _short_int_value(limit)
    if t is float and limit < _FLOAT_TEXT_MAX:
        return _short_float_value
    return _VALUE_NAMES[id(t)]


def _bool_value(o, limit):
    return ("True" if o else "False"), True, False


def _float_value(o, limit):
    return o, True, False  # written as its repr() with the file


def _str_subclass_value(o, limit):
    text = _STR_COPY(o)
    return text[:limit], True, len(text) > limit


def _module_name(o, limit):
    name = _dict_get_str(_MODULE_DICT(o), "__name__")
    return name, False, False


def _dict_get_str(d, key):
    for k, v in _dict_items(d):
        if type(k) is str and k == key:
            return v if type(v) is str else None
    return None


def _function_name(o, limit):
    return _exact_name(o.__module__, o.__qualname__), False, False


def _builtin_name(o, limit):
    return _exact_name(o.__module__, o.__name__), False, False


def _method_name(o, limit):
    func = o.__func__
    if type(func) is types.FunctionType:
        return _function_name(func, limit)
    return None, False, False


def _code_name(o, limit):
    return "%s %s:%d" % (o.co_name, o.co_filename, o.co_firstlineno), False, False


def _frame_name(o, limit):
    code = o.f_code
    return "%s %s:%d" % (code.co_name, code.co_filename, o.f_lineno or 0), False, False


def _lru_typed(o):
    """`typed` of an lru_cache wrapper, from the closure of the `cache_parameters` lambda that
    functools.lru_cache set on it (recognised by its code object); None if it was replaced."""
    try:
        for key, value in _dict_items(_LRU_TYPE.__dict__["__dict__"].__get__(o)):
            if type(key) is str and key == "cache_parameters" and type(value) is types.FunctionType:
                code = _FUNC_CODE(value)
                if not _one_of(code, _LRU_PARAMETER_CODES):
                    return None
                cells = _FUNC_CLOSURE(value)
                for name, cell in zip(_CODE_FREEVARS(code), cells):
                    if name == "typed":
                        typed = _CELL_CONTENTS(cell)
                        return typed if type(typed) is bool else None
    except Exception:
        pass
    return None


def _lru_name(o, limit):
    wrapped = o.__wrapped__
    if type(wrapped) is types.FunctionType:
        return _function_name(wrapped, limit)
    return None, False, False


_REF_TARGET = _weakref.ReferenceType.__call__  # C: the referent or None, whatever a subclass overrides


def _weakref_name(o, limit):
    """The referent's address (a weak reference has no edge to it: it keeps nothing alive), so a reader can
    tell whose objects a weak container tracks; no text of the program's."""
    target = _REF_TARGET(o)
    return (None if target is None else "0x%x" % id(target)), False, False


def _type_object_name(o, limit):
    return _type_name(o), False, False


# Keyed by id(type): looking a type up by hash or == could run a metaclass's code.
_VALUE_NAMES = {id(bytes): _bytes_value, id(bytearray): _bytes_value, id(int): _int_value,
                id(bool): _bool_value, id(float): _float_value}
_NAMED_TYPES = {
    id(types.ModuleType): _module_name,
    id(types.FunctionType): _function_name,
    id(types.BuiltinFunctionType): _builtin_name,
    id(types.MethodType): _method_name,
    id(types.CodeType): _code_name,
    id(types.FrameType): _frame_name,
}
if _LRU_TYPE is not None:
    _NAMED_TYPES[id(_LRU_TYPE)] = _lru_name
_NAMED_TYPES[id(_weakref.ReferenceType)] = _weakref_name


def _named_types():
    """_NAMED_TYPES plus the weak reference classes of weakref.py (KeyedRef of WeakValueDictionary,
    WeakMethod), when the program has imported it: read from the module's dict, never imported here."""
    named = dict(_NAMED_TYPES)
    module = sys.modules.get("weakref")
    if type(module) is types.ModuleType:
        namespace = _MODULE_DICT(module)
        for name in ("KeyedRef", "WeakMethod"):
            cls = dict.get(namespace, name)
            if type(cls) is type and issubclass(cls, _weakref.ReferenceType):
                named[id(cls)] = _weakref_name
    return named


# ----------------------------------------------------------------------------------------------
# Writing

class _Output(object):
    """Writes to a file while keeping the CRC-32 and the position."""

    def __init__(self, f):
        self.f = f
        self.crc = 0
        self.pos = 0

    def write(self, data):
        view = memoryview(data).cast("B")
        self.f.write(view)
        self.crc = zlib.crc32(view, self.crc)
        self.pos += len(view)

    def pad(self):
        extra = -self.pos % 8
        if extra:
            self.write(b"\0" * extra)


_DTYPES = {"d": "f64", "I": "u32", "B": "u8"}


# Byte b -> 1 when it is 0xFF (bytes.translate table).
_IS_FF = bytes(255) + b"\1"


def _key_labels(graph):
    """Labels _KEY_LABEL of dict values become the string index of `['key']`, made from the value
    of the str key whose edge is just before (a key of at most key_len characters, so its value is
    the whole key). Runs while the name column still indexes value_list."""
    names = array.array("I")
    for chunk in graph.name:
        names.extend(chunk)
    values = graph.value_list
    strings = graph.strings
    by_text = {}   # label text -> string index
    by_entry = {}  # value_list index of a key -> string index of its label, for one chunk
    high = slice(3, None, 4) if _LITTLE else slice(0, None, 4)
    for targets, kinds, labels in zip(graph.edge_target, graph.edge_kind, graph.edge_label):
        # Candidates first: the labels whose high byte is 0xFF (from a copy of the bytes, with no
        # int made per label), then those that are _KEY_LABEL.
        marks = list(itertools.compress(range(len(labels)), labels.tobytes()[high].translate(_IS_FF)))
        marks = list(itertools.compress(marks, map(_KEY_LABEL.__eq__, map(labels.__getitem__, marks))))
        by_entry.clear()
        if not marks:
            continue
        entries = list(map(names.__getitem__, map(targets.__getitem__, map(operator.sub, marks, itertools.repeat(1)))))
        for entry in dict.fromkeys(entries):
            if entry not in by_entry:
                if entry == NONE:  # a key recorded without its value (it failed): an opaque edge
                    text = "<dict key>"
                else:
                    text = "[%r]" % values[entry]
                found = by_text.get(text)
                if found is None:
                    found = by_text[text] = len(strings)
                    strings.append(text)
                by_entry[entry] = found
        collections.deque(map(labels.__setitem__, marks, map(by_entry.__getitem__, entries)), 0)
        if NONE in by_entry:
            for j, entry in enumerate(entries):
                if entry == NONE:
                    kinds[marks[j]] = EDGE_OPAQUE


def _unique_values(value_list, base):
    """Equal values share one string table entry (many equal ints and strs are distinct objects).
    Returns the distinct values (floats as their text) and each value's string index (base +
    position). Floats are compared by their text: -0.0, 0.0 and 0 are equal numbers but
    different values. The ints are deduplicated first, then the rest: two smaller dicts, one
    after the other, instead of one for all (the layout's peak). One dict lookup per value in a
    loop: C loops over the list touch each value two or three times, which is slower on a heap
    that does not fit in the caches."""
    unique = []
    where = array.array("I", bytes(4 * len(value_list)))
    is_int = bytes(map(operator.is_, map(type, value_list), itertools.repeat(int)))
    float_repr = _FLOAT_REPR
    for wanted in (1, 0):
        first = {}
        for j in itertools.compress(range(len(value_list)), map(wanted.__eq__, is_int)):
            value = value_list[j]
            if type(value) is float:
                value = float_repr(value)
            found = first.get(value)
            if found is None:
                found = first[value] = base + len(unique)
                unique.append(value)
            where[j] = found
        del first
    return unique, where


# Byte b -> 1 when it has FLAG_VALUE (bytes.translate table for the flags column).
_HAS_VALUE = bytes(1 if b & FLAG_VALUE else 0 for b in range(256))


def _name_values(names, flags, where):
    """The name column's value entries (flagged FLAG_VALUE, in walk order) get the string indices
    in `where`, chunk by chunk."""
    pos = 0
    for k, (name, flag) in enumerate(zip(names, flags)):
        mask = flag.tobytes().translate(_HAS_VALUE)
        count = mask.count(1)
        if not count:
            continue
        found = where[pos:pos + count]
        pos += count
        if count == len(name):
            names[k] = found
        else:
            others = itertools.compress(name, map(operator.not_, mask))
            names[k] = array.array("I", map(next, map((others, iter(found)).__getitem__, mask)))


def _string_table(strings):
    """UTF-8 data of the strings (lone surrogates escaped; int values as their decimal text), as
    chunks, and their offsets. Every entry is an exact str or int: str() runs no code of the
    program's."""
    offsets = array.array("I", [0])
    chunks = []
    total = 0
    # A step's text and bytes live until joined: steps of 65536 strings made this the peak of
    # a small capture.
    step = 8192
    for start in range(0, len(strings), step):
        texts = list(map(str, strings[start:start + step]))
        joined = "".join(texts)
        if joined.isascii():
            data = joined.encode("ascii")
            lengths = map(len, texts)
        else:
            encoded = list(map(str.encode, texts, itertools.repeat("utf-8"), itertools.repeat("backslashreplace")))
            data = b"".join(encoded)
            lengths = map(len, encoded)
        del joined
        offsets.extend(itertools.islice(itertools.accumulate(lengths, initial=total), 1, None))
        total += len(data)
        chunks.append(data)
    return offsets, chunks, total


def _write_file(path, header, sections):
    """sections: list of (name, dtype letter, list of arrays/bytes chunks, count)."""
    tmp = path + ".partial"
    f = open(tmp, "xb")  # "x": a file of that name that is not ours is never replaced or removed
    try:
        with f:
            out = _Output(f)
            table = {}
            lengths = []
            for name, letter, chunks, count in sections:
                itemsize = 8 if letter == "d" else 4 if letter == "I" else 1
                lengths.append(count * itemsize)
            base = 0
            for _ in range(10):
                offset = base
                for (name, letter, chunks, count), length in zip(sections, lengths):
                    table[name] = {"offset": offset, "length": length, "dtype": _DTYPES[letter],
                                   "count": count}
                    offset += length + (-length % 8)
                header["sections"] = table
                text = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
                start = 16 + len(text)
                start += -start % 8
                if start == base:
                    break
                base = start
            out.write(MAGIC + _PREAMBLE.pack(FORMAT_VERSION, len(text)))
            out.write(text)
            out.pad()
            for name, letter, chunks, count in sections:
                assert out.pos == table[name]["offset"]
                for chunk in chunks:
                    if not _LITTLE and letter != "B" and isinstance(chunk, array.array):
                        chunk = array.array(chunk.typecode, chunk)
                        chunk.byteswap()
                    if len(chunk):
                        out.write(chunk)
                out.pad()
            total = out.pos + TRAILER_SIZE
            f.write(TRAILER_MAGIC + _TRAILER.pack(out.crc & 0xFFFFFFFF, 0, total))
        _publish(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _exists_error(path):
    return FileExistsError(errno.EEXIST, "a file of that name exists; not replacing it", path)


def _check_target(path):
    """Every check that can fail before the file is written, run before any work: an existing
    file or .partial of that name, a directory that is missing or not writable."""
    for name in (path, path + ".partial"):
        if os.path.lexists(name):
            raise _exists_error(name)
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "no such directory", directory)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "directory not writable", directory)


def _is_directory_path(path):
    seps = (os.sep, os.altsep) if os.altsep else (os.sep,)
    return path.endswith(seps) or os.path.isdir(path)


def _resolve_path(path, kind):
    """The file a snapshot goes to. A path that ends in a separator or names a directory is a
    directory (created with its parents when missing) that gets a default name; a file name
    without an extension gets .lbsnap."""
    if path is None:
        return _default_name(kind)
    path = os.fspath(path)
    if _is_directory_path(path):
        os.makedirs(path, exist_ok=True)
        return os.path.join(path, _default_name(kind))
    if not os.path.splitext(path)[1]:
        path += EXTENSION
    return path


def _publish(tmp, path):
    """Gives the finished file its name, never replacing a file that is already there."""
    try:
        os.link(tmp, path)  # atomic, and fails when path exists
    except FileExistsError:
        raise _exists_error(path)
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise _exists_error(path)
        os.rename(tmp, path)
        return
    os.unlink(tmp)


def _capture_full(values, value_len, tracemalloc_on):
    """The walk and the column layout, run on a new thread of its own: while tracemalloc traces,
    every allocation records the allocating thread's innermost frames, and finding each frame's
    line number costs time proportional to how far into its function the frame is. The
    application's stack can be deep in long functions (a module body); the new thread's
    stack is two short agent functions."""
    started = time.time()
    clock = time.perf_counter()
    was_enabled = gc.isenabled()
    gc.disable()  # a collection mid-walk would only cost time and run finalizers
    _CAPTURE_GC[0] = was_enabled  # what a child forked mid-capture restores
    try:
        # Listed before the job's own objects exist, so that none of them is in the list.
        tracked = gc.get_objects()
        done = _thread.allocate_lock()
        done.acquire()
        job = [tracked, values, value_len, tracemalloc_on, done]
        tracked = None
        _CAPTURE_JOB[:] = [job, done]
        # The walk runs in a copy of this thread's context, so a ContextVar's `.get()` edge is the
        # value the program sees here (made after the object list, so the copy is not in it).
        context = _contextvars.copy_context() if _CONTEXTVAR_TYPE is not None else None
        try:
            if context is None:
                _thread.start_new_thread(_capture_thread, (job,))
            else:
                _thread.start_new_thread(context.run, (_capture_thread, job))
        except RuntimeError:  # 3.12+ at interpreter exit (atexit): no new threads; walk here
            _capture_thread(job)
        context = None
        try:
            done.acquire()
        except BaseException:  # a signal handler raised in this thread: let the walk finish first
            done.acquire()
            raise
    finally:
        del _CAPTURE_JOB[:]
        _CAPTURE_GC[0] = None
        if was_enabled:
            gc.enable()
    if len(job) != 2:
        # The error leaves no reference to the heap behind: the walk's frames were cleared, and
        # neither job nor this frame holds the error once it is raised (no job/traceback cycle).
        error = job.pop()
        try:
            raise error
        finally:
            error = None
    header, sections = job
    return header, sections, started, clock


def _clear_traceback(error):
    """Clears the locals of the finished frames in the tracebacks of error and of the exceptions
    chained to it (the walk's frames hold heap objects: `o`, the object list)."""
    seen = []
    while error is not None and not any(error is e for e in seen):
        seen.append(error)
        tb = error.__traceback__
        while tb is not None:
            try:
                tb.tb_frame.clear()
            except RuntimeError:  # a frame still running: the caller's own
                pass
            tb = tb.tb_next
        error = error.__cause__ or error.__context__


def _capture_thread(job):
    """Runs the walk; leaves [header, sections] or [exception] in job."""
    tracked, values, value_len, tracemalloc_on, done = job
    del job[:]
    try:
        graph = _Graph(values, value_len, tracemalloc_on)
        try:
            graph.walk(tracked)
            del tracked[:]
            tracked = None
            graph.release()
            graph.widen_sizes()
            job.extend(_full_layout(graph))
        finally:
            if tracked is not None:
                del tracked[:]
            graph.release()
            del graph.value_list[:], graph.strings[:]
    except BaseException as error:
        _clear_traceback(error)
        job[:] = [error]
    finally:
        done.release()


def _full_layout(graph):
    n = graph.recorded()
    e = graph.edge_count()
    r = len(graph.root_object)
    strings = graph.strings
    sids = graph.key_label_sids
    collections.deque(map(strings.__setitem__, sids, map("[%r]".__mod__, map(strings.__getitem__, sids))), 0)
    _key_labels(graph)
    unique, where = _unique_values(graph.value_list, len(strings))
    del graph.value_list[:]
    # Value entries of the name column, in walk order, now index the string table.
    _name_values(graph.name, graph.flags, where)
    del where
    graph.strings.extend(unique)
    del unique
    offsets, chunks, total = _string_table(graph.strings)
    header = {
        "format": "leakbook-snapshot",
        "version": FORMAT_VERSION,
        "kind": "full",
        "agent_version": AGENT_VERSION,
        # Completed by snapshot(); the walk contributes what failed (objects with FLAG_INCOMPLETE).
        "meta": {"failed_objects": graph.failed,
                 "failed_kinds": [{"type": name, "error": error, "count": count}
                                  for (name, error), count in sorted(graph.failed_kinds.items(),
                                                                     key=lambda item: -item[1])]},
        "memory": None,
        "counts": {"objects": n, "edges": e, "roots": r, "strings": len(graph.strings),
                   "types": len(graph.type_names)},
        "types": list(graph.type_names),
        "sections": None,
        "threads": graph.threads,
        "lru_caches": graph.lru,
        "bounds": [[i, graph.bounds[i]] for i in sorted(graph.bounds)],
        "alloc_sites": graph.alloc_sites,
        "census": None,
    }
    sections = [
        ("obj_address", "d", graph.address, n),
        ("obj_type", "I", graph.type_col, n),
        ("obj_size", "d", graph.size, n),
        ("obj_length", "I", graph.length, n),
        ("obj_flags", "B", graph.flags, n),
        ("obj_name", "I", graph.name, n),
    ]
    if graph.alloc is not None:
        sections.append(("obj_alloc", "I", graph.alloc, n))
    sections += [
        ("edge_start", "I", graph.edge_start, n + 1),
        ("edge_target", "I", graph.edge_target, e),
        ("edge_kind", "B", graph.edge_kind, e),
        ("edge_label", "I", graph.edge_label, e),
        ("root_object", "I", [graph.root_object], r),
        ("root_kind", "B", [graph.root_kind], r),
        ("root_label", "I", [graph.root_label], r),
        ("str_offsets", "I", [offsets], len(offsets)),
        ("str_data", "B", chunks, total),
    ]
    del graph.strings[:]
    return header, sections


def _census():
    """Per-type counts and shallow sizes of the GC-tracked objects. Every per-object step runs
    in C: a Counter of (type id, size) pairs, whose few distinct pairs are then summed per type."""
    objs = gc.get_objects()
    try:
        type_ids = list(map(id, map(type, objs)))
        by_id = dict(zip(type_ids, map(type, objs)))
        sizers = {tid: _size_function(t) for tid, t in by_id.items()}
        failed = [0]
        try:
            if all(s is sys.getsizeof for s in sizers.values()):
                sizes = map(sys.getsizeof, objs)
            else:  # some class overrides __sizeof__: never call it
                sizes = [sizers[tid](o) for tid, o in zip(type_ids, objs)]
            pairs = collections.Counter(zip(type_ids, sizes))
        except Exception:  # one object's size failed: counted, with size 0
            def safe(tid, o):
                try:
                    return sizers[tid](o)
                except Exception:
                    failed[0] += 1
                    return 0
            pairs = collections.Counter(zip(type_ids, map(safe, type_ids, objs)))
            safe = None
        sizes = None
        result = {}
        total = 0
        for (tid, size), count in pairs.items():
            name = _type_name(by_id[tid])
            entry = result.get(name)
            if entry is None:
                entry = result[name] = [0, 0]
            entry[0] += count
            entry[1] += size * count
            total += size * count
        return {"tracked_only": True, "types": result, "objects": len(objs), "bytes": total,
                "failed_objects": failed[0]}
    finally:
        del objs[:]


# ----------------------------------------------------------------------------------------------
# Public API

_LOCK = threading.Lock()
# The thread holding _LOCK and how many snapshot() calls are nested in it (a signal handler of
# the application calling snapshot() while that thread captures): [thread ident or None, depth].
_OWNER = [None, 0]
# snapshot() calls that returned None because a capture was running (skipped_captures()).
_SKIPPED = [0]
# While a full capture runs: the application's gc.isenabled() before the capture disabled the
# collector, and [job, done lock] of the walk. A child forked meanwhile restores the first and
# ends the wait for a walk whose thread does not exist in the child.
_CAPTURE_GC = [None]
_CAPTURE_JOB = []
# Captures (full or census) this process has started, failed ones included: the next capture's
# meta.sequence. A forked child continues its parent's count (it inherits the agent's state).
_SEQUENCE = [0]
# Running Recorders. Their threads and the atexit hook hold them only through a weak reference,
# so that everything the agent keeps between captures is reached from this module alone.
_RECORDERS = []


def _default_name(kind):
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    suffix = "-census" if kind == "census" else ""
    return "leakbook-%d-%sZ-%03d%s%s" % (os.getpid(), stamp, _SEQUENCE[0], suffix, EXTENSION)


class _CaptureSlot(object):
    """`with _SLOT as held:` takes the capture lock when it is free and never waits; `held` says
    whether this call has it. A call that finds it taken (by another thread, or nested in the
    holder's own thread by a signal handler) leaves it as it is. No instance state (no __dict__,
    not GC-tracked): one module-level instance serves every call."""

    __slots__ = ()

    def __enter__(self):
        me = _thread.get_ident()
        if _LOCK.acquire(False):
            _OWNER[0] = me
            _OWNER[1] = 0
            return True
        if _OWNER[0] == me:
            _OWNER[1] += 1
        return False

    def __exit__(self, *exc_info):
        if _OWNER[0] == _thread.get_ident():
            if _OWNER[1]:
                _OWNER[1] -= 1
            else:
                _OWNER[0] = None
                _LOCK.release()
        return False


_SLOT = _CaptureSlot()


def skipped_captures():
    """How many snapshot() calls this process skipped (returned None) because a capture was
    already running in it. A forked child starts from its parent's count."""
    return _SKIPPED[0]


def snapshot(path=None, *, census=False, values="prefix", value_len=64):
    """Write one snapshot of this process and return the file's path.

    path: a file name (.lbsnap is added when it has no extension), a directory (a path that
    ends in a separator or names an existing directory; created when missing, a default name is
    made inside), or None for the current directory. A path that cannot be written raises
    before any work. census=True writes per-type counts only. values="none" stores no string, bytes
    or number contents. Returns None, without waiting, when a capture is already running in
    this process (another thread's, or the one a signal handler interrupted): see
    skipped_captures()."""
    if values not in ("prefix", "none"):
        raise ValueError("values must be 'prefix' or 'none'")
    if type(value_len) is not int or value_len < 0:
        raise ValueError("value_len must be a non-negative int")
    with _SLOT as held:
        if not held:  # a capture is running (another thread, or this one's signal handler)
            _SKIPPED[0] += 1
            return None
        kind = "census" if census else "full"
        path = _resolve_path(path, kind)
        _check_target(path)
        sequence = _SEQUENCE[0]
        _SEQUENCE[0] += 1
        tracing = _tracing()
        options = {"census": bool(census), "values": values, "value_len": value_len,
                   "tracemalloc": tracing}
        # Measured before the walk: the process as the application left it, not the capture's own peak.
        memory = _memory(path + ".mallocstats")
        if census:
            started = time.time()
            clock = time.perf_counter()
            header = {
                "format": "leakbook-snapshot", "version": FORMAT_VERSION, "kind": "census",
                "agent_version": AGENT_VERSION, "meta": None, "memory": None,
                "counts": {"objects": 0, "edges": 0, "roots": 0, "strings": 0, "types": 0},
                "types": [], "sections": None, "threads": [], "lru_caches": [], "bounds": [],
                "alloc_sites": None, "census": _census(),
            }
            header["counts"]["objects"] = header["census"]["objects"]
            header["meta"] = {"failed_objects": header["census"]["failed_objects"]}
            sections = []
        else:
            header, sections, started, clock = _capture_full(values, value_len, tracing)
        header["memory"] = memory
        meta = _meta(started, options, values)
        meta.update(header["meta"] or {})
        meta["sequence"] = sequence
        meta["duration_s"] = time.perf_counter() - clock
        header["meta"] = meta
        try:
            _write_file(path, header, sections)
        finally:
            del header, sections
            _give_back_memory()
        return path


def _give_back_memory():
    if _malloc_trim is not None:
        try:
            _malloc_trim(0)
        except Exception:
            pass


def _report(message):
    """Failures in background captures are reported, never raised into the application."""
    try:
        warnings.warn("leakbook: " + message, RuntimeWarning, stacklevel=2)
    except Exception:
        pass


# How often a Recorder with an rss_limit reads the process's RSS (one read of /proc/self/statm).
RSS_POLL_INTERVAL = 1.0


def _current_rss():
    """Resident set size in bytes now, cheaply: /proc/self/statm; the peak elsewhere (getrusage)."""
    try:
        fd = os.open("/proc/self/statm", os.O_RDONLY)
        try:
            return int(os.read(fd, 200).split()[1]) * os.sysconf("SC_PAGE_SIZE")
        finally:
            os.close(fd)
    except Exception:
        rss, peak, _ = _rss()
        return rss if rss is not None else peak


class Recorder(object):
    """Background snapshots: every `interval` seconds, on a signal, at interpreter exit, and
    when RSS crosses `rss_limit` and each further `rss_step` of growth."""

    def __init__(self, directory, interval=60.0, signal=None, at_exit=True,
                 values="prefix", value_len=64, rss_limit=None, rss_step=0.25, in_children=False):
        if rss_limit is not None and (type(rss_limit) is not int or rss_limit <= 0):
            raise ValueError("rss_limit must be a positive int (bytes)")
        if not isinstance(rss_step, (int, float)) or not rss_step > 0:
            raise ValueError("rss_step must be a positive number (0.25: 25% more)")
        if interval is not None and not interval > 0:
            raise ValueError("interval must be positive or None")
        self.directory = os.path.abspath(os.fspath(directory))
        os.makedirs(self.directory, exist_ok=True)
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "directory not writable", self.directory)
        self.interval = interval
        self.rss_limit = rss_limit
        self.rss_step = rss_step
        # The RSS that triggers the next snapshot, and the RSS at each snapshot RSS triggered.
        self.rss_threshold = rss_limit
        self.rss_triggers = []
        self.started = time.monotonic()
        self._advice = False
        self.values = values
        self.value_len = value_len
        self.paths = []
        self.failures = 0
        self.last_error = None
        self._failing = False  # the last capture failed (and was reported)
        self.skipped = 0
        self.in_children = bool(in_children)
        self._stopped = False
        self._wake = threading.Event()
        self._signal = signal
        self._previous_handler = None
        self._at_exit = at_exit
        own = _weakref.ref(self)
        self._thread = threading.Thread(target=_recorder_loop, args=(own,), name="leakbook-recorder",
                                        daemon=True)
        self._exit_hook = functools.partial(_recorder_exit, own)
        _RECORDERS.append(self)
        if signal is not None:
            import signal as signals
            self._previous_handler = signals.signal(signal, self._on_signal)
        if at_exit:
            atexit.register(self._exit_hook)
        self._thread.start()

    def _on_signal(self, signum, frame):
        self._wake.set()

    def _loop(self):
        deadline = None if self.interval is None else time.monotonic() + self.interval
        while not self._stopped:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.rss_limit is not None:
                timeout = RSS_POLL_INTERVAL if timeout is None else min(timeout, RSS_POLL_INTERVAL)
            woken = self._wake.wait(timeout)
            self._wake.clear()
            if self._stopped:
                break
            if woken or (deadline is not None and time.monotonic() >= deadline):
                self.capture()  # a signal, or the interval is over: the next one counts from now
                if self.interval is not None:
                    deadline = time.monotonic() + self.interval
            if self.rss_limit is not None:
                self._check_rss()

    def _check_rss(self):
        rss = _current_rss()
        if rss is None or rss < self.rss_threshold:
            return
        # The next threshold counts from the RSS that triggered, whether the capture works or
        # not (a failing capture is not retried every poll).
        self.rss_threshold = int(rss * (1 + self.rss_step))
        self.rss_triggers.append(rss)
        self.capture()

    def capture(self):
        """Take one snapshot now; failures are counted and reported, never raised. A run of
        failed captures is reported once (one RuntimeWarning), the next success ends the run."""
        try:
            path = snapshot(self.directory, values=self.values, value_len=self.value_len)
            if path is None:  # another capture was running
                self.skipped += 1
            else:
                self.paths.append(path)
            self._failing = False
            return path
        except Exception as error:
            self.failures += 1
            self.last_error = "%s: %s" % (type(error).__name__, error)
            error = None
            if not self._failing:
                self._failing = True
                _report("snapshot failed (reported once until a capture succeeds; Recorder.failures "
                        "counts them): " + self.last_error)
            return None

    def _exit_snapshot(self):
        if not self._stopped:
            self._stopped = True
            self._wake.set()
            elapsed = time.monotonic() - self.started
            # A capture running on another thread (this Recorder's periodic one) would be skipped by
            # the exit snapshot and then cut off when the interpreter finalizes: wait for it first.
            me = _thread.get_ident()
            while _LOCK.locked() and _OWNER[0] != me:
                time.sleep(0.01)
            self.capture()
            if self._advice:
                _run_advice(self, elapsed)

    def stop(self):
        """Stop the background thread, restore the signal handler, cancel the exit snapshot."""
        if self._signal is not None and self._previous_handler is not None:
            try:
                import signal as signals
                signals.signal(self._signal, self._previous_handler)
            except Exception as error:
                _report("could not restore the signal handler: %s" % error)
        self._stopped = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        if self._at_exit:
            atexit.unregister(self._exit_hook)
        for i, recorder in enumerate(_RECORDERS):
            if recorder is self:
                del _RECORDERS[i]
                break


    def _forked(self):
        """In a forked child (its thread is gone, its Event's lock may be held): a new Event, and
        a new thread when in_children, with its own paths and counts; otherwise stopped, so that
        its exit hook does nothing."""
        self._wake = threading.Event()
        if not self.in_children or self._stopped:
            self._stopped = True
            return False
        self.paths = []
        self.failures = 0
        self.skipped = 0
        self.last_error = None
        self._thread = threading.Thread(target=_recorder_loop, args=(_weakref.ref(self),),
                                        name="leakbook-recorder", daemon=True)
        self._thread.start()
        return True


def _after_fork_in_child():
    """os.register_at_fork(after_in_child=...): the child has only the thread that forked. Any
    capture thread or Recorder thread of the parent is gone, possibly holding _LOCK."""
    global _LOCK
    try:
        if _OWNER[0] != _thread.get_ident():
            # Held by a thread that does not exist here (or free): a new lock. If the forking
            # thread itself holds it (fork from a signal handler mid-capture), its snapshot()
            # call unwinds and releases it.
            _LOCK = threading.Lock()
            _OWNER[0] = None
            _OWNER[1] = 0
        if _CAPTURE_JOB:
            # A walk was running on a thread the child does not have: whoever waits for it in the
            # child (only the forking thread could) gets an error instead of waiting forever.
            job, done = _CAPTURE_JOB
            del _CAPTURE_JOB[:]
            if done.locked():
                job[:] = [RuntimeError("leakbook: the process forked during this capture")]
                done.release()
        if _CAPTURE_GC[0] is not None:
            # The capture disabled the collector; in the child it never restores it.
            if _CAPTURE_GC[0]:
                gc.enable()
            else:
                gc.disable()
            _CAPTURE_GC[0] = None
        kept = [recorder for recorder in _RECORDERS if recorder._forked()]
        _RECORDERS[:] = kept
    except Exception as error:
        _report("after fork: %s: %s" % (type(error).__name__, error))


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _recorder_loop(own):
    recorder = own()
    if recorder is not None:
        recorder._loop()


def _recorder_exit(own):
    recorder = own()
    if recorder is not None:
        recorder._exit_snapshot()


def start(directory, interval=60.0, *, signal=None, at_exit=True, values="prefix", value_len=64,
          rss_limit=None, rss_step=0.25, in_children=False):
    """Take snapshots into `directory` (created when missing) every `interval` seconds (None:
    never), on `signal` (e.g. signal.SIGUSR2), at interpreter exit, and, with rss_limit (bytes),
    when RSS first reaches rss_limit and again each time it grows by a further rss_step (0.25:
    25%) over the RSS of the last such snapshot, checked every RSS_POLL_INTERVAL seconds.
    Returns the Recorder; call .stop(). in_children=True: a process forked later records too (a
    Recorder thread of its own, files named with its pid); by default a forked child records
    nothing."""
    return Recorder(directory, interval=interval, signal=signal, at_exit=at_exit,
                    values=values, value_len=value_len, rss_limit=rss_limit, rss_step=rss_step,
                    in_children=in_children)


def _nice_interval(seconds):
    """Two significant digits, rounded down: 5.5 -> 5, 0.37 -> 0.37, 137 -> 130."""
    if seconds >= 10:
        scale = 10 ** (len(str(int(seconds))) - 2)
        return "%d" % (int(seconds // scale) * scale)
    if seconds >= 1:
        return "%d" % int(seconds)
    return "%.2g" % max(seconds, 0.01)


def _run_advice(recorder, elapsed):
    """`run` at exit: fewer than three snapshots cannot show growth; suggest an interval."""
    count = len(recorder.paths)
    if count >= 3:
        return
    try:
        every = "--interval %g" % recorder.interval if recorder.interval is not None else "no --interval"
        sys.stderr.write(
            "leakbook: the program ran %.1f s and left %d snapshot%s (%s); a diagnosis needs at least 3: "
            "try --interval %s for about 4\n"
            % (elapsed, count, "" if count == 1 else "s", every, _nice_interval(elapsed / 4)))
        sys.stderr.flush()
    except Exception:
        pass


# ----------------------------------------------------------------------------------------------
# Reading (for `info` and tests)

_TYPECODES = {"f64": "d", "u32": "I", "u8": "B"}
_ITEMSIZES = {"f64": 8, "u32": 4, "u8": 1}
# The sections of a full snapshot and their dtypes. The writer writes every one of them but
# obj_alloc (only while tracemalloc traced); a census snapshot has none.
_SECTION_DTYPES = {
    "obj_address": "f64", "obj_type": "u32", "obj_size": "f64", "obj_length": "u32",
    "obj_flags": "u8", "obj_name": "u32", "obj_alloc": "u32", "edge_start": "u32",
    "edge_target": "u32", "edge_kind": "u8", "edge_label": "u32", "root_object": "u32",
    "root_kind": "u8", "root_label": "u32", "str_offsets": "u32", "str_data": "u8",
}
_OPTIONAL_SECTIONS = ("obj_alloc",)
_PER_OBJECT = ("obj_type", "obj_size", "obj_length", "obj_flags", "obj_name", "obj_alloc")
# A header longer than this was not made by the writer (its biggest parts, the type names and
# the allocation sites, stay far below it), and parsing it could exhaust the memory.
_HEADER_LIMIT = 256 << 20
_DEPTH_LIMIT = 64          # the writer's header nests 5 levels deep
_NUMBER_DIGITS = 40        # the writer's longest numbers have 20 digits (thread idents)
_SIZE_LIMIT = float(1 << 53)
_READ_CHUNK = 1 << 20
# When the header is bad, the CRC tells damage from a foreign writer (files up to this size).
_CRC_FIRST_LIMIT = 256 << 20


class _Bad(Exception):
    """One problem with a file; read_snapshot adds the file's name."""


def read_snapshot(path):
    """Parse and check a snapshot file. Returns {"header", "columns": {name: array},
    "strings": [str]}. Raises SnapshotError for a damaged or foreign file, or anything but a
    regular file, with a one-line message.

    Every header field the format defines is checked for its type and range, and the counts
    and sections against each other; the preamble, trailer and header are read and checked
    against the file's real size before the rest is read, so that a FIFO, a device or a huge
    (sparse) file is refused without reading it."""
    message = None
    try:
        f, size = _open_regular(path)
        with f:
            return _read_opened(f, size)
    except _Bad as problem:
        message = str(problem)
    except MemoryError:
        message = "too big for the memory available"
    except OSError as error:
        message = "cannot read: %s" % (error.strerror or error)
    # Raised here, not in the except clause: the traceback of a MemoryError would keep the
    # columns read so far alive.
    raise SnapshotError("%s: %s" % (path, message))


def _check_regular(mode):
    import stat  # already imported by os: no new module
    if stat.S_ISREG(mode):
        return
    for test, what in ((stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a FIFO"),
                       (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
                       (stat.S_ISSOCK, "is a socket")):
        if test(mode):
            raise _Bad(what + ", not a snapshot file")
    raise _Bad("is not a regular file")


def _open_regular(path):
    """An unbuffered file object on the regular file at path, and its size. Anything else is
    refused before it is opened (opening a FIFO waits for a writer, a device can stream
    forever) and again after (fstat), should the path have been replaced meanwhile."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    try:
        _check_regular(os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_NOCTTY", 0)
                     | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _Bad("no such file")
    except ValueError:  # an embedded NUL
        raise _Bad("not a usable file name")
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode)
        if nonblocking:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0), info.st_size
    except BaseException:
        os.close(fd)
        raise


def _fill(f, view):
    """Fills the writable byte view from the file's position."""
    done = 0
    while done < len(view):
        n = f.readinto(view[done:])
        if not n:
            raise _Bad("truncated (the file shrank while it was read)")
        done += n


def _read_at(f, offset, length):
    data = bytearray(length)
    f.seek(offset)
    _fill(f, memoryview(data))
    return data


def _body_crc(f, length):
    """CRC-32 of the file's first `length` bytes, read in chunks."""
    chunk = bytearray(min(length, _READ_CHUNK))
    view = memoryview(chunk)
    f.seek(0)
    crc = 0
    while length:
        part = view[:min(length, len(chunk))]
        _fill(f, part)
        crc = zlib.crc32(part, crc)
        length -= len(part)
    return crc & 0xFFFFFFFF


def _read_opened(f, size):
    if size == 0:
        raise _Bad("empty file")
    head = _read_at(f, 0, min(size, 16))
    if not head.startswith(MAGIC) and not MAGIC.startswith(head):
        raise _Bad("not a leakbook snapshot")
    if size < 16 + TRAILER_SIZE:
        raise _Bad("truncated (%d bytes)" % size)
    version, header_length = _PREAMBLE.unpack_from(head, 8)
    if version != FORMAT_VERSION:
        raise _Bad("unsupported format version %d" % version)
    trailer = _read_at(f, size - TRAILER_SIZE, TRAILER_SIZE)
    crc, _zero, total = _TRAILER.unpack_from(trailer, 8)
    if trailer[:8] != TRAILER_MAGIC:
        raise _Bad("truncated (no valid trailer)")
    if total != size:
        raise _Bad("truncated (%d of %d bytes)" % (size, total) if total > size else
                   "corrupted (the file has %d bytes, its trailer says %d)" % (size, total))
    body_length = size - TRAILER_SIZE
    header_end = 16 + header_length
    if header_length > _HEADER_LIMIT or header_end > body_length:
        raise _Bad("corrupted (header length %d in a file of %d bytes)" % (header_length, size))
    text = _read_at(f, 16, header_length)
    try:
        header = _parse_header(text)
        layout, real = _check_header(header, header_end + (-header_end % 8), body_length)
    except _Bad:
        if body_length <= _CRC_FIRST_LIMIT and _body_crc(f, body_length) != crc:
            raise _Bad("corrupted (CRC mismatch)")
        raise
    # One pass over the body in file order: each section straight into its column, and the CRC.
    running = zlib.crc32(text, zlib.crc32(head))
    position = header_end
    columns = {}
    for offset, length, name, dtype in layout:
        running = zlib.crc32(_read_at(f, position, offset - position), running)
        column = array.array(_TYPECODES[dtype], [0]) * (length // _ITEMSIZES[dtype])
        with memoryview(column) as view:
            with view.cast("B") as raw:
                f.seek(offset)
                _fill(f, raw)
                running = zlib.crc32(raw, running)
        if not _LITTLE and dtype != "u8":
            column.byteswap()
        columns[name] = column
        position = offset + length
    running = zlib.crc32(_read_at(f, position, body_length - position), running)
    if running & 0xFFFFFFFF != crc:
        raise _Bad("corrupted (CRC mismatch)")
    strings = []
    if header["kind"] == "full":
        _check_columns(header, columns, real)
        raw = bytes(columns["str_data"])
        offs = columns["str_offsets"]
        strings = [raw[offs[k]:offs[k + 1]].decode("utf-8", "replace") for k in range(len(offs) - 1)]
    return {"header": header, "columns": columns, "strings": strings}


def _shown(value, limit=60):
    """A header value for a message, as JSON, cut short."""
    text = json.dumps(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _name(name, limit=60):
    """A section or census type name for a message, cut short."""
    return name if len(name) <= limit else name[:limit] + "..."


def _json_int(text):
    if len(text.lstrip("-")) > _NUMBER_DIGITS:
        raise ValueError("an integer of %d digits" % len(text))
    return int(text)


def _json_float(text):
    value = float(text)
    if value - value != 0.0:
        raise ValueError("the number %s is out of range" % _name(text, 30))
    return value


def _json_constant(name):
    raise ValueError("%s is not a number" % name)


def _parse_header(text):
    try:
        text = text.decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad("corrupted header (not UTF-8)")
    decoder = json.JSONDecoder(parse_int=_json_int, parse_float=_json_float,
                               parse_constant=_json_constant)
    problem = None
    try:
        header = decoder.decode(text)
    except RecursionError:
        problem = "nested too deeply"
    except ValueError as error:
        problem = str(error)
    if problem is not None:
        raise _Bad("corrupted header (%s)" % problem)
    if type(header) is not dict:
        raise _Bad("not a leakbook snapshot header")
    # Deeper structures could not be written out again (info --json) without recursing as deep.
    stack = [(header, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _DEPTH_LIMIT:
            raise _Bad("corrupted header (nested more than %d levels deep)" % _DEPTH_LIMIT)
        for item in (value.values() if type(value) is dict else value):
            if type(item) is dict or type(item) is list:
                stack.append((item, depth + 1))
    return header


_WANTED = {
    "text": "a string", "count": "a non-negative integer", "number": "a number",
    "size": "a non-negative number", "flag": "true or false", "object": "an object",
    "list": "a list", "texts": "a list of strings", "counts": "a list of non-negative integers",
    "objects": "a list of objects",
}


def _is(value, want):
    kind = type(value)
    if want == "text":
        return kind is str
    if want == "count":
        return kind is int and value >= 0
    if want == "number":
        return kind is int or kind is float
    if want == "size":
        return (kind is int or kind is float) and value >= 0
    if want == "flag":
        return kind is bool
    if want == "object":
        return kind is dict
    if want == "list":
        return kind is list
    if kind is not list:
        return False
    if want == "texts":
        return all(type(v) is str for v in value)
    if want == "counts":
        return all(type(v) is int and v >= 0 for v in value)
    return all(type(v) is dict for v in value)  # objects


def _require(value, want, where):
    if not _is(value, want):
        raise _Bad("corrupted header (%s is %s, expected %s)" % (where, _shown(value), _WANTED[want]))


def _fields(obj, where, spec):
    """Checks the keys of spec that obj has (null counts as absent)."""
    for key, want in spec:
        value = obj.get(key)
        if value is not None:
            _require(value, want, "%s.%s" % (where, key) if where else key)


def _index(value, objects, where):
    """An object index (or null) of a header entry."""
    if value is not None and not (_is(value, "count") and value < objects):
        raise _Bad("corrupted header (%s is %s, the file has %d objects)" % (where, _shown(value), objects))


_META_FIELDS = (
    ("time", "text"), ("time_unix", "number"), ("pid", "count"), ("process_start", "number"),
    ("sequence", "count"), ("argv", "texts"), ("python", "object"), ("platform", "text"),
    ("hostname", "text"), ("options", "object"), ("duration_s", "size"),
    ("failed_objects", "count"), ("failed_kinds", "objects"),
)
_MEMORY_FIELDS = (
    ("rss", "count"), ("rss_peak", "count"), ("source", "text"), ("pymalloc", "object"),
    ("gc", "object"), ("tracemalloc", "object"),
)


def _check_sections(sections, data_start, body_length):
    """[(offset, length, name, dtype)] in file order, and {name: count}. The sections must
    tile the body as the writer lays them out: from the end of the header, each at a multiple
    of 8 after the previous one's padding, the last one's padding ending at the trailer."""
    layout = []
    found = {}
    for name, entry in sections.items():
        where = "section %s" % _name(name)
        _require(entry, "object", where)
        dtype = entry.get("dtype")
        expected = _SECTION_DTYPES.get(name)
        if type(dtype) is not str or dtype not in _ITEMSIZES or expected not in (None, dtype):
            raise _Bad("corrupted header (%s has dtype %s, expected %s)"
                       % (where, _shown(dtype), expected or "u8, u32 or f64"))
        for key in ("offset", "length", "count"):
            _require(entry.get(key), "count", "%s.%s" % (where, key))
        offset, length, count = entry["offset"], entry["length"], entry["count"]
        if length != count * _ITEMSIZES[dtype]:
            raise _Bad("corrupted header (%s has %d bytes for %d %s items)" % (where, length, count, dtype))
        if offset % 8 or offset < data_start or offset + length > body_length:
            raise _Bad("corrupted header (%s at bytes %d-%d, outside the data at bytes %d-%d or not "
                       "at a multiple of 8)" % (where, offset, offset + length, data_start, body_length))
        layout.append((offset, length, name, dtype))
        found[name] = count
    layout.sort(key=lambda entry: entry[:2])
    position, previous = data_start, None
    for offset, length, name, dtype in layout:
        if offset < position:
            raise _Bad("corrupted header (sections %s and %s overlap)" % (_name(previous), _name(name)))
        if offset > position:
            raise _Bad("corrupted header (%d bytes before section %s belong to no section)"
                       % (offset - position, _name(name)))
        position, previous = offset + length + (-length % 8), name
    if position != body_length:
        raise _Bad("corrupted header (the sections end at byte %d, the trailer starts at %d)"
                   % (position, body_length))
    return layout, found


def _check_census(census):
    """A census snapshot's totals; returns its object count."""
    _require(census, "object", "census")
    _require(census.get("types"), "object", "census.types")
    objects, size = 0, 0
    for name, entry in census["types"].items():
        if not (type(entry) is list and len(entry) == 2 and _is(entry[0], "count")
                and _is(entry[1], "size")):
            raise _Bad("corrupted header (census.types[%s] is %s, expected [count, bytes])"
                       % (_name(name), _shown(entry)))
        objects += entry[0]
        size += entry[1]
    _require(census.get("objects"), "count", "census.objects")
    _fields(census, "census", (("tracked_only", "flag"), ("bytes", "size"), ("failed_objects", "count")))
    if census["objects"] != objects:
        raise _Bad("corrupted header (census.objects is %d, its types count %d)" % (census["objects"], objects))
    if census.get("bytes") is not None and abs(census["bytes"] - size) > 1e-9 * size:
        raise _Bad("corrupted header (census.bytes is %s, its types hold %s)" % (census["bytes"], size))
    return objects


def _check_header(header, data_start, body_length):
    """Checks every header field the format defines, and the counts against the sections.
    Returns the sections in file order and the real counts."""
    if header.get("format") != "leakbook-snapshot":
        raise _Bad("not a leakbook snapshot header")
    version = header.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        raise _Bad("unsupported format version %s in the header" % _shown(version))
    kind = header.get("kind")
    if kind not in ("full", "census"):
        raise _Bad("corrupted header (kind is %s, expected \"full\" or \"census\")" % _shown(kind))
    _fields(header, "", (("agent_version", "text"),))
    types_ = header.get("types")
    _require(types_, "texts", "types")
    counts = header.get("counts")
    _require(counts, "object", "counts")
    for key in ("objects", "edges", "roots", "strings", "types"):
        _require(counts.get(key), "count", "counts.%s" % key)
    _require(header.get("sections"), "object", "sections")
    layout, found = _check_sections(header["sections"], data_start, body_length)
    if kind == "full":
        for name in _SECTION_DTYPES:
            if name not in found and name not in _OPTIONAL_SECTIONS:
                raise _Bad("corrupted header (section %s missing)" % name)
        objects, edges, roots = found["obj_address"], found["edge_target"], found["root_object"]
        expected = dict.fromkeys(_PER_OBJECT, objects)
        expected.update(edge_start=objects + 1, edge_kind=edges, edge_label=edges,
                        root_kind=roots, root_label=roots)
        for name, count in expected.items():
            if name in found and found[name] != count:
                raise _Bad("corrupted header (section %s has %d entries, expected %d)"
                           % (name, found[name], count))
        if found["str_offsets"] < 1:
            raise _Bad("corrupted header (section str_offsets is empty)")
        strings = found["str_offsets"] - 1
        if header.get("census") is not None:
            raise _Bad("corrupted header (a full snapshot with a census)")
        indexed = objects
    else:
        if found:
            raise _Bad("corrupted header (a census snapshot with sections)")
        if types_:
            raise _Bad("corrupted header (a census snapshot with types)")
        objects, edges, roots, strings = _check_census(header.get("census")), 0, 0, 0
        indexed = 0  # no object columns: nothing may refer to an object
    real = {"objects": objects, "edges": edges, "roots": roots, "strings": strings, "types": len(types_)}
    for key, value in real.items():
        if counts[key] != value:
            raise _Bad("corrupted header (counts.%s is %d, the file holds %d)" % (key, counts[key], value))

    meta = header.get("meta")
    _require(meta, "object", "meta")
    _fields(meta, "meta", _META_FIELDS)
    _fields(meta.get("python") or {}, "meta.python",
            (("version", "text"), ("implementation", "text"), ("hexversion", "count")))
    _fields(meta.get("options") or {}, "meta.options",
            (("census", "flag"), ("values", "text"), ("value_len", "count"), ("tracemalloc", "flag")))
    for i, failed in enumerate(meta.get("failed_kinds") or ()):
        _fields(failed, "meta.failed_kinds[%d]" % i, (("type", "text"), ("error", "text"), ("count", "count")))
    memory = header.get("memory")
    _require(memory, "object", "memory")
    _fields(memory, "memory", _MEMORY_FIELDS)
    for key, value in (memory.get("pymalloc") or {}).items():
        _require(value, "count", "memory.pymalloc.%s" % _name(key))
    _fields(memory.get("gc") or {}, "memory.gc",
            (("enabled", "flag"), ("count", "counts"), ("stats", "objects"), ("garbage", "count")))
    tracing = memory.get("tracemalloc")
    if tracing is not None:
        for key in ("current", "peak"):
            _require(tracing.get(key), "count", "memory.tracemalloc.%s" % key)
        _fields(tracing, "memory.tracemalloc", (("overhead", "count"),))

    _fields(header, "", (("threads", "objects"), ("lru_caches", "objects"), ("bounds", "list"),
                               ("alloc_sites", "list")))
    for i, thread in enumerate(header.get("threads") or ()):
        where = "threads[%d]" % i
        _fields(thread, where, (("ident", "count"), ("name", "text"), ("daemon", "flag")))
        _index(thread.get("frame"), indexed, where + ".frame")
    for i, cache in enumerate(header.get("lru_caches") or ()):
        where = "lru_caches[%d]" % i
        _fields(cache, where, (("name", "text"), ("hits", "count"), ("misses", "count"),
                               ("maxsize", "count"), ("currsize", "count"), ("typed", "flag")))
        _index(cache.get("object"), indexed, where + ".object")
    for i, bound in enumerate(header.get("bounds") or ()):
        where = "bounds[%d]" % i
        if not (_is(bound, "counts") and len(bound) == 2):
            raise _Bad("corrupted header (%s is %s, expected [object, bound])" % (where, _shown(bound)))
        _index(bound[0], indexed, where)
    for i, site in enumerate(header.get("alloc_sites") or ()):
        _require(site, "objects", "alloc_sites[%d]" % i)
        for frame in site:
            _fields(frame, "alloc_sites[%d]" % i, (("file", "text"), ("line", "count")))
    if "obj_alloc" in found and header.get("alloc_sites") is None:
        raise _Bad("corrupted header (section obj_alloc without alloc_sites)")
    return layout, real


def _first(column, bad):
    """Index of the first entry of column for which bad(value) holds."""
    return next(i for i, value in enumerate(column) if bad(value))


def _finite_sizes(column):
    if not column:
        return True
    total = sum(column)  # not finite when any entry is not
    return total - total == 0.0 and min(column) >= 0.0 and max(column) <= _SIZE_LIMIT


def _check_columns(header, c, real):
    """Every index into another column or table in range, the CSR and string offsets
    non-decreasing and within their columns, the sizes and addresses finite, non-negative
    numbers."""
    objects, edges, strings, types_ = real["objects"], real["edges"], real["strings"], real["types"]

    def bad(problem):
        raise _Bad("corrupted (%s)" % problem)

    if objects and max(c["obj_type"]) >= types_:
        i = _first(c["obj_type"], types_.__le__)
        bad("object %d has type index %d of %d" % (i, c["obj_type"][i], types_))
    for name in ("obj_size", "obj_address"):
        if not _finite_sizes(c[name]):
            bad("%s holds a negative, huge or non-finite number" % name)
    if max(filter(NONE.__ne__, c["obj_name"]), default=-1) >= strings:
        i = _first(c["obj_name"], lambda k: strings <= k != NONE)
        bad("object %d has string index %d of %d" % (i, c["obj_name"][i], strings))
    if "obj_alloc" in c:
        sites = len(header["alloc_sites"])
        if max(filter(NONE.__ne__, c["obj_alloc"]), default=-1) >= sites:
            bad("an object has an allocation site beyond the %d of alloc_sites" % sites)
    start = c["edge_start"]
    if start[0] != 0 or start[objects] != edges:
        bad("edge_start does not span the %d edges" % edges)
    if not all(map(int.__le__, start, itertools.islice(start, 1, None))):
        bad("edge_start decreases at object %d"
            % _first(range(objects), lambda i: start[i] > start[i + 1]))
    if edges and max(c["edge_target"]) >= objects:
        bad("edge %d points at an object beyond the %d objects"
            % (_first(c["edge_target"], objects.__le__), objects))
    kinds = c["edge_kind"].tobytes()
    if kinds.translate(None, bytes(range(EDGE_OPAQUE + 1))):  # what is left are unknown kinds
        bad("edge %d has kind %d" % (_first(c["edge_kind"], EDGE_OPAQUE.__lt__), max(kinds)))
    # The labels of edges other than index edges are string indexes.
    strings_used = kinds.translate(bytes(int(k != EDGE_INDEX) for k in range(256)))
    if max(itertools.compress(c["edge_label"], strings_used), default=-1) >= strings:
        bad("an edge label is a string index beyond the %d strings" % strings)
    if c["root_object"] and max(c["root_object"]) >= objects:
        bad("root %d points at an object beyond the %d objects"
            % (_first(c["root_object"], objects.__le__), objects))
    if c["root_kind"].tobytes().translate(None, bytes(range(ROOT_OTHER + 1))):
        bad("root %d has kind %d" % (_first(c["root_kind"], ROOT_OTHER.__lt__), max(c["root_kind"])))
    if max(filter(NONE.__ne__, c["root_label"]), default=-1) >= strings:
        bad("a root label is a string index beyond the %d strings" % strings)
    offsets = c["str_offsets"]
    if not all(map(int.__le__, offsets, itertools.islice(offsets, 1, None))):
        bad("string offsets decrease at string %d"
            % _first(range(strings), lambda k: offsets[k] > offsets[k + 1]))
    if offsets[-1] > len(c["str_data"]):
        bad("string offsets beyond str_data")


def type_totals(snap):
    """{type name: {"count", "size"}} from a read snapshot (full or census)."""
    header = snap["header"]
    if header.get("kind") == "census":
        census = header.get("census") or {}
        return {name: {"count": c, "size": s} for name, (c, s) in census.get("types", {}).items()}
    names = header["types"]
    counts = [0] * len(names)
    sizes = [0.0] * len(names)
    for t, s in zip(snap["columns"]["obj_type"], snap["columns"]["obj_size"]):
        counts[t] += 1
        sizes[t] += s
    # Distinct classes can share a name (a class made in a function, once per call): summed by name.
    totals = {}
    for i in range(len(names)):
        if counts[i]:
            entry = totals.setdefault(names[i], {"count": 0, "size": 0})
            entry["count"] += counts[i]
            entry["size"] += int(sizes[i])
    return totals


def _escaped_character(c):
    if c == "\n":
        return "\\n"
    if c == "\t":
        return "\\t"
    if c == "\r":
        return "\\r"
    code = ord(c)
    return "\\x%02x" % code if code < 0x100 else "\\u%04x" % code if code < 0x10000 else "\\U%08x" % code


def _terminal_text(text):
    """text with every character a terminal acts on or that hides or reorders what follows
    written as a visible escape (\\x1b, \\x07, \\n, \\u202e): C0 and C1 controls, DEL, bidi
    embeddings, overrides, isolates and marks, line separators, lone surrogates and every other
    character Python does not count as printable. The strings of a header are arbitrary."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped_character(c) for c in text)


def _shown_text(value):
    """A header value for the text output: escaped, and "?" for null."""
    return "?" if value is None else _terminal_text(value if type(value) is str else str(value))


def _info(path, as_json, out):
    snap = read_snapshot(path)
    header = snap["header"]
    columns = snap["columns"]
    totals = type_totals(snap)
    # The real counts, of the columns read (the header's were checked against them).
    if header["kind"] == "census":
        objects, edges, roots, strings = header["census"]["objects"], 0, 0, 0
    else:
        objects, edges = len(columns["obj_address"]), len(columns["edge_target"])
        roots, strings = len(columns["root_object"]), len(snap["strings"])
    summary = {
        "file": path,
        "kind": header["kind"],
        "format_version": header["version"],
        "agent_version": header.get("agent_version"),
        "objects": objects,
        "edges": edges,
        "roots": roots,
        "strings": strings,
        "bytes": sum(v["size"] for v in totals.values()),
        "meta": header["meta"],
        "memory": header["memory"],
        "threads": header.get("threads"),
        "lru_caches": header.get("lru_caches"),
        "types": totals,
    }
    if as_json:
        # ensure_ascii escapes every control and non-ASCII character (bidi ones too); DEL is
        # ASCII, so it is escaped here (it only occurs inside strings).
        out.write(json.dumps(summary, indent=1).replace("\x7f", "\\u007f") + "\n")
        return
    text = _shown_text
    meta = summary["meta"]
    memory = summary["memory"]
    python = meta.get("python") or {}
    lines = [
        "%s: leakbook snapshot v%d (%s), agent %s" % (text(str(path)), summary["format_version"],
                                                     summary["kind"], text(summary["agent_version"])),
        "taken %s, pid %s, %s %s, %.3f s" % (text(meta.get("time")), text(meta.get("pid")),
                                            text(python.get("implementation")), text(python.get("version")),
                                            meta.get("duration_s") or 0.0),
        "objects %d, references %d, roots %d, strings %d, shallow bytes %d"
        % (summary["objects"], summary["edges"], summary["roots"], summary["strings"],
           summary["bytes"]),
        "rss %s, peak %s (%s)" % (_mib(memory.get("rss")), _mib(memory.get("rss_peak")),
                                  text(memory.get("source"))),
    ]
    pymalloc = memory.get("pymalloc")
    if pymalloc:
        lines.append("pymalloc: %s arenas in use, %s in allocated blocks, %s free"
                     % (text(pymalloc.get("arenas_in_use")), _mib(pymalloc.get("bytes_in_allocated_blocks")),
                        _mib(pymalloc.get("bytes_in_free_blocks"))))
    gcinfo = memory.get("gc")
    if gcinfo:
        lines.append("gc: enabled %s, counts %s, garbage %s" % (text(gcinfo.get("enabled")),
                                                                text(gcinfo.get("count")),
                                                                text(gcinfo.get("garbage"))))
    if memory.get("tracemalloc"):
        lines.append("tracemalloc: current %s, peak %s" % (_mib(memory["tracemalloc"]["current"]),
                                                          _mib(memory["tracemalloc"]["peak"])))
    threads = summary["threads"] or []
    if threads:
        names = ["%s%s" % (text(t.get("name")), " (daemon)" if t.get("daemon") else "") for t in threads[:10]]
        if len(threads) > 10:
            names.append("... %d more" % (len(threads) - 10))
        lines.append("threads %d: %s" % (len(threads), ", ".join(names)))
    for cache in summary["lru_caches"] or []:
        lines.append("lru_cache %s: size %s of %s, hits %s, misses %s"
                     % (text(cache.get("name")), text(cache.get("currsize")),
                        "unbounded" if cache.get("maxsize") is None else cache["maxsize"],
                        text(cache.get("hits")), text(cache.get("misses"))))
    lines.append("%12s %14s  %s" % ("count", "bytes", "type"))
    ranked = sorted(totals.items(), key=lambda kv: -kv[1]["size"])
    for name, entry in ranked[:40]:
        lines.append("%12d %14d  %s" % (entry["count"], entry["size"], text(name)))
    if len(ranked) > 40:
        lines.append("... %d more types (use --json)" % (len(ranked) - 40))
    output = "\n".join(lines) + "\n"
    encoding = getattr(out, "encoding", None)
    if encoding:  # printable characters the terminal's encoding lacks: escaped too
        try:
            output.encode(encoding)
        except UnicodeEncodeError:
            output = output.encode(encoding, "backslashreplace").decode(encoding)
        except LookupError:
            pass
    out.write(output)


def _mib(value):
    return "?" if value is None else "%.1f MiB" % (value / 1048576.0)


# ----------------------------------------------------------------------------------------------
# Command line

_USAGE = """usage:
  python3 -m leakbook run [--out DIR] [--interval S] [--rss-limit SIZE [--rss-step F]] [--tracemalloc]
                          script.py [args...]
  python3 -m leakbook attach PID [--out DIR] [--timeout S] [--gdb] [--verbose]
  python3 -m leakbook info FILE [--json]
python3 -m leakbook COMMAND --help describes a command."""

_COMMAND_USAGE = {
    "run": """usage: python3 -m leakbook run [options] script.py [args...]

Runs script.py as `python3 script.py args...` would, taking snapshots into DIR.
  --out DIR        where the snapshots go (default: .; created when missing)
  --interval S     a snapshot every S seconds (default 60), and one at exit
  --rss-limit SIZE a snapshot when RSS first reaches SIZE (bytes, or with K, M, G: 512M)
                   and again each time it grows by a further --rss-step (checked every second)
  --rss-step F     growth over the last RSS-triggered snapshot's RSS (default 0.25: 25%)
  --tracemalloc    record allocation sites (captures 10-30x slower, every allocation costs more)""",
    "attach": """usage: python3 -m leakbook attach PID [--out DIR] [--timeout S] [--gdb] [--verbose]

Makes running process PID write one snapshot into DIR and prints its path. Python 3.8-3.13: through gdb
(apt-get install gdb), which needs ptrace rights over PID and stops it for a second or two. Python 3.14:
through sys.remote_exec, to a 3.14 process; returns once the request is made. Details: docs/capture.md.
  --out DIR    where the snapshot goes (default: .; the process creates it when missing)
  --timeout S  give up after S seconds (default 60), gdb and the wait for the snapshot together
  --gdb        through gdb on Python 3.14 too (a process older than 3.14)
  --verbose    print gdb's output on stderr""",
    "info": """usage: python3 -m leakbook info FILE [--json]

Prints a snapshot's header, counts, memory figures and biggest types (--json: for machines).""",
}

_TRACEMALLOC_COST = ("leakbook: --tracemalloc: allocation sites are recorded; captures are 10-30x slower "
                     "and every allocation the program makes costs more\n")


class _UsageError(Exception):
    pass


def _size(text):
    """Bytes from 1000000, 512K, 300M, 2G (powers of 1024)."""
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:].upper())
    try:
        value = float(text[:-1] if scale else text) * (scale or 1)
    except ValueError:
        raise _UsageError("--rss-limit needs a size in bytes (or 512M, 2G), got %r" % text)
    if not value >= 1:
        raise _UsageError("--rss-limit must be positive")
    return int(value)


def _run(args):
    out, interval, trace, rss_limit, rss_step = ".", 60.0, False, None, 0.25
    while args and args[0].startswith("-"):
        option = args.pop(0)
        if option in ("-h", "--help"):
            sys.stdout.write(_COMMAND_USAGE["run"] + "\n")
            return 0
        if option == "--tracemalloc":
            trace = True
        elif option in ("--out", "--interval", "--rss-limit", "--rss-step"):
            if not args:
                raise _UsageError("%s needs a value" % option)
            value = args.pop(0)
            if option == "--out":
                out = value
            elif option == "--rss-limit":
                rss_limit = _size(value)
            elif option == "--rss-step":
                try:
                    rss_step = float(value)
                except ValueError:
                    raise _UsageError("--rss-step needs a number (0.25: 25%)")
                if not rss_step > 0:
                    raise _UsageError("--rss-step must be positive")
            else:
                try:
                    interval = float(value)
                except ValueError:
                    raise _UsageError("--interval needs a number of seconds")
                if interval <= 0:
                    raise _UsageError("--interval must be positive")
        elif option == "--":
            break
        else:
            raise _UsageError("unknown option %s" % option)
    if not args:
        raise _UsageError("run needs a script")
    script = args[0]
    try:
        with io.open_code(script) if hasattr(io, "open_code") else open(script, "rb") as f:
            source = f.read()
    except OSError as error:
        raise _UsageError("cannot read %s: %s" % (script, error.strerror or error))
    try:
        code = compile(source, script, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise _UsageError("%s: syntax error: %s" % (script, error))
    if trace and _tracemalloc is not None:
        sys.stderr.write(_TRACEMALLOC_COST)
        sys.stderr.flush()
        _tracemalloc.start(ALLOC_FRAMES)
    sys.argv = list(args)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    module = types.ModuleType("__main__")
    module.__file__ = script
    module.__builtins__ = builtins
    module.__cached__ = None
    module.__spec__ = None
    sys.modules["__main__"] = module
    try:
        recorder = start(out, interval=interval, rss_limit=rss_limit, rss_step=rss_step)
    except OSError as error:
        raise _UsageError("cannot write snapshots into %s: %s" % (out, error.strerror or error))
    recorder._advice = True
    del recorder
    exec(code, module.__dict__)
    return 0


# Run inside the target by sys.remote_exec. The agent's directory is on sys.path only while the module
# is imported, so that nothing else the application imports later can come from it.
_ATTACH_SCRIPT = """\
import os, sys
try:
    sys.path.insert(0, %(dir)r)
    try:
        import leakbook
    finally:
        sys.path.remove(%(dir)r)
    leakbook.snapshot(%(out)r)
finally:
    try:
        os.unlink(%(self)r)
    except OSError:
        pass
"""

_ALTERNATIVES = ("alternatives: leakbook.start(DIR, signal=signal.SIGUSR2) in the program, then kill -USR2 PID; "
                 "python3 -m leakbook run script.py; or, for a Python 3.14 process, python3.14 -m leakbook attach "
                 "(sys.remote_exec)")

# Attach through gdb (Python 3.8-3.13, or --gdb). gdb stops the process, and its main thread is wherever it
# happened to be: in the middle of a bytecode, of a dict resize, of malloc. No Python code may run there, and
# the request takes one of the two ways that are safe, after looking at the main thread:
# - it holds the GIL (Python code, or C code under the GIL): Py_AddPendingCall(PyRun_SimpleString, request).
#   The eval loop runs it in the main thread between two bytecodes, after any pending signal handler.
# - it is blocked in a system call without the GIL (time.sleep, a lock, select, read: between
#   Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS): PyGILState_Ensure, then C API calls only, then
#   PyGILState_Release, as a C library calling back from that system call would. A pending call would wait
#   for the call to return (time.sleep retries after EINTR without running pending calls). No bytecode runs
#   on the main thread: a signal handler of the application could run inside it, and its exception would be
#   lost. A thread blocked in the kernel is not inside malloc, except in brk/mmap/munmap/..., which take the
#   first way; so does C code running without the GIL (the pending call runs when it is back in the eval
#   loop).
# Before that, gdb calls nothing that takes a lock the stopped thread could hold: PyGILState_Check (it only
# reads the current thread state), __errno_location, mmap. Either way the request only starts a thread,
# which imports the agent and writes the snapshot with the GIL taken the ordinary way, while the main
# thread goes back to what it was doing. The request's text goes into a page that gdb maps in the process
# and writes as integers: nothing from the command line or the file system is ever part of a gdb command.
# The thread unmaps the page when done.

# The page: the pending call's request (Python source run by PyRun_SimpleString in __main__'s namespace; it
# binds no name there and catches everything, since an exception escaping a pending call would surface in the
# application's code and SystemExit would end the process), then the thread's source, then the names and the
# slots the C calls of the other way use.
_GDB_REQUEST = """\
try:
    __import__('_thread').start_new_thread(exec, (%s, {}))
except BaseException:
    pass
"""
# The thread's source: reads the script the attach command wrote, and runs it.
_GDB_BOOT = """\
script = %s
mapping = (0x%s, %d)
try:
    with open(script, 'rb') as f:
        source = f.read()
except OSError:
    source = b''
exec(compile(source, script, 'exec'))
"""
_GDB_NAMES = ("_thread", "start_new_thread", "builtins", "exec")

# The thread's script, Python 3 syntax that every version parses (an old one reports its version). It
# leaves the agent's module behind and nothing else: sys.path as it was, no file of its own (the attach
# command removes the result file), the request's page unmapped.
_GDB_SCRIPT = """\
import os, sys

def attach(directory, out, script, result, mapping):
    try:
        os.unlink(script)
        open(result + '.started', 'w').close()  # for the attach command, should it stop waiting
    except OSError:
        pass
    outcome = {'python': sys.version.split()[0]}
    try:
        if sys.version_info < (3, 8):
            raise RuntimeError('the agent needs Python 3.8+')
        agent = sys.modules.get('leakbook')
        if agent is None:
            sys.path.insert(0, directory)
            try:
                import leakbook as agent
            finally:
                sys.path.remove(directory)
        outcome['path'] = agent.snapshot(out)
    except BaseException as error:
        outcome['error'] = '%s: %s' % (type(error).__name__, error)
    try:
        with open(result + '.tmp', 'w') as f:
            f.write(repr(outcome))
        os.rename(result + '.tmp', result)
        folder = os.path.dirname(result)
        if os.path.exists(os.path.join(folder, 'abandoned')):  # the attach command stopped waiting
            for name in os.listdir(folder):
                os.unlink(os.path.join(folder, name))
            os.rmdir(folder)
    except OSError:
        pass
    try:
        import ctypes
        munmap = ctypes.CDLL(None).munmap
        munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
        munmap(mapping[0], mapping[1])
    except Exception:
        pass
"""

# Signals the target may get while gdb holds it: passed on, and no reason to stop a call into it.
_GDB_PASS_SIGNALS = ("SIGALRM SIGCHLD SIGPIPE SIGUSR1 SIGUSR2 SIGWINCH SIGURG SIGIO SIGPROF SIGVTALRM SIGHUP "
                     "SIGTERM SIGQUIT SIGXCPU SIGXFSZ SIGPWR SIGCONT")
_GDB_SYMBOLS = ("PyGILState_Check", "PyGILState_Ensure", "PyGILState_Release", "Py_AddPendingCall",
                "PyRun_SimpleString", "PyErr_Fetch", "PyErr_Restore", "PyErr_Clear", "PyUnicode_FromString",
                "PyImport_GetModule", "PyObject_GetAttrString", "PyDict_New", "PyTuple_New", "PyTuple_SetItem",
                "PyObject_CallObject", "Py_DecRef", "mmap", "munmap", "__errno_location")
# System calls glibc's malloc makes while it holds its lock: a thread blocked in one of them is not at a
# point where Python code can run.
_MEMORY_SYSCALLS = {"x86_64": (9, 10, 11, 12, 25, 28), "aarch64": (214, 215, 216, 222, 226, 233)}


def _attach_error(message):
    sys.stderr.write("leakbook: %s\n" % message)
    return 2


def _attach(args):
    out, pid, timeout, use_gdb, verbose = ".", None, 60.0, False, False
    while args:
        item = args.pop(0)
        if item in ("-h", "--help"):
            sys.stdout.write(_COMMAND_USAGE["attach"] + "\n")
            return 0
        if item in ("--out", "--timeout"):
            if not args:
                raise _UsageError("%s needs a value" % item)
            value = args.pop(0)
            if item == "--out":
                out = value
            else:
                try:
                    timeout = float(value)
                except ValueError:
                    raise _UsageError("--timeout needs a number of seconds")
                if not timeout > 0:
                    raise _UsageError("--timeout must be positive")
        elif item == "--gdb":
            use_gdb = True
        elif item == "--verbose":
            verbose = True
        elif pid is None:
            try:
                pid = int(item)
            except ValueError:
                raise _UsageError("attach needs a numeric PID, got %r" % item)
            if pid <= 0:
                raise _UsageError("attach needs a PID above 0, got %d" % pid)
        else:
            raise _UsageError("unexpected argument %s" % item)
    if pid is None:
        raise _UsageError("attach needs a PID")
    out = os.path.abspath(out)
    remote = getattr(sys, "remote_exec", None)
    if remote is None or use_gdb:
        return _attach_gdb(pid, out, timeout, verbose)
    import tempfile
    here = os.path.dirname(os.path.abspath(__file__))
    fd, script = tempfile.mkstemp(prefix="leakbook-attach-", suffix=".py")
    with os.fdopen(fd, "w") as f:
        f.write(_ATTACH_SCRIPT % {"dir": here, "out": os.path.join(out, ""), "self": script})
    os.chmod(script, 0o644)
    try:
        remote(pid, script)
    except Exception as error:
        os.unlink(script)
        sys.stderr.write("leakbook: attach to %d failed: %s (a process older than 3.14: add --gdb)\n"
                         % (pid, error))
        return 2
    sys.stdout.write("snapshot requested; process %d writes it into %s at its next safe point\n"
                     % (pid, out))
    return 0


def _proc_status(pid):
    """The fields of /proc/PID/status, {} when it cannot be read."""
    fields = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                name, _, value = line.partition(":")
                fields[name] = value.strip()
    except OSError:
        pass
    return fields


def _read_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def _attach_check(pid):
    """Why attaching to pid cannot work, before gdb is started; None when nothing is known against it."""
    if pid == os.getpid():
        return "attach cannot take a snapshot of its own process"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "no process %d" % pid
    except PermissionError:
        pass  # another user's: gdb says whether ptrace is allowed
    if not os.path.isdir("/proc/%d" % pid):
        return "attach through gdb needs Linux (/proc/%d is missing)" % pid
    status = _proc_status(pid)
    if status.get("State", "").startswith(("Z", "X")):
        return "process %d has exited (it is a zombie)" % pid
    if status.get("State", "").startswith("T"):
        return "process %d is stopped (job control?): kill -CONT %d first" % (pid, pid)
    tracer = status.get("TracerPid", "0")
    if tracer != "0":
        return ("process %d is already traced by process %s (a debugger or strace?); a process has one tracer "
                "at a time" % (pid, tracer))
    try:
        mine, theirs = os.stat("/proc/self/ns/mnt"), os.stat("/proc/%d/ns/mnt" % pid)
    except OSError:
        pass
    else:
        if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
            return ("process %d sees other files than this one (another mount namespace: a container?): "
                    "run attach inside it, e.g. docker exec CONTAINER python3 -m leakbook attach PID" % pid)
    return None


def _has_cap_sys_ptrace():
    try:
        return bool(int(_proc_status(os.getpid()).get("CapEff", "0"), 16) >> 19 & 1)
    except ValueError:
        return False


def _ptrace_denied(pid):
    parts = ["ptrace is not allowed on process %d" % pid]
    scope = _read_line("/proc/sys/kernel/yama/ptrace_scope")
    if scope is not None:
        parts.append({
            "0": "kernel.yama.ptrace_scope is 0 (a process of the same user, or CAP_SYS_PTRACE)",
            "1": "kernel.yama.ptrace_scope is 1 (only a parent may trace; otherwise root or CAP_SYS_PTRACE; "
                 "sysctl kernel.yama.ptrace_scope=0 allows the same user)",
            "2": "kernel.yama.ptrace_scope is 2 (CAP_SYS_PTRACE only: run attach as root)",
            "3": "kernel.yama.ptrace_scope is 3 (no tracing at all until reboot)",
        }.get(scope, "kernel.yama.ptrace_scope is %s" % scope))
    else:
        parts.append("no kernel.yama.ptrace_scope on this kernel (no Yama: a process of the same user, or "
                     "CAP_SYS_PTRACE)")
    uid = _proc_status(pid).get("Uid", "").split()
    if uid and len(uid) > 1 and int(uid[1]) != os.geteuid():
        parts.append("it runs as uid %s, this is uid %d" % (uid[1], os.geteuid()))
    if _has_cap_sys_ptrace():
        parts.append("in a container, the seccomp or AppArmor profile may forbid ptrace "
                     "(docker: --cap-add=SYS_PTRACE --security-opt seccomp=unconfined)")
    else:
        parts.append("this process lacks CAP_SYS_PTRACE (in a container: --cap-add=SYS_PTRACE)")
    parts.append(_ALTERNATIVES)
    return "; ".join(parts)


def _syscall_hint(pid):
    """The system call the main thread is blocked in (from /proc), -1 when it is running or unknown: what the
    gdb commands go by where gdb has no register for it (it has $orig_rax on x86-64)."""
    line = _read_line("/proc/%d/syscall" % pid)
    try:
        return int(line.split()[0]) if line else -1
    except ValueError:  # "running"
        return -1


def _gdb_page(script, size):
    """The page's bytes for the script at path `script`, the offsets of what the C calls use, and where the
    page's address goes (16 hex digits, twice)."""
    boot = _GDB_BOOT % (ascii(script), "0" * 16, size)
    request = _GDB_REQUEST % ascii(boot)
    data = request.encode("ascii") + b"\0"
    places = {"boot": len(data)}
    digits = [request.index("(0x") + 3, len(data) + boot.index("(0x") + 3]
    data += boot.encode("ascii") + b"\0"
    for name in _GDB_NAMES:
        places[name] = len(data)
        data += name.encode("ascii") + b"\0"
    data += b"\0" * (-len(data) % 8)
    places["error"] = len(data)  # PyErr_Fetch's three pointers
    data += b"\0" * 24
    return data, places, digits


def _gdb_commands(pid, data, places, digits, size, hint):
    import mmap

    def text(name):
        return "(char *) ($lb_page + %d)" % places[name]

    def slot(i):
        return "(void **) ($lb_page + %d)" % (places["error"] + 8 * i)

    obj = "void *"
    commands = [
        "set pagination off", "set confirm off", "set width 0", "set height 0",
        # A signal that stops a function called in the target (and gdb's own interrupt on a timeout)
        # unwinds the call: the thread is put back as it was before it.
        "set unwindonsignal on",
        "handle %s nostop noprint pass" % _GDB_PASS_SIGNALS,
        "attach %d" % pid,
        'printf "LEAKBOOK attached\\n"',
        "thread 1",  # the main thread, where pending calls run
    ]
    # Each name is looked up before anything in the target changes: a missing one ends the commands here.
    commands += ["set $lb_symbol = (long) &%s" % name for name in _GDB_SYMBOLS]
    commands += [
        'printf "LEAKBOOK symbols\\n"',
        "set $lb_errno_at = ((int *(*)(void)) __errno_location)()",
        "set $lb_errno = *$lb_errno_at",  # given back at the end: the thread may be about to read it
        "set $lb_held = ((int (*)(void)) PyGILState_Check)()",
        "if $_isvoid($orig_rax)",
        "set $lb_syscall = %d" % hint,
        "else",
        "set $lb_syscall = $orig_rax",
        "end",
        'printf "LEAKBOOK state %d %ld\\n", $lb_held, $lb_syscall',
        "set $lb_page = ((long (*)(long, long, long, long, long, long)) mmap)(0, %d, %d, %d, -1, 0)"
        % (size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS),
        "if $lb_page == -1 || $lb_page == 0",
        'printf "LEAKBOOK nopage\\n"',
        "set var *$lb_errno_at = $lb_errno",
        "detach",
        "quit 3",
        "end",
    ]
    for offset in range(0, len(data), 8):
        word = int.from_bytes(data[offset:offset + 8], sys.byteorder)
        if word:
            commands.append("set var {unsigned long long} ($lb_page + %d) = %du" % (offset, word))
    commands.append("set $lb_address = (unsigned long long) $lb_page")
    for at in digits:  # the page's address, in hex, where the sources say 0x0000000000000000
        for digit in range(16):
            nibble = "(($lb_address >> %d) & 15)" % (4 * (15 - digit))
            commands.append("set var {char} ($lb_page + %d) = %s + 48 + (%s > 9) * 39" % (at + digit, nibble, nibble))
    unsafe = "".join(" && $lb_syscall != %d" % n for n in _MEMORY_SYSCALLS.get(os.uname().machine, ()))
    commands += [
        "set $lb_rc = -1",
        "if $lb_held == 0 && $lb_syscall >= 0%s" % unsafe,
        'printf "LEAKBOOK now\\n"',
        "set $lb_gil = ((int (*)(void)) PyGILState_Ensure)()",
        'printf "LEAKBOOK gil\\n"',
        # The thread state's exception, if the blocked code had one set, is kept aside and given back.
        "call ((void (*)(void **, void **, void **)) PyErr_Fetch)(%s, %s, %s)" % (slot(0), slot(1), slot(2)),
        # start_new_thread(exec, (source, {})) from C: _thread.start_new_thread and builtins.exec looked up in
        # sys.modules, where both always are.
        "set $lb_name = ((%s(*)(char *)) PyUnicode_FromString)(%s)" % (obj, text("_thread")),
        "set $lb_thread = ((%s(*)(%s)) PyImport_GetModule)($lb_name)" % (obj, obj),
        "call ((void (*)(%s)) Py_DecRef)($lb_name)" % obj,
        "set $lb_name = ((%s(*)(char *)) PyUnicode_FromString)(%s)" % (obj, text("builtins")),
        "set $lb_builtins = ((%s(*)(%s)) PyImport_GetModule)($lb_name)" % (obj, obj),
        "call ((void (*)(%s)) Py_DecRef)($lb_name)" % obj,
        "if $lb_thread != 0 && $lb_builtins != 0",
        "set $lb_start = ((%s(*)(%s, char *)) PyObject_GetAttrString)($lb_thread, %s)"
        % (obj, obj, text("start_new_thread")),
        "set $lb_exec = ((%s(*)(%s, char *)) PyObject_GetAttrString)($lb_builtins, %s)" % (obj, obj, text("exec")),
        "set $lb_source = ((%s(*)(char *)) PyUnicode_FromString)(%s)" % (obj, text("boot")),
        "set $lb_globals = ((%s(*)(void)) PyDict_New)()" % obj,
        "set $lb_inner = ((%s(*)(long)) PyTuple_New)(2)" % obj,
        "set $lb_args = ((%s(*)(long)) PyTuple_New)(2)" % obj,
        "if $lb_start && $lb_exec && $lb_source && $lb_globals && $lb_inner && $lb_args",
        # PyTuple_SetItem takes over the reference: freeing $lb_args frees the rest.
        "set $lb_void = ((int (*)(%s, long, %s)) PyTuple_SetItem)($lb_inner, 0, $lb_source)" % (obj, obj),
        "set $lb_void = ((int (*)(%s, long, %s)) PyTuple_SetItem)($lb_inner, 1, $lb_globals)" % (obj, obj),
        "set $lb_void = ((int (*)(%s, long, %s)) PyTuple_SetItem)($lb_args, 0, $lb_exec)" % (obj, obj),
        "set $lb_void = ((int (*)(%s, long, %s)) PyTuple_SetItem)($lb_args, 1, $lb_inner)" % (obj, obj),
        "set $lb_result = ((%s(*)(%s, %s)) PyObject_CallObject)($lb_start, $lb_args)" % (obj, obj, obj),
        "if $lb_result != 0",
        "set $lb_rc = 0",
        "end",
        "call ((void (*)(%s)) Py_DecRef)($lb_result)" % obj,
        "call ((void (*)(%s)) Py_DecRef)($lb_args)" % obj,
        "else",
    ]
    commands += ["call ((void (*)(%s)) Py_DecRef)($lb_%s)" % (obj, name)  # Py_DecRef(NULL) does nothing
                 for name in ("exec", "source", "globals", "inner", "args")]
    commands += [
        "end",
        "call ((void (*)(%s)) Py_DecRef)($lb_start)" % obj,
        "end",
        "call ((void (*)(%s)) Py_DecRef)($lb_thread)" % obj,
        "call ((void (*)(%s)) Py_DecRef)($lb_builtins)" % obj,
        "call ((void (*)(void)) PyErr_Clear)()",
        "call ((void (*)(%s, %s, %s)) PyErr_Restore)(*%s, *%s, *%s)" % (obj, obj, obj, slot(0), slot(1), slot(2)),
        "call ((void (*)(int)) PyGILState_Release)($lb_gil)",
        'printf "LEAKBOOK released\\n"',
        # A signal that came while gdb held the process has run its C handler during the calls; its Python
        # handler runs when the thread sees EINTR, as it would have without gdb, rather than when the system
        # call, restarted, returns (x86-64: -512..-516 are the kernel's restart codes, -4 is EINTR).
        "if !$_isvoid($orig_rax)",
        "if $rax == -512 || $rax == -514 || $rax == -516",
        "set var $rax = -4",
        "end",
        "end",
        "else",
        'printf "LEAKBOOK pending\\n"',
        "set $lb_rc = ((int (*)(void *, void *)) Py_AddPendingCall)((void *) &PyRun_SimpleString, "
        "(void *) $lb_page)",
        "end",
        "if $lb_rc != 0",
        "set $lb_void = ((int (*)(long, long)) munmap)($lb_page, %d)" % size,
        "end",
        'printf "LEAKBOOK done %d\\n", $lb_rc',
        "set var *$lb_errno_at = $lb_errno",
        "detach",
        'printf "LEAKBOOK detached\\n"',
    ]
    return "\n".join(commands) + "\n"


def _gdb_failure(pid, output, markers):
    """One line for a gdb run that did not deliver the request."""
    if "attached" not in markers:
        if "Operation not permitted" in output:
            return _ptrace_denied(pid)
        if "No such process" in output:
            return "no process %d" % pid
    elif "symbols" not in markers:
        for name in _GDB_SYMBOLS:
            if 'No symbol "%s"' % name in output:
                if name in ("mmap", "munmap", "__errno_location"):
                    return "gdb finds no %s in process %d (no C library it can call)" % (name, pid)
                return ("process %d does not look like CPython 3.8+: gdb finds no %s in it (not Python, or a "
                        "binary without its dynamic symbols)" % (pid, name))
    elif "nopage" in markers:
        return "process %d could not map a page for the request (out of memory?)" % pid
    elif markers.get("done") not in (None, "0"):
        return "process %d refused the request (its pending-call queue is full, or it is exiting)" % pid
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("LEAKBOOK ")]
    return "gdb failed on process %d: %s" % (pid, lines[-1].strip() if lines else "no output")


def _gdb_drain(stream, lines):
    for line in stream:
        lines.append(line)


def _gdb_stop(process, lines):
    """Ends a gdb run that took too long. Its interrupt stops a call into the target, which unwindonsignal
    then undoes, and gdb detaches as it exits. Between PyGILState_Ensure and PyGILState_Release that would
    leave the GIL taken for good: there gdb gets up to 10 s more to finish the few short calls left. Killing
    gdb is the last resort: the kernel detaches, but a call it was in is left where it was."""
    import signal
    import subprocess

    def holding():
        marks = [line.split()[1] for line in list(lines) if line.startswith("LEAKBOOK ")]
        return "gil" in marks and "released" not in marks

    grace = time.monotonic() + 10
    while holding() and process.poll() is None and time.monotonic() < grace:
        time.sleep(0.05)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _attach_gdb(pid, out, timeout, verbose=False):
    import shutil
    import subprocess
    import tempfile
    deadline = time.monotonic() + timeout
    problem = _attach_check(pid)
    if problem:
        return _attach_error(problem)
    gdb = shutil.which("gdb")
    if gdb is None:
        return _attach_error("attach on Python 3.8-3.13 needs gdb (apt-get install gdb), and there is none on "
                             "PATH; " + _ALTERNATIVES)
    folder = tempfile.mkdtemp(prefix="leakbook-attach-")
    keep = False  # the request may still run: the target's thread removes the folder then
    try:
        result = os.path.join(folder, "result")
        status = _proc_status(pid)
        try:
            uid, gid = int(status["Uid"].split()[1]), int(status["Gid"].split()[1])
        except (KeyError, IndexError, ValueError):
            uid = gid = os.geteuid()
        if uid != os.geteuid():  # the target writes its result here
            if os.geteuid() == 0:
                os.chown(folder, uid, gid)
            else:
                os.chmod(folder, 0o733)
        here = os.path.dirname(os.path.abspath(__file__))
        script = os.path.join(folder, "attach.py")
        with open(script, "w") as f:
            f.write(_GDB_SCRIPT + "\nattach(%s, %s, script, %s, mapping)\ndel attach\n" % (
                ascii(here), ascii(os.path.join(out, "")), ascii(result)))
        os.chmod(script, 0o644)
        import mmap
        size = mmap.PAGESIZE
        while True:  # whole pages, as many as the page's contents (which name its size) need
            data, places, digits = _gdb_page(script, size)
            needed = -(-len(data) // mmap.PAGESIZE) * mmap.PAGESIZE
            if needed <= size:
                break
            size = needed
        commands = os.path.join(folder, "commands.gdb")
        with open(commands, "w") as f:
            f.write(_gdb_commands(pid, data, places, digits, size, _syscall_hint(pid)))
        env = dict(os.environ, DEBUGINFOD_URLS="")  # no downloads of debug information
        argv = [gdb, "-nx", "-batch", "-iex", "set auto-load off", "-iex", "set debuginfod enabled off",
                "-x", commands]
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                   universal_newlines=True, errors="replace")
        lines = []  # gdb's output as it comes: its markers say how far it got
        reader = threading.Thread(target=_gdb_drain, args=(process.stdout, lines))
        reader.daemon = True
        reader.start()
        timed_out = interrupted = False
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as error:
            timed_out = isinstance(error, subprocess.TimeoutExpired)
            interrupted = not timed_out
            _gdb_stop(process, lines)
        reader.join()
        output = "".join(lines)
        os.unlink(commands)
        if verbose:
            sys.stderr.write(output if output.endswith("\n") else output + "\n")
            sys.stderr.flush()
        markers = {}
        for line in output.splitlines():
            if line.startswith("LEAKBOOK "):
                words = line.split()
                markers[words[1]] = " ".join(words[2:])
        delivered = markers.get("done") == "0"
        keep = delivered
        if interrupted:
            return _attach_error("interrupted" + (" (the request was delivered: the snapshot goes into %s)" % out
                                                  if delivered else ""))
        if not delivered:
            if timed_out:
                return _attach_error("gdb did not finish within %g s (interrupted; process %d continues)"
                                     % (timeout, pid))
            return _attach_error(_gdb_failure(pid, output, markers))
        gone = False
        while not os.path.exists(result) and time.monotonic() < deadline and not gone:
            time.sleep(0.05)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                gone = not os.path.exists(result)
            except OSError:
                pass
        if gone:
            keep = False
            return _attach_error("process %d exited before it wrote the snapshot" % pid)
        if not os.path.exists(result):
            open(os.path.join(folder, "abandoned"), "w").close()
            if not os.path.exists(result):
                if not os.path.exists(result + ".started") and "pending" in markers:
                    return _attach_error(
                        "process %d has not run the request within %g s: its main thread is in C code (holding "
                        "the GIL, or running without it outside a system call); the snapshot goes into %s when "
                        "it is back in Python code" % (pid, timeout, out))
                if not os.path.exists(result + ".started"):
                    return _attach_error("process %d has not started the snapshot within %g s (its thread waits "
                                         "for the GIL?); it goes into %s when it does" % (pid, timeout, out))
                return _attach_error("process %d did not finish the snapshot within %g s; it goes into %s when "
                                     "done" % (pid, timeout, out))
        keep = False
        import ast
        try:
            with open(result) as f:
                outcome = ast.literal_eval(f.read())
        except (OSError, ValueError, SyntaxError) as error:
            return _attach_error("cannot read what process %d reported: %s" % (pid, error))
        if outcome.get("error"):
            return _attach_error("the snapshot inside process %d (Python %s) failed: %s"
                                 % (pid, outcome.get("python"), outcome["error"]))
        if not outcome.get("path"):
            return _attach_error("process %d was already taking a snapshot (its own Recorder's?); none written, "
                                 "try again" % pid)
        sys.stdout.write("snapshot of process %d (Python %s): %s\n" % (pid, outcome.get("python"), outcome["path"]))
        return 0
    finally:
        if not keep:
            shutil.rmtree(folder, True)


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(_USAGE + "\n")
        return 0 if args else 2
    command = args.pop(0)
    try:
        if command == "run":
            return _run(args)
        if command == "attach":
            return _attach(args)
        if command == "info":
            if "-h" in args or "--help" in args:
                sys.stdout.write(_COMMAND_USAGE["info"] + "\n")
                return 0
            as_json = "--json" in args
            files = [a for a in args if a != "--json"]
            if len(files) != 1:
                raise _UsageError("info needs one FILE")
            try:
                _info(files[0], as_json, sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # `info FILE | head`: the reader has gone
                try:
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                except (OSError, ValueError):
                    pass
                return 0
            except MemoryError:
                raise SnapshotError("%s: too big for the memory available" % files[0])
            except SnapshotError:
                raise
            except Exception as error:  # a reader bug: still one line, no traceback, exit 3
                sys.stderr.write("leakbook: internal error reading %s (%s): please report it\n"
                                 % (_terminal_text(files[0]), type(error).__name__))
                return 3
            return 0
        raise _UsageError("unknown command %r" % command)
    except _UsageError as error:
        sys.stderr.write("leakbook: %s (python3 -m leakbook --help)\n" % error)
        return 2
    except SnapshotError as error:  # names and paths in it are arbitrary text
        sys.stderr.write("leakbook: %s\n" % _terminal_text(str(error)))
        return 2


if __name__ == "__main__":
    # Hand over to the importable module so that `import leakbook` in a script run by
    # `python -m leakbook run` shares this state.
    import leakbook as _agent
    _agent._AGENT_NAMESPACES.append(globals())
    sys.exit(_agent.main())
