// The heap graph engine: reverse adjacency, unreachable objects, dominator tree, retained sizes,
// breadth-first distances from the roots and strongly connected components, all in typed arrays.
// On large heaps a helper thread (graph-helper.ts) takes the passes that need no dominators (the reverse
// graph, the breadth-first search, part of the dominator search's predecessors and of the retained sizes'
// input) and the first touches of fresh memory; otherwise all of it runs on the calling thread.
import { availableParallelism, loadavg } from "node:os";
import {
  ROOT_BUILTINS, ROOT_GARBAGE, ROOT_LAST_EXC, ROOT_MODULE, ROOT_OTHER, ROOT_THREAD, type Snapshot,
} from "./snapshot.js";
import { dominatorArrays, dominatorTree, type DominatorArrays } from "./dominators.js";
import {
  breadthFirst, columnsByNumber, gatherPredecessors, predecessorStarts, reverseEdges, reverseGraphArrays,
  type ColumnsByNumber, type ReverseGraph,
} from "./edge-passes.js";
import { BY_NUMBER_LOOP, GATHER_LOOP, GraphHelper } from "./graph-helper.js";
import { assignComponents, DONE_BASE } from "./scc.js";
import { analysisNeed, ensureMemory, roomForHelperThread } from "./memory-budget.js";
import { describeSource } from "../common/errors.js";

export interface HeapGraph {
  snap: Snapshot;
  /** Reverse CSR: incoming edges of object i are revEdge[revStart[i] .. revStart[i+1]-1], each a forward edge index; source object is revSource[k]. */
  revStart: Uint32Array;
  revSource: Uint32Array;
  revEdge: Uint32Array;
  /** Objects no root reaches; the engine treats them as extra roots (ROOT_UNREACHABLE) and reports them, never drops them. */
  unreachable: Uint32Array;
  /**
   * The unreachable objects that act as roots: one per strongly connected component of the unreachable part
   * that no other unreachable object reaches (its lowest-index member). Every unreachable object is below one.
   */
  extraRoots: Uint32Array;
  /** Immediate dominator of each object; the value objectCount stands for the virtual root above all roots. */
  idom: Uint32Array;
  /** Retained size (bytes) of every object: its own size plus everything it dominates. */
  retained: Float64Array;
  /** Objects every object keeps alive: itself and everything it dominates. */
  retainedCount: Uint32Array;
  /** Breadth-first distance from the nearest root (0 for roots); first-reached-by forward edge index (NONE for roots). */
  distance: Uint32Array;
  bfsEdge: Uint32Array;
  /** Strongly connected component id per object, and count of components. */
  scc: Uint32Array;
  sccCount: number;
  /** 1 for the members of components of two or more objects (a member of a one-object cycle, a self-loop, has 0). */
  cyclic: Uint8Array;
  /** Objects with a reference to themselves, ascending. */
  selfLoops: Uint32Array;
  /** Per type index: instances, shallow bytes, and retained bytes of the outermost instances (see retainedByType). */
  typeCount: Float64Array;
  typeShallow: Float64Array;
  typeRetained: Float64Array;
  /**
   * Milliseconds per phase. The components of everything the roots reach come out of the dominator DFS, so
   * `dominators` includes them and `cycles` is only the separate pass over unreachable objects. With the
   * helper thread, `reverse` and `paths` are the time the calling thread waited for its results.
   */
  timings: { reverse: number; dominators: number; retained: number; cycles: number; paths: number };
}

export interface AnalyzeOptions {
  onProgress?: (phase: string, done: number, total: number) => void;
  /**
   * On heaps of PARALLEL_FROM objects or more, let a helper thread work beside the dominator search (see
   * graph-helper.ts for what it does): true always, false never; by default when helperPays(). Never when an
   * address-space limit leaves no room for the thread's own heap. Results are the same either way.
   */
  threads?: boolean;
}

/** Below this many objects a helper thread costs more to start and feed than it saves. */
export const PARALLEL_FROM = 200_000;

/**
 * Whether a helper thread will find a core of its own: it pays only then. On a machine whose other cores are
 * busy it waits for a time slice at each meeting, and the calling thread waits for it, so the analysis takes
 * longer than alone (measured in docs/performance.md). Busy means the load average of the last minute leaves
 * less than one core idle besides the caller's.
 */
export function helperPays(objects: number, cores = availableParallelism(), load = loadavg()[0]): boolean {
  return objects >= PARALLEL_FROM && cores >= 2 && load <= cores - 1;
}

export function analyze(snap: Snapshot, opts: AnalyzeOptions = {}): HeapGraph {
  const n = snap.objectCount;
  // Census snapshots carry no edge sections at all.
  const edgeStart = snap.edgeStart.length === n + 1 ? snap.edgeStart : new Uint32Array(n + 1);
  const need = analysisNeed(n, edgeStart[n]);
  ensureMemory(need, describeSource(snap.source), "analyse");
  const parallel = n >= PARALLEL_FROM && (opts.threads ?? helperPays(n)) && roomForHelperThread(need);
  const space = workspace(n, edgeStart[n], parallel);
  const helper = parallel ? GraphHelper.start(n, edgeStart, snap.edgeTarget, firstTouchOrder(space)) : null;
  try {
    return analyzeWith(snap, edgeStart, space, helper, opts.onProgress);
  } finally {
    helper?.release();
  }
}

/** The large arrays the calling thread fills during the analysis (besides the results the helper hands over). */
interface Workspace {
  scc: Uint32Array;
  cyclic: Uint8Array;
  dominator: DominatorArrays;
  predStart: Uint32Array;
  preds: Uint32Array;
  /** by object; before the retained sizes, the sizes by DFS number (see ColumnsByNumber) */
  retained: Float64Array;
  typeByNumber: Uint32Array;
}

/**
 * Allocates the workspace up front. Fresh memory costs a page fault per 4 KiB page at first touch, which on
 * this kind of virtual machine comes to 3-5 ms per MB: seconds at 10M objects. With a helper thread the
 * arrays are in shared memory, and the helper touches their pages ahead of need while it has nothing else
 * to do (see firstTouchOrder).
 */
function workspace(n: number, e: number, shared: boolean): Workspace {
  const memory = (byteLength: number) => (shared ? new SharedArrayBuffer(byteLength) : new ArrayBuffer(byteLength));
  const words = (length: number) => new Uint32Array(memory(4 * length));
  const bytes = (length: number) => new Uint8Array(memory(length));
  return {
    scc: words(n),
    cyclic: bytes(n),
    dominator: dominatorArrays(n, words, bytes),
    predStart: words(n + 3),
    preds: words(e),
    retained: new Float64Array(memory(8 * n)),
    typeByNumber: words(n),
  };
}

/**
 * The workspace in the order the calling thread first needs it: the DFS's arrays (the components at random
 * from the start, the others as DFS numbers grow), then what follows the DFS.
 */
function firstTouchOrder(space: Workspace): { early: ArrayBufferView[]; late: ArrayBufferView[] } {
  const { dominator } = space;
  return {
    early: [space.scc, dominator.words, dominator.vertex, space.cyclic, dominator.spareB, dominator.spareA],
    late: [dominator.dfnOf, dominator.isRoot, space.predStart, space.preds, space.retained, space.typeByNumber],
  };
}

function analyzeWith(
  snap: Snapshot,
  edgeStart: Uint32Array,
  space: Workspace,
  helper: GraphHelper | null,
  progress: AnalyzeOptions["onProgress"],
): HeapGraph {
  const n = snap.objectCount;
  const { edgeTarget } = snap;
  const { scc, cyclic } = space;
  const timings = { reverse: 0, dominators: 0, retained: 0, cycles: 0, paths: 0 };
  let clock = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = now - clock;
    clock = now;
    return ms;
  };

  progress?.("dominators", 0, n);
  let sccCount = 0;
  let unreachable = new Uint32Array(0);
  let cyclesMs = 0;
  let reverse: ReverseGraph | null = null;
  let starts = new Uint32Array(0);
  let helped = false;
  // Read in DFS order by the helper during the semidominator loop if it can read the columns, else later.
  const byNumber: ColumnsByNumber = {
    order: space.dominator.vertex, size: snap.size, type: snap.type, sizeOut: space.retained, typeOut: space.typeByNumber,
  };
  const columnsShared = snap.size.buffer instanceof SharedArrayBuffer && snap.type.buffer instanceof SharedArrayBuffer;
  const roots = rootsByPreference(snap);
  const dom = dominatorTree(
    {
      objectCount: n, edgeStart, edgeTarget,
      // Asked for after the DFS: the helper has been building the reverse graph meanwhile, and shares the gather.
      predecessors: (dfnOf) => {
        const started = performance.now();
        progress?.("reverse", 0, n);
        reverse = helper?.reverse() ?? null;
        helped = reverse !== null;
        if (reverse === null) {
          reverse = reverseGraphArrays(n, edgeStart[n], (length) => new Uint32Array(length));
          reverseEdges(n, edgeStart, edgeTarget, reverse);
        }
        progress?.("reverse", n, n);
        timings.reverse = performance.now() - started;
        const out = { predStart: space.predStart, preds: space.preds };
        predecessorStarts(n, reverse.revStart, dfnOf, out.predStart);
        const gather = (from: number, to: number) => gatherPredecessors(from, to, reverse!, dfnOf, out);
        if (!helped) {
          gather(0, n);
          return out;
        }
        helper!.postWork({ ...out, starts, lateFrom: roots.length, dfnOf, byNumber: columnsShared ? byNumber : null });
        helper!.share(GATHER_LOOP, n, gather);
        return out;
      },
    },
    snap.rootObject,
    (reached, components) => {
      const started = performance.now();
      unreachable = collectUnreached(reached);
      sccCount = components + assignComponents(edgeStart, edgeTarget, scc, unreachable, components, cyclic);
      for (let i = 0; i < n; i++) scc[i] = DONE_BASE - scc[i];
      const extra = sourceComponents(unreachable, scc, sccCount, edgeStart, edgeTarget);
      starts = concat(roots, extra);
      cyclesMs = performance.now() - started;
      return extra;
    },
    { scc, cyclic },
    { arrays: space.dominator, onProgress: (step, done, total) => progress?.(`dominators: ${step}`, done, total) },
  );
  const { idom, order, idomByNumber, extraRoots, scratch } = dom;
  const { revStart, revSource, revEdge, selfLoops } = reverse!;
  // Components come out of the dominator DFS; `cycles` counts only the separate pass over unreachable objects.
  timings.dominators = lap() - cyclesMs - timings.reverse;
  timings.cycles = cyclesMs;
  progress?.("dominators", n, n);

  progress?.("retained", 0, n);
  const fill = (from: number, to: number) => columnsByNumber(from, to, byNumber);
  if (helped && columnsShared) helper!.share(BY_NUMBER_LOOP, n, fill);
  else fill(0, n);
  const { retained, retainedCount, ...byType } = retainedSizes(snap, idomByNumber, scratch, byNumber);
  timings.retained = lap();
  progress?.("retained", n, n);

  progress?.("paths", 0, n);
  let tree = helper?.breadthFirst() ?? null;
  if (tree === null) {
    tree = { distance: new Uint32Array(n), bfsEdge: new Uint32Array(n) };
    // The DFS order is no longer needed: its words serve as the queue.
    breadthFirst(n, edgeStart, edgeTarget, starts, order, tree, roots.length);
  }
  const { distance, bfsEdge } = tree;
  timings.paths = lap();
  progress?.("paths", n, n);

  return {
    snap, revStart, revSource, revEdge, selfLoops, unreachable, extraRoots, idom, retained, retainedCount, distance, bfsEdge,
    scc, sccCount, cyclic, ...byType, timings,
  };
}

function concat(a: Uint32Array, b: Uint32Array): Uint32Array {
  const out = new Uint32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Root kinds in the order their expressions are preferred when paths tie: module globals stay valid, while a
 * thread's innermost frame changes as soon as the thread moves on.
 */
const ROOT_PREFERENCE = [ROOT_MODULE, ROOT_BUILTINS, ROOT_OTHER, ROOT_LAST_EXC, ROOT_GARBAGE, ROOT_THREAD];

/** Rank of a root kind in ROOT_PREFERENCE (lower is preferred; unknown kinds last). */
export function rootRank(kind: number): number {
  const rank = ROOT_PREFERENCE.indexOf(kind);
  return rank < 0 ? ROOT_PREFERENCE.length : rank;
}

/** The snapshot's root objects, preferred kinds first (stable within a kind; meliae imports have many roots). */
function rootsByPreference(snap: Snapshot): Uint32Array {
  const out = new Uint32Array(snap.rootObject.length);
  let j = 0;
  for (let rank = 0; rank <= ROOT_PREFERENCE.length; rank++) {
    for (let r = 0; r < snap.rootObject.length; r++) if (rootRank(snap.rootKind[r]) === rank) out[j++] = snap.rootObject[r];
  }
  return out;
}

function collectUnreached(reached: Uint32Array): Uint32Array {
  let count = 0;
  for (let i = 0; i < reached.length; i++) if (reached[i] === 0) count++;
  const out = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < reached.length; i++) if (reached[i] === 0) out[j++] = i;
  return out;
}

/**
 * Of the unreachable objects, one per component that no other unreachable component points into:
 * reached from these, the whole unreachable part hangs below them and nothing is rooted twice.
 */
function sourceComponents(
  unreachable: Uint32Array,
  scc: Uint32Array,
  sccCount: number,
  edgeStart: Uint32Array,
  edgeTarget: Uint32Array,
): Uint32Array {
  if (unreachable.length === 0) return new Uint32Array(0);
  const HAS_INCOMING = 1;
  const CHOSEN = 2;
  const state = new Uint8Array(sccCount);
  // Only unreachable objects point at unreachable objects, so their forward edges are all that matter.
  for (let i = 0; i < unreachable.length; i++) {
    const o = unreachable[i];
    for (let k = edgeStart[o]; k < edgeStart[o + 1]; k++) {
      if (scc[edgeTarget[k]] !== scc[o]) state[scc[edgeTarget[k]]] = HAS_INCOMING;
    }
  }
  const chosen: number[] = [];
  for (let i = 0; i < unreachable.length; i++) {
    const c = scc[unreachable[i]];
    if (state[c] === 0) {
      state[c] = CHOSEN;
      chosen.push(unreachable[i]);
    }
  }
  return Uint32Array.from(chosen);
}

/**
 * Retained size and count of every object, and per type: count, shallow bytes, and retained bytes summed over the
 * instances that no other instance of the same type dominates (so nested instances are not counted twice).
 * Both run in DFS-number space, where a node's dominator precedes it and mostly sits close by, so the
 * dominator tree's arrays are read with far fewer cache misses than by object index.
 */
function retainedSizes(
  snap: Snapshot,
  idomByNumber: Uint32Array,
  scratch: { wide: Uint32Array; narrow: Uint32Array },
  columns: ColumnsByNumber,
) {
  const n = snap.objectCount;
  const last = n + 1; // DFS numbers of objects are 2 .. n + 1; 1 is the virtual root
  const { order, sizeOut: sizeByNumber, typeOut: typeByNumber } = columns;
  // Working arrays by DFS number, laid over the dominator search's scratch (4 (n + 2) words, n + 2 words).
  const { wide, narrow } = scratch;
  const below = new Float64Array(wide.buffer, wide.byteOffset, n + 2);
  const countBelow = wide.subarray(2 * (n + 2), 3 * (n + 2));
  const firstChild = wide.subarray(3 * (n + 2), 4 * (n + 2)).fill(0);
  const nextSibling = narrow;
  const t = snap.types.length;
  const typeCount = new Float64Array(t);
  const typeShallow = new Float64Array(t);
  const typeRetained = new Float64Array(t);
  below[1] = 0; // the virtual root's sum, never read
  for (let w = 2; w <= last; w++) {
    const size = sizeByNumber[w - 2];
    const type = typeByNumber[w - 2];
    below[w] = size;
    countBelow[w] = 1;
    typeCount[type]++;
    typeShallow[type] += size;
  }
  // Children have larger DFS numbers than their dominator: one backward sweep sums every subtree.
  for (let w = last; w >= 2; w--) {
    below[idomByNumber[w]] += below[w];
    countBelow[idomByNumber[w]] += countBelow[w];
  }
  // The sizes by DFS number are read: their array takes the retained sizes by object.
  const retained = sizeByNumber;
  const retainedCount = new Uint32Array(n);
  for (let w = 2; w <= last; w++) {
    retained[order[w]] = below[w];
    retainedCount[order[w]] = countBelow[w];
  }

  // A stackless walk of the dominator tree (first-child / next-sibling lists, 0 = none, climbing back through
  // the dominators) keeps how many instances of each type are open on the current chain.
  for (let w = last; w >= 2; w--) {
    nextSibling[w] = firstChild[idomByNumber[w]];
    firstChild[idomByNumber[w]] = w;
  }
  const open = new Uint32Array(t);
  let cur = firstChild[1];
  while (cur !== 0) {
    if (open[typeByNumber[cur - 2]]++ === 0) typeRetained[typeByNumber[cur - 2]] += below[cur];
    if (firstChild[cur] !== 0) {
      cur = firstChild[cur];
      continue;
    }
    for (;;) {
      open[typeByNumber[cur - 2]]--;
      if (nextSibling[cur] !== 0) {
        cur = nextSibling[cur];
        break;
      }
      cur = idomByNumber[cur];
      if (cur === 1) {
        cur = 0;
        break;
      }
    }
  }
  return { retained, retainedCount, typeCount, typeShallow, typeRetained };
}

export interface TypeRetained {
  type: string;
  count: number;
  shallow: number;
  retained: number;
}

/** Per type; retained counts only the outermost instance of the type along each dominator chain. Largest retained first. */
export function retainedByType(g: HeapGraph): TypeRetained[] {
  const out: TypeRetained[] = [];
  g.snap.types.forEach((type, i) => {
    if (g.typeCount[i] > 0) out.push({ type, count: g.typeCount[i], shallow: g.typeShallow[i], retained: g.typeRetained[i] });
  });
  return out.sort((a, b) => b.retained - a.retained || b.shallow - a.shallow);
}

export interface Cycle {
  /** the component's id in HeapGraph.scc */
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

const SAMPLE = 20;

/**
 * Strongly connected components with more than one member (or a self-loop), largest retained first.
 * `minMembers` (default 1) drops smaller ones; `top` (default 100) limits the list.
 */
export function cycles(g: HeapGraph, opts: { minMembers?: number; top?: number } = {}): Cycle[] {
  const minMembers = Math.max(1, opts.minMembers ?? 1);
  const top = opts.top ?? 100;
  const { snap, scc, cyclic, selfLoops, idom, retained } = g;
  const n = snap.objectCount;
  // The candidates, in index order: members of components of two or more and objects with a self-loop, both
  // marked by the analysis, so that most objects cost a sequential read here, not a lookup by component. The
  // array has room for every object, but only the pages written to are ever given memory.
  const candidates = new Uint32Array(n);
  const members = new Uint32Array(g.sccCount);
  let count = 0;
  for (let o = 0, loop = 0; o < n; o++) {
    let candidate = cyclic[o] === 1;
    if (selfLoops[loop] === o) {
      loop++;
      candidate ||= minMembers === 1;
    }
    if (candidate) {
      candidates[count++] = o;
      members[scc[o]]++;
    }
  }
  // The qualifying components, numbered densely: from here on, members[c] is c's number + 1 (0 if c does
  // not qualify), and the arrays by number are as small as the list of cycles.
  const component: number[] = [];
  const size: number[] = [];
  for (let c = 0; c < g.sccCount; c++) {
    if (members[c] === 0) continue;
    if (members[c] >= minMembers) {
      component.push(c);
      size.push(members[c]);
      members[c] = component.length;
    } else {
      members[c] = 0;
    }
  }
  const numberOf = members;

  // Retained size per qualifying component. A member's dominator subtree counts unless its immediate
  // dominator is in the same component: any member dominated by another member has its immediate dominator
  // inside the component too, so the subtrees counted are disjoint and cover everything the component
  // dominates.
  const retainedOf = new Float64Array(component.length);
  for (let k = 0; k < count; k++) {
    const o = candidates[k];
    const number = numberOf[scc[o]];
    if (number === 0) continue;
    const d = idom[o];
    if (d === n || scc[d] !== scc[o]) retainedOf[number - 1] += retained[o];
  }
  const chosen = Array.from(component.keys());
  chosen.sort((a, b) => retainedOf[b] - retainedOf[a] || size[b] - size[a] || component[a] - component[b]);
  chosen.length = Math.min(chosen.length, top);

  // The members of the chosen components, grouped by component in index order (a counting sort): each
  // component's totals then come from typed arrays, not from a map update per member.
  const slot = new Int32Array(component.length).fill(-1);
  const memberStart = new Uint32Array(chosen.length + 1);
  chosen.forEach((number, i) => {
    slot[number] = i;
    memberStart[i + 1] = memberStart[i] + size[number];
  });
  const fill = memberStart.slice(0, chosen.length);
  const memberList = new Uint32Array(memberStart[chosen.length]);
  for (let k = 0; k < count; k++) {
    const number = numberOf[scc[candidates[k]]];
    const i = number === 0 ? -1 : slot[number - 1];
    if (i >= 0) memberList[fill[i]++] = candidates[k];
  }
  const perType = new Uint32Array(snap.types.length);
  return chosen.map((number, i) => {
    let shallow = 0;
    let entry = -1;
    const seenTypes: number[] = [];
    for (let k = memberStart[i]; k < memberStart[i + 1]; k++) {
      const o = memberList[k];
      shallow += snap.size[o];
      if (perType[snap.type[o]]++ === 0) seenTypes.push(snap.type[o]);
      if (entry < 0 || g.distance[o] < g.distance[entry]) entry = o;
    }
    const types = seenTypes
      .map((type) => ({ type: snap.types[type], count: perType[type] }))
      .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1));
    for (const type of seenTypes) perType[type] = 0;
    const sample = Array.from(memberList.subarray(memberStart[i], Math.min(memberStart[i + 1], memberStart[i] + SAMPLE)));
    return { id: component[number], members: size[number], types, shallow, retained: retainedOf[number], entry, sample };
  });
}
