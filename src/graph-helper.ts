// A helper thread for analyze() on large heaps: the reverse graph and the breadth-first search need only the
// forward edges, so they run beside the dominator search (the DFS, then the semidominator loop) instead of
// before and after it. The helper reads copies of the edge arrays in shared memory and writes its results
// into shared arrays; the two threads meet through Atomics on a small control array, so analyze() stays
// synchronous. Whatever the helper cannot do (it did not start in time, it failed, threads are unavailable),
// the main thread does itself.
import { Worker } from "node:worker_threads";
import { reverseGraphArrays, type BreadthFirstTree, type ReverseGraph } from "./edge-passes.js";

// Control words and their values.
export const STATE = 0; // IDLE until the helper claims the work (RUNNING) or the main thread withdraws it (CANCELLED)
export const REVERSE = 1; // PENDING, DONE or FAILED
export const STARTS = 2; // 0 until the main thread posts the search's starts: their count + 1, or ABANDONED
export const SEARCH = 3; // PENDING, DONE or FAILED
export const IDLE = 0, RUNNING = 1, CANCELLED = 2;
export const PENDING = 0, DONE = 1, FAILED = 2;
export const ABANDONED = -1;
const START_WAIT_MS = 250;

export interface HelperData extends ReverseGraph, BreadthFirstTree {
  control: Int32Array;
  n: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /** the search's queue; its first entries carry the starts the main thread posts */
  queue: Uint32Array;
}

const sharedWords = (length: number): Uint32Array => new Uint32Array(new SharedArrayBuffer(4 * length));

export class GraphHelper {
  private constructor(private readonly data: HelperData) {}

  /** Starts the helper on a copy of the edges; null when no thread can be started. */
  static start(n: number, edgeStart: Uint32Array, edgeTarget: Uint32Array): GraphHelper | null {
    const e = edgeStart[n];
    const data: HelperData = {
      control: new Int32Array(new SharedArrayBuffer(16)),
      n,
      edgeStart: sharedWords(n + 1),
      edgeTarget: sharedWords(e),
      ...reverseGraphArrays(n, e, sharedWords),
      queue: sharedWords(n),
      distance: sharedWords(n),
      bfsEdge: sharedWords(n),
    };
    data.edgeStart.set(edgeStart.subarray(0, n + 1));
    data.edgeTarget.set(edgeTarget.subarray(0, e));
    try {
      const worker = new Worker(new URL("./graph-worker.js", import.meta.url), { workerData: data });
      worker.on("error", () => {}); // a helper that fails to load never claims the work: the main thread does it
      worker.unref();
    } catch {
      return null;
    }
    return new GraphHelper(data);
  }

  /** The reverse graph, waiting for the helper if it is at work on it; null when the main thread must build it. */
  reverse(): ReverseGraph | null {
    const { control } = this.data;
    // A thread takes some tens of milliseconds to start; one that is not up after a while is not waited for.
    Atomics.wait(control, STATE, IDLE, START_WAIT_MS);
    if (Atomics.compareExchange(control, STATE, IDLE, CANCELLED) === IDLE) return null;
    Atomics.wait(control, REVERSE, PENDING);
    return Atomics.load(control, REVERSE) === DONE ? this.data : null;
  }

  /** Hands the helper the search's starts, in order. */
  postStarts(starts: Uint32Array): void {
    this.data.queue.set(starts);
    Atomics.store(this.data.control, STARTS, starts.length + 1);
    Atomics.notify(this.data.control, STARTS);
  }

  /** The breadth-first tree, waiting for the helper; null when the main thread must search itself. */
  breadthFirst(): BreadthFirstTree | null {
    const { control } = this.data;
    if (Atomics.load(control, STATE) !== RUNNING || Atomics.load(control, STARTS) <= 0) return null;
    Atomics.wait(control, SEARCH, PENDING);
    return Atomics.load(control, SEARCH) === DONE ? this.data : null;
  }

  /** Lets a helper that still waits for starts end (called whatever way analyze() leaves). */
  release(): void {
    if (Atomics.compareExchange(this.data.control, STARTS, 0, ABANDONED) === 0) Atomics.notify(this.data.control, STARTS);
  }
}
