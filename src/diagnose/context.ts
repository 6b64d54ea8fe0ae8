// What every step of a diagnosis shares: the snapshots, the last one's memoised analysis, and the questions
// "which object is at this address", "what path leads to it", and "does the standard library hold it".
import { graphOf } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { findObject, shortestPaths } from "../engine/paths.js";
import { NONE, ROOT_MODULE, type Snapshot } from "../engine/snapshot.js";
import { attribute, edgeSource, heldByAgentModule, objectName, pathExpr } from "../queries/input.js";

export interface Context {
  snaps: Snapshot[];
  last: Snapshot;
  /** Every snapshot carries the object graph (not a census). */
  full: boolean;
  /** The last snapshot's analysis (null for census snapshots). */
  graph: HeapGraph | null;
  /** Module names of the standard library, built-in modules and the capture agent in the last snapshot. */
  libraryModules: Set<string>;
  /** Module names of installed third-party packages (a file under site-packages or dist-packages). */
  thirdPartyModules: Set<string>;
}

export function makeContext(snaps: Snapshot[]): Context {
  const last = snaps[snaps.length - 1];
  const full = snaps.every((s) => s.kind === "full");
  const modules = full ? moduleKinds(last) : { library: new Set<string>(), thirdParty: new Set<string>() };
  return { snaps, last, full, graph: full ? graphOf(last) : null, libraryModules: modules.library, thirdPartyModules: modules.thirdParty };
}

const INSTALLED_FILE = /[\\/](site|dist)-packages[\\/]/;

/** A file of Python's own standard library: under `lib/pythonX.Y/`, outside site-packages and dist-packages. */
export function isStandardLibraryFile(path: string): boolean {
  return /[\\/]lib[\\/]python\d+(\.\d+)?[\\/]/i.test(path) && !INSTALLED_FILE.test(path);
}

/** The capture agent's own module (`python/leakbook.py`, imported as `leakbook`). */
function isAgentModule(name: string): boolean {
  return name === "leakbook" || name.startsWith("leakbook.");
}

/**
 * Library modules: those of Python itself or of leakbook (no `__file__`, as built-in and frozen modules; a file
 * under a `lib/pythonX.Y` directory outside site-packages; the agent module), and installed third-party packages
 * (a file under site-packages or dist-packages). `__main__` is neither.
 */
function moduleKinds(snap: Snapshot): { library: Set<string>; thirdParty: Set<string> } {
  const library = new Set<string>();
  const thirdParty = new Set<string>();
  const moduleType = snap.types.indexOf("builtins.module");
  // A module is known by its __name__ and by its key in sys.modules, which rootModule() reads; they can differ
  // (_collections_abc calls itself collections.abc).
  const keys = new Map<number, string[]>();
  for (let r = 0; r < snap.rootObject.length; r++) {
    const key = snap.rootKind[r] === ROOT_MODULE ? moduleKey(snap.strings.get(snap.rootLabel[r])) : null;
    if (key !== null) keys.set(snap.rootObject[r], [...(keys.get(snap.rootObject[r]) ?? []), key]);
  }
  for (let i = 0; i < snap.objectCount; i++) {
    if (snap.type[i] !== moduleType) continue;
    const name = objectName(snap, i);
    if (name === "__main__") continue;
    const file = attribute(snap, i, "__file__");
    const path = file === NONE ? "" : objectName(snap, file);
    const names = [name, ...(keys.get(i) ?? []).filter((key) => key !== "__main__")];
    if (file === NONE || isStandardLibraryFile(path) || isAgentModule(name)) names.forEach((n) => library.add(n));
    else if (INSTALLED_FILE.test(path)) names.forEach((n) => thirdParty.add(n));
  }
  return { library, thirdParty };
}

/** Index of the object at `address` in the last snapshot, or -1. */
export function objectAt(ctx: Context, address: number | null | undefined): number {
  if (typeof address !== "number") return -1;
  return findObject(ctx.last, address);
}

export function pathOf(ctx: Context, i: number): string | null {
  return ctx.graph && i >= 0 ? pathExpr(ctx.graph, i) : null;
}

/** What to know before evaluating the object's path (a thread's frame it needs, why no root reaches it), or null. */
export function pathNoteOf(ctx: Context, i: number): string | null {
  return ctx.graph && i >= 0 ? shortestPaths(ctx.graph, i, { k: 1 })[0]?.note ?? null : null;
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
    const key = moduleKey(snap.strings.get(snap.rootLabel[r]));
    if (key !== null) return key;
  }
  return null;
}

/** The key in sys.modules of a module root's label (`sys.modules['os.path']` -> "os.path"), or null. */
export function moduleKey(label: string): string | null {
  return /^sys\.modules\['([^']+)'\]$/.exec(label)?.[1] ?? null;
}

/** The object is held (along its shortest path) by a standard-library or agent module. */
export function heldByLibrary(ctx: Context, i: number): boolean {
  const module = rootModule(ctx, i);
  return module !== null && ctx.libraryModules.has(module);
}

/**
 * The object is held (along its shortest path) by the capture agent's own module or threads: the agent's state,
 * such as the namespace it keeps when run as `python3 -m leakbook`, is not the program's memory.
 */
export function heldByAgent(ctx: Context, i: number): boolean {
  return ctx.graph !== null && i >= 0 && heldByAgentModule(ctx.graph)[i] === 1;
}

/** A type defined by a standard-library module or a built-in type ("builtins.dict", "enum.EnumType"). */
export function isLibraryType(ctx: Context, type: string): boolean {
  const dot = type.lastIndexOf(".");
  if (dot < 0) return true;
  const module = type.slice(0, dot);
  return module === "builtins" || ctx.libraryModules.has(module);
}

/**
 * The module a qualified name ("pkg.mod.Class.method") belongs to: its longest dotted prefix that names a library
 * or third-party module, "builtins" for builtins, else null (the program's own, or unknown).
 */
export function foreignModuleOf(ctx: Context, qualified: string): string | null {
  if (qualified.startsWith("builtins.") || !qualified.includes(".")) return "builtins";
  for (let dot = qualified.lastIndexOf("."); dot > 0; dot = qualified.lastIndexOf(".", dot - 1)) {
    const module = qualified.slice(0, dot);
    if (ctx.libraryModules.has(module) || ctx.thirdPartyModules.has(module)) return module;
  }
  return null;
}

/** The qualified name belongs to a library or third-party module ("sqlalchemy.engine.base.Engine"), not builtins. */
export function isLibraryName(ctx: Context, qualified: string): boolean {
  const module = foreignModuleOf(ctx, qualified);
  return module !== null && module !== "builtins";
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
