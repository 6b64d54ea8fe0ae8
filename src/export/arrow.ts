// The tables as Arrow IPC files (`--format arrow`), encoded by flechette, the Arrow library arquero is built on.
// Column types follow the schema: the same logical types as the Parquet files. Strings are dictionary-encoded, as
// Parquet's are: type names, labels and names repeat, and building the dictionary is many times faster.
import { writeFile } from "node:fs/promises";
import {
  dictionary, float64, int32, int64, tableFromArrays, tableToIPC, timestamp, TimeUnit, uint32, uint64, uint8, utf8, type DataType,
} from "@uwdata/flechette";
import { TABLES, U32_NONE, type ColumnSpec, type ColumnType, type TableData, type TableName } from "./schema.js";

const ARROW_TYPES: Record<ColumnType, () => DataType> = {
  INTEGER: () => int32(), UINTEGER: () => uint32(), UTINYINT: () => uint8(), BIGINT: () => int64(), UBIGINT: () => uint64(),
  DOUBLE: () => float64(), VARCHAR: () => dictionary(utf8()), TIMESTAMPTZ: () => timestamp(TimeUnit.MICROSECOND, "UTC"),
};

/** One column of all the parts, in the form flechette builds from (timestamps in whole milliseconds, nulls as null). */
function columnValues(spec: ColumnSpec, parts: readonly TableData[]): ArrayLike<unknown> {
  const total = parts.reduce((n, p) => n + p.rows, 0);
  const typed = !spec.nullable && spec.type !== "TIMESTAMPTZ" && parts.length === 1 && ArrayBuffer.isView(parts[0].columns[spec.name]);
  if (typed) return parts[0].columns[spec.name];
  const out: unknown[] = new Array(total);
  let at = 0;
  for (const part of parts) {
    const values = part.columns[spec.name];
    for (let i = 0; i < part.rows; i++) {
      const v = values[i];
      if (v === null || v === undefined || (spec.nullable && spec.type === "UINTEGER" && v === U32_NONE)) out[at++] = null;
      else out[at++] = spec.type === "TIMESTAMPTZ" ? Math.round((v as number) * 1000) : v;
    }
  }
  return out;
}

/** Writes the parts, one after another, as one Arrow IPC file (the file format, `.arrow`) of `table`'s columns. */
export async function writeArrow(table: TableName, parts: readonly TableData[], path: string): Promise<void> {
  const specs: readonly ColumnSpec[] = TABLES[table];
  const data: Record<string, ArrayLike<unknown>> = {};
  const types: Record<string, DataType> = {};
  for (const spec of specs) {
    data[spec.name] = columnValues(spec, parts);
    types[spec.name] = ARROW_TYPES[spec.type]();
  }
  const bytes = tableToIPC(tableFromArrays(data as Parameters<typeof tableFromArrays>[0], { types }), { format: "file" });
  if (!bytes) throw new Error(`flechette wrote no bytes for ${table}`);
  await writeFile(path, bytes, { flag: "wx" });
}
