// Reference cycles: strongly connected groups of objects, the handle that keeps each alive, and parent/child
// pairs that point at each other.
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { stronglyConnected, type SccResult } from "../engine/scc.js";
import { edgeLabel } from "../engine/paths.js";
import { EDGE_SUFFIX, NONE, type Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { lastOf, pathExpr, requireFull, stringId, tableOf, topIndices, type SeriesInput } from "./input.js";

interface Components extends SccResult {
  /** the objects with a `.__mro__` reference: classes */
  classes: Uint32Array;
  /** 1 for the members of components of two or more objects */
  cyclic: Uint8Array;
}

/** Per analysis rather than per snapshot: a series diagnosis lets an earlier snapshot's analysis go, and these with it. */
const components = new WeakMap<HeapGraph, Components>();

/**
 * Strongly connected components over the references other than `.__class__`. Every instance refers to its class,
 * and a class reaches its module through its methods' globals, so with those edges every instance of a class
 * defined in a module would join one giant component with all modules. Computed once per analysis.
 *
 * Leaving edges out only splits components, so a cycle here lies inside one of the analysis's components of two or
 * more objects: only their members (`g.cyclic`) and the edges between members of one component are walked, which
 * on most heaps is a small part of the graph. Components are numbered in the order of their lowest member; objects
 * outside every cycle have no component (NONE). The same pass notes the classes among the members.
 */
function componentsWithoutClassEdges(g: HeapGraph): Components {
  let found = components.get(g);
  if (found) return found;
  const snap = g.snap;
  const classLabel = stringId(snap, ".__class__");
  const mroLabel = stringId(snap, ".__mro__");
  const n = snap.objectCount;
  const local = new Uint32Array(n).fill(NONE);
  let m = 0;
  for (let i = 0; i < n; i++) if (g.cyclic[i] === 1) local[i] = m++;
  const member = new Uint32Array(m);
  const start = new Uint32Array(m + 1);
  const targets: number[] = [];
  const classes: number[] = [];
  for (let i = 0, k = 0; i < n; i++) {
    if (local[i] === NONE) continue;
    member[k] = i;
    start[k++] = targets.length;
    let isClass = false;
    for (let e = snap.edgeStart[i]; e < snap.edgeStart[i + 1]; e++) {
      const suffix = snap.edgeKind[e] === EDGE_SUFFIX;
      if (suffix && snap.edgeLabel[e] === mroLabel) isClass = true;
      const t = snap.edgeTarget[e];
      if (local[t] !== NONE && g.scc[t] === g.scc[i] && !(suffix && snap.edgeLabel[e] === classLabel)) targets.push(local[t]);
    }
    if (isClass) classes.push(i);
  }
  start[m] = targets.length;
  const localCyclic = new Uint8Array(m);
  const inner = stronglyConnected(m, start, Uint32Array.from(targets), localCyclic);
  // Renumbered by lowest member, so that ids do not depend on the walk's order.
  const renumber = new Uint32Array(inner.count).fill(NONE);
  const scc = new Uint32Array(n).fill(NONE);
  const cyclic = new Uint8Array(n);
  let count = 0;
  for (let k = 0; k < m; k++) {
    if (localCyclic[k] === 0) continue;
    const c = inner.scc[k];
    if (renumber[c] === NONE) renumber[c] = count++;
    scc[member[k]] = renumber[c];
    cyclic[member[k]] = 1;
  }
  found = { scc, count, classes: Uint32Array.from(classes), cyclic };
  components.set(g, found);
  return found;
}

/**
 * Per component of two or more objects (componentsWithoutClassEdges; zero for the others): members, bytes, the
 * member nearest a root, module and class marks.
 */
interface ComponentFigures {
  scc: Uint32Array;
  cyclic: Uint8Array;
  count: number;
  members: Uint32Array;
  shallow: Float64Array;
  /** the retained sizes of the members whose immediate dominator is outside the component */
  retained: Float64Array;
  entry: Uint32Array;
  hasModule: Uint8Array;
  hasClass: Uint8Array;
}

const figuresOfGraph = new WeakMap<HeapGraph, ComponentFigures>();

/** The components' figures, summed once per analysis (cycles() is asked with several options). */
function componentFigures(g: HeapGraph): ComponentFigures {
  let figures = figuresOfGraph.get(g);
  if (figures) return figures;
  const snap = g.snap;
  const { scc, count, classes, cyclic } = componentsWithoutClassEdges(g);
  const n = snap.objectCount;
  // Only components of two or more objects are ever listed: the single objects (most of them) are skipped.
  const members = new Uint32Array(count);
  const shallow = new Float64Array(count);
  const retained = new Float64Array(count);
  const entry = new Uint32Array(count).fill(NONE);
  const hasModule = new Uint8Array(count);
  const hasClass = new Uint8Array(count);
  const moduleType = snap.types.indexOf("builtins.module");
  for (const i of classes) if (cyclic[i] === 1) hasClass[scc[i]] = 1;
  for (let i = 0; i < n; i++) {
    if (cyclic[i] === 0) continue;
    const c = scc[i];
    members[c]++;
    shallow[c] += snap.size[i];
    const d = g.idom[i];
    if (d >= n || scc[d] !== c) retained[c] += g.retained[i];
    if (entry[c] === NONE || g.distance[i] < g.distance[entry[c]]) entry[c] = i;
    if (snap.type[i] === moduleType) hasModule[c] = 1;
  }
  figures = { scc, cyclic, count, members, shallow, retained, entry, hasModule, hasClass };
  figuresOfGraph.set(g, figures);
  return figures;
}

/** A row of the cycles() table. */
export interface CycleRow {
  id: number; members: number; types: string; shallow_bytes: number; retained_bytes: number; has_module: boolean;
  has_class: boolean; entry_address: number; entry_type: string; path: string | null; retained: string;
}

/**
 * cycles(snap, { top = 20, minMembers = 2, structural = true }): strongly connected groups of objects (reference
 * cycles), largest retained size first. References from an instance to its class are left out (see
 * componentsWithoutClassEdges). Groups the interpreter builds for every program are flagged: has_module (modules, their
 * functions and namespaces refer to each other) and has_class (a class refers to itself through `.__mro__` and its
 * descriptors); `structural: false` leaves both out before the top is taken, keeping the program's own cycles.
 * Columns: id, members, types (type mix, most frequent first: "app.Node×111, list×111"), shallow_bytes,
 * retained_bytes (sum of the retained sizes of the members whose immediate dominator is outside the group),
 * has_module, entry_address and entry_type (the member nearest to a root), path (the handle: the shortest path from a
 * root to the entry), retained (human).
 */
export function cycles(input: SeriesInput, opts: { top?: number; minMembers?: number; structural?: boolean } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "cycles");
  return tableOf(CYCLE_COLUMNS, cycleRows(snap, opts));
}

const CYCLE_COLUMNS = [
  "id", "members", "types", "shallow_bytes", "retained_bytes", "has_module", "has_class", "entry_address", "entry_type", "path", "retained",
] as const;

/**
 * The rows of cycles(snap, opts), as plain objects; with `paths: false` every row's path is null (for callers that
 * only count the cycles, as a series diagnosis does in its earlier snapshots).
 */
export function cycleRows(snap: Snapshot, opts: { top?: number; minMembers?: number; structural?: boolean; paths?: boolean } = {}): CycleRow[] {
  const g = graphOf(snap);
  const { scc, cyclic, count, members, shallow, retained, entry, hasModule, hasClass } = componentFigures(g);
  const n = snap.objectCount;
  const minMembers = Math.max(2, opts.minMembers ?? 2);
  const structural = opts.structural ?? true;
  // The candidates first (most components are single objects), in id order, so that ties still go to the lower id.
  const ids: number[] = [];
  for (let c = 0; c < count; c++) {
    if (members[c] >= minMembers && (structural || (hasModule[c] === 0 && hasClass[c] === 0))) ids.push(c);
  }
  const chosen = topIndices(ids.length, Float64Array.from(ids, (c) => retained[c]), opts.top ?? 20).map((k) => ids[k]);
  // Type mix of the chosen groups only.
  const rank = new Int32Array(count).fill(-1);
  chosen.forEach((c, k) => (rank[c] = k));
  const mix = chosen.map(() => new Map<number, number>());
  for (let i = 0; i < n; i++) {
    if (cyclic[i] === 0) continue;
    const k = rank[scc[i]];
    if (k >= 0) mix[k].set(snap.type[i], (mix[k].get(snap.type[i]) ?? 0) + 1);
  }
  return chosen.map((c, k): CycleRow => ({
    id: c,
    members: members[c],
    types: [...mix[k].entries()].sort((a, b) => b[1] - a[1])
      .map(([t, count]) => `${snap.types[t].replace(/^builtins\./, "")}×${count}`).join(", "),
    shallow_bytes: shallow[c],
    retained_bytes: retained[c],
    has_module: hasModule[c] === 1,
    has_class: hasClass[c] === 1,
    entry_address: snap.address[entry[c]],
    entry_type: snap.types[snap.type[entry[c]]],
    path: opts.paths === false ? null : pathExpr(g, entry[c]),
    retained: formatBytes(retained[c]),
  }));
}

/** The path of a cycleRows() row taken with `paths: false`: the shortest path from a root to its entry. */
export function cyclePath(snap: Snapshot, row: CycleRow): string | null {
  const g = graphOf(snap);
  return pathExpr(g, componentFigures(g).entry[row.id]);
}

const ATTRIBUTE_KEY = /^\['([A-Za-z_][A-Za-z0-9_]*)'\]$/;
const SEQUENCE_TYPES = new Set(["builtins.list", "builtins.tuple", "builtins.set", "builtins.dict", "collections.deque"]);

/** ATTRIBUTE_KEY's attribute link (".name") for an instance-dict key label, or null; memoised, as labels repeat. */
const attributeOfKey = new Map<string, string | null>();
function keyAttribute(label: string): string | null {
  let link = attributeOfKey.get(label);
  if (link === undefined) {
    if (attributeOfKey.size >= 100_000) attributeOfKey.clear();
    const key = ATTRIBUTE_KEY.exec(label);
    attributeOfKey.set(label, (link = key ? "." + key[1] : null));
  }
  return link;
}

/**
 * The attribute links of an object to objects of the `wanted` types (a mask by type id): (target, label) for its
 * slots and instance-dict entries (`.name`), and one level into container attributes (`.children[*]`). Calls
 * `visit` for each.
 */
function attributeLinks(
  snap: Snapshot, sequence: Uint8Array, wanted: Uint8Array, obj: number, intoContainers: boolean,
  visit: (target: number, label: string) => void,
) {
  const each = (target: number, label: string) => {
    if (wanted[snap.type[target]]) visit(target, label);
    if (!intoContainers || !sequence[snap.type[target]]) return;
    for (let e = snap.edgeStart[target]; e < snap.edgeStart[target + 1]; e++) {
      const item = snap.edgeTarget[e];
      if (wanted[snap.type[item]] && edgeLabel(snap, e) !== "<dict key>") visit(item, `${label}[*]`);
    }
  };
  for (let e = snap.edgeStart[obj]; e < snap.edgeStart[obj + 1]; e++) {
    const label = edgeLabel(snap, e);
    const target = snap.edgeTarget[e];
    if (label === ".__dict__") {
      for (let d = snap.edgeStart[target]; d < snap.edgeStart[target + 1]; d++) {
        const link = keyAttribute(edgeLabel(snap, d));
        if (link !== null) each(snap.edgeTarget[d], link);
      }
    } else if (/^\.[A-Za-z_][A-Za-z0-9_]*$/.test(label) && label !== ".__class__") {
      each(target, label);
    }
  }
}

/**
 * bidirectionalLinks(snap, { top = 20 }): parent/child pairs of instances that point at each other (a child list
 * plus a parent back-reference, prev/next links), grouped by types and attribute names, most pairs first. Such pairs
 * form cycles that only the cyclic GC frees, and keep a whole tree alive through any one node.
 * Columns: parent_type, child_link (how the parent reaches the child, e.g. ".children[*]"), child_type, parent_link
 * (how the child reaches back, e.g. ".parent"), pairs, example_address (a parent), example_path.
 */
export function bidirectionalLinks(input: SeriesInput, opts: { top?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "bidirectionalLinks");
  return linksTable(linkRows(snap, opts));
}

/** The bidirectionalLinks() table of rows from linkRows(). */
export function linksTable(rows: LinkRow[]): aq.ColumnTable {
  return tableOf(LINK_COLUMNS, rows);
}

const LINK_COLUMNS = ["parent_type", "child_link", "child_type", "parent_link", "pairs", "example_address", "example_path"] as const;

/** A row of the bidirectionalLinks() table. */
export interface LinkRow {
  parent_type: string; child_link: string; child_type: string; parent_link: string; pairs: number; example_address: number;
  example_path: string | null;
}

/**
 * The rows of bidirectionalLinks(snap, opts); with `paths: false` every example_path is null; with `parentTypes`,
 * only pairs whose parent is of one of those types (by name).
 */
export function linkRows(snap: Snapshot, opts: { top?: number; paths?: boolean; parentTypes?: ReadonlySet<string> } = {}): LinkRow[] {
  // Instances of classes defined in Python: not builtins, and not classes, modules or functions.
  const isInstanceType = Uint8Array.from(snap.types, (name) => (name.startsWith("builtins.") || name.startsWith("abc.") ? 0 : 1));
  const isParentType = opts.parentTypes === undefined
    ? isInstanceType
    : Uint8Array.from(snap.types, (name, t) => (isInstanceType[t] === 1 && opts.parentTypes!.has(name) ? 1 : 0));
  const sequence = Uint8Array.from(snap.types, (name) => (SEQUENCE_TYPES.has(name) ? 1 : 0));
  const groups = new Map<string, { parentType: string; childLink: string; childType: string; parentLink: string; pairs: number; example: number }>();
  for (let a = 0; a < snap.objectCount; a++) {
    if (!isParentType[snap.type[a]]) continue;
    attributeLinks(snap, sequence, isInstanceType, a, true, (b, childLink) => {
      if (b === a) return;
      attributeLinks(snap, sequence, isInstanceType, b, false, (back, parentLink) => {
        if (back !== a) return;
        // A direct link each way (prev/next) is seen from both ends: count it from the end with the smaller label.
        if (!childLink.endsWith("[*]") && snap.type[a] === snap.type[b] && childLink > parentLink) return;
        const key = `${snap.type[a]}|${childLink}|${snap.type[b]}|${parentLink}`;
        const group = groups.get(key);
        if (group) group.pairs++;
        else groups.set(key, { parentType: snap.types[snap.type[a]], childLink, childType: snap.types[snap.type[b]], parentLink, pairs: 1, example: a });
      });
    });
  }
  const chosen = [...groups.values()].sort((x, y) => y.pairs - x.pairs).slice(0, opts.top ?? 20);
  const g = opts.paths === false ? null : graphOf(snap);
  return chosen.map((x): LinkRow => ({
    parent_type: x.parentType,
    child_link: x.childLink,
    child_type: x.childType,
    parent_link: x.parentLink,
    pairs: x.pairs,
    example_address: snap.address[x.example],
    example_path: x.example === NONE || g === null ? null : pathExpr(g, x.example),
  }));
}
