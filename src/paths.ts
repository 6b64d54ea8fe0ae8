// Retention paths from the roots, rendered as steps and as one Python expression; referrers, referents,
// dominator subtrees and address lookup.
import type { Snapshot } from "./snapshot.js";
import type { HeapGraph } from "./graph.js";

export interface PathStep {
  object: number;
  address: number;
  type: string;
  /** edge label text from the previous step (root expression for the first) */
  label: string;
  evaluable: boolean;
}

export interface RetentionPath {
  /** index into roots */
  root: number;
  steps: PathStep[];
  expr: string;
}

export function shortestPaths(g: HeapGraph, object: number, opts?: { k?: number; maxDepth?: number }): RetentionPath[] {
  void g; void object; void opts;
  throw new Error("not implemented");
}

export function edgeLabel(snap: Snapshot, edge: number): string {
  void snap; void edge;
  throw new Error("not implemented");
}

export function referrers(g: HeapGraph, object: number): { object: number; edge: number; label: string }[] {
  void g; void object;
  throw new Error("not implemented");
}

export function referents(snap: Snapshot, object: number): { object: number; edge: number; label: string }[] {
  void snap; void object;
  throw new Error("not implemented");
}

/** Subtree of the dominator tree under object, for treemaps. */
export function dominatedBy(g: HeapGraph, object: number, opts?: { maxNodes?: number }): { object: number; parent: number; retained: number }[] {
  void g; void object; void opts;
  throw new Error("not implemented");
}

/** Index of the object at address, or -1. */
export function findObject(snap: Snapshot, address: number): number {
  void snap; void address;
  throw new Error("not implemented");
}
