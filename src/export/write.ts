// Writing the tables: one file per table and process, at TABLE/host=HOST/pid=PID/part-START.EXT under the output
// directory (hive partitioning, which DuckDB and Spark read as the columns host and pid), into a directory that
// is new or empty, so nothing the user has is overwritten. `exportSnapshots` is the whole `leakbook export`.
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { SnapshotError } from "../common/errors.js";
import { analyseFiles } from "./analyse.js";
import { writeArrow } from "./arrow.js";
import { discoverFleet, type FleetInput, type FleetProcess } from "./discover.js";
import { Engine } from "./duckdb.js";
import { graphTables, processTables, type ProcessJob, type ProcessTables } from "./rows.js";
import { GRAPH_TABLES, SMALL_TABLES, type TableData, type TableName } from "./schema.js";

export type ExportFormat = "parquet" | "arrow";

/**
 * A host name as a path segment: letters, digits, "_", "-" and "." (not first) as they are, every other byte of
 * its UTF-8 as %XX, which DuckDB and Spark decode when they read the partition. An unknown host is "unknown".
 */
export function hostSegment(host: string): string {
  if (host === "") return "unknown";
  let out = "";
  for (const byte of new TextEncoder().encode(host)) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) || (c === "." && out !== "") ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Where one process's file of `table` goes. */
export function partitionFile(root: string, table: TableName, p: FleetProcess, format: ExportFormat): string {
  const start = Math.round(p.process_start * 1000);
  return join(root, table, `host=${hostSegment(p.host)}`, `pid=${p.pid}`, `part-${start}.${format}`);
}

/** Creates `dir` when missing; refuses one that holds anything (an export never replaces files). */
export async function prepareOutput(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const entries = await readdir(dir);
    if (entries.length > 0) throw new SnapshotError(`${dir} is not empty; give a new or empty directory`);
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(`cannot write to ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Writes tables of one format; Parquet goes through an embedded DuckDB opened on first use. */
export class TableWriter {
  private engine: Engine | null = null;
  readonly files: string[] = [];

  /** `threads`: DuckDB's threads (1 for the fleet's many small files); all cores by default. */
  constructor(readonly root: string, readonly format: ExportFormat, private readonly threads?: number) {}

  async write(table: TableName, p: FleetProcess, parts: readonly TableData[]): Promise<void> {
    const path = partitionFile(this.root, table, p, this.format);
    await mkdir(join(path, ".."), { recursive: true });
    if (this.format === "arrow") await writeArrow(table, parts, path);
    else await (this.engine ??= await Engine.open({ threads: this.threads })).writeParquet(table, parts, path);
    this.files.push(path);
  }

  async writeProcess(p: FleetProcess, tables: ProcessTables): Promise<void> {
    for (const table of SMALL_TABLES) await this.write(table, p, [tables[table as keyof ProcessTables]]);
  }

  close(): void {
    this.engine?.close();
    this.engine = null;
  }
}

/** Numbers every snapshot of the fleet, process by process: the snapshot_id of the tables. */
export function processJobs(input: FleetInput): ProcessJob[] {
  let next = 0;
  return input.processes.map((process) => ({ process, ids: process.files.map(() => next++) }));
}

export interface ExportOptions {
  to: string;
  format: ExportFormat;
  /** Called as each process starts (0-based), for progress on a terminal. */
  onProcess?: (index: number, count: number) => void;
}

export interface ExportSummary {
  processes: number;
  snapshots: number;
  /** Rows written per table. */
  rows: Record<TableName, number>;
  files: number;
  skipped: FleetInput["skipped"];
  /** Processes whose snapshots could not be read, with the reason (their processes row says it too). */
  errors: { host: string; pid: number; error: string }[];
  /** Milliseconds spent loading and diagnosing, building the rows, and writing the files. */
  timings: { diagnose: number; rows: number; write: number };
}

/** Exports the snapshots under `inputs` (directories walked to any depth, or files) to `opts.to`. */
export async function exportSnapshots(inputs: readonly string[], opts: ExportOptions): Promise<ExportSummary> {
  const input = await discoverFleet(inputs);
  await prepareOutput(opts.to);
  const writer = new TableWriter(opts.to, opts.format);
  const rows = Object.fromEntries([...SMALL_TABLES, ...GRAPH_TABLES].map((t) => [t, 0])) as Record<TableName, number>;
  const errors: ExportSummary["errors"] = [];
  const jobs = processJobs(input);
  const timings = { diagnose: 0, rows: 0, write: 0 };
  let clock = performance.now();
  const lap = (phase: keyof typeof timings) => {
    const now = performance.now();
    timings[phase] += now - clock;
    clock = now;
  };
  try {
    for (const [k, job] of jobs.entries()) {
      opts.onProcess?.(k, jobs.length);
      const p = job.process;
      clock = performance.now();
      const analysed = await analyseFiles(p.files);
      lap("diagnose");
      const tables = processTables(job, analysed);
      lap("rows");
      await writer.writeProcess(p, tables);
      lap("write");
      for (const table of SMALL_TABLES) rows[table] += tables[table as keyof ProcessTables].rows;
      if ("error" in analysed) errors.push({ host: p.host, pid: p.pid, error: analysed.error });
      const ids = new Map(p.files.map((f, i) => [f, job.ids[i]]));
      const snapshots = "error" in analysed ? [] : analysed.series.snapshots;
      const graphs = snapshots.map((snap) => graphTables(snap, ids.get(snap.source ?? "") ?? -1));
      lap("rows");
      for (const table of GRAPH_TABLES) {
        const parts = graphs.map((g) => g[table as keyof typeof g]);
        await writer.write(table, p, parts);
        rows[table] += parts.reduce((n, part) => n + part.rows, 0);
      }
      lap("write");
    }
  } finally {
    writer.close();
  }
  return {
    processes: jobs.length, snapshots: jobs.reduce((n, j) => n + j.ids.length, 0), rows, files: writer.files.length,
    skipped: input.skipped, errors, timings,
  };
}
