// Dominator tree of the heap from a virtual root above all roots: Semi-NCA (Lengauer–Tarjan's
// semidominators by simple eval/link with path compression, then each immediate dominator as the nearest
// common ancestor of DFS parent and semidominator), over an iterative DFS and 1-indexed typed arrays.
// Lengauer–Tarjan's bucket pass takes over should the NCA climbs grow quadratic. On large heaps memory
// latency, not arithmetic, sets the pace, so the layout aims at few cache misses:
// - the semidominator loop's forest keeps a node's two fields (ancestor, best semidominator on the path)
//   side by side, 8 bytes a node, so a path-compression step touches one cache line per node;
// - predecessors by DFS number are gathered from the caller's reverse graph (which the heap graph keeps
//   anyway; see gatherPredecessors), instead of a second counting sort of every edge;
// - the DFS from the roots runs Tarjan's algorithm in Pearce's form: one object-indexed word holds "not
//   seen", the DFS number while the node is open, then its component, so each edge costs one random read.
// Scratch arrays double up where their lifetimes allow (noted where it happens).
import type { Predecessors } from "./edge-passes.js";
import { DONE_BASE } from "./scc.js";

export interface DominatorInput {
  objectCount: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /**
   * Predecessors of every node by DFS number (`gatherPredecessors` in edge-passes.ts), asked for once, after
   * the DFS, with each object's DFS number: the reverse graph they come from can be built meanwhile.
   */
  predecessors: (dfnOf: Uint32Array) => Predecessors;
}

export interface DominatorResult {
  /** Immediate dominator per object; objectCount = the virtual root. */
  idom: Uint32Array;
  /** Objects in DFS preorder from the virtual root: order[1] = objectCount (the virtual root), order[2..n+1] objects. */
  order: Uint32Array;
  /** Immediate dominator by DFS number: idomByNumber[w] < w for w in 2..n+1 (1 = the virtual root). */
  idomByNumber: Uint32Array;
  /**
   * Scratch arrays the caller may reuse, contents undefined: 4 * (n + 2) words and n + 2 words. Fresh memory
   * costs a page fault per 4 KiB on first touch, which adds up to a good share of the time on large heaps.
   */
  scratch: { wide: Uint32Array; narrow: Uint32Array };
  /** The roots that `moreRoots` returned. */
  extraRoots: Uint32Array;
}

/**
 * The strongly connected components the DFS finds: `scc` (zeroed, a word per object) receives each reached
 * object's component as DONE_BASE - id, and `cyclic` (zeroed, a byte per object) 1 for the members of
 * components of two or more objects.
 */
export interface ComponentArrays {
  scc: Uint32Array;
  cyclic: Uint8Array;
}

/**
 * Asked once everything `roots` reach has been explored: `reached[o] !== 0` iff object o was reached, and the
 * caller's component arrays hold their components (ids 0 .. components - 1). Returns further roots, after
 * giving every object not reached its component.
 */
export type MoreRoots = (reached: Uint32Array, components: number) => Uint32Array;

/** The working arrays of dominatorTree, all zeroed; allocated by the caller if it wants them in shared memory. */
export interface DominatorArrays {
  /** DFS number -> object (n + 2 words) */
  vertex: Uint32Array;
  /**
   * 4 (n + 2) words, 4 a node: the DFS's fields, then the forest (2 words a node), the labels of the bucket
   * pass and the semidominators.
   */
  words: Uint32Array;
  /**
   * Two more arrays of n + 2 words, each with a succession of uses: `spareA` is the DFS stack, then the
   * path-compression stack, then the immediate dominators (or the bucket heads of the fallback); `spareB` is
   * Tarjan's stack, then the DFS parents, then (in the fallback) bucket links and immediate dominators.
   */
  spareA: Uint32Array;
  spareB: Uint32Array;
  /** object -> DFS number (n words; 0 = not reached yet), then the immediate dominators */
  dfnOf: Uint32Array;
  /** n + 2 bytes: 1 for the DFS numbers of roots */
  isRoot: Uint8Array;
}

export function dominatorArrays(
  n: number,
  words: (length: number) => Uint32Array = (length) => new Uint32Array(length),
  bytes: (length: number) => Uint8Array = (length) => new Uint8Array(length),
): DominatorArrays {
  const size = n + 2;
  return {
    vertex: words(size), words: words(4 * size), spareA: words(size), spareB: words(size), dfnOf: words(n),
    isRoot: bytes(size),
  };
}

export interface DominatorOptions {
  /** the working arrays, if the caller allocated them */
  arrays?: DominatorArrays;
  onProgress?: (step: string, done: number, total: number) => void;
  /**
   * Bounds Semi-NCA's climbing steps before the bucket pass takes over (default 8 (n + 1) + 2^20; tests pass
   * 0 to exercise the fallback).
   */
  stepBudget?: number;
}

// Fields of node w in the DFS's array, at 4 * w + field.
const PARENT = 0;
const CURSOR = 1; // next edge to scan
const LOW = 2; // Tarjan's lowlink
const END = 3; // end of the node's edges
// Fields of node w in the forest array of the semidominator loop, at 2 * w + field: two words a node, so
// that a path-compression step touches one cache line per node.
const ANCESTOR = 0; // DFS parent; once w is linked, the forest ancestor that path compression moves up
const BEST = 1; // smallest semidominator on the compressed path above w (w's own once it is linked)

/** Working state of the depth-first search, shared by the search from the roots and from the extra roots. */
interface Search {
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /** DFS number -> object */
  vertex: Uint32Array;
  /** per DFS number: PARENT, CURSOR, LOW, END */
  nodes: Uint32Array;
  /** DFS stack of DFS numbers */
  stack: Uint32Array;
  /** Tarjan's stack of open nodes (DFS numbers) */
  open: Uint32Array;
  /** next DFS number to hand out */
  next: number;
  components: number;
  /** the XOR of the words the search read ahead of need, kept so that the compiler keeps those reads */
  touched: number;
  cyclic: Uint8Array;
}

/**
 * `roots` are explored first, then the roots `moreRoots` returns; every object must end up reached.
 * The DFS from `roots` also runs Tarjan's algorithm, filling the component arrays for everything it reaches,
 * which saves a separate pass over the heap.
 */
export function dominatorTree(
  g: DominatorInput,
  roots: Uint32Array,
  moreRoots: MoreRoots,
  components: ComponentArrays,
  opts: DominatorOptions = {},
): DominatorResult {
  const n = g.objectCount;
  const size = n + 2; // DFS numbers 1 (virtual root) .. n + 1
  const { onProgress, stepBudget } = opts;
  const { vertex, words, spareA, spareB, dfnOf, isRoot } = opts.arrays ?? dominatorArrays(n);
  vertex[1] = n;
  const search: Search = {
    edgeStart: g.edgeStart, edgeTarget: g.edgeTarget, vertex, nodes: words, stack: spareA, open: spareB,
    next: 2, components: 0, touched: 0, cyclic: components.cyclic,
  };
  const { scc } = components;
  depthFirst(search, roots, scc, true, scc);
  for (let w = 2; w < search.next; w++) dfnOf[vertex[w]] = w;
  const extraRoots = moreRoots(dfnOf, search.components);
  depthFirst(search, extraRoots, dfnOf, false, scc);
  if (search.next !== n + 2) throw new Error(`dominators: ${n + 2 - search.next} objects not reached from any root`);
  onProgress?.("dfs", n, n);

  // Roots have the virtual root (DFS number 1) as a predecessor.
  for (let i = 0; i < roots.length; i++) isRoot[dfnOf[roots[i]]] = 1;
  for (let i = 0; i < extraRoots.length; i++) isRoot[dfnOf[extraRoots[i]]] = 1;
  const parent = spareB; // kept apart: linking overwrites the forest's copy
  for (let w = 1; w < size; w++) parent[w] = words[4 * w + PARENT];
  const forest = words.subarray(0, 2 * size);
  for (let w = 1; w < size; w++) forest[2 * w + ANCESTOR] = parent[w];
  const semi = words.subarray(3 * size, 4 * size);

  const { predStart, preds } = g.predecessors(dfnOf);
  onProgress?.("predecessors", n, n);
  const N = n + 1;
  const compressStack = spareA;
  for (let w = N; w >= 2; w--) {
    let s = isRoot[w] === 1 ? 1 : parent[w];
    // Nodes above w are linked (w itself is once its semidominator is known), so a predecessor v > w
    // evaluates to the smallest semidominator on its forest path.
    for (let k = predStart[w], end = predStart[w + 1]; k < end; k++) {
      const v = preds[k];
      const candidate = v <= w ? v : evaluate(forest, null, v, w + 1, compressStack);
      if (candidate < s) s = candidate;
    }
    semi[w] = s;
    forest[2 * w + BEST] = s;
    if ((w & 0xfffff) === 0) onProgress?.("semidominators", N - w, N);
  }
  onProgress?.("semidominators", N, N);
  const idomDfn = nearestCommonAncestors(semi, parent, spareA, N, stepBudget ?? 8 * N + (1 << 20)) ??
    bucketPass(forest, words.subarray(2 * size, 3 * size), semi, parent, spareA, N);
  const idom = dfnOf; // filled in place: walking by DFS number, dfnOf itself is no longer read
  for (let w = 2; w <= N; w++) idom[vertex[w]] = vertex[idomDfn[w]];
  const narrow = idomDfn === spareA ? spareB : spareA;
  return { idom, order: vertex, idomByNumber: idomDfn, extraRoots, scratch: { wide: words, narrow } };
}

/**
 * Semi-NCA's second pass: in DFS order, the immediate dominator of w is the nearest common ancestor of its
 * DFS parent and its semidominator in the dominator tree built so far, found by climbing from the parent.
 * Faster than Lengauer–Tarjan's buckets on heaps, but quadratic on rare shapes (a long dominator chain with
 * many nodes below it whose semidominators lie above it): past `budget` climbing steps it gives up (null).
 */
function nearestCommonAncestors(
  semi: Uint32Array,
  parent: Uint32Array,
  idom: Uint32Array,
  last: number,
  budget: number,
): Uint32Array | null {
  let steps = 0;
  for (let w = 2; w <= last; w++) {
    const s = semi[w];
    let x = parent[w];
    while (x > s) {
      x = idom[x];
      if (++steps > budget) return null;
    }
    idom[w] = x;
  }
  return idom;
}

/**
 * Lengauer–Tarjan's second half, run from the known semidominators when Semi-NCA gives up: the forest is
 * linked again from the bottom, and each node in the bucket of its semidominator is resolved by one eval.
 * `parentThenIdom` holds each node's DFS parent until the node is processed, then the bucket list link,
 * then its immediate dominator (returned).
 */
function bucketPass(
  forest: Uint32Array,
  label: Uint32Array,
  semi: Uint32Array,
  parentThenIdom: Uint32Array,
  bucketHead: Uint32Array,
  last: number,
): Uint32Array {
  bucketHead.fill(0);
  const stack = new Uint32Array(last + 1);
  for (let w = last; w >= 2; w--) {
    const p = parentThenIdom[w];
    const s = semi[w];
    forest[2 * w + ANCESTOR] = p;
    forest[2 * w + BEST] = s;
    label[w] = w;
    parentThenIdom[w] = bucketHead[s];
    bucketHead[s] = w;
    let v = bucketHead[p];
    bucketHead[p] = 0;
    while (v !== 0) {
      const following = parentThenIdom[v];
      const best = evaluate(forest, label, v, w, stack);
      parentThenIdom[v] = best < semi[v] ? label[v] : p;
      v = following;
    }
  }
  for (let w = 2; w <= last; w++) {
    if (parentThenIdom[w] !== semi[w]) parentThenIdom[w] = parentThenIdom[parentThenIdom[w]];
  }
  return parentThenIdom;
}

/**
 * eval(v) of Lengauer–Tarjan for a linked node v (nodes >= linkedFrom are linked): compresses the path above v
 * and returns the smallest semidominator on it. With `label`, the node holding it follows along into label[v].
 */
function evaluate(forest: Uint32Array, label: Uint32Array | null, v: number, linkedFrom: number, stack: Uint32Array): number {
  let x = v;
  let sp = 0;
  while (forest[2 * x + ANCESTOR] >= linkedFrom) {
    stack[sp++] = x;
    x = forest[2 * x + ANCESTOR];
  }
  while (sp > 0) {
    const y = stack[--sp];
    const a = forest[2 * y + ANCESTOR];
    if (forest[2 * a + BEST] < forest[2 * y + BEST]) {
      forest[2 * y + BEST] = forest[2 * a + BEST];
      if (label !== null) label[y] = label[a];
    }
    forest[2 * y + ANCESTOR] = forest[2 * a + ANCESTOR];
  }
  return forest[2 * v + BEST];
}

/**
 * Iterative DFS from each of `starts` not seen yet, numbering objects in preorder (vertex, PARENT).
 * `seen[o]` is 0 for objects not reached and receives their DFS numbers. With `tarjan`, `seen` must be the
 * `scc` array: Pearce's form of Tarjan's algorithm then replaces each DFS number by DONE_BASE - component
 * once the component closes, a value no lowlink comparison can pick.
 */
function depthFirst(s: Search, starts: Uint32Array, seen: Uint32Array, tarjan: boolean, scc: Uint32Array): void {
  const { edgeStart, edgeTarget, vertex, nodes, stack, open, cyclic } = s;
  let next = s.next;
  let openTop = 0;
  let components = s.components;
  let touched = 0;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i];
    if (seen[start] !== 0) continue;
    seen[start] = next;
    vertex[next] = start;
    nodes[4 * next + PARENT] = 1;
    nodes[4 * next + CURSOR] = edgeStart[start];
    nodes[4 * next + END] = edgeStart[start + 1];
    nodes[4 * next + LOW] = next;
    if (tarjan) open[openTop++] = next;
    stack[0] = next++;
    let depth = 1;
    while (depth > 0) {
      const w = stack[depth - 1];
      const end = nodes[4 * w + END];
      let c = nodes[4 * w + CURSOR];
      let low = nodes[4 * w + LOW];
      let found = -1;
      while (c < end) {
        const t = edgeTarget[c++];
        const x = seen[t];
        if (x === 0) {
          found = t;
          break;
        }
        // Open objects hold their DFS number; closed ones a value above every DFS number.
        if (x < low) low = x;
      }
      nodes[4 * w + CURSOR] = c;
      if (tarjan) nodes[4 * w + LOW] = low;
      if (found >= 0) {
        seen[found] = next;
        vertex[next] = found;
        nodes[4 * next + PARENT] = w;
        const first = edgeStart[found];
        const stop = edgeStart[found + 1];
        nodes[4 * next + CURSOR] = first;
        nodes[4 * next + END] = stop;
        // Touch the new node's targets, and the edges of those not seen yet, now: their cache misses then
        // overlap, instead of coming one after another as the search reaches them.
        for (let k = first; k < stop; k++) {
          const t = edgeTarget[k];
          if (seen[t] === 0) touched ^= edgeStart[t];
        }
        nodes[4 * next + LOW] = next;
        if (tarjan) open[openTop++] = next;
        stack[depth++] = next++;
        continue;
      }
      depth--;
      if (!tarjan) continue;
      if (low === w) {
        const id = DONE_BASE - components++;
        const several = open[openTop - 1] !== w; // w is the component's first member on the stack
        let x;
        do {
          x = open[--openTop];
          scc[vertex[x]] = id;
          if (several) cyclic[vertex[x]] = 1;
        } while (x !== w);
      } else {
        const parent = stack[depth - 1]; // low < w, so w is not the start and has a parent on the stack
        if (low < nodes[4 * parent + LOW]) nodes[4 * parent + LOW] = low;
      }
    }
  }
  s.next = next;
  s.components = components;
  s.touched ^= touched;
}
