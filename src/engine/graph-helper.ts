// A helper thread for analyze() on large heaps. Several passes need only the forward edges and, later, the
// DFS order, so they run beside the dominator search instead of before and after it: the reverse graph
// during the DFS; then, shared with the main thread chunk by chunk, the predecessors by DFS number; then,
// while the main thread runs the semidominator loop, the size and type columns by DFS number (for the
// retained sizes) and the breadth-first search. In between, the helper touches the pages of the main
// thread's working arrays ahead of their use, so that the page faults of fresh memory are taken on its
// thread. Everything the threads share is in shared memory: the edge arrays (in place when the snapshot was
// loaded from a file, else a copy), the main thread's working arrays and the helper's results. The threads
// meet through Atomics on a small control array and messages on a port read with receiveMessageOnPort, so
// analyze() stays synchronous. Whatever the helper cannot do (it did not start in time, it failed, threads
// are unavailable), the main thread does itself.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { BreadthFirstTree, ColumnsByNumber, Predecessors, ReverseGraph } from "./edge-passes.js";

// Control words and their values.
export const STATE = 0; // IDLE until the helper claims the work (RUNNING) or the main thread withdraws it (CANCELLED)
export const REVERSE = 1; // PENDING, DONE or FAILED
export const WORK = 2; // 0 until the main thread posts the rest of the work (POSTED) or gives up on it (ABANDONED)
export const SEARCH = 3; // PENDING, DONE or FAILED
export const WANTED = 4; // 1 once the main thread waits for the reverse graph: first touches stop until later
export const BROKEN = 5; // 1 once the helper has failed: the main thread does what is left, and redoes shared loops
export const IDLE = 0, RUNNING = 1, CANCELLED = 2;
export const PENDING = 0, DONE = 1, FAILED = 2;
export const POSTED = 1, ABANDONED = -1;

/** A loop both threads work on: control[next] is the next index to claim, control[done] counts indices done. */
export interface SharedLoop {
  next: number;
  done: number;
}
export const GATHER_LOOP: SharedLoop = { next: 6, done: 7 };
export const BY_NUMBER_LOOP: SharedLoop = { next: 8, done: 9 };
const CONTROL_WORDS = 10;
/** Indices claimed at a time: small enough to balance the threads, large enough to make claims rare. */
const CHUNK = 1 << 16;
const START_WAIT_MS = 250;

export interface HelperData {
  control: Int32Array;
  n: number;
  edgeStart: Uint32Array;
  edgeTarget: Uint32Array;
  /** the helper's end of the channel: results go out on it, the rest of the work comes in on it */
  port: MessagePort;
  /** shared memory of the main thread's, to touch before building the reverse graph and after it */
  touchEarly: SharedArrayBuffer[];
  touchLate: SharedArrayBuffer[];
}

/** Arrays in shared memory whose pages the helper touches ahead of their use, in order. */
export interface FirstTouch {
  early: ArrayBufferView[];
  late: ArrayBufferView[];
}

/** What the main thread hands over once the DFS is done: all arrays in shared memory. */
export interface HelperWork extends Predecessors {
  /** the breadth-first search's starts, in order, and where the extra roots (searched from last) begin */
  starts: Uint32Array;
  lateFrom: number;
  dfnOf: Uint32Array;
  /** the columns by DFS number to fill, when the snapshot's columns are in shared memory */
  byNumber: ColumnsByNumber | null;
}

/** The words themselves when they live in shared memory (a snapshot loaded from a file), else a shared copy. */
function shared(words: Uint32Array): Uint32Array {
  if (words.buffer instanceof SharedArrayBuffer) return words;
  const copy = sharedWords(words.length);
  copy.set(words);
  return copy;
}

/** A typed array of `length` words in shared memory. */
export function sharedWords(length: number): Uint32Array {
  return new Uint32Array(new SharedArrayBuffer(4 * length));
}

/** Works on chunks of [0, total) claimed from the loop's counter until none is left. */
export function runShared(control: Int32Array, loop: SharedLoop, total: number, body: (from: number, to: number) => void): void {
  for (;;) {
    const from = Atomics.add(control, loop.next, CHUNK);
    if (from >= total) return;
    const to = Math.min(from + CHUNK, total);
    body(from, to);
    if (Atomics.add(control, loop.done, to - from) + (to - from) >= total) Atomics.notify(control, loop.done);
  }
}

export class GraphHelper {
  private constructor(private readonly control: Int32Array, private readonly port: MessagePort) {}

  /** Starts the helper on the edges; null when no thread can be started. */
  static start(n: number, edgeStart: Uint32Array, edgeTarget: Uint32Array, touch: FirstTouch): GraphHelper | null {
    const { port1, port2 } = new MessageChannel();
    const buffers = (views: ArrayBufferView[]) =>
      views.map((view) => view.buffer).filter((buffer): buffer is SharedArrayBuffer => buffer instanceof SharedArrayBuffer);
    const data: HelperData = {
      control: new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS)),
      n,
      edgeStart: shared(edgeStart.subarray(0, n + 1)),
      edgeTarget: shared(edgeTarget.subarray(0, edgeStart[n])),
      port: port2,
      touchEarly: buffers(touch.early),
      touchLate: buffers(touch.late),
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
    Atomics.store(control, WANTED, 1);
    Atomics.wait(control, REVERSE, PENDING);
    return Atomics.load(control, REVERSE) === DONE ? (receiveMessageOnPort(this.port)?.message as ReverseGraph) : null;
  }

  /** Hands the helper the rest of its work (after reverse() returned a graph). */
  postWork(work: HelperWork): void {
    this.port.postMessage(work);
    Atomics.store(this.control, WORK, POSTED);
    Atomics.notify(this.control, WORK);
  }

  /**
   * Works on a shared loop beside the helper and returns once all of it is done; if the helper fails, does
   * all of it again (each index's work writes the same words whoever does it).
   */
  share(loop: SharedLoop, total: number, body: (from: number, to: number) => void): void {
    const { control } = this;
    runShared(control, loop, total, body);
    for (;;) {
      const done = Atomics.load(control, loop.done);
      if (done >= total) return;
      if (Atomics.load(control, BROKEN) === 1) return body(0, total);
      Atomics.wait(control, loop.done, done, 50); // timed: a failing helper may notify between the loads and the wait
    }
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
