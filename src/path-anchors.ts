// What retention paths are anchored to, worked out once per HeapGraph: the breadth-first tree from the
// snapshot's own roots, which objects no root reaches, and which dicts are the namespaces of modules that
// sys.modules holds (so a path through one can restart there as `sys.modules['m']`).
import { breadthFirst, type BreadthFirstTree } from "./edge-passes.js";
import { rootRank, type HeapGraph } from "./graph.js";
import { EDGE_SUFFIX, NONE, ROOT_MODULE, type Snapshot } from "./snapshot.js";

export interface PathAnchors {
  /**
   * Breadth-first distances and first-reached-by edges in which every object some root reaches is reached
   * from the roots: g.distance / g.bfsEdge themselves unless the engine's tree took a reachable object
   * through an unreachable one (see rootedTree).
   */
  tree: BreadthFirstTree;
  /** 1 for the objects no root of the snapshot reaches (g.unreachable as a mask). */
  unreachable: Uint8Array;
  /** The module objects that are the objects of module roots (`sys.modules['m']`). */
  moduleRoot: Set<number>;
  /** Namespace dict -> its module and the module's forward `.__dict__` edge to it, for modules that are module roots. */
  namespaceOf: Map<number, { module: number; edge: number }>;
}

const anchorsByGraph = new WeakMap<HeapGraph, PathAnchors>();

/** The anchors of `g`, built on first use: a pass over the roots, and at most one breadth-first search. */
export function pathAnchors(g: HeapGraph): PathAnchors {
  let anchors = anchorsByGraph.get(g);
  if (anchors) return anchors;
  const snap = g.snap;
  const unreachable = new Uint8Array(snap.objectCount);
  for (let i = 0; i < g.unreachable.length; i++) unreachable[g.unreachable[i]] = 1;
  const { moduleRoot, namespaceOf } = moduleNamespaces(snap);
  anchors = { tree: rootedTree(g, unreachable), unreachable, moduleRoot, namespaceOf };
  anchorsByGraph.set(g, anchors);
  return anchors;
}

const MODULE_TYPE = "builtins.module";

function moduleNamespaces(snap: Snapshot): Pick<PathAnchors, "moduleRoot" | "namespaceOf"> {
  const moduleRoot = new Set<number>();
  const namespaceOf = new Map<number, { module: number; edge: number }>();
  const moduleType = snap.types.indexOf(MODULE_TYPE);
  if (moduleType < 0) return { moduleRoot, namespaceOf };
  for (let r = 0; r < snap.rootObject.length; r++) {
    const m = snap.rootObject[r];
    if (snap.rootKind[r] !== ROOT_MODULE || snap.type[m] !== moduleType || moduleRoot.has(m)) continue;
    moduleRoot.add(m);
    for (let e = snap.edgeStart[m]; e < snap.edgeStart[m + 1]; e++) {
      if (snap.edgeKind[e] !== EDGE_SUFFIX || snap.edgeLabel[e] === NONE) continue;
      if (snap.strings.get(snap.edgeLabel[e]) !== ".__dict__") continue;
      if (!namespaceOf.has(snap.edgeTarget[e])) namespaceOf.set(snap.edgeTarget[e], { module: m, edge: e });
      break;
    }
  }
  return { moduleRoot, namespaceOf };
}

/**
 * The engine's breadth-first search starts from the roots and the extra (unreachable) roots together, so an
 * object that a root reaches can come out first-reached through an unreachable one: the copy of a C
 * extension's module dict CPython keeps for re-imports (`_asyncio`'s holds `asyncio.tasks._all_tasks` one edge
 * away, where `sys.modules['_asyncio']` needs two), a function only atexit holds. Such a tree would give a
 * named object a `gc.get_objects()` path. When that happens (an unreachable object has an edge into the
 * reachable part), this searches again from the snapshot's roots alone, in the engine's order of root
 * kinds; unreachable objects keep the engine's distances, which only unreachable objects could produce.
 */
function rootedTree(g: HeapGraph, unreachable: Uint8Array): BreadthFirstTree {
  const snap = g.snap;
  const n = snap.objectCount;
  if (!entersReachable(g, unreachable) || snap.edgeStart.length !== n + 1) return { distance: g.distance, bfsEdge: g.bfsEdge };
  const roots: number[] = [];
  const byRank = Array.from(snap.rootObject.keys()).sort((a, b) => rootRank(snap.rootKind[a]) - rootRank(snap.rootKind[b]) || a - b);
  for (const r of byRank) roots.push(snap.rootObject[r]);
  const tree = { distance: new Uint32Array(n), bfsEdge: new Uint32Array(n) };
  breadthFirst(n, snap.edgeStart, snap.edgeTarget, Uint32Array.from(roots), new Uint32Array(n), tree);
  for (let i = 0; i < g.unreachable.length; i++) {
    const o = g.unreachable[i];
    tree.distance[o] = g.distance[o];
    tree.bfsEdge[o] = g.bfsEdge[o];
  }
  return tree;
}

function entersReachable(g: HeapGraph, unreachable: Uint8Array): boolean {
  const { edgeStart, edgeTarget } = g.snap;
  for (let i = 0; i < g.unreachable.length; i++) {
    const o = g.unreachable[i];
    for (let e = edgeStart[o]; e < edgeStart[o + 1]; e++) if (unreachable[edgeTarget[e]] === 0) return true;
  }
  return false;
}
