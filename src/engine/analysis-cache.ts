// One heap-graph analysis per loaded snapshot: query helpers call graphOf() freely and the work happens once.
import { analyze, type AnalyzeOptions, type HeapGraph } from "./graph.js";
import type { Snapshot } from "./snapshot.js";

const graphs = new WeakMap<Snapshot, HeapGraph>();

/** The memoised `analyze(snap)`; the analysis lives as long as the snapshot does. Options apply to the first call. */
export function graphOf(snap: Snapshot, opts: AnalyzeOptions = {}): HeapGraph {
  let g = graphs.get(snap);
  if (!g) {
    g = analyze(snap, opts);
    graphs.set(snap, g);
  }
  return g;
}
