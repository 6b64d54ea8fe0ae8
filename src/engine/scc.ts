// Strongly connected components of the forward graph: Pearce's space-efficient variant of Tarjan's algorithm,
// iterative, over typed arrays. The components of everything the roots reach are found during the dominator
// DFS (see dominators.ts); this pass covers the rest, treating objects already assigned as finished.

/**
 * Component values in the working array count down from here, far above any DFS or visit number, so the
 * two never compare as equal: component k is stored as DONE_BASE - k, and 0 means "not visited yet".
 */
export const DONE_BASE = 0xfffffffe;

/**
 * Assigns components to the objects in `starts` that have none yet (`scc[o] === 0`), numbering them from
 * `firstId` in the order they complete (sinks first). `starts` must hold every object without a component
 * that they reach (its length bounds the stacks). With `cyclic`, the members of components of two or more
 * objects get a 1 there. Returns the number of components assigned.
 */
export function assignComponents(
  edgeStart: Uint32Array,
  edgeTarget: Uint32Array,
  scc: Uint32Array,
  starts: Uint32Array,
  firstId: number,
  cyclic?: Uint8Array,
): number {
  // scc[o] during the pass: 0 = unvisited; small numbers = visit index (lowered to the lowest index
  // reachable); DONE_BASE - k = member of component k.
  const count = starts.length;
  const frameNode = new Uint32Array(count);
  const frameCursor = new Uint32Array(count);
  const isRoot = new Uint8Array(count);
  const pending = new Uint32Array(count); // Tarjan's stack of visited objects whose component is still open
  let pendingTop = 0;
  let index = 1;
  let done = DONE_BASE - firstId;

  for (let s = 0; s < starts.length; s++) {
    const start = starts[s];
    if (scc[start] !== 0) continue;
    scc[start] = index++;
    isRoot[0] = 1;
    frameNode[0] = start;
    frameCursor[0] = edgeStart[start];
    let depth = 1;
    while (depth > 0) {
      const v = frameNode[depth - 1];
      const cursor = frameCursor[depth - 1];
      if (cursor < edgeStart[v + 1]) {
        frameCursor[depth - 1] = cursor + 1;
        const w = edgeTarget[cursor];
        if (scc[w] === 0) {
          scc[w] = index++;
          isRoot[depth] = 1;
          frameNode[depth] = w;
          frameCursor[depth] = edgeStart[w];
          depth++;
        } else if (scc[w] < scc[v]) {
          scc[v] = scc[w];
          isRoot[depth - 1] = 0;
        }
        continue;
      }
      // All successors of v explored: close its component or leave it pending for an ancestor.
      depth--;
      if (isRoot[depth]) {
        index--;
        const own = scc[v];
        const before = pendingTop;
        while (pendingTop > 0 && own <= scc[pending[pendingTop - 1]]) {
          scc[pending[--pendingTop]] = done;
          if (cyclic) cyclic[pending[pendingTop]] = 1;
          index--;
        }
        scc[v] = done;
        if (cyclic && pendingTop < before) cyclic[v] = 1;
        done--;
      } else {
        pending[pendingTop++] = v;
      }
      if (depth > 0 && scc[v] < scc[frameNode[depth - 1]]) {
        scc[frameNode[depth - 1]] = scc[v];
        isRoot[depth - 1] = 0;
      }
    }
  }
  return DONE_BASE - firstId - done;
}

export interface SccResult {
  /** Component id per object, numbered in the order components complete (sinks first). */
  scc: Uint32Array;
  count: number;
}

/**
 * Components of a whole graph in CSR form (for graphs other than the one analyze() walks, e.g. filtered edges).
 * With `cyclic`, the members of components of two or more objects get a 1 there.
 */
export function stronglyConnected(objectCount: number, edgeStart: Uint32Array, edgeTarget: Uint32Array, cyclic?: Uint8Array): SccResult {
  const scc = new Uint32Array(objectCount);
  const all = new Uint32Array(objectCount);
  for (let i = 0; i < objectCount; i++) all[i] = i;
  const count = assignComponents(edgeStart, edgeTarget, scc, all, 0, cyclic);
  for (let i = 0; i < objectCount; i++) scc[i] = DONE_BASE - scc[i];
  return { scc, count };
}
