// The processes of a fleet analysed one after another, or in worker threads where that pays: with two or more
// processes of full snapshots (a census series takes milliseconds, less than starting a thread) and a core free for
// each thread. The analysis of a heap of PARALLEL_FROM objects or more already keeps two cores busy (its helper
// thread), so such snapshots count two cores each. Each thread takes the next process when it is done with one;
// results come back in the processes' order.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { PARALLEL_FROM } from "../engine/graph.js";
import type { ProcessJob, ProcessTables } from "../export/rows.js";
import { analyseProcess } from "./analyse.js";

/** Fewest file bytes per object in the agent's format (~55 measured: 29 per object plus its references and strings). */
const MIN_BYTES_PER_OBJECT = 50;

/**
 * Threads to use: `requested` when given (1: none); otherwise as many as the cores allow (two cores per process
 * whose snapshots are large enough for the analysis's own helper thread), up to the processes of full snapshots.
 */
export function workerCount(jobs: readonly ProcessJob[], requested?: number, cores = availableParallelism()): number {
  if (requested !== undefined) return Math.max(1, Math.min(requested, jobs.length));
  const full = jobs.filter((j) => j.process.kinds.includes("full"));
  const large = full.some((j) => Math.max(...j.process.sizes) >= PARALLEL_FROM * MIN_BYTES_PER_OBJECT);
  return full.length < 2 ? 1 : Math.max(1, Math.min(Math.floor(cores / (large ? 2 : 1)), full.length));
}

export interface PoolOptions {
  workers: number;
  /** Called as each process is done, with how many are. */
  onDone?: (done: number, total: number) => void;
}

export async function analyseProcesses(jobs: readonly ProcessJob[], opts: PoolOptions): Promise<ProcessTables[]> {
  const results: ProcessTables[] = new Array(jobs.length);
  let done = 0;
  if (opts.workers <= 1) {
    for (const [k, job] of jobs.entries()) {
      results[k] = await analyseProcess(job);
      opts.onDone?.(++done, jobs.length);
    }
    return results;
  }
  let next = 0;
  const threads: Worker[] = [];
  try {
    await Promise.all(Array.from({ length: opts.workers }, () => new Promise<void>((resolve, reject) => {
      const worker = new Worker(new URL("./worker.js", import.meta.url));
      threads.push(worker);
      const feed = () => {
        if (next >= jobs.length) return resolve();
        const index = next++;
        worker.postMessage({ index, job: jobs[index] });
      };
      worker.on("message", (message: { index: number; tables?: ProcessTables; failure?: string }) => {
        if (message.failure !== undefined) return reject(new Error(message.failure));
        results[message.index] = message.tables!;
        opts.onDone?.(++done, jobs.length);
        feed();
      });
      worker.on("error", reject);
      worker.on("exit", (code) => (next < jobs.length || code !== 0) && reject(new Error(`a fleet worker thread exited (code ${code})`)));
      feed();
    })));
  } finally {
    await Promise.all(threads.map((w) => w.terminate()));
  }
  return results;
}
