// The whole-graph passes of the analysis that can run on either thread and write into arrays they are given:
// the reverse graph, the predecessors by DFS number and the columns by DFS number (both by ranges, so that
// two threads can share them) and the breadth-first search. They run on the main thread or on the helper
// thread (graph-helper.ts).
import { NONE } from "./snapshot.js";

export interface ReverseGraph {
  revStart: Uint32Array;
  revSource: Uint32Array;
  revEdge: Uint32Array;
  /** objects with a reference to themselves, ascending (found on the way: the pass reads every edge anyway) */
  selfLoops: Uint32Array;
}

export interface BreadthFirstTree {
  distance: Uint32Array;
  bfsEdge: Uint32Array;
}

/** Arrays of the right lengths for the reverse graph of an n-object, e-edge graph. */
export function reverseGraphArrays(n: number, e: number, words: (length: number) => Uint32Array): ReverseGraph {
  return { revStart: words(n + 1), revSource: words(e), revEdge: words(e), selfLoops: new Uint32Array(0) };
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
  const selfLoops: number[] = [];
  for (let s = n - 1; s >= 0; s--) {
    for (let k = edgeStart[s + 1] - 1; k >= edgeStart[s]; k--) {
      const t = edgeTarget[k];
      const slot = --revStart[t];
      revSource[slot] = s;
      revEdge[slot] = k;
      if (t === s && selfLoops[selfLoops.length - 1] !== s) selfLoops.push(s);
    }
  }
  out.selfLoops = Uint32Array.from(selfLoops.reverse());
}

/** Predecessors of every node by DFS number w: preds[predStart[w] .. predStart[w + 1] - 1], as DFS numbers. */
export interface Predecessors {
  predStart: Uint32Array;
  preds: Uint32Array;
}

/**
 * Where each DFS number's predecessors start (`predStart`, n + 3 words: DFS numbers run 1 .. n + 1), from the
 * reverse graph's in-degrees. The predecessors themselves are then gathered by `gatherPredecessors`.
 */
export function predecessorStarts(n: number, revStart: Uint32Array, dfnOf: Uint32Array, predStart: Uint32Array): void {
  for (let o = 0; o < n; o++) predStart[dfnOf[o] + 1] = revStart[o + 1] - revStart[o];
  for (let w = 2; w <= n + 1; w++) predStart[w + 1] += predStart[w];
}

/**
 * Fills the predecessors of objects from .. to - 1 (each object's own slice of `preds`, so that two threads
 * can fill two ranges at once). Gathered in object order, the reverse graph is read sequentially and every random
 * access (a DFS number, a destination slice) is independent of the others, so the processor overlaps their
 * cache misses; the semidominator loop then reads the result in order.
 */
export function gatherPredecessors(
  from: number,
  to: number,
  reverse: { revStart: Uint32Array; revSource: Uint32Array },
  dfnOf: Uint32Array,
  out: Predecessors,
): void {
  const { revStart, revSource } = reverse;
  const { predStart, preds } = out;
  for (let o = from; o < to; o++) {
    let k = predStart[dfnOf[o]];
    for (let r = revStart[o], end = revStart[o + 1]; r < end; r++) preds[k++] = dfnOf[revSource[r]];
  }
}

/** The snapshot's size and type columns, read in DFS order into arrays by DFS number (index w - 2 for w). */
export interface ColumnsByNumber {
  /** DFS number -> object */
  order: Uint32Array;
  size: Float64Array;
  type: Uint32Array;
  sizeOut: Float64Array;
  typeOut: Uint32Array;
}

/**
 * Fills the columns by DFS number for DFS numbers from + 2 .. to + 1. The reads are at random, so this is a
 * pass of its own (run on the helper thread while the main thread is busy) rather than part of a later one.
 */
export function columnsByNumber(from: number, to: number, c: ColumnsByNumber): void {
  const { order, size, type, sizeOut, typeOut } = c;
  for (let i = from; i < to; i++) {
    const o = order[i + 2];
    sizeOut[i] = size[o];
    typeOut[i] = type[o];
  }
}

/**
 * Multi-source BFS from `starts` (distance 0; repeats allowed), recording in `out` the edge each object was
 * first reached by (NONE for the starts); of equally short paths the one from the earlier start wins. The starts
 * from `lateFrom` on (the engine's extra roots for unreachable objects) are searched from only once everything
 * the earlier ones reach is done, so a reachable object is never first reached through an unreachable one.
 * `queue` has room for every object.
 */
export function breadthFirst(
  n: number,
  edgeStart: Uint32Array,
  edgeTarget: Uint32Array,
  starts: Uint32Array,
  queue: Uint32Array,
  out: BreadthFirstTree,
  lateFrom = starts.length,
): void {
  const distance = out.distance.fill(NONE);
  const bfsEdge = out.bfsEdge.fill(NONE);
  let tail = 0;
  let head = 0;
  const seed = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = starts[i];
      if (distance[r] === NONE) {
        distance[r] = 0;
        queue[tail++] = r;
      }
    }
  };
  const search = () => {
    // The queue holds whole levels in order: the objects of distance d - 1 end where those of d begin.
    let levelEnd = tail;
    let d = 1;
    for (; head < tail; head++) {
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
  };
  seed(0, lateFrom);
  search();
  seed(lateFrom, starts.length);
  search();
}
