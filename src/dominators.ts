// Dominator tree of the heap from a virtual root above all roots: Lengauer–Tarjan with simple eval/link
// and path compression, an iterative depth-first search, 1-indexed typed arrays and buckets kept as an
// integer linked list. Scratch arrays double up where their lifetimes allow:
// - the DFS parent array is also the forest's `ancestor` array: a node is linked exactly when its
//   DFS number is >= `linkedFrom` (nodes are linked in decreasing order), so "ancestor == 0" needs no zero;
// - a node leaves its bucket exactly when its (preliminary) idom is written, so both share one array;
// - during the DFS, `label` holds the DFS stack and `semi` the per-node edge cursor;
// - the object -> DFS number array becomes the object-space idom array at the end.
// The DFS itself uses forward edges only; predecessors are rebuilt in DFS-number space for the main loop,
// whose random reads then stay within arrays indexed by DFS number. The same DFS runs Tarjan's algorithm,
// so the strongly connected components of everything the roots reach cost no pass of their own.
import { DONE_BASE } from "./scc.js";

export interface ForwardGraph {
  objectCount: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
}

export interface DominatorResult {
  /** Immediate dominator per object; objectCount = the virtual root. */
  idom: Uint32Array;
  /** Objects in DFS preorder from the virtual root: order[1] = objectCount (the virtual root), order[2..n+1] objects. */
  order: Uint32Array;
  /** The roots that `moreRoots` returned. */
  extraRoots: Uint32Array;
}

/**
 * Asked once everything `roots` reach has been explored: `reached[o] !== 0` iff object o was reached, and the
 * caller's `scc` array holds their components (DONE_BASE - id, ids 0 .. components - 1). Returns further
 * roots, after giving every object not reached its component.
 */
export type MoreRoots = (reached: Uint32Array, components: number) => Uint32Array;

/**
 * `roots` are explored first, then the roots `moreRoots` returns; every object must end up reached.
 * The DFS from `roots` also runs Tarjan's algorithm, filling `scc` (zeroed, one word per object) for
 * everything it reaches, which saves a separate pass over the heap.
 */
export function dominatorTree(
  g: ForwardGraph,
  roots: Uint32Array,
  moreRoots: MoreRoots,
  scc: Uint32Array,
  onProgress?: (step: string, done: number, total: number) => void,
): DominatorResult {
  const n = g.objectCount;
  const { edgeStart, edgeTarget } = g;
  const size = n + 2; // DFS numbers 1 (virtual root) .. n + 1
  const dfnOf = new Uint32Array(n); // 0 = not reached yet
  const vertex = new Uint32Array(size);
  const parentAnc = new Uint32Array(size);
  const semi = new Uint32Array(size);
  const label = new Uint32Array(size);
  const bucketHead = new Uint32Array(size);
  const bucketNextIdom = new Uint32Array(size);
  const isRoot = new Uint8Array(n);
  // DFS number of every edge's target, written as the DFS scans each edge: predecessors by DFS number are
  // then built from sequential reads instead of a random lookup per edge.
  const targetNumber = new Uint32Array(edgeStart[n]);

  vertex[1] = n;
  let next = 2;
  const dfsStack = label;
  const cursor = semi;
  // Tarjan's lowlink and stack of open nodes, by DFS number, in arrays the main loop only needs later.
  const low = bucketHead;
  const open = bucketNextIdom;
  let openTop = 0;
  let components = 0;
  const explore = (start: number, tarjan: boolean): void => {
    isRoot[start] = 1;
    if (dfnOf[start] !== 0) return;
    dfnOf[start] = next;
    vertex[next] = start;
    parentAnc[next] = 1;
    cursor[next] = edgeStart[start];
    if (tarjan) {
      low[next] = next;
      open[openTop++] = next;
    }
    dfsStack[0] = next++;
    let depth = 1;
    while (depth > 0) {
      const w = dfsStack[depth - 1];
      const end = edgeStart[vertex[w] + 1];
      let c = cursor[w];
      let found = -1;
      while (c < end) {
        const t = edgeTarget[c];
        const d = dfnOf[t];
        if (d === 0) {
          found = t;
          targetNumber[c++] = next;
          break;
        }
        targetNumber[c++] = d;
        // A reached object without a component is still open, so on Tarjan's stack.
        if (tarjan && d < low[w] && scc[t] === 0) low[w] = d;
      }
      cursor[w] = c;
      if (found >= 0) {
        dfnOf[found] = next;
        vertex[next] = found;
        parentAnc[next] = w;
        cursor[next] = edgeStart[found];
        if (tarjan) {
          low[next] = next;
          open[openTop++] = next;
        }
        dfsStack[depth++] = next++;
        if ((next & 0xfffff) === 0) onProgress?.("dfs", next, n);
        continue;
      }
      depth--;
      if (!tarjan) continue;
      if (low[w] === w) {
        const id = DONE_BASE - components++;
        let x;
        do {
          x = open[--openTop];
          scc[vertex[x]] = id;
        } while (x !== w);
      } else if (depth > 0 && low[w] < low[dfsStack[depth - 1]]) {
        low[dfsStack[depth - 1]] = low[w];
      }
    }
  };
  for (let i = 0; i < roots.length; i++) explore(roots[i], true);
  const extraRoots = moreRoots(dfnOf, components);
  for (let i = 0; i < extraRoots.length; i++) explore(extraRoots[i], false);
  bucketHead.fill(0);
  if (next !== n + 2) throw new Error(`dominators: ${n + 2 - next} objects not reached from any root`);
  onProgress?.("dfs", n, n);

  for (let i = 1; i < size; i++) {
    semi[i] = i;
    label[i] = i;
  }
  const { predStart, preds } = predecessorsByNumber(n, edgeStart, targetNumber, vertex);
  const compressStack = new Uint32Array(n);

  let linkedFrom = size; // DFS numbers >= linkedFrom are linked into the forest
  // Returns the node with the smallest semi on the forest path above v (v itself if v is a forest root).
  const evaluate = (v: number): number => {
    if (v < linkedFrom) return v;
    let x = v;
    let sp = 0;
    while (parentAnc[x] >= linkedFrom) {
      compressStack[sp++] = x;
      x = parentAnc[x];
    }
    while (sp > 0) {
      const y = compressStack[--sp];
      const a = parentAnc[y];
      if (semi[label[a]] < semi[label[y]]) label[y] = label[a];
      parentAnc[y] = parentAnc[a];
    }
    return label[v];
  };

  const N = n + 1;
  for (let w = N; w >= 2; w--) {
    let s = parentAnc[w];
    if (isRoot[vertex[w]]) s = 1;
    for (let k = predStart[w], end = predStart[w + 1]; k < end; k++) {
      const v = preds[k];
      const candidate = v <= w ? v : semi[evaluate(v)];
      if (candidate < s) s = candidate;
    }
    semi[w] = s;
    bucketNextIdom[w] = bucketHead[s];
    bucketHead[s] = w;
    const p = parentAnc[w];
    linkedFrom = w; // link(p, w): parentAnc[w] already holds p
    let v = bucketHead[p];
    bucketHead[p] = 0;
    while (v !== 0) {
      const following = bucketNextIdom[v];
      const u = evaluate(v);
      bucketNextIdom[v] = semi[u] < semi[v] ? u : p;
      v = following;
    }
    if ((w & 0xfffff) === 0) onProgress?.("semidominators", N - w, N);
  }
  const idomDfn = bucketNextIdom;
  for (let w = 2; w <= N; w++) {
    if (idomDfn[w] !== semi[w]) idomDfn[w] = idomDfn[idomDfn[w]];
  }
  const idom = dfnOf; // filled in place: walking by DFS number, dfnOf itself is no longer read
  for (let w = 2; w <= N; w++) idom[vertex[w]] = vertex[idomDfn[w]];
  return { idom, order: vertex, extraRoots };
}

/**
 * Predecessors of every node by DFS number, in DFS-number space: the main loop then reads them in order
 * instead of chasing object indices through the reverse graph (memory latency dominates on large heaps).
 */
function predecessorsByNumber(n: number, edgeStart: Uint32Array, targetNumber: Uint32Array, vertex: Uint32Array) {
  const e = edgeStart[n];
  const predStart = new Uint32Array(n + 3);
  for (let k = 0; k < e; k++) predStart[targetNumber[k]]++;
  let sum = 0;
  for (let w = 0; w < n + 3; w++) {
    sum += predStart[w];
    predStart[w] = sum; // end of w's slice for now; the fill below decrements it to the start
  }
  const preds = new Uint32Array(e);
  for (let v = n + 1; v >= 2; v--) {
    const o = vertex[v];
    for (let k = edgeStart[o + 1] - 1; k >= edgeStart[o]; k--) preds[--predStart[targetNumber[k]]] = v;
  }
  return { predStart, preds };
}
