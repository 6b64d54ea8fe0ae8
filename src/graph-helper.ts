// A helper thread for analyze() on large heaps: the reverse graph and the breadth-first search need only the
// forward edges, so they run beside the dominator search (the DFS, then the semidominator loop) instead of
// before and after it. The helper reads copies of the edge arrays in shared memory, allocates its results
// itself (so that their first-touch page faults happen on its thread) and hands them over by transfer on a
// message port; the threads meet through Atomics on a small control array and the port is read with
// receiveMessageOnPort, so analyze() stays synchronous. Whatever the helper cannot do (it did not start in
// time, it failed, threads are unavailable), the main thread does itself.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { BreadthFirstTree, ReverseGraph } from "./edge-passes.js";

// Control words and their values.
export const STATE = 0; // IDLE until the helper claims the work (RUNNING) or the main thread withdraws it (CANCELLED)
export const REVERSE = 1; // PENDING, DONE or FAILED
export const STARTS = 2; // 0 until the main thread posts the search's starts (POSTED) or gives up on it (ABANDONED)
export const SEARCH = 3; // PENDING, DONE or FAILED
export const IDLE = 0, RUNNING = 1, CANCELLED = 2;
export const PENDING = 0, DONE = 1, FAILED = 2;
export const POSTED = 1, ABANDONED = -1;
const START_WAIT_MS = 250;

export interface HelperData {
  control: Int32Array;
  n: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /** the helper's end of the channel: results go out on it, the search's starts come in on it */
  port: MessagePort;
}

function sharedCopy(words: Uint32Array): Uint32Array {
  const copy = new Uint32Array(new SharedArrayBuffer(words.byteLength));
  copy.set(words);
  return copy;
}

export class GraphHelper {
  private constructor(private readonly control: Int32Array, private readonly port: MessagePort) {}

  /** Starts the helper on a copy of the edges; null when no thread can be started. */
  static start(n: number, edgeStart: Uint32Array, edgeTarget: Uint32Array): GraphHelper | null {
    const { port1, port2 } = new MessageChannel();
    const data: HelperData = {
      control: new Int32Array(new SharedArrayBuffer(16)),
      n,
      edgeStart: sharedCopy(edgeStart.subarray(0, n + 1)),
      edgeTarget: sharedCopy(edgeTarget.subarray(0, edgeStart[n])),
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

  /** The reverse graph, waiting for the helper if it is at work on it; null when the main thread must build it. */
  reverse(): ReverseGraph | null {
    const { control } = this;
    // A thread takes some tens of milliseconds to start; one that is not up after a while is not waited for.
    Atomics.wait(control, STATE, IDLE, START_WAIT_MS);
    if (Atomics.compareExchange(control, STATE, IDLE, CANCELLED) === IDLE) return null;
    Atomics.wait(control, REVERSE, PENDING);
    return Atomics.load(control, REVERSE) === DONE ? (receiveMessageOnPort(this.port)?.message as ReverseGraph) : null;
  }

  /** Hands the helper the search's starts, in order. */
  postStarts(starts: Uint32Array): void {
    this.port.postMessage(starts);
    Atomics.store(this.control, STARTS, POSTED);
    Atomics.notify(this.control, STARTS);
  }

  /** The breadth-first tree, waiting for the helper; null when the main thread must search itself. */
  breadthFirst(): BreadthFirstTree | null {
    const { control } = this;
    if (Atomics.load(control, STATE) !== RUNNING || Atomics.load(control, STARTS) !== POSTED) return null;
    Atomics.wait(control, SEARCH, PENDING);
    return Atomics.load(control, SEARCH) === DONE ? (receiveMessageOnPort(this.port)?.message as BreadthFirstTree) : null;
  }

  /** Lets a helper that still waits for starts end, and closes the channel (whatever way analyze() leaves). */
  release(): void {
    if (Atomics.compareExchange(this.control, STARTS, 0, ABANDONED) === 0) Atomics.notify(this.control, STARTS);
    this.port.close();
  }
}
