// Leak clusters: the objects of the last snapshot of a series that the first did not have, each attributed to the
// long-lived object that keeps it (its holder), as heap analysers accumulate growth on the dominator tree. One
// cluster per holder, with the holder followed into every snapshot so its growth can be judged.
import * as aq from "arquero";
import { graphOf, retainedFigures } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { edgeLabel, shortestPaths } from "../engine/paths.js";
import { followPath, matchSurvivors } from "../engine/series.js";
import { NONE, type Snapshot } from "../engine/snapshot.js";
import { formatAddress, formatBytes } from "../common/units.js";
import { edgeSource, keepsModules, objectLength, objectName, snapshotsOf, stringId, tableOf, type SeriesInput } from "./input.js";

/** New objects attributed to one holder in the last snapshot. */
export interface Cluster {
  /** The holder's index in the last snapshot, or -1 for growth no object the capture sees keeps. */
  holder: number;
  /** New objects (not in the first snapshot) the holder keeps, and their shallow bytes. */
  newObjects: number;
  newBytes: number;
  /** New objects by type id of the last snapshot: [count, shallow bytes]. */
  memberTypes: Map<number, [number, number]>;
  /**
   * The outermost new objects (no other new object dominates them: the holder keeps them directly; for growth
   * without a holder, those whose own holder is not visible), counted by type id.
   */
  topTypes: Map<number, number>;
  /** The outermost new object to follow as an example: an entry rather than a dict key, keeping the most; -1 if none. */
  sample: number;
  /** The holder followed into every snapshot (by address and type, else by path), NONE where absent. */
  objects: number[];
  /** Retained bytes and retained object counts of the holder in every snapshot (null where absent). */
  retainedSizes: (number | null)[];
  retainedCounts: (number | null)[];
  /** len() of the holder in every snapshot, null where it has none. */
  lengths: (number | null)[];
  /**
   * What the holder keeps of its own: its retained bytes and counts less its own size (a dict's table resizes
   * as entries churn) and less what the other clusters' holders nested below it keep (a namespace above a
   * growing cache does not grow by its own).
   */
  ownSizes: (number | null)[];
  ownCounts: (number | null)[];
}

/** The clusters of a series, and how any object of the last snapshot maps to one. */
export interface ClusterAnalysis {
  clusters: Cluster[];
  /** Per object of the last snapshot, 1 when it is new (not in the first snapshot). */
  fresh: Uint8Array;
  /** The reported holder of an object (itself when old and a holder; -1 when no visible holder keeps it). */
  holderOf(i: number): number;
}

export interface ClusterOptions {
  /** Clusters smaller than this (new objects and new bytes) are noise: a few objects any process gains now and then. */
  minObjects?: number;
  minBytes?: number;
}

const UNRESOLVED = -2;
const NO_HOLDER = -1;
/** Dominator steps searched above a holder for an object of its own type (the head of a linked structure). */
const SAME_TYPE_REACH = 3;

/**
 * Per object of the last snapshot, 1 when it has no match (same address and type) in the first snapshot: it was
 * made during the series. (Against the first rather than the previous snapshot, so a last interval with little
 * work, such as a capture at exit, still shows what the series accumulated.) One snapshot: nothing is new.
 */
export function newObjects(snaps: readonly Snapshot[]): Uint8Array {
  const last = snaps[snaps.length - 1];
  const fresh = new Uint8Array(last.objectCount);
  if (snaps.length < 2) return fresh;
  const match = matchSurvivors(last, snaps[0]);
  for (let i = 0; i < last.objectCount; i++) fresh[i] = match[i] === NONE ? 1 : 0;
  return fresh;
}

/**
 * For every object, the object that keeps it in the sense of a leak: itself when it is old (present before), else
 * the nearest old object above it on its dominator chain. Where that is only the virtual root or a namespace (the
 * object is shared by several holders: a key used by two caches is dominated by the module above both), the last
 * old object on its shortest path from a root instead, when that is not a namespace either. NO_HOLDER when there
 * is neither.
 */
function anchors(g: HeapGraph, fresh: Uint8Array, keeps: Uint8Array): Int32Array {
  const snap = g.snap;
  const n = snap.objectCount;
  const anchor = new Int32Array(n).fill(UNRESOLVED);
  for (let i = 0; i < n; i++) if (!fresh[i]) anchor[i] = i;
  const stack = new Uint32Array(n);
  const alongShortestPath = (o: number): number => {
    for (let cur = o; g.bfsEdge[cur] !== NONE; ) {
      cur = edgeSource(snap, g.bfsEdge[cur]);
      if (!fresh[cur]) return cur;
    }
    return NO_HOLDER;
  };
  for (let i = 0; i < n; i++) {
    if (anchor[i] !== UNRESOLVED) continue;
    let depth = 0;
    let found = UNRESOLVED;
    for (let cur = i; ; ) {
      if (anchor[cur] !== UNRESOLVED) {
        found = anchor[cur];
        break;
      }
      stack[depth++] = cur;
      const d = g.idom[cur];
      if (d >= n) {
        found = alongShortestPath(cur);
        break;
      }
      if (!fresh[d] && isBoundary(g, keeps, d)) {
        const alternative = alongShortestPath(cur);
        found = alternative !== NO_HOLDER && !isBoundary(g, keeps, alternative) ? alternative : d;
        break;
      }
      cur = d;
    }
    while (depth > 0) anchor[stack[--depth]] = found;
  }
  return anchor;
}

/** A namespace (module, class or instance `__dict__`), a module keeper or a root: holders are found below these. */
function isBoundary(g: HeapGraph, keeps: Uint8Array, o: number): boolean {
  if (g.distance[o] === 0 || keeps[o]) return true;
  return edgeLabel(g.snap, g.bfsEdge[o]) === ".__dict__";
}

/**
 * The holder a cluster is reported at. Starting from the nearest old dominator of the new objects, climb to an
 * old object of the same type a few dominator steps above (the head of a linked list, the root of a tree, the
 * outer dict of nested dicts), never into a namespace, a module keeper or a root.
 */
function reportedHolder(g: HeapGraph, keeps: Uint8Array, fresh: Uint8Array, h: number): number {
  const snap = g.snap;
  const n = snap.objectCount;
  for (let guard = 0; guard < n; guard++) {
    let up = NONE;
    let cur = h;
    for (let step = 0; step < SAME_TYPE_REACH; step++) {
      cur = g.idom[cur];
      if (cur >= n || fresh[cur] || isBoundary(g, keeps, cur)) break;
      if (snap.type[cur] === snap.type[h]) {
        up = cur;
        break;
      }
    }
    if (up === NONE) break;
    h = up;
  }
  // An lru_cache keeps its results in a dict only reachable through the wrapper: report the wrapper, the object
  // the program names.
  const d = g.idom[h];
  if (d < n && !fresh[d] && snap.types[snap.type[d]] === "functools._lru_cache_wrapper") return d;
  return h;
}

/**
 * The clusters of the last snapshot of a series: every object the first snapshot did not have is attributed
 * to its holder (see anchors and reportedHolder); clusters smaller than the thresholds are dropped. The holder is
 * followed into every earlier snapshot, so its retained size and count tell whether it grows.
 */
export function findClusters(input: SeriesInput, opts: ClusterOptions = {}): Cluster[] {
  return clusterSeries(input, opts).clusters;
}

const analysisMemo = new WeakMap<Snapshot, { snaps: Snapshot[]; key: string; analysis: ClusterAnalysis }>();

/**
 * findClusters, with the attribution of every object (for callers that map other findings onto clusters);
 * memoised for the last series and options asked about, as the diagnosis and its tables ask more than once.
 */
export function clusterSeries(input: SeriesInput, opts: ClusterOptions = {}): ClusterAnalysis {
  const snaps = snapshotsOf(input);
  const key = `${opts.minObjects}|${opts.minBytes}`;
  const memo = analysisMemo.get(snaps[snaps.length - 1]);
  if (memo && memo.key === key && memo.snaps.length === snaps.length && memo.snaps.every((s, k) => s === snaps[k])) return memo.analysis;
  const analysis = computeClusters(snaps, opts);
  analysisMemo.set(snaps[snaps.length - 1], { snaps, key, analysis });
  return analysis;
}

function computeClusters(snaps: Snapshot[], opts: ClusterOptions): ClusterAnalysis {
  if (snaps.length < 2) return { clusters: [], fresh: new Uint8Array(snaps[0].objectCount), holderOf: () => NO_HOLDER };
  const last = snaps[snaps.length - 1];
  const g = graphOf(last);
  const n = last.objectCount;
  const t = last.types.length;
  const fresh = newObjects(snaps);
  const keeps = keepsModules(g);
  const anchor = anchors(g, fresh, keeps);
  // Typed arrays, not maps, on the per-object passes: a leak can make a million new objects.
  const reported = new Int32Array(n).fill(UNRESOLVED);
  const holderOf = (a: number): number => {
    if (a === NO_HOLDER) return NO_HOLDER;
    if (reported[a] === UNRESOLVED) reported[a] = reportedHolder(g, keeps, fresh, a);
    return reported[a];
  };
  // Pass 1: each new object's cluster (numbered by first appearance; the last number is "no holder").
  const clusterOf = new Int32Array(n).fill(-1);
  const numberOf = new Int32Array(n + 1).fill(-1);
  const holders: number[] = [];
  const counts: number[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!fresh[i]) continue;
    const h = holderOf(anchor[i]);
    const slot = h < 0 ? n : h;
    let k = numberOf[slot];
    if (k < 0) {
      numberOf[slot] = k = holders.length;
      holders.push(h);
      counts.push(0);
      bytes.push(0);
    }
    clusterOf[i] = k;
    counts[k]++;
    bytes[k] += last.size[i];
  }
  const minObjects = opts.minObjects ?? 50;
  const minBytes = opts.minBytes ?? 8 * 1024;
  const keptOf = new Int32Array(holders.length).fill(-1);
  const kept: Cluster[] = [];
  holders.forEach((h, k) => {
    if (counts[k] < minObjects && bytes[k] < minBytes) return;
    keptOf[k] = kept.length;
    kept.push({
      holder: h, newObjects: counts[k], newBytes: bytes[k], memberTypes: new Map(), topTypes: new Map(), sample: -1,
      objects: [], retainedSizes: [], retainedCounts: [], lengths: [], ownSizes: [], ownCounts: [],
    });
  });
  // Pass 2, over the kept clusters' objects: member types, outermost types and the sample.
  const keyLabel = stringId(last, "<dict key>");
  const isKey = (i: number) => g.bfsEdge[i] !== NONE && keyLabel !== NONE && last.edgeLabel[g.bfsEdge[i]] === keyLabel;
  const typeCount = new Float64Array(kept.length * t);
  const typeBytes = new Float64Array(kept.length * t);
  const topCount = new Float64Array(kept.length * t);
  for (let i = 0; i < n; i++) {
    if (clusterOf[i] < 0) continue;
    const k = keptOf[clusterOf[i]];
    if (k < 0) continue;
    const at = k * t + last.type[i];
    typeCount[at]++;
    typeBytes[at] += last.size[i];
    // Outermost: its dominator is old (or the virtual root), so no other new object holds it.
    const d = g.idom[i];
    if (d >= n || !fresh[d]) {
      topCount[at]++;
      const c = kept[k];
      // An entry rather than a dict key, then the one that keeps the most.
      const better = c.sample < 0 || (isKey(c.sample) && !isKey(i)) ||
        (isKey(c.sample) === isKey(i) && g.retained[i] > g.retained[c.sample]);
      if (better) c.sample = i;
    }
  }
  kept.forEach((c, k) => {
    for (let type = 0; type < t; type++) {
      const at = k * t + type;
      if (typeCount[at] > 0) c.memberTypes.set(type, [typeCount[at], typeBytes[at]]);
      if (topCount[at] > 0) c.topTypes.set(type, topCount[at]);
    }
  });
  for (const c of kept) followHolder(snaps, g, c);
  subtractNested(snaps, g, kept);
  kept.sort((a, b) => b.newBytes - a.newBytes || a.holder - b.holder);
  return {
    clusters: kept, fresh,
    holderOf: (i) => (fresh[i] ? holderOf(anchor[i]) : reported[i] === UNRESOLVED ? i : reported[i]),
  };
}

/** Fills in the holder's figures in every snapshot: the same object by address and type, else at the same path. */
function followHolder(snaps: readonly Snapshot[], g: HeapGraph, c: Cluster): void {
  const last = g.snap;
  const path = c.holder >= 0 ? shortestPaths(g, c.holder, { k: 1 })[0] : undefined;
  for (const snap of snaps) {
    let o = NONE;
    if (c.holder >= 0) {
      if (snap === last) o = c.holder;
      else {
        const j = matchSurvivors(last, snap)[c.holder];
        o = j !== NONE ? j : path ? followPath(snap, path) : NONE;
      }
    }
    c.objects.push(o);
    if (o === NONE) {
      c.retainedSizes.push(null);
      c.retainedCounts.push(null);
      c.lengths.push(null);
      continue;
    }
    const figures = retainedFigures(snap);
    c.retainedSizes.push(figures.retained[o]);
    c.retainedCounts.push(figures.counts[o]);
    c.lengths.push(objectLength(snap, o));
  }
}

/** Fills ownSizes and ownCounts: each holder's figures less those of the nearest cluster holders below it. */
function subtractNested(snaps: readonly Snapshot[], g: HeapGraph, clusters: Cluster[]): void {
  const n = g.snap.objectCount;
  const byHolder = new Map<number, Cluster>();
  for (const c of clusters) if (c.holder >= 0) byHolder.set(c.holder, c);
  for (const c of clusters) {
    c.ownSizes = c.retainedSizes.map((r, k) => (r === null ? null : r - snaps[k].size[c.objects[k]]));
    c.ownCounts = c.retainedCounts.map((r) => (r === null ? null : r - 1));
  }
  for (const inner of clusters) {
    if (inner.holder < 0) continue;
    let outer: Cluster | undefined;
    for (let cur = g.idom[inner.holder]; cur < n && !outer; cur = g.idom[cur]) outer = byHolder.get(cur);
    if (!outer) continue;
    for (let k = 0; k < outer.ownSizes.length; k++) {
      if (outer.ownSizes[k] !== null) outer.ownSizes[k]! -= inner.retainedSizes[k] ?? 0;
      if (outer.ownCounts[k] !== null) outer.ownCounts[k]! -= inner.retainedCounts[k] ?? 0;
    }
  }
}

/** Up to `limit` entries of the holder that are new, as text: `['key']`, `.name`, `[3]`, with short values. */
export function sampleEntries(snap: Snapshot, holder: number, fresh: Uint8Array, limit = 3): string[] {
  if (holder < 0) return [];
  const out: string[] = [];
  for (let e = snap.edgeStart[holder + 1] - 1; e >= snap.edgeStart[holder] && out.length < limit; e--) {
    const target = snap.edgeTarget[e];
    const label = edgeLabel(snap, e);
    if (!fresh[target] || label.startsWith("<")) continue;
    const value = objectName(snap, target);
    const type = snap.types[snap.type[target]];
    out.push(value && type.startsWith("builtins.") ? `${label}: ${value}` : `${label}: ${type}`);
  }
  return out.reverse();
}

/**
 * leakClusters(series, { top = 20 }): the objects of the last snapshot the first did not have, grouped by the holder that keeps them
 * (the nearest old object above them on the dominator tree). Needs two snapshots or more.
 * Columns: holder_address, holder_type, path (the holder's shortest path; null for growth no visible holder keeps),
 * new_objects, new_bytes, member_types (the commonest types of the new objects, "type ×count"), retained_sizes and
 * retained_counts (the holder's in every snapshot), lengths, sample_address (an outermost new object), new (human).
 */
export function leakClusters(input: SeriesInput, opts: { top?: number } & ClusterOptions = {}): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const last = snaps[snaps.length - 1];
  const g = snaps.length > 1 ? graphOf(last) : null;
  const rows = findClusters(snaps, opts).slice(0, opts.top ?? 20).map((c) => ({
    holder_address: c.holder >= 0 ? formatAddress(last.address[c.holder]) : null,
    holder_type: c.holder >= 0 ? last.types[last.type[c.holder]] : null,
    path: c.holder >= 0 && g ? shortestPaths(g, c.holder, { k: 1 })[0]?.expr ?? null : null,
    new_objects: c.newObjects,
    new_bytes: c.newBytes,
    member_types: [...c.memberTypes.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 4)
      .map(([t, [count]]) => `${last.types[t]} ×${count}`),
    retained_sizes: c.retainedSizes,
    retained_counts: c.retainedCounts,
    lengths: c.lengths,
    sample_address: c.sample >= 0 ? formatAddress(last.address[c.sample]) : null,
    new: formatBytes(c.newBytes),
  }));
  return tableOf(
    ["holder_address", "holder_type", "path", "new_objects", "new_bytes", "member_types", "retained_sizes",
      "retained_counts", "lengths", "sample_address", "new"],
    rows,
  );
}
