// One heap-graph analysis per loaded snapshot: query helpers call graphOf() freely and the work happens once.
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
