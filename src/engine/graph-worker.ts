// The helper thread's side of graph-helper.ts: touches the main thread's arrays needed first, builds the
// reverse graph, touches the arrays needed next; then, with what the main thread posts, works on the shared
// loops (predecessors, columns by DFS number) and runs the breadth-first search. Results are in shared
// memory; the reverse graph and the search's tree are announced by message.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { breadthFirst, columnsByNumber, gatherPredecessors, reverseEdges, reverseGraphArrays } from "./edge-passes.js";
import {
  ABANDONED, BROKEN, BY_NUMBER_LOOP, DONE, FAILED, GATHER_LOOP, IDLE, PENDING, REVERSE, RUNNING, SEARCH, STATE, WANTED,
  WORK, runShared, sharedWords, type HelperData, type HelperWork,
} from "./graph-helper.js";

const { control, n, edgeStart, edgeTarget, port, touchEarly, touchLate } = workerData as HelperData;
const PAGE_WORDS = 1024;
const PAGES_BETWEEN_CHECKS = 64;

function signal(word: number, value: number): void {
  Atomics.store(control, word, value);
  Atomics.notify(control, word);
}

/**
 * Touches every page of each buffer in turn (the first touch of fresh memory is a page fault, and this
 * thread takes it instead of the main thread) until `enough()` says to stop. Each touch adds 0 atomically:
 * a write, which a read would not be, that leaves a word the main thread may be writing as it was.
 */
function touch(buffers: SharedArrayBuffer[], enough: () => boolean): void {
  for (const buffer of buffers) {
    const words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
    for (let i = 0; i < words.length; i += PAGE_WORDS) {
      if (i % (PAGE_WORDS * PAGES_BETWEEN_CHECKS) === 0 && enough()) return;
      Atomics.add(words, i, 0);
    }
  }
}

// The main thread builds the reverse graph itself if it needs it before this thread gets going.
if (Atomics.compareExchange(control, STATE, IDLE, RUNNING) === IDLE) {
  try {
    Atomics.notify(control, STATE);
    const tree = { distance: sharedWords(n), bfsEdge: sharedWords(n) };
    const queue = sharedWords(n);
    touch(touchEarly, () => Atomics.load(control, WANTED) !== 0);
    const reverse = reverseGraphArrays(n, edgeStart[n], sharedWords);
    reverseEdges(n, edgeStart, edgeTarget, reverse);
    port.postMessage(reverse);
    signal(REVERSE, DONE);
    // The main thread's arrays, then this thread's own for the search, until the main thread posts the work.
    touch([...touchEarly, ...touchLate, tree.distance.buffer, tree.bfsEdge.buffer, queue.buffer] as SharedArrayBuffer[],
      () => Atomics.load(control, WORK) !== 0);
    Atomics.wait(control, WORK, 0);
    if (Atomics.load(control, WORK) !== ABANDONED) {
      const work = receiveMessageOnPort(port)!.message as HelperWork;
      runShared(control, GATHER_LOOP, n, (from, to) => gatherPredecessors(from, to, reverse, work.dfnOf, work));
      breadthFirst(n, edgeStart, edgeTarget, work.starts, queue, tree, work.lateFrom);
      port.postMessage(tree);
      signal(SEARCH, DONE);
      const { byNumber } = work;
      if (byNumber !== null) runShared(control, BY_NUMBER_LOOP, n, (from, to) => columnsByNumber(from, to, byNumber));
    }
  } catch {
    // Whatever is left falls to the main thread: wake it wherever it waits.
    signal(BROKEN, 1);
    if (Atomics.load(control, REVERSE) === PENDING) signal(REVERSE, FAILED);
    signal(SEARCH, FAILED);
    for (const word of [GATHER_LOOP.done, BY_NUMBER_LOOP.done]) Atomics.notify(control, word);
  }
}
port.close();
