// The heap graph engine: reverse adjacency, unreachable objects, dominator tree, retained sizes,
// breadth-first distances from the roots and strongly connected components, all in typed arrays.
import type { Snapshot } from "./snapshot.js";

export interface HeapGraph {
  snap: Snapshot;
  /** Reverse CSR: incoming edges of object i are revEdge[revStart[i] .. revStart[i+1]-1], each a forward edge index; source object is revSource[k]. */
  revStart: Uint32Array;
  revSource: Uint32Array;
  revEdge: Uint32Array;
  /** Objects no root reaches; the engine treats them as extra roots (ROOT_UNREACHABLE) and reports them, never drops them. */
  unreachable: Uint32Array;
  /** Immediate dominator of each object; the value objectCount stands for the virtual root above all roots. */
  idom: Uint32Array;
  /** Retained size (bytes) of every object: its own size plus everything it dominates. */
  retained: Float64Array;
  /** Breadth-first distance from the nearest root (0 for roots); first-reached-by forward edge index (NONE for roots). */
  distance: Uint32Array;
  bfsEdge: Uint32Array;
  /** Strongly connected component id per object, and count of components. */
  scc: Uint32Array;
  sccCount: number;
  timings: { reverse: number; dominators: number; retained: number; cycles: number; paths: number }; // ms
}

export interface AnalyzeOptions {
  onProgress?: (phase: string, done: number, total: number) => void;
}

export function analyze(snap: Snapshot, opts?: AnalyzeOptions): HeapGraph {
  void snap;
  void opts;
  throw new Error("not implemented");
}

export interface TypeRetained {
  type: string;
  count: number;
  shallow: number;
  retained: number;
}

/** Per type; retained counts only the outermost instance of the type along each dominator chain. */
export function retainedByType(g: HeapGraph): TypeRetained[] {
  void g;
  throw new Error("not implemented");
}

export interface Cycle {
  id: number;
  members: number;
  types: { type: string; count: number }[];
  shallow: number;
  /** retained size of the members plus what they dominate */
  retained: number;
  /** member reached first from the roots */
  entry: number;
  /** up to 20 member indices */
  sample: number[];
}

/** Strongly connected components with more than one member (or a self-loop), largest retained first. */
export function cycles(g: HeapGraph, opts?: { minMembers?: number; top?: number }): Cycle[] {
  void g;
  void opts;
  throw new Error("not implemented");
}
