// What every step of a diagnosis shares: the snapshots, the last one's memoised analysis, and the questions
// "which object is at this address", "what path leads to it", and "does the standard library hold it".
import { graphOf } from "../analysis-cache.js";
import type { HeapGraph } from "../graph.js";
import { findObject } from "../paths.js";
import { NONE, ROOT_MODULE, type Snapshot } from "../snapshot.js";
import { attribute, edgeSource, objectName, pathExpr } from "../queries/input.js";

export interface Context {
  snaps: Snapshot[];
  last: Snapshot;
  /** Every snapshot carries the object graph (not a census). */
  full: boolean;
  /** The last snapshot's analysis (null for census snapshots). */
  graph: HeapGraph | null;
  /** Module names of the standard library, built-in modules and the capture agent in the last snapshot. */
  libraryModules: Set<string>;
}

export function makeContext(snaps: Snapshot[]): Context {
  const last = snaps[snaps.length - 1];
  const full = snaps.every((s) => s.kind === "full");
  return { snaps, last, full, graph: full ? graphOf(last) : null, libraryModules: full ? libraryModules(last) : new Set() };
}

/**
 * Modules that belong to Python itself or to leakbook: no `__file__` (built-in and frozen modules), a file under
 * a `lib/pythonX.Y` directory outside site-packages, or the agent module. `__main__` never is.
 */
/** The capture agent's own module (`python/leakbook.py`, imported as `leakbook`). */
function isAgentModule(name: string): boolean {
  return name === "leakbook" || name.startsWith("leakbook.");
}

function libraryModules(snap: Snapshot): Set<string> {
  const out = new Set<string>();
  const moduleType = snap.types.indexOf("builtins.module");
  for (let i = 0; i < snap.objectCount; i++) {
    if (snap.type[i] !== moduleType) continue;
    const name = objectName(snap, i);
    if (name === "__main__") continue;
    const file = attribute(snap, i, "__file__");
    const path = file === NONE ? "" : objectName(snap, file);
    const stdlib = /[\\/]lib[\\/]python\d+(\.\d+)?[\\/]/i.test(path) && !/[\\/](site|dist)-packages[\\/]/.test(path);
    if (file === NONE || stdlib || isAgentModule(name)) out.add(name);
  }
  return out;
}

/** Index of the object at `address` in the last snapshot, or -1. */
export function objectAt(ctx: Context, address: number | null | undefined): number {
  if (typeof address !== "number") return -1;
  return findObject(ctx.last, address);
}

export function pathOf(ctx: Context, i: number): string | null {
  return ctx.graph && i >= 0 ? pathExpr(ctx.graph, i) : null;
}

/** The module whose root starts the object's shortest path, or null when a thread, gc.garbage or other root does. */
export function rootModule(ctx: Context, i: number): string | null {
  const g = ctx.graph;
  if (!g || i < 0) return null;
  let cur = i;
  while (g.bfsEdge[cur] !== NONE) cur = edgeSource(ctx.last, g.bfsEdge[cur]);
  const snap = ctx.last;
  for (let r = 0; r < snap.rootObject.length; r++) {
    if (snap.rootObject[r] !== cur || snap.rootKind[r] !== ROOT_MODULE) continue;
    const label = snap.strings.get(snap.rootLabel[r]);
    const m = /^sys\.modules\['([^']+)'\]$/.exec(label);
    if (m) return m[1];
  }
  return null;
}

/** The object is held (along its shortest path) by a standard-library or agent module. */
export function heldByLibrary(ctx: Context, i: number): boolean {
  const module = rootModule(ctx, i);
  return module !== null && ctx.libraryModules.has(module);
}

/**
 * The object is held (along its shortest path) by the capture agent's own module: the agent's state, such as the
 * namespace it keeps when run as `python3 -m leakbook`, is not the program's memory.
 */
export function heldByAgent(ctx: Context, i: number): boolean {
  const module = rootModule(ctx, i);
  return module !== null && isAgentModule(module);
}

/** A type defined by a standard-library module or a built-in type ("builtins.dict", "enum.EnumType"). */
export function isLibraryType(ctx: Context, type: string): boolean {
  const dot = type.lastIndexOf(".");
  if (dot < 0) return true;
  const module = type.slice(0, dot);
  return module === "builtins" || ctx.libraryModules.has(module);
}

/** The objects on the shortest path from a root down to `i` (root first, `i` last). */
export function pathObjects(ctx: Context, i: number): number[] {
  const g = ctx.graph;
  if (!g || i < 0) return [];
  const out = [i];
  for (let cur = i; g.bfsEdge[cur] !== NONE; ) {
    cur = edgeSource(ctx.last, g.bfsEdge[cur]);
    out.push(cur);
  }
  return out.reverse();
}

/** `a` dominates `b` (every path from the roots to `b` passes through `a`). */
export function dominates(ctx: Context, a: number, b: number): boolean {
  const g = ctx.graph;
  if (!g || a < 0 || b < 0) return false;
  const n = ctx.last.objectCount;
  for (let cur = b; cur < n; cur = g.idom[cur]) if (cur === a) return true;
  return false;
}
