// A helper thread for analyze() on large heaps. The reverse graph, half of the predecessors by DFS number and
// the breadth-first search need only the forward edges (and the DFS numbers), so they run beside the
// dominator search instead of before and after it: the reverse graph during the DFS, then the helper's half
// of the predecessors while the main thread gathers the other half, then the search during the
// semidominator loop. The helper reads the edge arrays in shared memory (in place when the snapshot was
// loaded from a file, else a copy) and allocates its results itself in shared memory (so that their
// first-touch page faults happen on its thread). The threads meet through Atomics on a small control array
// and messages on a port read with receiveMessageOnPort, so analyze() stays synchronous. Whatever the helper
// cannot do (it did not start in time, it failed, threads are unavailable), the main thread does itself.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { BreadthFirstTree, Predecessors, ReverseGraph } from "./edge-passes.js";

// Control words and their values.
export const STATE = 0; // IDLE until the helper claims the work (RUNNING) or the main thread withdraws it (CANCELLED)
export const REVERSE = 1; // PENDING, DONE or FAILED
export const WORK = 2; // 0 until the main thread posts the rest of the work (POSTED) or gives up on it (ABANDONED)
export const GATHER = 3; // PENDING, DONE or FAILED
export const SEARCH = 4; // PENDING, DONE or FAILED
export const IDLE = 0, RUNNING = 1, CANCELLED = 2;
export const PENDING = 0, DONE = 1, FAILED = 2;
export const POSTED = 1, ABANDONED = -1;
const START_WAIT_MS = 250;

export interface HelperData {
  control: Int32Array;
  n: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /** the helper's end of the channel: results go out on it, the rest of the work comes in on it */
  port: MessagePort;
}

/** What the main thread hands over once the DFS is done: all arrays in shared memory. */
export interface HelperWork extends Predecessors {
  /** the breadth-first search's starts, in order */
  starts: Uint32Array;
  dfnOf: Uint32Array;
  /** the helper gathers the predecessors of objects from .. to - 1 */
  from: number;
  to: number;
}

/** The words themselves when they live in shared memory (a snapshot loaded from a file), else a shared copy. */
function shared(words: Uint32Array): Uint32Array {
  if (words.buffer instanceof SharedArrayBuffer) return words;
  const copy = new Uint32Array(new SharedArrayBuffer(words.byteLength));
  copy.set(words);
  return copy;
}

/** A typed array of `length` words in shared memory. */
export function sharedWords(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(4 * length));
}

export class GraphHelper {
  private constructor(private readonly control: Int32Array, private readonly port: MessagePort) {}

  /** Starts the helper on the edges; null when no thread can be started. */
  static start(n: number, edgeStart: Uint32Array, edgeTarget: Uint32Array): GraphHelper | null {
    const { port1, port2 } = new MessageChannel();
    const data: HelperData = {
      control: new Int32Array(new SharedArrayBuffer(20)),
      n,
      edgeStart: shared(edgeStart.subarray(0, n + 1)),
      edgeTarget: shared(edgeTarget.subarray(0, edgeStart[n])),
      port: port2,
    };
    try {
      const worker = new Worker(new URL("./graph-worker.js", import.meta.url), { workerData: data, transferList: [port2] });
      worker.on("error", () => {}); // a helper that fails to load never claims the work: the main thread does it
      worker.unref();
    } catch {
      port1.close();
      return null;
    }
    port1.unref();
    return new GraphHelper(data.control, port1);
  }

  /**
   * The reverse graph, waiting for the helper if it is at work on it; null when the main thread must build it
   * (and then do the rest of the work too: the helper is gone).
   */
  reverse(): ReverseGraph | null {
    const { control } = this;
    // A thread takes some tens of milliseconds to start; one that is not up after a while is not waited for.
    Atomics.wait(control, STATE, IDLE, START_WAIT_MS);
    if (Atomics.compareExchange(control, STATE, IDLE, CANCELLED) === IDLE) return null;
    Atomics.wait(control, REVERSE, PENDING);
    return Atomics.load(control, REVERSE) === DONE ? (receiveMessageOnPort(this.port)?.message as ReverseGraph) : null;
  }

  /** Hands the helper its half of the predecessors and the search's starts (after reverse() returned a graph). */
  postWork(work: HelperWork): void {
    this.port.postMessage(work);
    Atomics.store(this.control, WORK, POSTED);
    Atomics.notify(this.control, WORK);
  }

  /** Waits for the helper's half of the predecessors: false if it failed (the main thread must gather it). */
  gathered(): boolean {
    Atomics.wait(this.control, GATHER, PENDING);
    return Atomics.load(this.control, GATHER) === DONE;
  }

  /** The breadth-first tree, waiting for the helper; null when the main thread must search itself. */
  breadthFirst(): BreadthFirstTree | null {
    const { control } = this;
    if (Atomics.load(control, STATE) !== RUNNING || Atomics.load(control, WORK) !== POSTED) return null;
    Atomics.wait(control, SEARCH, PENDING);
    return Atomics.load(control, SEARCH) === DONE ? (receiveMessageOnPort(this.port)?.message as BreadthFirstTree) : null;
  }

  /** Lets a helper that still waits for work end, and closes the channel (whatever way analyze() leaves). */
  release(): void {
    if (Atomics.compareExchange(this.control, WORK, 0, ABANDONED) === 0) Atomics.notify(this.control, WORK);
    this.port.close();
  }
}
