// One process of the fleet: load its series, walk the checklist, and turn both into the small tables. The same
// function runs on the main thread and in the worker threads (worker.ts), so the results are the same either way.
import { SnapshotError } from "../common/errors.js";
import { diagnose } from "../diagnose/index.js";
import { loadSeries } from "../engine/series.js";
import { processTables, type ProcessJob, type ProcessTables } from "../export/rows.js";

/** The tables of one process; a file that cannot be read makes an error row instead of failing the fleet. */
export async function analyseProcess(job: ProcessJob): Promise<ProcessTables> {
  let series;
  try {
    series = await loadSeries(job.process.files);
  } catch (error) {
    if (error instanceof SnapshotError) return processTables(job, { error: error.message });
    throw error;
  }
  return processTables(job, { series, diagnosis: diagnose(series) });
}
