// The embedded engine: an in-process DuckDB database (no server) that writes the tables as Parquet and runs SQL over
// Parquet files. Values go in through DuckDB's appender in chunks of typed columns; the Parquet encoding is DuckDB's.
// DuckDB (a native library) is imported when a database is opened, so commands that never open one never load it.
import type { DuckDBConnection, DuckDBInstance, DuckDBType } from "@duckdb/node-api";
import { TABLES, U32_NONE, type ColumnSpec, type ColumnType, type TableData, type TableName } from "./schema.js";

/** Rows per appended chunk: DuckDB's vector size. */
const CHUNK_ROWS = 2048;

type DuckDB = typeof import("@duckdb/node-api");

/** How a column is held while staged (numbers DuckDB casts on the way out, so no BigInt is made in JavaScript). */
const STAGED: Record<ColumnType, "INTEGER" | "UINTEGER" | "UTINYINT" | "DOUBLE" | "VARCHAR"> = {
  INTEGER: "INTEGER", UINTEGER: "UINTEGER", UTINYINT: "UTINYINT", BIGINT: "DOUBLE", UBIGINT: "DOUBLE", DOUBLE: "DOUBLE",
  VARCHAR: "VARCHAR", TIMESTAMPTZ: "DOUBLE",
};

/** A SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

const quoted = (name: string) => `"${name}"`;

/** The expression that turns a staged column into the written one. */
function written(spec: ColumnSpec): string {
  const name = quoted(spec.name);
  switch (spec.type) {
    case "BIGINT":
    case "UBIGINT":
      return `CAST(${name} AS ${spec.type}) AS ${name}`;
    case "TIMESTAMPTZ":
      return `to_timestamp(${name}) AS ${name}`;
    case "UINTEGER":
      return spec.nullable ? `NULLIF(${name}, ${U32_NONE}) AS ${name}` : name;
    default:
      return name;
  }
}

/** A query result value as plain JavaScript: DuckDB's integers come back as BigInt, its timestamps as objects. */
function plain(value: unknown): number | string | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export type Row = Record<string, number | string | boolean | null>;

export class Engine {
  private staged = 0;

  private constructor(
    private readonly duckdb: DuckDB,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /**
   * A new in-memory database. `threads: 1` for many small files or queries: it halves the cost of each COPY, and
   * sums come out in one order, so the same tables give the same figures to the last digit.
   */
  static async open(opts: { threads?: number } = {}): Promise<Engine> {
    const duckdb = await import("@duckdb/node-api");
    const instance = await duckdb.DuckDBInstance.create(":memory:", opts.threads ? { threads: String(opts.threads) } : {});
    return new Engine(duckdb, instance, await instance.connect());
  }

  /** Writes the parts, one after another, as one Parquet file of `table`'s columns. */
  async writeParquet(table: TableName, parts: readonly TableData[], path: string): Promise<void> {
    const specs: readonly ColumnSpec[] = TABLES[table];
    const stage = `stage_${this.staged++}`;
    const columns = specs.map((s) => `${quoted(s.name)} ${STAGED[s.type]}`).join(", ");
    await this.connection.run(`CREATE TABLE ${stage} (${columns})`);
    try {
      const appender = await this.connection.createAppender(stage);
      const types: DuckDBType[] = specs.map((s) => this.duckdb[STAGED[s.type]]);
      for (const part of parts) {
        for (let start = 0; start < part.rows; start += CHUNK_ROWS) {
          const rows = Math.min(CHUNK_ROWS, part.rows - start);
          const chunk = this.duckdb.DuckDBDataChunk.create(types, rows);
          specs.forEach((spec, k) => chunk.setColumnValues(k, slice(part.columns[spec.name], start, rows) as readonly (number | string | null)[]));
          appender.appendDataChunk(chunk);
        }
      }
      appender.closeSync();
      const select = specs.map(written).join(", ");
      await this.connection.run(`COPY (SELECT ${select} FROM ${stage}) TO ${sqlString(path)} (FORMAT PARQUET)`);
    } finally {
      await this.connection.run(`DROP TABLE ${stage}`);
    }
  }

  /** Runs SQL statements; the rows of the last one. */
  async query(sql: string): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS().map((row) => {
      const out: Row = {};
      for (const [key, value] of Object.entries(row)) out[key] = plain(value);
      return out;
    });
  }

  /** The column names and DuckDB types of a query's result, in order. */
  async describe(sql: string): Promise<{ name: string; type: string }[]> {
    const rows = await this.query(`DESCRIBE ${sql}`);
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** `rows` values from `start`: a view for typed arrays, a copy for plain arrays. */
function slice(values: ArrayLike<number | string | null>, start: number, rows: number): ArrayLike<number | string | null> {
  if (ArrayBuffer.isView(values)) return (values as unknown as Float64Array).subarray(start, start + rows);
  return Array.prototype.slice.call(values, start, start + rows) as (number | string | null)[];
}
