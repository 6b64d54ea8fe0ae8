// The exported tables and their columns (docs/export.md describes each). One list serves the Parquet writer, the
// Arrow writer and the docs test, so the three cannot disagree. Every table is written once per process, under
// TABLE/host=HOST/pid=PID/, so the host and pid are columns of the path (hive partitioning), not of the files.

/** Column types as written (DuckDB's names; docs/export.md gives the Parquet and Spark types). */
export type ColumnType = "INTEGER" | "UINTEGER" | "UTINYINT" | "BIGINT" | "UBIGINT" | "DOUBLE" | "VARCHAR" | "TIMESTAMPTZ";

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Whether the column can be null. */
  nullable: boolean;
}

/** A u32 column's "none" value in the snapshot (NONE), written as null. */
export const U32_NONE = 0xffffffff;

const column = (name: string, type: ColumnType, nullable = false): ColumnSpec => ({ name, type, nullable });

const PROCESS_START = column("process_start", "DOUBLE");
const SNAPSHOT_ID = column("snapshot_id", "INTEGER");

export const TABLES = {
  snapshots: [
    SNAPSHOT_ID, PROCESS_START, column("hostname", "VARCHAR", true), column("sequence", "INTEGER", true),
    column("time", "TIMESTAMPTZ"), column("time_unix", "DOUBLE"), column("kind", "VARCHAR"), column("file", "VARCHAR"),
    column("python", "VARCHAR", true), column("objects", "BIGINT"), column("refs", "BIGINT"), column("shallow_bytes", "BIGINT"),
    column("rss_bytes", "BIGINT", true), column("rss_peak_bytes", "BIGINT", true), column("capture_s", "DOUBLE", true),
  ],
  processes: [
    PROCESS_START, column("hostname", "VARCHAR", true), column("snapshots", "INTEGER"), column("first_time", "TIMESTAMPTZ"),
    column("last_time", "TIMESTAMPTZ"), column("verdict", "VARCHAR", true), column("summary", "VARCHAR", true),
    column("error", "VARCHAR", true),
  ],
  census: [
    SNAPSHOT_ID, PROCESS_START, column("time_unix", "DOUBLE"), column("type", "VARCHAR"), column("count", "BIGINT"),
    column("bytes", "BIGINT"),
  ],
  findings: [
    PROCESS_START, column("finding", "INTEGER"), column("kind", "VARCHAR"), column("severity", "VARCHAR"),
    column("title", "VARCHAR"), column("type", "VARCHAR", true), column("path", "VARCHAR", true), column("step", "VARCHAR"),
    column("new_objects", "BIGINT", true), column("new_bytes", "BIGINT", true), column("members", "VARCHAR", true),
    column("remedy", "VARCHAR"), column("evidence", "VARCHAR"),
  ],
  clusters: [
    PROCESS_START, column("finding", "INTEGER"), column("path", "VARCHAR", true), SNAPSHOT_ID, column("time_unix", "DOUBLE"),
    column("retained_bytes", "BIGINT", true), column("retained_count", "BIGINT", true),
  ],
  types: [SNAPSHOT_ID, column("type_id", "UINTEGER"), column("type", "VARCHAR")],
  objects: [
    SNAPSHOT_ID, column("object", "UINTEGER"), column("address", "UBIGINT"), column("type_id", "UINTEGER"),
    column("size", "BIGINT"), column("length", "UINTEGER", true), column("flags", "UTINYINT"), column("name", "VARCHAR", true),
    column("retained_bytes", "BIGINT"), column("dominator", "UINTEGER", true),
  ],
  refs: [SNAPSHOT_ID, column("source", "UINTEGER"), column("target", "UINTEGER"), column("label", "VARCHAR")],
} as const satisfies Record<string, readonly ColumnSpec[]>;

export type TableName = keyof typeof TABLES;

/** The tables the fleet's queries read: everything but the object graph. */
export const SMALL_TABLES: readonly TableName[] = ["snapshots", "processes", "census", "findings", "clusters"];
export const GRAPH_TABLES: readonly TableName[] = ["types", "objects", "refs"];

/**
 * A table's values, one array per column. Numbers stand for what the column type says: seconds since the epoch
 * for TIMESTAMPTZ, U32_NONE for a null in a nullable UINTEGER column (typed arrays straight from a snapshot);
 * elsewhere null is null.
 */
export interface TableData {
  rows: number;
  columns: Record<string, ArrayLike<number | string | null>>;
}

/** A table from row objects with the schema's column names (small tables). */
export function fromRows(table: TableName, rows: readonly Record<string, number | string | null>[]): TableData {
  const columns: Record<string, (number | string | null)[]> = {};
  for (const spec of TABLES[table]) columns[spec.name] = rows.map((r) => r[spec.name] ?? null);
  return { rows: rows.length, columns };
}
