// What the query helpers accept: one snapshot or a series, types by name, objects by address, path
// expression or table row; plus the small typed-array helpers they share (top-N selection, edge sources).
import * as aq from "arquero";
import type { ColumnTable } from "arquero";
import type { HeapGraph } from "../engine/graph.js";
import { edgeLabel, findObject, shortestPaths } from "../engine/paths.js";
import { NONE, ROOT_MODULE, type Snapshot } from "../engine/snapshot.js";
import { formatAddress } from "../common/units.js";

/** A series as loadSeries returns it, a plain list of snapshots, or one snapshot (a series of one). */
export type SeriesInput = Snapshot | readonly Snapshot[] | { snapshots: readonly Snapshot[] };

/** An object: its address (number, or "0x…" text), a Python path expression, or a table row with `index` or `address`. */
export type ObjectSelector = number | string | { index?: number; address?: number };

export function snapshotsOf(input: SeriesInput): Snapshot[] {
  const list = Array.isArray(input)
    ? (input as readonly Snapshot[])
    : "snapshots" in (input as object)
      ? (input as { snapshots: readonly Snapshot[] }).snapshots
      : [input as Snapshot];
  if (list.length === 0) throw new Error("the series holds no snapshot");
  return [...list];
}

/** The last snapshot of a series: the one "now" questions are asked about. */
export function lastOf(input: SeriesInput): Snapshot {
  const list = snapshotsOf(input);
  return list[list.length - 1];
}

/** Requires the object graph (kind "full"); census snapshots only carry per-type counts. */
export function requireFull(snap: Snapshot, helper: string): void {
  if (snap.kind !== "full") throw new Error(`${helper} needs a full snapshot; ${snap.source ?? "this snapshot"} is a census`);
}

/** "builtins.dict" -> "dict"; "app.models.User" stays whole (only builtins are shortened). */
export function shortType(name: string): string {
  return name.startsWith("builtins.") ? name.slice(9) : name;
}

/**
 * Type ids matching `name`: the exact qualified name ("app.User", "builtins.dict"), or, when none is
 * exact, every type whose qualified name ends in "." + name ("User", "dict").
 */
export function typeIds(snap: Snapshot, name: string): number[] {
  const exact: number[] = [];
  const suffix: number[] = [];
  const tail = "." + name;
  for (let t = 0; t < snap.types.length; t++) {
    const full = snap.types[t];
    if (full === name) exact.push(t);
    else if (full.endsWith(tail)) suffix.push(t);
  }
  return exact.length > 0 ? exact : suffix;
}

/** A per-type-id membership mask for a list of type names (unknown names match nothing). */
export function typeMask(snap: Snapshot, names: readonly string[]): Uint8Array {
  const mask = new Uint8Array(snap.types.length);
  for (const name of names) for (const t of typeIds(snap, name)) mask[t] = 1;
  return mask;
}

/** Index of the object a selector names in `snap`; throws a one-line error when there is none. */
export function selectObject(snap: Snapshot, selector: ObjectSelector): number {
  if (typeof selector === "number") return byAddress(snap, selector);
  if (typeof selector === "string") {
    if (/^0x[0-9a-f]+$/i.test(selector.trim())) return byAddress(snap, parseInt(selector.trim(), 16));
    const found = resolvePath(snap, selector.trim());
    if (found === NONE) throw new Error(`no object at path ${selector}`);
    return found;
  }
  if (selector && typeof selector.address === "number") return byAddress(snap, selector.address);
  if (selector && typeof selector.index === "number") {
    if (selector.index < 0 || selector.index >= snap.objectCount || !Number.isInteger(selector.index)) {
      throw new Error(`object index ${selector.index} is out of range`);
    }
    return selector.index;
  }
  throw new Error("select an object by address, path expression, or a row with an index or address column");
}

function byAddress(snap: Snapshot, address: number): number {
  const i = findObject(snap, address);
  if (i < 0) throw new Error(`no object at address ${formatAddress(address)}`);
  return i;
}

const IDENT_CHAR = /[A-Za-z0-9_]/;
const ATTRIBUTE_KEY = /^\['([A-Za-z_][A-Za-z0-9_]*)'\]$/;
/** Bound on the edges tried while resolving one expression, so a pathological heap cannot stall it. */
const RESOLVE_BUDGET = 2_000_000;

/**
 * Resolve a Python path expression (`sys.modules['app'].CACHE['k'].parent`) by walking edge labels from the
 * root whose expression prefixes it; `.name` also matches `.__dict__['name']`. Returns NONE when no walk
 * consumes the whole expression.
 */
export function resolvePath(snap: Snapshot, expr: string): number {
  // Depth-first with backtracking: labels can be prefixes of each other (`[1]` vs `[10]` cannot, but
  // `.a` vs `.ab` can), so a dead end retries the next candidate.
  let budget = RESOLVE_BUDGET;
  const walk = (obj: number, pos: number): number => {
    if (pos === expr.length) return obj;
    for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) {
      if (--budget < 0) return NONE;
      const label = edgeLabel(snap, e);
      const target = snap.edgeTarget[e];
      if (matchesAt(expr, pos, label)) {
        const found = walk(target, pos + label.length);
        if (found !== NONE) return found;
      }
      if (label === ".__dict__") {
        // Attribute shorthand: `.name` for `.__dict__['name']`.
        for (let d = snap.edgeStart[target]; d < snap.edgeStart[target + 1]; d++) {
          if (--budget < 0) return NONE;
          const key = ATTRIBUTE_KEY.exec(edgeLabel(snap, d));
          if (!key) continue;
          const short = "." + key[1];
          if (matchesAt(expr, pos, short)) {
            const found = walk(snap.edgeTarget[d], pos + short.length);
            if (found !== NONE) return found;
          }
        }
      }
    }
    return NONE;
  };
  for (let r = 0; r < snap.rootObject.length; r++) {
    const label = snap.strings.get(snap.rootLabel[r]);
    if (!matchesAt(expr, 0, label)) continue;
    const found = walk(snap.rootObject[r], label.length);
    if (found !== NONE) return found;
  }
  return NONE;
}

/** `label` occurs in `expr` at `pos` and does not end in the middle of an identifier. */
function matchesAt(expr: string, pos: number, label: string): boolean {
  if (label.length === 0 || !expr.startsWith(label, pos)) return false;
  const next = expr[pos + label.length];
  return next === undefined || !(IDENT_CHAR.test(next) && IDENT_CHAR.test(label[label.length - 1]));
}

/**
 * Indices of the `top` objects with the largest key (ties: lower index first), largest first; objects for
 * which `accept` returns false are skipped (it is asked only about objects large enough to enter the result).
 * A bounded min-heap: O(n log top), no per-object allocation.
 */
export function topIndices(
  n: number,
  key: ArrayLike<number>,
  top: number,
  accept?: (i: number) => boolean,
): number[] {
  const cap = Math.max(0, Math.min(top, n));
  const heap = new Uint32Array(cap);
  let size = 0;
  // heap[0] is the smallest kept key; "less" puts the larger index first among equal keys so it goes first.
  const less = (a: number, b: number) => key[a] < key[b] || (key[a] === key[b] && a > b);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < size && less(heap[l], heap[m])) m = l;
      if (r < size && less(heap[r], heap[m])) m = r;
      if (m === at) return;
      const t = heap[m]; heap[m] = heap[at]; heap[at] = t;
      at = m;
    }
  };
  for (let i = 0; i < n && cap > 0; i++) {
    // `accept` may be costly: ask only about objects that would enter the heap.
    if (size === cap && !less(heap[0], i)) continue;
    if (accept && !accept(i)) continue;
    if (size < cap) {
      let at = size++;
      heap[at] = i;
      while (at > 0) {
        const p = (at - 1) >> 1;
        if (!less(heap[at], heap[p])) break;
        const t = heap[p]; heap[p] = heap[at]; heap[at] = t;
        at = p;
      }
    } else {
      heap[0] = i;
      siftDown(0);
    }
  }
  const out = Array.from(heap.subarray(0, size));
  out.sort((a, b) => (key[b] - key[a]) || (a - b));
  return out;
}

/** Object holding edge `e` (binary search in the forward CSR). */
export function edgeSource(snap: Snapshot, e: number): number {
  let lo = 0;
  let hi = snap.objectCount - 1;
  const start = snap.edgeStart;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (start[mid] <= e) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Name or value text of an object (`obj_name`), or "" when it has none. */
export function objectName(snap: Snapshot, i: number): string {
  const s = snap.name[i];
  return s === NONE ? "" : snap.strings.get(s);
}

/** `len()` of an object, or null when it has none. */
export function objectLength(snap: Snapshot, i: number): number | null {
  const n = snap.length[i];
  return n === NONE ? null : n;
}

/** Capture time of a snapshot in seconds since the epoch. */
export function timeOf(snap: Snapshot): number {
  return snap.meta.time_unix;
}

/** The shortest retention path of an object as one Python expression, or null when no root reaches it. */
export function pathExpr(g: HeapGraph, i: number): string | null {
  const paths = shortestPaths(g, i, { k: 1 });
  return paths.length > 0 ? paths[0].expr : null;
}

/** A table from row objects that keeps its columns even when there are no rows (aq.from would drop them). */
export function tableOf<R extends object>(columns: readonly (keyof R & string)[], rows: readonly R[]): ColumnTable {
  const data: Record<string, unknown[]> = {};
  for (const c of columns) data[c] = rows.map((r) => r[c]);
  return aq.table(data);
}

const moduleKeepers = new WeakMap<HeapGraph, Uint8Array>();

/**
 * Per object, 1 when it dominates a module object: sys.modules, module namespaces, frames of module code. Such
 * objects retain "the world", not a leak, so size rankings leave them out unless asked.
 */
export function keepsModules(g: HeapGraph): Uint8Array {
  let mask = moduleKeepers.get(g);
  if (mask) return mask;
  const snap = g.snap;
  const n = snap.objectCount;
  mask = new Uint8Array(n);
  const moduleType = new Uint8Array(snap.types.length);
  snap.types.forEach((name, t) => (moduleType[t] = name === "builtins.module" ? 1 : 0));
  for (let i = 0; i < n; i++) {
    if (!moduleType[snap.type[i]]) continue;
    // Mark the module and its dominators; stop at an already-marked chain.
    for (let d = i; d < n && !mask[d]; d = g.idom[d]) mask[d] = 1;
  }
  moduleKeepers.set(g, mask);
  return mask;
}

const agentMasks = new WeakMap<HeapGraph, Uint8Array>();
const AGENT_ROOT = /^sys\.modules\['leakbook(\.[^']*)?'\]$/;

/**
 * Per object, 1 when its shortest path starts at the capture agent's module (`sys.modules['leakbook']`, or a
 * `leakbook.*` submodule) or at the stack of one of its threads (named "leakbook-..."): the agent's own state (its
 * lock, counters, Recorders) is not the program's memory, and no table or finding lists it.
 */
export function heldByAgentModule(g: HeapGraph): Uint8Array {
  let mask = agentMasks.get(g);
  if (mask) return mask;
  const snap = g.snap;
  const n = snap.objectCount;
  mask = new Uint8Array(n);
  const agentRoots: number[] = [];
  for (let r = 0; r < snap.rootObject.length; r++) {
    if (snap.rootKind[r] === ROOT_MODULE && snap.rootLabel[r] !== NONE && AGENT_ROOT.test(snap.strings.get(snap.rootLabel[r]))) {
      agentRoots.push(snap.rootObject[r]);
    }
  }
  for (const t of snap.threads) if (t.frame !== null && t.name?.startsWith("leakbook-")) agentRoots.push(t.frame);
  // Down the breadth-first tree from those roots: only the agent's own (small) part of the heap is visited.
  const queue = [...new Set(agentRoots)];
  for (const r of queue) mask[r] = 1;
  for (let head = 0; head < queue.length; head++) {
    const o = queue[head];
    for (let e = snap.edgeStart[o]; e < snap.edgeStart[o + 1]; e++) {
      const t = snap.edgeTarget[e];
      if (g.bfsEdge[t] === e && mask[t] === 0) {
        mask[t] = 1;
        queue.push(t);
      }
    }
  }
  agentMasks.set(g, mask);
  return mask;
}

/** Per object, the kind of root it is (ROOT_* from snapshot.ts, the lowest when several), or 255 for non-roots. */
export function rootKinds(snap: Snapshot): Uint8Array {
  const kinds = new Uint8Array(snap.objectCount).fill(255);
  for (let r = 0; r < snap.rootObject.length; r++) {
    const o = snap.rootObject[r];
    if (snap.rootKind[r] < kinds[o]) kinds[o] = snap.rootKind[r];
  }
  return kinds;
}

/**
 * The object an attribute names: `obj.name` as a slot edge (`.name`) or through the instance dict
 * (`.__dict__` then `['name']`); NONE when absent.
 */
export function attribute(snap: Snapshot, obj: number, name: string): number {
  const slot = "." + name;
  const key = `['${name}']`;
  for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) {
    const label = edgeLabel(snap, e);
    if (label === slot) return snap.edgeTarget[e];
    if (label === ".__dict__") {
      const d = snap.edgeTarget[e];
      for (let f = snap.edgeStart[d]; f < snap.edgeStart[d + 1]; f++) if (edgeLabel(snap, f) === key) return snap.edgeTarget[f];
    }
  }
  return NONE;
}

/** stringId's answers per snapshot: a text that is absent costs a scan of every string, so each is looked up once. */
const stringIds = new WeakMap<Snapshot, Map<string, number>>();

/**
 * String index of an edge label text, or NONE. The agent interns its fixed labels first, so the scan from the start
 * ends early for them; call it once per query, then compare label indices instead of rendering labels.
 */
export function stringId(snap: Snapshot, text: string): number {
  let ids = stringIds.get(snap);
  if (!ids) stringIds.set(snap, (ids = new Map()));
  let id = ids.get(text);
  if (id === undefined) {
    id = NONE;
    for (let k = 0; k < snap.strings.count; k++) {
      if (snap.strings.get(k) === text) {
        id = k;
        break;
      }
    }
    ids.set(text, id);
  }
  return id;
}

