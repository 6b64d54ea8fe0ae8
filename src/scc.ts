// Strongly connected components of the forward graph: Pearce's space-efficient variant of Tarjan's
// algorithm, iterative, over typed arrays (one word per object for the result plus three scratch stacks).

/** Component values count down from here, far above any visit index, so the two never compare equal. */
const DONE_BASE = 0xfffffffe;

export interface SccResult {
  /** Component id per object, numbered in the order components complete (sinks first). */
  scc: Uint32Array;
  count: number;
}

export function stronglyConnected(
  objectCount: number,
  edgeStart: Uint32Array,
  edgeTarget: Uint32Array,
  onProgress?: (done: number) => void,
): SccResult {
  const n = objectCount;
  // rindex: 0 = unvisited; small numbers = visit index (lowered to the lowest index reachable);
  // DONE_BASE - k = member of the k-th completed component.
  const rindex = new Uint32Array(n);
  const frameNode = new Uint32Array(n);
  const frameCursor = new Uint32Array(n);
  const isRoot = new Uint8Array(n);
  const pending = new Uint32Array(n); // Tarjan's stack of visited nodes whose component is open
  let pendingTop = 0;
  let index = 1;
  let done = DONE_BASE;
  let finished = 0;

  for (let start = 0; start < n; start++) {
    if (rindex[start] !== 0) continue;
    let depth = 0;
    rindex[start] = index++;
    isRoot[start] = 1;
    frameNode[0] = start;
    frameCursor[0] = edgeStart[start];
    depth = 1;
    while (depth > 0) {
      const v = frameNode[depth - 1];
      const cursor = frameCursor[depth - 1];
      if (cursor < edgeStart[v + 1]) {
        frameCursor[depth - 1] = cursor + 1;
        const w = edgeTarget[cursor];
        if (rindex[w] === 0) {
          rindex[w] = index++;
          isRoot[w] = 1;
          frameNode[depth] = w;
          frameCursor[depth] = edgeStart[w];
          depth++;
        } else if (rindex[w] < rindex[v]) {
          rindex[v] = rindex[w];
          isRoot[v] = 0;
        }
        continue;
      }
      // All successors of v explored: close its component or leave it pending for an ancestor.
      depth--;
      if (isRoot[v]) {
        index--;
        const own = rindex[v];
        while (pendingTop > 0 && own <= rindex[pending[pendingTop - 1]]) {
          rindex[pending[--pendingTop]] = done;
          index--;
        }
        rindex[v] = done;
        done--;
        if ((++finished & 0xfffff) === 0 && onProgress) onProgress(finished);
      } else {
        pending[pendingTop++] = v;
      }
      if (depth > 0) {
        const u = frameNode[depth - 1];
        if (rindex[v] < rindex[u]) {
          rindex[u] = rindex[v];
          isRoot[u] = 0;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) rindex[i] = DONE_BASE - rindex[i];
  return { scc: rindex, count: DONE_BASE - done };
}
