// One heap-graph analysis per loaded snapshot: query helpers call graphOf() freely and the work happens once.
// A series needs the whole analysis of its last snapshot only: withAnalysis() lets the analysis of an earlier one
// go once its readings are taken, keeping the per-object figures (retainedFigures) the series questions ask for.
import { analyze, type AnalyzeOptions, type HeapGraph } from "./graph.js";
import type { Snapshot } from "./snapshot.js";

const graphs = new WeakMap<Snapshot, HeapGraph>();

/** Told of the progress of every analysis graphOf runs, whoever asked for it (the CLI shows it on a terminal). */
export type AnalysisObserver = (snap: Snapshot, phase: string, done: number, total: number) => void;

let observer: AnalysisObserver | null = null;

/** Sets the observer of analyses until the function returned is called. */
export function observeAnalyses(watch: AnalysisObserver): () => void {
  observer = watch;
  return () => {
    if (observer === watch) observer = null;
  };
}

/** The memoised `analyze(snap)`; the analysis lives as long as the snapshot does. Options apply to the first call. */
export function graphOf(snap: Snapshot, opts: AnalyzeOptions = {}): HeapGraph {
  let g = graphs.get(snap);
  if (!g) {
    const watch = observer;
    const onProgress: AnalyzeOptions["onProgress"] = watch === null ? opts.onProgress : (phase, done, total) => {
      opts.onProgress?.(phase, done, total);
      watch(snap, phase, done, total);
    };
    g = analyze(snap, { ...opts, onProgress });
    graphs.set(snap, g);
  }
  return g;
}

/** What is known of a snapshot's analysis without keeping it: per object and for the objects no root reaches. */
export interface RetainedFigures {
  /** Retained bytes of every object (HeapGraph.retained). */
  retained: Float64Array;
  /** Objects every object keeps alive: itself and everything it dominates. */
  counts: Uint32Array;
  /** Objects no root reaches, and the bytes the extra roots above them retain. */
  unreachable: number;
  unreachableBytes: number;
}

const figuresOfGraph = new WeakMap<HeapGraph, RetainedFigures>();
const keptFigures = new WeakMap<Snapshot, RetainedFigures>();

/** The snapshot's retained figures: those kept by withAnalysis(), else from its (memoised) analysis. */
export function retainedFigures(snap: Snapshot): RetainedFigures {
  return keptFigures.get(snap) ?? figuresOf(graphOf(snap));
}

function figuresOf(g: HeapGraph): RetainedFigures {
  let figures = figuresOfGraph.get(g);
  if (!figures) {
    let unreachableBytes = 0;
    for (const r of g.extraRoots) unreachableBytes += g.retained[r];
    figures = { retained: g.retained, counts: g.retainedCount, unreachable: g.unreachable.length, unreachableBytes };
    figuresOfGraph.set(g, figures);
  }
  return figures;
}

/**
 * `read(graph)` on the snapshot's analysis, for a snapshot only part of whose analysis is needed afterwards.
 * When the analysis was not memoised yet, graphOf() returns it while `read` runs, and afterwards it is let go:
 * only its retained figures stay (so a series holds one whole analysis at a time, not one per snapshot).
 */
export function withAnalysis<T>(snap: Snapshot, read: (g: HeapGraph) => T, opts: AnalyzeOptions = {}): T {
  const memoised = graphs.get(snap);
  if (memoised) return read(memoised);
  const g = analyze(snap, opts);
  graphs.set(snap, g);
  try {
    return read(g);
  } finally {
    keptFigures.set(snap, figuresOf(g));
    graphs.delete(snap);
  }
}
