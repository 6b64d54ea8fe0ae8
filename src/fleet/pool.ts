// The processes of a fleet analysed one after another, or in worker threads where that pays: with two or more
// processes of full snapshots (a census series takes milliseconds, less than starting a thread) and cores that are
// idle. A thread on a core that other work keeps busy only adds contention and memory: on this project's shared
// two-core machine (load 8-10), two threads took 1.1-1.17 times as long as one (docs/performance.md). Each thread
// takes the next process when it is done with one; results come back in the processes' order.
import { availableParallelism, loadavg } from "node:os";
import { Worker } from "node:worker_threads";
import type { ProcessJob, ProcessTables } from "../export/rows.js";
import { analyseProcess } from "./analyse.js";

/**
 * Threads to use: `requested` when given (1: none); otherwise one per idle core (the cores less the one-minute load
 * average), at least one, up to the processes of full snapshots.
 */
export function workerCount(jobs: readonly ProcessJob[], requested?: number, cores = availableParallelism(), load = loadavg()[0]): number {
  if (requested !== undefined) return Math.max(1, Math.min(requested, jobs.length));
  const full = jobs.filter((j) => j.process.kinds.includes("full")).length;
  const idle = Math.floor(cores - load);
  return full < 2 ? 1 : Math.max(1, Math.min(idle, full));
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
