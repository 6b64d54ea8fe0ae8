// What retention paths are anchored to, worked out once per HeapGraph: which objects no root reaches, and which
// dicts are the namespaces of modules that sys.modules holds (so a path through one can restart there as
// `sys.modules['m']`).
import type { HeapGraph } from "./graph.js";
import { EDGE_SUFFIX, NONE, ROOT_MODULE, type Snapshot } from "./snapshot.js";

export interface PathAnchors {
  /** 1 for the objects no root of the snapshot reaches (g.unreachable as a mask). */
  unreachable: Uint8Array;
  /** The module objects that are the objects of module roots (`sys.modules['m']`). */
  moduleRoot: Set<number>;
  /** Namespace dict -> its module and the module's forward `.__dict__` edge to it, for modules that are module roots. */
  namespaceOf: Map<number, { module: number; edge: number }>;
}

const anchorsByGraph = new WeakMap<HeapGraph, PathAnchors>();

/** The anchors of `g`, built on first use: a pass over the roots. */
export function pathAnchors(g: HeapGraph): PathAnchors {
  let anchors = anchorsByGraph.get(g);
  if (anchors) return anchors;
  const snap = g.snap;
  const unreachable = new Uint8Array(snap.objectCount);
  for (let i = 0; i < g.unreachable.length; i++) unreachable[g.unreachable[i]] = 1;
  const { moduleRoot, namespaceOf } = moduleNamespaces(snap);
  anchors = { unreachable, moduleRoot, namespaceOf };
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
