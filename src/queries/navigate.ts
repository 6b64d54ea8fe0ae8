// Following references by hand: who refers to an object, what it refers to, how the roots reach it, and what it
// dominates (the subtree of the dominator tree under it, for icicle charts).
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import { dominatedBy, referents as referentsOf, referrers as referrersOf, shortestPaths } from "../engine/paths.js";
import type { Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { lastOf, objectLength, objectName, requireFull, selectObject, type ObjectSelector, type SeriesInput } from "./input.js";

function neighbourTable(snap: Snapshot, links: { object: number; edge: number; label: string }[]): aq.ColumnTable {
  const g = graphOf(snap);
  return aq.table({
    index: Uint32Array.from(links, (l) => l.object),
    address: Float64Array.from(links, (l) => snap.address[l.object]),
    type: links.map((l) => snap.types[snap.type[l.object]]),
    label: links.map((l) => l.label),
    name: links.map((l) => objectName(snap, l.object)),
    length: links.map((l) => objectLength(snap, l.object)),
    shallow_bytes: Float64Array.from(links, (l) => snap.size[l.object]),
    retained_bytes: Float64Array.from(links, (l) => g.retained[l.object]),
    retained: links.map((l) => formatBytes(g.retained[l.object])),
  });
}

/**
 * referrers(snap, obj): the objects holding a reference to obj (selected by address, path expression or table row).
 * Columns: index, address, type, label (the reference's label as seen from the referrer, e.g. ['key'], .parent, [3]),
 * name, length, shallow_bytes, retained_bytes, retained (human).
 */
export function referrers(input: SeriesInput, obj: ObjectSelector): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "referrers");
  return neighbourTable(snap, referrersOf(graphOf(snap), selectObject(snap, obj)));
}

/** referents(snap, obj): the objects obj refers to. Columns: as referrers(), label as seen from obj. */
export function referents(input: SeriesInput, obj: ObjectSelector): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "referents");
  return neighbourTable(snap, referentsOf(snap, selectObject(snap, obj)));
}

/**
 * pathsToRoot(snap, obj, { k = 3 }): the k shortest distinct retention paths from the roots to obj.
 * Columns: rank (0 = shortest), expr (a Python expression that evaluates to obj in the live process), length (number
 * of references), evaluable (false when a step has no Python spelling, e.g. <set member>), steps (the path's types,
 * "module → dict → app.Node"), root (the root's expression).
 */
export function pathsToRoot(input: SeriesInput, obj: ObjectSelector, opts: { k?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "pathsToRoot");
  const paths = shortestPaths(graphOf(snap), selectObject(snap, obj), { k: opts.k ?? 3 });
  return aq.table({
    rank: paths.map((_, r) => r),
    expr: paths.map((p) => p.expr),
    length: paths.map((p) => p.steps.length - 1),
    evaluable: paths.map((p) => p.steps.every((s) => s.evaluable)),
    steps: paths.map((p) => p.steps.map((s) => s.type.replace(/^builtins\./, "")).join(" → ")),
    root: paths.map((p) => p.steps[0]?.label ?? ""),
  });
}

/**
 * dominated(snap, obj, { maxNodes = 500 }): obj and the objects it dominates (those that would be freed with it),
 * largest first, as a tree: feed it to dominatorIcicle(). Columns: index, parent (index of the dominator within the
 * table; -1 for obj), depth (0 for obj), address, type, name, shallow_bytes, retained_bytes, retained (human).
 */
export function dominated(input: SeriesInput, obj: ObjectSelector, opts: { maxNodes?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "dominated");
  const g = graphOf(snap);
  const top = selectObject(snap, obj);
  const nodes = dominatedBy(g, top, { maxNodes: opts.maxNodes ?? 500 });
  const depthOf = new Map<number, number>([[top, 0]]);
  for (const node of nodes) if (node.object !== top) depthOf.set(node.object, (depthOf.get(node.parent) ?? 0) + 1);
  return aq.table({
    index: Uint32Array.from(nodes, (x) => x.object),
    parent: nodes.map((x) => (x.object === top ? -1 : x.parent)),
    depth: nodes.map((x) => depthOf.get(x.object) ?? 0),
    address: Float64Array.from(nodes, (x) => snap.address[x.object]),
    type: nodes.map((x) => snap.types[snap.type[x.object]]),
    name: nodes.map((x) => objectName(snap, x.object)),
    shallow_bytes: Float64Array.from(nodes, (x) => snap.size[x.object]),
    retained_bytes: Float64Array.from(nodes, (x) => x.retained),
    retained: nodes.map((x) => formatBytes(x.retained)),
  });
}
