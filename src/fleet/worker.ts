// A worker thread of the fleet pool (pool.ts): analyses the processes the main thread posts, one at a time, and
// posts back their tables, or the message of an error that is not about the input.
import { parentPort } from "node:worker_threads";
import type { ProcessJob } from "../export/rows.js";
import { analyseProcess } from "./analyse.js";

parentPort!.on("message", async ({ index, job }: { index: number; job: ProcessJob }) => {
  try {
    parentPort!.postMessage({ index, tables: await analyseProcess(job) });
  } catch (error) {
    parentPort!.postMessage({ index, failure: error instanceof Error ? error.message : String(error) });
  }
});
