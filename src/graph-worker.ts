// The helper thread's side of graph-helper.ts: builds the reverse graph, then runs the breadth-first search
// from the starts the main thread posts, and hands each result over by transfer.
import { receiveMessageOnPort, workerData } from "node:worker_threads";
import { breadthFirst, reverseEdges, reverseGraphArrays } from "./edge-passes.js";
import { ABANDONED, DONE, FAILED, IDLE, REVERSE, RUNNING, SEARCH, STARTS, STATE, type HelperData } from "./graph-helper.js";

const { control, n, edgeStart, edgeTarget, port } = workerData as HelperData;

function signal(word: number, value: number): void {
  Atomics.store(control, word, value);
  Atomics.notify(control, word);
}

// The main thread builds the reverse graph itself if it needs it before this thread gets going.
if (Atomics.compareExchange(control, STATE, IDLE, RUNNING) === IDLE) {
  Atomics.notify(control, STATE);
  let stage = REVERSE;
  try {
    const reverse = reverseGraphArrays(n, edgeStart[n], (length) => new Uint32Array(length));
    reverseEdges(n, edgeStart, edgeTarget, reverse);
    port.postMessage(reverse, [reverse.revStart.buffer, reverse.revSource.buffer, reverse.revEdge.buffer]);
    signal(REVERSE, DONE);
    stage = SEARCH;
    Atomics.wait(control, STARTS, 0);
    if (Atomics.load(control, STARTS) !== ABANDONED) {
      const starts = receiveMessageOnPort(port)!.message as Uint32Array;
      const tree = { distance: new Uint32Array(n), bfsEdge: new Uint32Array(n) };
      breadthFirst(n, edgeStart, edgeTarget, starts, new Uint32Array(n), tree);
      port.postMessage(tree, [tree.distance.buffer, tree.bfsEdge.buffer]);
      signal(SEARCH, DONE);
    }
  } catch {
    signal(stage, FAILED);
    if (stage === REVERSE) signal(SEARCH, FAILED);
  }
}
port.close();
