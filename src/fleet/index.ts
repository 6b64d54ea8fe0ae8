// analyseFleet(): one view across many processes. Finds the snapshot files and groups them by host and process,
// diagnoses each process (worker threads where it pays), writes the small tables as Parquet (a temporary folder,
// or one the caller keeps), and answers the fleet's questions with SQL on an embedded DuckDB over those files.
import * as aq from "arquero";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatBytes } from "../common/units.js";
import { discoverFleet, processLabel, type FleetInput } from "../export/discover.js";
import { Engine, type Row } from "../export/duckdb.js";
import { SMALL_TABLES } from "../export/schema.js";
import { prepareOutput, processJobs, TableWriter } from "../export/write.js";
import { analyseProcesses, workerCount } from "./pool.js";
import { duckdbTableViews, FLEET_QUERIES, FLEET_VIEWS, type FleetQueryName } from "./queries.js";

export interface FleetOptions {
  /** Worker threads for the per-process diagnoses (1: none); by default one per idle core, up to the processes. */
  workers?: number;
  /** Keep the tables the queries ran on in this directory (new or empty) instead of a temporary one. */
  tables?: string;
  /** Progress: processes diagnosed so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface Fleet {
  /** One sentence: which processes leak, the shared holder, the outliers. */
  summary: string;
  /** Each query's rows as an arquero table (FLEET_QUERIES names the columns), processes with a `label` and `leaks`. */
  processes: aq.ColumnTable;
  types: aq.ColumnTable;
  holders: aq.ColumnTable;
  holderProcesses: aq.ColumnTable;
  typeProcesses: aq.ColumnTable;
  mergedCensus: aq.ColumnTable;
  /** Files left out (no readable header). */
  skipped: FleetInput["skipped"];
  /** Worker threads used (1: the main thread alone). */
  workers: number;
  /** Where the tables were kept, or null when they were in a temporary folder (removed). */
  tablesDir: string | null;
  timings: { discover: number; diagnose: number; write: number; query: number };
}

const label = (r: Row) => processLabel({ host: String(r.host ?? ""), pid: Number(r.pid) });

/** Runs the views and questions on DuckDB over the tables in `dir`. */
async function runQueries(dir: string): Promise<Record<FleetQueryName, Row[]>> {
  const engine = await Engine.open({ threads: 1 });
  try {
    for (const statement of duckdbTableViews(dir, SMALL_TABLES)) await engine.query(statement);
    for (const statement of Object.values(FLEET_VIEWS)) await engine.query(statement);
    const out = {} as Record<FleetQueryName, Row[]>;
    for (const name of Object.keys(FLEET_QUERIES) as FleetQueryName[]) out[name] = await engine.query(FLEET_QUERIES[name]);
    return out;
  } finally {
    engine.close();
  }
}

/** A table of rows, with every column present even when there are no rows. */
function tableOf(rows: Row[]): aq.ColumnTable {
  return rows.length > 0 ? aq.from(rows) : aq.table({});
}

function summarize(processes: Row[], holders: Row[]): string {
  const leaking = processes.filter((r) => r.verdict === "leak");
  const parts: string[] = [];
  if (leaking.length === 0) parts.push(`No process leaks (${processes.length} process${processes.length === 1 ? "" : "es"}).`);
  else parts.push(`${leaking.length} of ${processes.length} processes leak: ${leaking.map(label).join(", ")}.`);
  const shared = holders[0];
  if (shared && leaking.length > 0) {
    const rate = shared.bytes_per_hour === null ? "" :
      `, +${formatBytes(Number(shared.median_bytes_per_hour))}/h each (+${formatBytes(Number(shared.bytes_per_hour))}/h summed)`;
    parts.push(`Most named holder: ${shared.path}, in ${shared.processes} of them${rate}.`);
  }
  const outliers = processes.filter((r) => r.rate_outlier || r.size_outlier);
  if (outliers.length > 0) parts.push(`Outliers: ${outliers.map(label).join(", ")}.`);
  const failed = processes.filter((r) => r.error !== null);
  if (failed.length > 0) parts.push(`${failed.length} could not be read: ${failed.map(label).join(", ")}.`);
  return parts.join(" ");
}

/** The fleet under `inputs` (directories, walked to any depth, or files). */
export async function analyseFleet(inputs: readonly string[], opts: FleetOptions = {}): Promise<Fleet> {
  let started = performance.now();
  const input = await discoverFleet(inputs);
  if (opts.tables !== undefined) await prepareOutput(opts.tables); // before the work, which a used folder would waste
  const jobs = processJobs(input);
  const discoverMs = performance.now() - started;

  started = performance.now();
  const workers = workerCount(jobs, opts.workers);
  const results = await analyseProcesses(jobs, { workers, onDone: opts.onProgress });
  const diagnoseMs = performance.now() - started;

  started = performance.now();
  const dir = opts.tables ?? (await mkdtemp(join(tmpdir(), "leakbook-fleet-")));
  try {
    const writer = new TableWriter(dir, "parquet", 1);
    try {
      for (const [k, job] of jobs.entries()) await writer.writeProcess(job.process, results[k]);
    } finally {
      writer.close();
    }
    const writeMs = performance.now() - started;
    started = performance.now();
    const rows = await runQueries(dir);
    const queryMs = performance.now() - started;

    const processes = rows.processes.map((r) => ({ label: label(r), leaks: r.verdict === "leak", ...r }));
    return {
      summary: summarize(rows.processes, rows.holders),
      processes: tableOf(processes),
      types: tableOf(rows.types),
      holders: tableOf(rows.holders),
      holderProcesses: tableOf(rows.holder_processes.map((r) => ({ label: label(r), ...r }))),
      typeProcesses: tableOf(rows.type_processes.map((r) => ({ label: label(r), ...r }))),
      mergedCensus: tableOf(rows.merged_census),
      skipped: input.skipped,
      workers,
      tablesDir: opts.tables ?? null,
      timings: { discover: discoverMs, diagnose: diagnoseMs, write: writeMs, query: queryMs },
    };
  } finally {
    if (opts.tables === undefined) await rm(dir, { recursive: true, force: true });
  }
}
