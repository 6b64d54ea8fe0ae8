// The two whole-graph passes of the analysis that need only the forward edges and write into arrays they are
// given: the reverse graph and the breadth-first search. Both run either on the main thread or on the helper
// thread (graph-helper.ts), which is why they allocate none of their results.
import { NONE } from "./snapshot.js";

export interface ReverseGraph {
  revStart: Uint32Array;
  revSource: Uint32Array;
  revEdge: Uint32Array;
}

export interface BreadthFirstTree {
  distance: Uint32Array;
  bfsEdge: Uint32Array;
}

/** Arrays of the right lengths for the reverse graph of an n-object, e-edge graph. */
export function reverseGraphArrays(n: number, e: number, words: (length: number) => Uint32Array): ReverseGraph {
  return { revStart: words(n + 1), revSource: words(e), revEdge: words(e) };
}

/**
 * Counting sort of the forward edges by target into `out` (zeroed); each object's incoming edges come out in
 * forward-edge order.
 */
export function reverseEdges(n: number, edgeStart: Uint32Array, edgeTarget: Uint32Array, out: ReverseGraph): void {
  const { revStart, revSource, revEdge } = out;
  const e = edgeStart[n];
  for (let k = 0; k < e; k++) revStart[edgeTarget[k]]++;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += revStart[i];
    revStart[i] = sum; // end of i's slice for now; the fill below decrements it to the start
  }
  revStart[n] = e;
  for (let s = n - 1; s >= 0; s--) {
    for (let k = edgeStart[s + 1] - 1; k >= edgeStart[s]; k--) {
      const slot = --revStart[edgeTarget[k]];
      revSource[slot] = s;
      revEdge[slot] = k;
    }
  }
}

/**
 * Multi-source BFS from `starts` (distance 0; repeats allowed), recording in `out` the edge each object was
 * first reached by (NONE for the starts); of equally short paths the one from the earlier start wins.
 * `queue` has room for every object.
 */
export function breadthFirst(
  n: number,
  edgeStart: Uint32Array,
  edgeTarget: Uint32Array,
  starts: Uint32Array,
  queue: Uint32Array,
  out: BreadthFirstTree,
): void {
  const distance = out.distance.fill(NONE);
  const bfsEdge = out.bfsEdge.fill(NONE);
  let tail = 0;
  for (let i = 0; i < starts.length; i++) {
    const r = starts[i];
    if (distance[r] === NONE) {
      distance[r] = 0;
      queue[tail++] = r;
    }
  }
  // The queue holds whole levels in order: the objects of distance d - 1 end where those of d begin.
  let levelEnd = tail;
  let d = 1;
  for (let head = 0; head < tail; head++) {
    if (head === levelEnd) {
      levelEnd = tail;
      d++;
    }
    const o = queue[head];
    for (let k = edgeStart[o], end = edgeStart[o + 1]; k < end; k++) {
      const t = edgeTarget[k];
      if (distance[t] === NONE) {
        distance[t] = d;
        bfsEdge[t] = k;
        queue[tail++] = t;
      }
    }
  }
}
