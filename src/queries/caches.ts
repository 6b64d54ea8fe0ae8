// Caches and registries: containers held by module globals or class attributes, their lengths and retained
// sizes in every snapshot, lru_cache statistics, and the sizes of their entries.
import * as aq from "arquero";
import { graphOf, retainedFigures } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { edgeLabel, shortestPaths } from "../engine/paths.js";
import { followPath, matchSurvivors } from "../engine/series.js";
import { NONE, ROOT_MODULE, type Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { attribute, edgeSource, heldByAgentModule, keepsModules, rootKinds, snapshotsOf, tableOf, type SeriesInput } from "./input.js";
import { fitLine, isSteadyGrowth } from "./types.js";

/** Container kinds by qualified type name; weak containers hold their entries in a `data` attribute. */
const CONTAINER_KINDS: Record<string, string> = {
  "builtins.dict": "dict",
  "builtins.list": "list",
  "builtins.set": "set",
  "collections.deque": "deque",
  "collections.OrderedDict": "OrderedDict",
  "collections.defaultdict": "defaultdict",
  "collections.Counter": "Counter",
  "weakref.WeakValueDictionary": "WeakValueDictionary",
  "weakref.WeakKeyDictionary": "WeakKeyDictionary",
  "_weakrefset.WeakSet": "WeakSet",
  "functools._lru_cache_wrapper": "lru_cache",
};
const WEAK_KINDS = new Set(["WeakValueDictionary", "WeakKeyDictionary", "WeakSet"]);

/** Per type id, the container kind's index in KIND_NAMES, or -1. */
const KIND_NAMES = Object.values(CONTAINER_KINDS);
function kindOfType(snap: Snapshot): Int8Array {
  return Int8Array.from(snap.types, (name) => (name in CONTAINER_KINDS ? KIND_NAMES.indexOf(CONTAINER_KINDS[name]) : -1));
}

/**
 * Containers whose shortest path runs from a module through namespaces only: module globals, class attributes,
 * attributes of module-level instances (not the insides of another container). Returns object indices.
 */
export function heldContainers(g: HeapGraph, maxDepth = 8): number[] {
  const snap = g.snap;
  const kind = kindOfType(snap);
  const roots = rootKinds(snap);
  const keeps = keepsModules(g);
  const agent = heldByAgentModule(g);
  const found: number[] = [];
  // Whether the breadth-first chain above an object reaches a module root with only namespaces and plain objects
  // as holders (UNKNOWN until walked): memoised, as containers share the chains above them.
  const UNKNOWN = 0, YES = 1, NO = 2;
  const chainOk = new Uint8Array(snap.objectCount);
  const walked: number[] = [];
  const above = (i: number): boolean => {
    let cur = i;
    let verdict = UNKNOWN;
    while (verdict === UNKNOWN) {
      if (chainOk[cur] !== UNKNOWN) {
        verdict = chainOk[cur];
        break;
      }
      walked.push(cur);
      if (g.distance[cur] === 0) {
        verdict = roots[cur] === ROOT_MODULE ? YES : NO;
        break;
      }
      const parent = edgeSource(snap, g.bfsEdge[cur]);
      if (kind[snap.type[parent]] >= 0 && !reachedAsNamespace(snap, g, parent)) verdict = NO;
      cur = parent;
    }
    for (const o of walked) chainOk[o] = verdict;
    walked.length = 0;
    return verdict === YES;
  };
  for (let i = 0; i < snap.objectCount; i++) {
    if (kind[snap.type[i]] < 0 || g.distance[i] > maxDepth || g.distance[i] === 0 || keeps[i] || agent[i]) continue;
    if (reachedAsNamespace(snap, g, i)) continue;
    if (above(i)) found.push(i);
  }
  return found;
}

/** The object is an instance, class or module namespace: first reached through a `.__dict__` edge. */
function reachedAsNamespace(snap: Snapshot, g: HeapGraph, i: number): boolean {
  return g.distance[i] > 0 && edgeLabel(snap, g.bfsEdge[i]) === ".__dict__";
}

/** Entries of a container: its referents other than dict keys; through `data` for weak ones, the storage for lru. */
function entriesOf(snap: Snapshot, obj: number, kind: string): number[] {
  let holder = obj;
  if (WEAK_KINDS.has(kind)) holder = attribute(snap, obj, "data");
  if (kind === "lru_cache") holder = lruStorage(snap, obj);
  if (holder === NONE) return [];
  const out: number[] = [];
  for (let e = snap.edgeStart[holder]; e < snap.edgeStart[holder + 1]; e++) {
    if (edgeLabel(snap, e) !== "<dict key>") out.push(snap.edgeTarget[e]);
  }
  return out;
}

/** The dict an lru_cache wrapper keeps its results in (the referent labelled as storage, else its largest dict). */
function lruStorage(snap: Snapshot, wrapper: number): number {
  let best = NONE;
  for (let e = snap.edgeStart[wrapper]; e < snap.edgeStart[wrapper + 1]; e++) {
    const t = snap.edgeTarget[e];
    if (edgeLabel(snap, e).includes("lru_cache")) return t;
    if (snap.types[snap.type[t]] === "builtins.dict" && (best === NONE || snap.length[t] > snap.length[best])) best = t;
  }
  return best;
}

/** len() of a container; weak ones through their `data`, lru_cache wrappers by currsize. */
function lengthOf(snap: Snapshot, obj: number, kind: string): number | null {
  if (obj === NONE) return null;
  if (kind === "lru_cache") {
    const info = snap.lruCaches.find((c) => c.object === obj);
    if (info) return info.currsize;
  }
  if (snap.length[obj] !== NONE) return snap.length[obj];
  if (WEAK_KINDS.has(kind)) {
    const data = attribute(snap, obj, "data");
    return data === NONE || snap.length[data] === NONE ? null : snap.length[data];
  }
  return null;
}

function median(sorted: number[]): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/**
 * caches(series, { top = 30, maxDepth = 8 }): containers reachable from module globals or class attributes through
 * namespaces only (dict, list, set, deque, OrderedDict, defaultdict, Counter, the weak containers told apart, and
 * lru_cache wrappers), found in the last snapshot and matched into earlier ones by address and type, or else by
 * their retention path. Most growing first (entries gained), then largest retained size. Containers that keep
 * modules alive (sys.modules) are left out.
 * Columns: path, kind (dict, list, …, WeakValueDictionary, lru_cache), type, weak (entries held weakly), address,
 * first_length, last_length, delta_length, per_snapshot (fitted entries gained per snapshot), steady, lengths (len()
 * in every snapshot, null where absent), retained_bytes (last snapshot), first_retained_bytes, retained_sizes
 * (bytes in every snapshot), lru_maxsize, lru_currsize, lru_hits, lru_misses, unbounded_lru (true for an lru_cache
 * with maxsize None; null for other kinds), entry_count, entry_median_bytes, entry_max_bytes (retained size of the
 * entries: values for mappings, items otherwise), retained (human).
 */
export function caches(input: SeriesInput, opts: { top?: number; maxDepth?: number } = {}): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const last = snaps[snaps.length - 1];
  const g = graphOf(last);
  const found = heldContainers(g, opts.maxDepth);
  const retainedIn = snaps.map((s) => (s === last ? g.retained : retainedFigures(s).retained));
  const matches = snaps.map((s) => (s === last ? null : matchSurvivors(last, s)));
  const kindIds = kindOfType(last);
  const at = (k: number, i: number) => (matches[k] ? matches[k]![i] : i);
  const lengthIn = (k: number, i: number, kind: string) => lengthOf(snaps[k], at(k, i), kind);
  const growth = found.map((i) => {
    const kind = KIND_NAMES[kindIds[last.type[i]]];
    return (lengthIn(snaps.length - 1, i, kind) ?? 0) - (lengthIn(0, i, kind) ?? 0);
  });
  const order = found.map((_, k) => k).sort((a, b) => growth[b] - growth[a] || g.retained[found[b]] - g.retained[found[a]]);
  const rows = order.slice(0, opts.top ?? 30).map((k) => {
    const i = found[k];
    const kind = KIND_NAMES[kindIds[last.type[i]]];
    const path = shortestPaths(g, i, { k: 1 })[0];
    // Per snapshot: the same object by address and type, else whatever sits at the same path now.
    const objects = snaps.map((s, n) => {
      const m = at(n, i);
      return m === NONE && path ? followPath(s, path) : m;
    });
    const lengths = objects.map((o, n) => lengthOf(snaps[n], o, kind));
    const retainedSizes = objects.map((o, n) => (o === NONE ? null : retainedIn[n][o]));
    const entrySizes = entriesOf(last, i, kind).map((e) => g.retained[e]).sort((a, b) => a - b);
    const lru = kind === "lru_cache" ? last.lruCaches.find((c) => c.object === i) : undefined;
    const ys = lengths.map((v) => v ?? 0);
    return {
      path: path?.expr ?? null,
      kind,
      type: last.types[last.type[i]],
      weak: WEAK_KINDS.has(kind),
      address: last.address[i],
      first_length: lengths[0],
      last_length: lengths[lengths.length - 1],
      delta_length: (lengths[lengths.length - 1] ?? 0) - (lengths[0] ?? 0),
      per_snapshot: fitLine(ys).slope,
      steady: isSteadyGrowth(ys),
      lengths,
      retained_bytes: g.retained[i],
      first_retained_bytes: retainedSizes[0],
      retained_sizes: retainedSizes,
      lru_maxsize: lru ? lru.maxsize : null,
      lru_currsize: lru ? lru.currsize : null,
      lru_hits: lru ? lru.hits : null,
      lru_misses: lru ? lru.misses : null,
      unbounded_lru: kind === "lru_cache" ? lru !== undefined && lru.maxsize === null : null,
      entry_count: entrySizes.length,
      entry_median_bytes: entrySizes.length ? median(entrySizes) : null,
      entry_max_bytes: entrySizes.length ? entrySizes[entrySizes.length - 1] : null,
      retained: formatBytes(g.retained[i]),
    };
  });
  return tableOf(
    ["path", "kind", "type", "weak", "address", "first_length", "last_length", "delta_length", "per_snapshot", "steady",
      "lengths", "retained_bytes", "first_retained_bytes", "retained_sizes", "lru_maxsize", "lru_currsize", "lru_hits",
      "lru_misses", "unbounded_lru", "entry_count", "entry_median_bytes", "entry_max_bytes", "retained"],
    rows,
  );
}
