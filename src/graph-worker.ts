// The helper thread's side of graph-helper.ts: builds the reverse graph, then runs the breadth-first search
// from the starts the main thread posts, writing both into the shared arrays it was given.
import { workerData } from "node:worker_threads";
import { breadthFirst, reverseEdges } from "./edge-passes.js";
import {
  ABANDONED, DONE, FAILED, IDLE, REVERSE, RUNNING, SEARCH, STARTS, STATE, type HelperData,
} from "./graph-helper.js";

const data = workerData as HelperData;
const { control } = data;

function signal(word: number, value: number): void {
  Atomics.store(control, word, value);
  Atomics.notify(control, word);
}

// The main thread builds the reverse graph itself if it needs it before this thread gets going.
if (Atomics.compareExchange(control, STATE, IDLE, RUNNING) === IDLE) {
  Atomics.notify(control, STATE);
  let stage = REVERSE;
  try {
    reverseEdges(data.n, data.edgeStart, data.edgeTarget, data);
    signal(REVERSE, DONE);
    stage = SEARCH;
    Atomics.wait(control, STARTS, 0);
    const posted = Atomics.load(control, STARTS);
    if (posted !== ABANDONED) {
      breadthFirst(data.n, data.edgeStart, data.edgeTarget, data.queue.slice(0, posted - 1), data.queue, data);
      signal(SEARCH, DONE);
    }
  } catch {
    signal(stage, FAILED);
    if (stage === REVERSE) signal(SEARCH, FAILED);
  }
}
