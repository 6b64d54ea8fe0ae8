// One process of the fleet: its series diagnosed and turned into the small tables. The same function runs on the
// main thread and in the worker threads (worker.ts), so the results are the same either way.
import { analyseFiles } from "../export/analyse.js";
import { processTables, type ProcessJob, type ProcessTables } from "../export/rows.js";

export async function analyseProcess(job: ProcessJob): Promise<ProcessTables> {
  return processTables(job, await analyseFiles(job.process.files));
}
