// One process's files loaded as a series and diagnosed, or the reason they could not be read: what the tables of
// a process are built from (rows.ts), in `leakbook export` and in each of the fleet's diagnoses.
import { SnapshotError } from "../common/errors.js";
import { diagnose, type Diagnosis } from "../diagnose/index.js";
import { loadSeries, type Series } from "../engine/series.js";

export type Analysed = { series: Series; diagnosis: Diagnosis } | { error: string };

/** A file that cannot be read makes an error for its process; anything else is a fault and is thrown. */
export async function analyseFiles(files: readonly string[]): Promise<Analysed> {
  let series;
  try {
    series = await loadSeries([...files]);
  } catch (error) {
    if (error instanceof SnapshotError) return { error: error.message };
    throw error;
  }
  return { series, diagnosis: diagnose(series) };
}
