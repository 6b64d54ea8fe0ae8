// The catalogue of library leaks: registries inside the standard library and common packages that a program fills
// by calling them the wrong way (a logger per request, a listener per request, a mock in production), and caches
// that are bounded by construction. Each entry is recognised from what the capture recorded of the holder (its
// type, the type that owns it, the attribute it sits in, the types of its new objects), never by running anything.
// docs/diagnosis.md lists the entries as a table.

/** What a finding knows of its holder, as the catalogue matches it. */
export interface HolderView {
  /** The holder's type ("builtins.dict"), or null for growth no visible holder keeps. */
  holderType: string | null;
  /**
   * The object that owns the holder: the instance, class or module whose attribute (or slot) it is. Its type, or
   * for a class its qualified name, or for a module "builtins.module".
   */
  ownerType: string | null;
  /** The owner's name: a module's or function's qualified name ("logging", "app.Service.lookup"), else "". */
  ownerName: string;
  /** The attribute or key the holder sits in ("loggerDict" for `.loggerDict`, "__warningregistry__"). */
  attribute: string | null;
  /** The holder's path expression, or "". */
  path: string;
  /** Types of the new objects, commonest first. */
  memberTypes: string[];
  /** Types of the outermost new objects (what the holder keeps directly: its entries), commonest first. */
  entryTypes: string[];
}

export interface CatalogueEntry {
  id: string;
  /** The registry, as a user would name it. */
  registry: string;
  /** What in the program feeds it. */
  fedBy: string;
  remedy: string;
  /** Bounded by construction: its growth is never a leak. */
  bounded?: boolean;
  matches(v: HolderView): boolean;
}

const owned = (v: HolderView, prefix: string) => v.ownerType !== null && v.ownerType.startsWith(prefix);
const holds = (v: HolderView, ...types: string[]) => v.memberTypes.slice(0, 6).some((t) => types.includes(t));
const inAttribute = (v: HolderView, ...names: string[]) => v.attribute !== null && names.includes(v.attribute);
const moduleGlobal = (v: HolderView, module: string, ...names: string[]) =>
  v.ownerType === "builtins.module" && v.ownerName === module && inAttribute(v, ...names);

export const CATALOGUE: CatalogueEntry[] = [
  {
    id: "logging-loggers",
    registry: "logging's Manager.loggerDict",
    fedBy: "logging.getLogger() called with a name that changes per request, connection or object",
    remedy: "Loggers are never freed once created: use one logger per module (logging.getLogger(__name__)) and put " +
      "the per-request detail into the record instead (logger.info(..., extra={...}) or a logging.LoggerAdapter).",
    matches: (v) => owned(v, "logging.Manager") && inAttribute(v, "loggerDict"),
  },
  {
    id: "logging-handlers",
    registry: "a logger's list of handlers",
    fedBy: "logger.addHandler() per request, connection or job",
    remedy: "Configure handlers once at start-up (logging.config, or at import); a handler added per request stays on " +
      "the logger and every later record passes through all of them. Remove per-request handlers with " +
      "logger.removeHandler(h) (and h.close()), or put per-request context in a Filter or LoggerAdapter instead.",
    matches: (v) => owned(v, "logging.") && inAttribute(v, "handlers"),
  },
  {
    id: "warnings-filters",
    registry: "the warnings module's list of filters",
    fedBy: "warnings.filterwarnings() / simplefilter() per call, with a message or module that differs per call",
    remedy: "Install warning filters once at start-up; to change them for one call use `with warnings.catch_warnings(): " +
      "warnings.simplefilter(...)`, which restores the list on exit. filterwarnings() adds an entry every time it " +
      "is given a new pattern.",
    matches: (v) => v.ownerType === "builtins.module" && (v.ownerName === "warnings" || v.ownerName === "_warnings") &&
      inAttribute(v, "filters"),
  },
  {
    id: "warnings-registry",
    registry: "a module's __warningregistry__ (the warnings module's record of warnings already shown)",
    fedBy: "warnings.warn() with a message text that differs per call (an id or a value in the text)",
    remedy: "Keep the warning's text constant and pass the details another way (logging), or filter the warning " +
      "(warnings.filterwarnings('ignore' or 'error', ...)): under the default action every distinct text is " +
      "recorded in the calling module's __warningregistry__ for the life of the process.",
    matches: (v) => inAttribute(v, "__warningregistry__", "onceregistry") || v.path.includes("__warningregistry__"),
  },
  {
    id: "atexit-callbacks",
    registry: "atexit's callback list (held in C)",
    fedBy: "atexit.register() called per request, job or object",
    remedy: "Register cleanup once at start-up, or keep per-object cleanup with weakref.finalize (it frees its " +
      "object's entry when the object goes) or an explicit close(); atexit keeps every callback and its arguments " +
      "until the interpreter exits.",
    // Each registration is a callable (its arguments hang below it), so callables are the commonest new objects.
    matches: (v) => v.holderType === null && ["functools.partial", "builtins.method", "builtins.function"].includes(v.memberTypes[0]),
  },
  {
    id: "exitstack-callbacks",
    registry: "the callback stack of a contextlib.ExitStack kept open",
    fedBy: "stack.callback(...), push(...) or enter_context(...) per request on one long-lived ExitStack",
    remedy: "Use an ExitStack per unit of work (with ExitStack() as stack: ...), or close it (stack.close(), or " +
      "pop_all() to hand the callbacks on) when the request ends: an ExitStack keeps every callback pushed onto it, " +
      "and whatever the callbacks refer to, until it is closed.",
    matches: (v) => owned(v, "contextlib.") && inAttribute(v, "_exit_callbacks"),
  },
  {
    id: "cookie-jar",
    registry: "a cookie jar's store of cookies",
    fedBy: "responses or calls that set cookies under names or domains that change per request",
    remedy: "A cookie jar keeps every cookie it is given until the cookie expires and the jar is cleared: clear it " +
      "when a client session ends (jar.clear(), jar.clear_expired_cookies()), keep a jar per client session, or " +
      "refuse cookies you do not need (a cookie policy, or a session without a jar).",
    matches: (v) => (owned(v, "http.cookiejar.") || owned(v, "requests.cookies.")) && inAttribute(v, "_cookies"),
  },
  {
    id: "weakref-finalize",
    registry: "weakref.finalize's registry of pending finalizers",
    fedBy: "weakref.finalize(obj, callback, *args) whose callback or arguments refer to obj (a bound method of obj)",
    remedy: "The finalizer's callback or arguments keep the object alive, so it is never collected and the finalizer " +
      "never runs: pass only what the cleanup needs and never the object itself or its bound methods " +
      "(weakref.finalize(conn, release, conn.buffer), with release a plain function), or close it explicitly.",
    matches: (v) => owned(v, "weakref.finalize") && inAttribute(v, "_registry"),
  },
  {
    id: "itertools-tee",
    registry: "an itertools.tee buffer",
    fedBy: "a tee() branch that is kept but read less than the others (or never)",
    remedy: "A tee keeps every item one branch has passed and another has not yet read: read every branch at the " +
      "same pace, drop the branch you do not read (del it), or, for a second pass, collect the items in a list.",
    matches: (v) => v.holderType === "itertools._tee" || v.holderType === "itertools._tee_dataobject" ||
      owned(v, "itertools._tee"),
  },
  {
    id: "singledispatch-registry",
    registry: "a functools.singledispatch function's registry",
    fedBy: ".register() called per request, often for a class made per request",
    remedy: "Register implementations once at import time, for the classes the program defines; a class made per " +
      "request and registered stays in the dispatch registry (and its cache) for the life of the function. " +
      "Dispatch on a base class, or on a value, instead.",
    // The registry is a function's `.registry` (a read-only view of a dict in a closure) of classes to functions.
    matches: (v) => v.ownerType === "builtins.function" && inAttribute(v, "registry") &&
      holds(v, "builtins.function") && holds(v, "builtins.type"),
  },
  {
    id: "asyncio-task-set",
    registry: "a set or list of asyncio tasks kept so they are not garbage-collected",
    fedBy: "asyncio.create_task() results added to a collection and never removed",
    remedy: "Remove each task when it is done: tasks.add(t); t.add_done_callback(tasks.discard). Or run them in " +
      "an asyncio.TaskGroup, which forgets them when they finish.",
    matches: (v) => holds(v, "_asyncio.Task", "asyncio.tasks.Task", "asyncio.Task"),
  },
  {
    id: "asyncio-timers",
    registry: "an event loop's scheduled callbacks",
    fedBy: "loop.call_later() / call_at() per request for a time far ahead, with the handle dropped",
    remedy: "Keep the TimerHandle that call_later() returns and cancel() it when the request ends (or use " +
      "asyncio.timeout() / wait_for() around the work): a scheduled callback and its arguments stay in the loop " +
      "until its time comes.",
    matches: (v) => inAttribute(v, "_scheduled") && holds(v, "asyncio.events.TimerHandle"),
  },
  {
    id: "sched-queue",
    registry: "a sched.scheduler's queue of events",
    fedBy: "scheduler.enter() / enterabs() per request on a scheduler that nothing runs",
    remedy: "Run the scheduler (scheduler.run(), or run(blocking=False) from the service loop) so due events leave " +
      "the queue, and cancel() events that are no longer wanted: an event waits in the queue, with its arguments, " +
      "until it has run.",
    matches: (v) => owned(v, "sched.scheduler") && inAttribute(v, "_queue"),
  },
  {
    id: "futures-kept",
    registry: "concurrent.futures futures kept after their result was read",
    fedBy: "executor.submit() results (and the exceptions and tracebacks inside them) kept in a history",
    remedy: "Keep the result (or the formatted error) instead of the Future, drop futures once result() has been " +
      "read, or keep only the last N in a collections.deque(maxlen=N).",
    matches: (v) => holds(v, "concurrent.futures._base.Future", "_asyncio.Future", "asyncio.futures.Future"),
  },
  {
    id: "lru-cache-method",
    registry: "functools.lru_cache on a method (self is part of every key)",
    fedBy: "calls of the cached method on new instances: each call keeps its instance alive in the cache",
    remedy: "Do not lru_cache a method: cache a module-level function of the small arguments, use " +
      "functools.cached_property for per-instance results, or key by an id and give the cache a maxsize.",
    matches: (v) => owned(v, "functools._lru_cache_wrapper") &&
      v.memberTypes.some((t) => !t.startsWith("builtins.") && v.ownerName.startsWith(t + ".")),
  },
  {
    id: "re-cache",
    registry: "re's compiled-pattern cache",
    fedBy: "re.compile() and the re functions with many distinct patterns",
    remedy: "Nothing to fix: re keeps at most a few hundred compiled patterns and evicts the oldest.",
    bounded: true,
    matches: (v) => v.ownerType === "builtins.module" && v.ownerName === "re" && inAttribute(v, "_cache", "_cache2"),
  },
  {
    id: "typing-functools-caches",
    registry: "typing's and functools' internal caches",
    fedBy: "subscripted generics and cached functions of the standard library",
    remedy: "Nothing to fix: these caches are bounded (lru_cache with a maxsize) or hold one entry per type.",
    bounded: true,
    matches: (v) => moduleGlobal(v, "typing", "_caches", "_cleanups") || moduleGlobal(v, "functools", "_cache"),
  },
  {
    id: "abc-copyreg-caches",
    registry: "abc's and copyreg's per-class caches",
    fedBy: "classes created per request (type(), dataclasses.make_dataclass, pydantic.create_model ...)",
    remedy: "Create classes once at import time and reuse them; a class made per request stays in these caches " +
      "and in its bases' subclass lists.",
    matches: (v) => inAttribute(v, "_abc_registry", "_abc_cache", "_abc_negative_cache", "_extension_cache") ||
      moduleGlobal(v, "copyreg", "_extension_registry", "_inverted_registry", "_extension_cache"),
  },
  {
    id: "mock-call-records",
    registry: "unittest.mock's call records (call_args_list, mock_calls, method_calls)",
    fedBy: "a Mock or MagicMock called on every request outside a test: it records every call's arguments",
    remedy: "Mocks belong in tests: replace it with the real object or a small stub that records nothing, or call " +
      "reset_mock() when the records are no longer needed.",
    matches: (v) => owned(v, "unittest.mock.") || holds(v, "unittest.mock._Call"),
  },
  {
    id: "thread-local",
    registry: "a threading.local's per-thread data",
    fedBy: "per-request data added to a thread-local in a long-lived worker thread",
    remedy: "Reset the thread-local at the end of each request (del local.items, or assign a fresh value), and keep " +
      "only the current request's state there, never a history.",
    matches: (v) => owned(v, "_thread._local") || owned(v, "_threading_local.local") || v.path.includes("_thread._local"),
  },
  {
    id: "contextvars",
    registry: "a contextvars.ContextVar's value",
    fedBy: "appends to a mutable value (a list or dict) kept in a ContextVar, shared by every request of the context",
    remedy: "Set a fresh value per request (token = var.set([])) and reset it afterwards (var.reset(token)); never " +
      "mutate a value stored as a ContextVar's default.",
    matches: (v) => owned(v, "_contextvars.") || v.path.includes("ContextVar"),
  },
  {
    id: "sqlalchemy-sessions",
    registry: "SQLAlchemy sessions kept open (scoped_session registries without remove())",
    fedBy: "a Session made per request and kept, or a scoped_session whose registry is never cleared",
    remedy: "Close every Session when its unit of work ends (with Session(engine) as s: ...); for scoped_session " +
      "call Session.remove() at the end of each request or thread (Flask-SQLAlchemy does it in teardown).",
    matches: (v) => holds(v, "sqlalchemy.orm.session.Session") || owned(v, "sqlalchemy.util._collections.ScopedRegistry") ||
      owned(v, "sqlalchemy.util._collections.ThreadLocalRegistry") || owned(v, "sqlalchemy.orm.scoping."),
  },
  {
    id: "sqlalchemy-identity",
    registry: "a long-lived SQLAlchemy Session's identity map and its new and modified objects",
    fedBy: "objects added to or loaded by one Session that is never committed, expunged or closed",
    remedy: "Use a Session per unit of work and close it; commit or flush in batches and call session.expunge_all() " +
      "(or close()) after each batch in long jobs.",
    matches: (v) => (owned(v, "sqlalchemy.orm.session.") || owned(v, "sqlalchemy.orm.identity.")) &&
      !holds(v, "sqlalchemy.orm.session.Session"),
  },
  {
    id: "sqlalchemy-engines",
    registry: "SQLAlchemy engines made per tenant or request",
    fedBy: "create_engine() called per tenant, request or job and the engine kept",
    remedy: "Make one Engine per database at start-up and share it (each keeps a connection pool, a compiled-statement " +
      "cache and event hooks); for many tenants on one server use one engine with schema_translate_map or " +
      "execution options, and engine.dispose() an engine you drop.",
    matches: (v) => v.entryTypes.slice(0, 3).some((t) => t === "sqlalchemy.engine.base.Engine" || t === "sqlalchemy.future.engine.Engine"),
  },
  {
    id: "sqlalchemy-events",
    registry: "SQLAlchemy event listeners (an engine's or class's dispatch)",
    fedBy: "event.listen() / @event.listens_for called per request or per object",
    remedy: "Register listeners once at start-up; remove per-request ones with event.remove(target, name, fn), " +
      "or pass once=True for one-off listeners.",
    matches: (v) => owned(v, "sqlalchemy.event.") || v.path.includes(".dispatch."),
  },
  {
    id: "jinja2-environments",
    registry: "Jinja2 Environments made per request",
    fedBy: "jinja2.Environment(...) created per request or per template and kept",
    remedy: "Create one Environment at start-up and reuse it: each one keeps its own template cache, filters and " +
      "compiled code.",
    matches: (v) => holds(v, "jinja2.environment.Environment"),
  },
  {
    id: "jinja2-templates",
    registry: "Jinja2 templates compiled per request (from_string, or a template cache without a bound)",
    fedBy: "Environment.from_string() per request, or an Environment(cache_size=-1) fed per-request template names",
    remedy: "Compile templates once (from_string at start-up, or load them by name through a loader with the default " +
      "bounded cache); never cache_size=-1 with names that change per request.",
    matches: (v) => holds(v, "jinja2.environment.Template") || owned(v, "jinja2.utils.LRUCache") ||
      (owned(v, "jinja2.environment.Environment") && inAttribute(v, "cache")),
  },
  {
    id: "sqlalchemy-metadata-tables",
    registry: "a SQLAlchemy MetaData's registry of tables",
    fedBy: "sqlalchemy.Table(...) defined per request, tenant or partition in a shared MetaData",
    remedy: "Define tables once at import time and reuse them; for per-tenant schemas use one Table with " +
      "schema_translate_map, or a tenant column, instead of a Table per tenant; drop tables no longer used with " +
      "metadata.remove(table). A MetaData keeps every Table defined in it, with its columns and compiled state.",
    matches: (v) => owned(v, "sqlalchemy.sql.schema.MetaData") && inAttribute(v, "tables", "_fk_memos"),
  },
  {
    id: "jinja2-filters",
    registry: "a Jinja2 Environment's registry of filters, tests and globals",
    fedBy: "env.filters[...] = ..., env.tests[...] or env.globals[...] set per request under a new name",
    remedy: "Register filters, tests and globals once when the Environment is made; pass per-request values to a " +
      "filter as arguments ({{ price|money(rate) }}) or in the render context (template.render(rate=...)).",
    matches: (v) => owned(v, "jinja2.environment.Environment") && inAttribute(v, "filters", "tests", "globals"),
  },
  {
    id: "flask-hooks",
    registry: "a Flask app's registry of request hooks and handlers",
    fedBy: "app.before_request / after_request / teardown_request or a context processor registered per request",
    remedy: "Register request hooks once at start-up (decorate module-level functions with @app.before_request); a " +
      "function added per request stays for the life of the app and runs on every request after it.",
    matches: (v) => owned(v, "flask.") && inAttribute(v, "before_request_funcs", "after_request_funcs",
      "teardown_request_funcs", "teardown_appcontext_funcs", "template_context_processors", "url_value_preprocessors",
      "url_default_functions", "error_handler_spec"),
  },
  {
    id: "werkzeug-url-map",
    registry: "a werkzeug URL Map's rule set",
    fedBy: "app.add_url_rule() or url_map.add(Rule(...)) per request, tenant or object",
    remedy: "Add URL rules once at start-up; route per-request variety through the rule's variables and " +
      "converters ('/<tenant>/items/<int:id>') instead of a Rule per value. A Map keeps every rule it is given, " +
      "indexed by endpoint and in its matcher.",
    matches: (v) => v.holderType === "werkzeug.routing.map.Map" || owned(v, "werkzeug.routing.map.Map"),
  },
  {
    id: "blinker-namespace",
    registry: "a blinker Namespace's registry of named signals",
    fedBy: "namespace.signal(name) with a name that changes per request or job",
    remedy: "A blinker Namespace keeps every signal it has named, with its receivers: use a fixed set of signals " +
      "and tell requests apart by the sender (signal.send(job, ...) and connect(receiver, sender=job)), disconnect " +
      "per-job receivers when the job ends, or pop the name (namespace.pop(name)).",
    matches: (v) => v.holderType === "blinker.base.Namespace",
  },
  {
    id: "blinker-receivers",
    registry: "blinker's per-signal receiver and sender bookkeeping",
    fedBy: "signal.connect() per request (a new receiver each time, or weak=False)",
    remedy: "Connect receivers once at start-up; disconnect per-request receivers (signal.disconnect, or the " +
      "signal.connected_to(...) context manager), and connect long-lived receivers weakly (the default).",
    matches: (v) => owned(v, "blinker."),
  },
  {
    id: "requests-hooks",
    registry: "a requests.Session's hooks and adapters",
    fedBy: "session.hooks['response'].append(...) or session.mount(...) per request",
    remedy: "Install hooks and adapters once when the Session is made; per-request callbacks belong in the call " +
      "(requests.get(..., hooks={...})).",
    matches: (v) => owned(v, "requests.") && (inAttribute(v, "hooks", "response", "adapters") || v.path.includes(".hooks")),
  },
  {
    id: "yaml-registries",
    registry: "PyYAML's per-class constructor and representer registries",
    fedBy: "yaml.add_constructor() / add_representer() / add_implicit_resolver() called per request",
    remedy: "Register constructors and representers once at import time, on a Loader subclass of your own.",
    matches: (v) => inAttribute(v, "yaml_constructors", "yaml_multi_constructors", "yaml_representers",
      "yaml_multi_representers", "yaml_implicit_resolvers", "yaml_path_resolvers"),
  },
  {
    id: "werkzeug-local",
    registry: "a werkzeug Local or LocalStack",
    fedBy: "push() without a matching pop()",
    remedy: "Pop what you push (use the `with` form of the context), and clear the Local at the end of the request.",
    matches: (v) => owned(v, "werkzeug.local."),
  },
];

/**
 * C types that keep references they do not report to the garbage collector: what they keep has no visible holder,
 * so when growth has none, a long-lived instance of one is the likely holder.
 */
export interface HiddenHolder {
  type: string;
  /** What of the instance keeps references out of sight ("memo"). */
  part: string;
  /** What that part keeps. */
  keeps: string;
  /**
   * The type of that part when it is an object the collector tracks (found unreachable, through gc.get_objects()),
   * or null when it is no Python object (a C table).
   */
  keptAs: string | null;
  remedy: string;
}

export const HIDDEN_HOLDERS: HiddenHolder[] = [
  {
    type: "_pickle.Pickler",
    part: "memo",
    keeps: "every object the Pickler has written since it was made or last cleared",
    keptAs: null,
    remedy: "Call pickler.clear_memo() after each message, or write each message with a fresh Pickler (or " +
      "pickle.dumps): a Pickler reused for a stream keeps every object it has written, so that a later message " +
      "can refer back to it.",
  },
  {
    type: "_pickle.Unpickler",
    part: "memo",
    keeps: "every object the Unpickler has read since it was made or last cleared",
    keptAs: null,
    remedy: "Call unpickler.memo.clear() after each message, or read each message with a fresh Unpickler (or " +
      "pickle.loads): an Unpickler reused for a stream keeps every object it has read.",
  },
  {
    type: "_io.StringIO",
    part: "list of written pieces",
    keeps: "every string written to it since it was made or last read or truncated (CPython 3.11 and older)",
    keptAs: "builtins.list",
    remedy: "A StringIO that is only ever written to grows for the life of the process: write the log to a file or " +
      "a logging handler, keep a bounded collections.deque of lines, or empty it when it has been read " +
      "(buf.seek(0); buf.truncate(0)), or make a fresh StringIO per request.",
  },
];

/** The catalogue entry that describes this holder, or null. */
export function recognise(v: HolderView): CatalogueEntry | null {
  return CATALOGUE.find((e) => e.matches(v)) ?? null;
}
