// Retention paths from the roots, rendered as steps and as one Python expression that evaluates to the object
// in the live process; referrers, referents, dominator subtrees and lookup by address.
import {
  EDGE_INDEX, EDGE_OPAQUE, EDGE_SUFFIX, FLAG_TRACKED, NONE, ROOT_BUILTINS, ROOT_MODULE, ROOT_THREAD, ROOT_UNREACHABLE,
  type Snapshot,
} from "./snapshot.js";
import { rootRank, type HeapGraph } from "./graph.js";
import { pathAnchors, type PathAnchors } from "./path-anchors.js";

export interface PathStep {
  object: number;
  address: number;
  type: string;
  /** edge label text from the previous step (root expression for the first) */
  label: string;
  evaluable: boolean;
}

export interface RetentionPath {
  /**
   * Index into the snapshot's roots; values from snap.rootObject.length on stand for the extra roots the engine
   * added for unreachable objects (g.extraRoots[root - snap.rootObject.length]).
   */
  root: number;
  /** The root's kind: snap.rootKind[root], or ROOT_UNREACHABLE for an extra root. */
  rootKind: number;
  steps: PathStep[];
  expr: string;
  /** Modules `expr` needs imported to evaluate (e.g. ["gc", "sys"]). */
  imports: string[];
  /**
   * One line on when `expr` holds, or null when it holds as long as the objects on the path do (module roots,
   * builtins, gc.garbage, sys.last_*): for a path from a thread's frame, which frame must still run; for a path
   * from an unreachable object, why no root reaches it and whether it can be looked up at all.
   */
  note: string | null;
}

export interface PathOptions {
  /** How many distinct paths (default 1); the first is the breadth-first one (see preferModuleRoots). */
  k?: number;
  /** Longest path searched for the 2nd..kth paths, in edges (default: the shortest length + 8). */
  maxDepth?: number;
  /**
   * When the breadth-first path starts at a thread's frame, put the shortest path from a module root first
   * (the thread's path follows it) if it is at most this many edges longer: a number (default 3), true for
   * any length up to maxDepth, false to keep the breadth-first path first whatever its root.
   */
  preferModuleRoots?: boolean | number;
}

/** Partial paths the k-shortest search may hold; beyond it the search stops growing (results stay correct, maybe fewer). */
const MAX_STATES = 200_000;
/** The same for the search of a module-rooted path behind a thread's path, run on every such call. */
const MAX_MODULE_STATES = 50_000;
const DEFAULT_MODULE_SLACK = 3;
/** The least the searches may hold whatever the heap's size. */
const MIN_STATES = 10_000;

/**
 * Shortest retention paths of `object`, distinct by edge sequence, each rendered once per root entry of its
 * first object. Paths are rebased on the last module on them: from a module object that sys.modules holds,
 * or from such a module's namespace dict however the walk reached it (a function's `.__globals__`, a frame's
 * `.f_globals`, another module's attribute), the path restarts as `sys.modules['m']`, which evaluates
 * wherever the module is imported.
 *
 * The first path is the breadth-first one, except that a path from a thread's frame gives way to a module-
 * rooted path at most `preferModuleRoots` (3) edges longer. A user pastes these expressions into a debugger or
 * a REPL attached to the process: `sys._current_frames()[tid]` is whatever frame the thread runs *then*
 * (in the debugger's own thread, the debugger's frame), so a frame path rarely evaluates, while
 * `sys.modules['app'].x.y` evaluates from anywhere as long as the leak does. The frame path stays in the list
 * (second) with a note naming its frame: it is often the better explanation of who holds the object.
 *
 * The 2nd..kth paths come from a best-first search backwards over the reverse graph, guided by each object's
 * exact breadth-first distance from the roots (so they come out in length order, as searched); paths are
 * simple and end at the first root or module namespace met (a root object itself also gets the paths through
 * its referrers). A reachable object gets no path from an unreachable one. The search costs the states it
 * expands, never a pass over the heap; the one whole-heap pass (pathAnchors) is made once per graph.
 */
export function shortestPaths(g: HeapGraph, object: number, opts: PathOptions = {}): RetentionPath[] {
  const snap = g.snap;
  if (!(object >= 0 && object < snap.objectCount)) throw new RangeError(`no object with index ${object}`);
  const k = opts.k ?? 1;
  const anchors = pathAnchors(g);
  const first = rebase(anchors, snap, breadthFirstPath(g, object));
  const seen = new Set<string>([first.join(",")]);
  const out = pathsFrom(g, first);

  if (out[0].rootKind === ROOT_THREAD) {
    const prefer = opts.preferModuleRoots ?? DEFAULT_MODULE_SLACK;
    const slack = prefer === true ? Infinity : prefer === false ? -1 : prefer;
    const limit = slack === Infinity ? (opts.maxDepth ?? first.length - 1 + 8) : first.length - 1 + slack;
    if (slack >= 0) {
      for (const path of searchPaths(g, anchors, object, limit, true)) {
        const rebased = rebase(anchors, snap, path);
        if (rebased.length > first.length + slack || seen.has(rebased.join(","))) continue;
        const found = pathsFrom(g, rebased);
        if (!isModuleRooted(found[0].rootKind)) continue;
        seen.add(rebased.join(","));
        out.unshift(...found);
        break;
      }
    }
  }
  if (out.length >= k || onlyPath(g, anchors, object)) return out.slice(0, k);

  const maxDepth = opts.maxDepth ?? first.length - 1 + 8;
  for (const path of searchPaths(g, anchors, object, maxDepth, false)) {
    const rebased = rebase(anchors, snap, path);
    const key = rebased.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(...pathsFrom(g, rebased));
    if (out.length >= k) break;
  }
  return out.slice(0, k);
}

function isModuleRooted(kind: number): boolean {
  return kind === ROOT_MODULE || kind === ROOT_BUILTINS;
}

/**
 * Paths [root object, edge, edge, ...] to `object`, shortest first by the search's own measure (its length,
 * or, for one that ends at a module namespace, the length once rebased on the module). With `throughRoots`,
 * roots that are neither module objects nor their namespaces do not end the search: their paths are yielded
 * and the search goes on through their referrers (a thread's frame can also be reached from a module).
 */
function* searchPaths(
  g: HeapGraph,
  anchors: PathAnchors,
  object: number,
  maxDepth: number,
  throughRoots: boolean,
): Generator<number[]> {
  const { distance } = g;
  const skipUnreachable = anchors.unreachable[object] === 0;
  // Held to a cost below the analysis's: a state costs about as much as the analysis spends on 16 objects.
  const maxStates = Math.min(throughRoots ? MAX_MODULE_STATES : MAX_STATES, Math.max(MIN_STATES, g.snap.objectCount >> 4));
  // Search states: an object and the path suffix (linked through `next`) from it to the target.
  const node: number[] = [object];
  const edge: number[] = [NONE];
  const next: number[] = [-1];
  const length: number[] = [0];
  const heap = new StateHeap();
  heap.push(0, distance[object]);
  const onChain = (state: number, o: number): boolean => {
    for (let s = state; s >= 0; s = next[s]) if (node[s] === o) return true;
    return false;
  };
  while (heap.size > 0) {
    const s = heap.pop();
    const o = node[s];
    // A module namespace ends a path like a root: the path restarts at its module whatever lies before it.
    const anchored = anchors.moduleRoot.has(o) || anchors.namespaceOf.has(o);
    if (distance[o] === 0 || anchored) {
      const edges: number[] = [];
      for (let t = s; next[t] >= 0; t = next[t]) edges.push(edge[t]);
      yield [o, ...edges];
      // Past a root only the target's own referrers are searched (a root object is also held by others),
      // and with throughRoots, those of any root that does not anchor a path at a module.
      if (anchored || (s !== 0 && !throughRoots)) continue;
    }
    for (let r = g.revStart[o]; r < g.revStart[o + 1] && node.length < maxStates; r++) {
      const from = g.revSource[r];
      if (skipUnreachable && anchors.unreachable[from] === 1) continue;
      if (length[s] + 1 + distance[from] > maxDepth || onChain(s, from)) continue;
      node.push(from);
      edge.push(g.revEdge[r]);
      next.push(s);
      length.push(length[s] + 1);
      heap.push(node.length - 1, length[s] + 1 + distance[from]);
    }
  }
}

/**
 * Whether the search for more paths can only find the breadth-first one again: walking back from `object`, every
 * object up to the first root or module namespace has a single referrer the search would follow (so there is one
 * path, and the search would expand every state its depth allows to learn that). Linear in the path.
 */
function onlyPath(g: HeapGraph, anchors: PathAnchors, object: number): boolean {
  const skipUnreachable = anchors.unreachable[object] === 0;
  for (let o = object, steps = 0; steps < g.snap.objectCount; steps++) {
    if (anchors.moduleRoot.has(o) || anchors.namespaceOf.has(o) || (o !== object && g.distance[o] === 0)) return true;
    let from = -1;
    for (let r = g.revStart[o]; r < g.revStart[o + 1]; r++) {
      const source = g.revSource[r];
      if (skipUnreachable && anchors.unreachable[source] === 1) continue;
      if (from >= 0) return false;
      from = source;
    }
    if (from < 0) return true;
    o = from;
  }
  return false;
}

/** [root object, edge, edge, ...] along the breadth-first tree. */
function breadthFirstPath(g: HeapGraph, object: number): number[] {
  const edges: number[] = [];
  let o = object;
  while (g.bfsEdge[o] !== NONE) {
    edges.push(g.bfsEdge[o]);
    o = edgeSource(g.snap, g.bfsEdge[o]);
  }
  return [o, ...edges.reverse()];
}

/**
 * The path from its last module object that sys.modules holds, or from the module of its last namespace dict
 * of such a module (through the module's `.__dict__` edge): [module, ...] or [module, `.__dict__`, ...].
 * Unchanged when there is none. Linear in the path.
 */
function rebase(anchors: PathAnchors, snap: Snapshot, path: number[]): number[] {
  let at = -1;
  let head: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const o = i === 0 ? path[0] : snap.edgeTarget[path[i]];
    const namespace = anchors.namespaceOf.get(o);
    if (anchors.moduleRoot.has(o)) {
      at = i;
      head = [o];
    } else if (namespace !== undefined) {
      at = i;
      head = [namespace.module, namespace.edge];
    }
  }
  return at < 0 ? path : [...head, ...path.slice(at + 1)];
}

/** The object holding forward edge `e` (binary search of the CSR starts). */
export function edgeSource(snap: Snapshot, e: number): number {
  let lo = 0;
  let hi = snap.objectCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (snap.edgeStart[mid] <= e) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const NOTE_UNREACHABLE =
  "not reachable from any root the capture sees: held from C code (a C extension, atexit, a signal handler) or by " +
  "an object CPython does not traverse (such as the buffer inside io.StringIO); found by id() among gc.get_objects()";
const NOTE_UNTRACKED =
  "not reachable from any root the capture sees (held from C code or by an object CPython does not traverse), and " +
  "not tracked by the garbage collector, so it cannot be looked up in the live process";

/**
 * One rendered path per root entry of the path's first object (an object can be a root several times),
 * preferred root kinds first; among a module's entries, the one under the module's own name first
 * (`sys.modules['posixpath']` before `sys.modules['os.path']`).
 */
function pathsFrom(g: HeapGraph, path: number[]): RetentionPath[] {
  const snap = g.snap;
  const [start, ...edges] = path;
  const out: RetentionPath[] = [];
  const ownName = `sys.modules['${objectName(snap, start)}']`;
  const rank = (p: RetentionPath) => rootRank(p.rootKind) * 2 + (p.rootKind === ROOT_MODULE && p.steps[0].label !== ownName ? 1 : 0);
  for (let r = 0; r < snap.rootObject.length; r++) {
    if (snap.rootObject[r] !== start) continue;
    const label = snap.rootLabel[r] === NONE ? `<root ${r}>` : snap.strings.get(snap.rootLabel[r]);
    const rendered = renderPath(snap, start, label, snap.rootLabel[r] !== NONE, edges);
    const note = snap.rootKind[r] === ROOT_THREAD ? threadNote(snap, start, label, edges) : null;
    out.push({ ...rendered, root: r, rootKind: snap.rootKind[r], note });
  }
  if (out.length === 0) {
    const extra = g.extraRoots.indexOf(start);
    const tracked = (snap.flags[start] & FLAG_TRACKED) !== 0;
    // An unreachable object the collector tracks can still be found in the live process through gc.get_objects().
    const label = tracked
      ? `next(x for x in gc.get_objects() if id(x) == ${snap.address[start]})`
      : `<unreachable object at 0x${snap.address[start].toString(16)}>`;
    out.push({
      ...renderPath(snap, start, label, tracked, edges),
      root: snap.rootObject.length + extra,
      rootKind: ROOT_UNREACHABLE,
      note: tracked ? NOTE_UNREACHABLE : NOTE_UNTRACKED,
    });
  }
  return out.sort((a, b) => rank(a) - rank(b) || a.root - b.root);
}

/**
 * "holds only while this frame of thread NAME runs: FRAME": the frame is the last one the path reaches by
 * `.f_back` from the thread's innermost frame (whose locals or other references lead on).
 */
function threadNote(snap: Snapshot, start: number, label: string, edges: number[]): string {
  let frame = start;
  let depth = 0;
  for (const e of edges) {
    if (snap.edgeKind[e] !== EDGE_SUFFIX || edgeLabel(snap, e) !== ".f_back") break;
    frame = snap.edgeTarget[e];
    depth++;
  }
  const ident = /^sys\._current_frames\(\)\[(\d+)\]$/.exec(label)?.[1];
  const thread = snap.threads.find((t) => t.frame === start) ?? snap.threads.find((t) => String(t.ident) === ident);
  const who = thread?.name ?? (ident !== undefined ? `ident ${ident}` : "(unknown)");
  const where = objectName(snap, frame) || `frame at 0x${snap.address[frame].toString(16)}`;
  const below = depth === 0 ? "" : ` (${depth} frame${depth === 1 ? "" : "s"} below ${objectName(snap, start) || "the innermost"})`;
  return (
    `holds only while this frame of thread ${who} runs: ${where}${below}; sys._current_frames() gives the frame the ` +
    "thread is in when evaluated, so evaluate it from another thread while this one is still there"
  );
}

function objectName(snap: Snapshot, object: number): string {
  return snap.name[object] === NONE ? "" : snap.strings.get(snap.name[object]);
}

const PYTHON_KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield").split(" "),
);
/** `['name']` as the agent writes a str key; only plain ASCII identifiers are turned into attribute access. */
const STR_KEY = /^\['([A-Za-z_][A-Za-z0-9_]*)'\]$/;
/** Objects that attribute access through a class does not return as they are (it unwraps or binds them). */
const UNWRAPPED_BY_GETATTR = new Set(["builtins.staticmethod", "builtins.classmethod"]);
/**
 * Keys that attribute access does not read from the namespace: `obj.__dict__` and `obj.__class__` are the
 * descriptors of every object's type (a class's `__dict__['__dict__']` is a getset descriptor, not the class's
 * namespace).
 */
const NOT_FROM_NAMESPACE = new Set(["__dict__", "__class__"]);
const IMPORTABLE = new Set(["sys", "gc", "builtins"]);

/** The object is a class: it has a `.__mro__` reference. */
export function isClassObject(snap: Snapshot, o: number): boolean {
  for (let e = snap.edgeStart[o]; e < snap.edgeStart[o + 1]; e++) {
    if (snap.edgeKind[e] === EDGE_SUFFIX && snap.edgeLabel[e] !== NONE && snap.strings.get(snap.edgeLabel[e]) === ".__mro__") return true;
  }
  return false;
}

/**
 * Renders a path as steps and as one Python expression: the root expression, then each edge's label appended;
 * opaque edges (set members, dict keys, other referents) become a lookup by id() over the container or its
 * referents; `.__dict__['name']` becomes `.name` when that is the same object.
 */
export function renderPath(
  snap: Snapshot,
  start: number,
  rootExpr: string,
  rootEvaluable: boolean,
  edges: number[],
): { steps: PathStep[]; expr: string; imports: string[] } {
  const stepOf = (object: number, label: string, evaluable: boolean): PathStep => ({
    object, address: snap.address[object], type: snap.types[snap.type[object]], label, evaluable,
  });
  const steps = [stepOf(start, rootExpr, rootEvaluable)];
  const imports = new Set<string>();
  const head = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rootExpr)?.[0];
  if (head !== undefined && IMPORTABLE.has(head)) imports.add(head);
  if (rootExpr.startsWith("next(x for x in gc.")) imports.add("gc");
  let expr = rootExpr;
  let beforeDict = -1; // length of expr before a trailing `.__dict__`, or -1
  for (const e of edges) {
    const target = snap.edgeTarget[e];
    const label = edgeLabel(snap, e);
    const address = snap.address[target];
    const opaque = snap.edgeKind[e] === EDGE_OPAQUE || (snap.edgeKind[e] !== EDGE_INDEX && snap.edgeLabel[e] === NONE);
    const attribute = STR_KEY.exec(label);
    if (opaque && (label === "<set member>" || label === "<dict key>")) {
      expr = `next(x for x in ${expr} if id(x) == ${address})`;
    } else if (opaque) {
      // A class's `.__dict__` is a mappingproxy in the live process: its one referent is the namespace dict.
      const owner = steps.length >= 2 ? steps[steps.length - 2].object : -1;
      const namespace = beforeDict >= 0 && owner >= 0 && isClassObject(snap, owner) ? `gc.get_referents(${expr})[0]` : expr;
      expr = `next(x for x in gc.get_referents(${namespace}) if id(x) == ${address})`;
      imports.add("gc");
    } else if (
      beforeDict >= 0 && attribute !== null && !PYTHON_KEYWORDS.has(attribute[1]) && !NOT_FROM_NAMESPACE.has(attribute[1]) &&
      !UNWRAPPED_BY_GETATTR.has(snap.types[snap.type[target]])
    ) {
      expr = `${expr.slice(0, beforeDict)}.${attribute[1]}`;
    } else {
      expr += label;
    }
    beforeDict = !opaque && label === ".__dict__" ? expr.length - label.length : -1;
    steps.push(stepOf(target, label, steps[steps.length - 1].evaluable));
  }
  return { steps, expr, imports: [...imports].sort() };
}

/** Label texts by string index, per snapshot: the queries read the same few labels over and over. */
const labelTexts = new WeakMap<Snapshot, (string | undefined)[]>();

/** The label text of a forward edge: its suffix string, `[i]` for an index, or the opaque relation's name. */
export function edgeLabel(snap: Snapshot, edge: number): string {
  const label = snap.edgeLabel[edge];
  if (snap.edgeKind[edge] === EDGE_INDEX) return `[${label}]`;
  if (label === NONE) return "<referent>";
  let texts = labelTexts.get(snap);
  if (!texts) labelTexts.set(snap, (texts = new Array<string | undefined>(snap.strings.count)));
  return (texts[label] ??= snap.strings.get(label));
}

export function referrers(g: HeapGraph, object: number): { object: number; edge: number; label: string }[] {
  const out = [];
  for (let k = g.revStart[object]; k < g.revStart[object + 1]; k++) {
    out.push({ object: g.revSource[k], edge: g.revEdge[k], label: edgeLabel(g.snap, g.revEdge[k]) });
  }
  return out;
}

export function referents(snap: Snapshot, object: number): { object: number; edge: number; label: string }[] {
  const out = [];
  for (let e = snap.edgeStart[object]; e < snap.edgeStart[object + 1]; e++) {
    out.push({ object: snap.edgeTarget[e], edge: e, label: edgeLabel(snap, e) });
  }
  return out;
}

/** Children of every node of the dominator tree (CSR, the virtual root objectCount included), built on first use. */
const dominatorChildren = new WeakMap<HeapGraph, { start: Uint32Array; list: Uint32Array }>();

export function childrenIndex(g: HeapGraph): { start: Uint32Array; list: Uint32Array } {
  let index = dominatorChildren.get(g);
  if (index) return index;
  const n = g.snap.objectCount;
  const start = new Uint32Array(n + 2);
  for (let o = 0; o < n; o++) start[g.idom[o] + 1]++;
  for (let i = 0; i <= n; i++) start[i + 1] += start[i];
  const fill = start.slice(0, n + 1);
  const list = new Uint32Array(n);
  for (let o = 0; o < n; o++) list[fill[g.idom[o]]++] = o;
  index = { start, list };
  dominatorChildren.set(g, index);
  return index;
}

/**
 * The top of the dominator subtree under `object` (objectCount for the virtual root above all roots), for
 * treemaps: up to maxNodes (default 500) nodes, expanded largest retained first so the biggest parts show.
 * The first entry is `object` itself with parent -1; every other entry's parent is listed before it.
 */
export function dominatedBy(
  g: HeapGraph,
  object: number,
  opts: { maxNodes?: number } = {},
): { object: number; parent: number; retained: number }[] {
  const n = g.snap.objectCount;
  if (!(object >= 0 && object <= n)) throw new RangeError(`no object with index ${object}`);
  const maxNodes = opts.maxNodes ?? 500;
  const { start, list } = childrenIndex(g);
  const retainedOf = (o: number): number => {
    if (o < n) return g.retained[o];
    let total = 0;
    for (let c = start[n]; c < start[n + 1]; c++) total += g.retained[list[c]];
    return total;
  };
  const out: { object: number; parent: number; retained: number }[] = [];
  const parentOf: number[] = [-1];
  const candidates: number[] = [object];
  const heap = new StateHeap();
  heap.push(0, -retainedOf(object));
  while (heap.size > 0 && out.length < maxNodes) {
    const c = heap.pop();
    const o = candidates[c];
    out.push({ object: o, parent: parentOf[c], retained: retainedOf(o) });
    const children = Array.from(list.subarray(start[o], start[o + 1]));
    children.sort((a, b) => g.retained[b] - g.retained[a]);
    for (const child of children.slice(0, maxNodes - out.length)) {
      candidates.push(child);
      parentOf.push(o);
      heap.push(candidates.length - 1, -g.retained[child]);
    }
  }
  return out;
}

/**
 * Address -> object index: an open-addressing hash table of slot pairs [index + 1 (0 = empty), the address's low
 * 32 bits], so that a probe reads one cache line and the address column only to confirm; and whether any address
 * repeats in the snapshot. Built once a snapshot has been asked about a few addresses: the first few lookups scan
 * the column (a diagnosis asks about a handful of addresses in most snapshots, and a scan is far cheaper than
 * a table of a million objects).
 */
interface AddressIndex {
  lookups: number;
  slots: Uint32Array | null;
  repeats: boolean | null;
}
const addressIndex = new WeakMap<Snapshot, AddressIndex>();
/** Lookups by scanning before a snapshot gets its table. */
const SCANS = 8;

/** A slot of a table of `mask + 1` slots for the address. */
export function hashAddress(address: number, mask: number): number {
  const low = address % 0x100000000;
  const high = (address - low) / 0x100000000;
  let h = Math.imul(low ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h ^ (low >>> 4), 0xc2b2ae35);
  return (h ^ (h >>> 13)) & mask;
}

function indexOf(snap: Snapshot): AddressIndex {
  let index = addressIndex.get(snap);
  if (!index) addressIndex.set(snap, (index = { lookups: 0, slots: null, repeats: null }));
  return index;
}

/** log2 of the slots in each part of the table that buildTable fills at a time (32k slots, 256 KiB: in cache). */
const PART_SLOT_BITS = 15;

function buildTable(snap: Snapshot): { slots: Uint32Array; repeats: boolean } {
  // At most 80% full: with the fingerprints beside the indices, probing past a few taken slots is cheap.
  let capacity = 16;
  while (capacity < 1.25 * snap.objectCount) capacity *= 2;
  const slots = new Uint32Array(2 * capacity);
  const mask = capacity - 1;
  const address = snap.address;
  const n = snap.objectCount;
  // The objects are inserted a part of the table at a time, not in walk order: a million writes at random places
  // of a 16 MiB table miss the cache nearly every time. Each object's (index, slot, low bits) is first sorted by
  // part, stably, so that of two objects at one address the first in the walk is still inserted first.
  const shift = Math.max(0, Math.log2(capacity) - PART_SLOT_BITS);
  const parts = capacity >>> shift;
  const start = new Uint32Array(parts + 1);
  const home = new Uint32Array(n);
  for (let i = 0; i < n; i++) start[(home[i] = hashAddress(address[i], mask)) >>> shift]++;
  for (let p = 0, sum = 0; p <= parts; p++) {
    const count = start[p];
    start[p] = sum;
    sum += count;
  }
  const sorted = new Uint32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const at = 3 * start[home[i] >>> shift]++;
    sorted[at] = i;
    sorted[at + 1] = home[i];
    sorted[at + 2] = address[i] >>> 0;
  }
  let repeats = false;
  for (let k = 0; k < 3 * n; k += 3) {
    const i = sorted[k];
    const low = sorted[k + 2];
    for (let slot = sorted[k + 1]; ; slot = (slot + 1) & mask) {
      const held = slots[2 * slot];
      if (held === 0) {
        slots[2 * slot] = i + 1;
        slots[2 * slot + 1] = low;
        break;
      }
      if (slots[2 * slot + 1] === low && address[held - 1] === address[i]) {
        repeats = true; // the first object wins
        break;
      }
    }
  }
  return { slots, repeats };
}

function tableOf(snap: Snapshot, index: AddressIndex): Uint32Array {
  if (index.slots === null) ({ slots: index.slots, repeats: index.repeats } = buildTable(snap));
  return index.slots!;
}

function lookUp(snap: Snapshot, slots: Uint32Array, address: number): number {
  const mask = slots.length / 2 - 1;
  const low = address >>> 0;
  const column = snap.address;
  for (let slot = hashAddress(address, mask); slots[2 * slot] !== 0; slot = (slot + 1) & mask) {
    if (slots[2 * slot + 1] === low && column[slots[2 * slot] - 1] === address) return slots[2 * slot] - 1;
  }
  return -1;
}

/** Index of the object at `address` (the first one, should the address repeat), or -1. */
export function findObject(snap: Snapshot, address: number): number {
  const index = indexOf(snap);
  const column = snap.address;
  if (index.slots === null && index.lookups++ < SCANS) {
    for (let i = 0; i < snap.objectCount; i++) if (column[i] === address) return i;
    return -1;
  }
  return lookUp(snap, tableOf(snap, index), address);
}

/**
 * Lookups by address for one pass over many addresses, as findObject answers them, and whether no two objects
 * share an address (then an object found at an address is the only one there). Uses the snapshot's own table
 * when it has one, else a table built for the pass and not kept: a series diagnosis matches each earlier
 * snapshot once, and a table kept for each would cost 8 to 16 bytes per object.
 */
export function addressLookup(snap: Snapshot): { find: (address: number) => number; unique: boolean } {
  const index = indexOf(snap);
  const { slots, repeats } = index.slots !== null ? { slots: index.slots, repeats: index.repeats! } : buildTable(snap);
  return { find: (address) => lookUp(snap, slots, address), unique: !repeats };
}

/** A binary min-heap of ids by key; equal keys pop in insertion order, so results are deterministic. */
class StateHeap {
  private ids: number[] = [];
  private keys: number[] = [];
  private order: number[] = [];
  private counter = 0;
  get size(): number {
    return this.ids.length;
  }
  private less(a: number, b: number): boolean {
    return this.keys[a] < this.keys[b] || (this.keys[a] === this.keys[b] && this.order[a] < this.order[b]);
  }
  private swap(a: number, b: number): void {
    const { ids, keys, order } = this;
    const id = ids[a], key = keys[a], rank = order[a];
    ids[a] = ids[b];
    keys[a] = keys[b];
    order[a] = order[b];
    ids[b] = id;
    keys[b] = key;
    order[b] = rank;
  }
  push(id: number, key: number): void {
    this.ids.push(id);
    this.keys.push(key);
    this.order.push(this.counter++);
    for (let i = this.ids.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): number {
    const top = this.ids[0];
    const last = this.ids.length - 1;
    this.swap(0, last);
    this.ids.pop();
    this.keys.pop();
    this.order.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
