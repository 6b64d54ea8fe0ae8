// The fix that usually works for each kind of finding.
import type { FindingKind } from "./types.js";

export const REMEDIES: Record<FindingKind, string> = {
  "growing-container":
    "Bound it: evict old entries (an OrderedDict trimmed to a size, or collections.deque(maxlen=N) for logs and " +
    "histories), remove entries when their work is done (discard finished tasks and closed sessions), or key it " +
    "weakly (weakref.WeakValueDictionary / WeakKeyDictionary / WeakSet) when the entries live elsewhere.",
  "unbounded-cache":
    "Give the cache a bound: @functools.lru_cache(maxsize=N) instead of maxsize=None or functools.cache, a TTL, " +
    "or call cache_clear() when its inputs change; and key it by small values, not by whole requests or objects.",
  "large-cache-entry":
    "Cache the small result, not the object that produced it: store ids, strings or a trimmed copy instead of " +
    "responses, frames or whole documents, or bound the cache by bytes instead of entries.",
  "object-growth":
    "Follow an instance of the growing type back to its holder (pathsToRoot / `leakbook paths`) and release it " +
    "there; the holder findings above usually name it.",
  "cycle":
    "Break the cycle where it is no longer needed (clear the back-reference when the object is closed) or make " +
    "one direction weak (weakref.ref / weakref.proxy); and drop the single outside reference that keeps the group.",
  "bidirectional-tree":
    "Make the back-reference weak (store weakref.ref(parent) and call it to get the parent) so one kept node no " +
    "longer keeps its whole tree; and keep ids or a copy instead of live nodes in histories and selections.",
  "long-lived-large":
    "Check that this object is meant to live for the whole process; if it is a cache or a registry, bound it, and " +
    "release what it keeps once the work that needed it is done.",
  "traceback-retention":
    "Do not keep exceptions with their tracebacks: store the formatted text (traceback.format_exception) or " +
    "drop it with `exc.__traceback__ = None` / exc.with_traceback(None) / traceback.clear_frames(tb) before saving, " +
    "and avoid holding sys.exc_info() in a long-lived place.",
  "closure-retention":
    "Capture only what the inner function needs (pass small values as arguments or default parameters), or hold " +
    "the large object through a weakref; unregister callbacks once they have run.",
  "bound-method-retention":
    "Store listeners as weakref.WeakMethod (or keep the instances in a weakref.WeakSet) so a registered callback " +
    "does not keep its object alive, and unsubscribe in the object's close()/dispose().",
  "default-argument":
    "Use None as the default and create the list/dict inside the function (`def f(x, seen=None): seen = [] if " +
    "seen is None else seen`); a mutable default is created once and shared by every call.",
  "class-attribute":
    "Move per-instance state into __init__ (self.items = []); a mutable class attribute is shared by every " +
    "instance and lives as long as the class. If it is a registry on purpose, bound it or hold entries weakly.",
  "uncollectable":
    "Objects in gc.garbage are never freed: remove __del__ from objects in reference cycles (use weakref.finalize " +
    "instead), stop gc.set_debug(gc.DEBUG_SAVEALL) in production, and clear gc.garbage after inspecting it.",
  "string-growth":
    "Stop appending to one ever-longer string or buffer: write to a file or a logging handler, keep a bounded " +
    "collections.deque of pieces, or reset the buffer after it is flushed.",
  "library-leak":
    "A library keeps what the program hands it: find where the program feeds this registry (the entries show " +
    "what it keeps) and feed it once at start-up instead of per request, or release the entries when the work " +
    "is done, as the library's documentation says.",
  "native-or-fragmentation":
    "The Python heap does not explain the growth: look at native allocations (C extensions, numpy buffers, " +
    "thread stacks) with tracemalloc's domain stats or a native profiler, and for fragmentation try fewer, larger " +
    "allocations, PYTHONMALLOC=malloc with a compacting allocator (jemalloc), or periodic worker restarts.",
};
