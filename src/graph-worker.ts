// The helper thread's side of graph-helper.ts: builds the reverse graph, then gathers its half of the
// predecessors and runs the breadth-first search with what the main thread posts. Results are in shared
// memory; the reverse graph and the search's tree are announced by message.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { breadthFirst, gatherPredecessors, reverseEdges, reverseGraphArrays } from "./edge-passes.js";
import {
  ABANDONED, DONE, FAILED, GATHER, IDLE, REVERSE, RUNNING, SEARCH, STATE, WORK, sharedWords, type HelperData, type HelperWork,
} from "./graph-helper.js";

const { control, n, edgeStart, edgeTarget, port } = workerData as HelperData;

function signal(word: number, value: number): void {
  Atomics.store(control, word, value);
  Atomics.notify(control, word);
}

// The main thread builds the reverse graph itself if it needs it before this thread gets going.
if (Atomics.compareExchange(control, STATE, IDLE, RUNNING) === IDLE) {
  let stage = REVERSE;
  try {
    Atomics.notify(control, STATE);
    const reverse = reverseGraphArrays(n, edgeStart[n], sharedWords);
    reverseEdges(n, edgeStart, edgeTarget, reverse);
    port.postMessage(reverse);
    signal(REVERSE, DONE);
    stage = GATHER;
    Atomics.wait(control, WORK, 0);
    if (Atomics.load(control, WORK) !== ABANDONED) {
      const work = receiveMessageOnPort(port)!.message as HelperWork;
      gatherPredecessors(work.from, work.to, reverse, work.dfnOf, work);
      signal(GATHER, DONE);
      stage = SEARCH;
      const tree = { distance: sharedWords(n), bfsEdge: sharedWords(n) };
      breadthFirst(n, edgeStart, edgeTarget, work.starts, new Uint32Array(n), tree);
      port.postMessage(tree);
      signal(SEARCH, DONE);
    }
  } catch {
    // A failed stage fails the ones after it: the main thread does them all.
    const stages = [REVERSE, GATHER, SEARCH];
    for (const word of stages.slice(stages.indexOf(stage))) signal(word, FAILED);
  }
}
port.close();
