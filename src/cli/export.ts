// `leakbook export`: snapshots as documented tables (docs/export.md) for DuckDB, Spark or any Parquet reader.
import { SnapshotError } from "../common/errors.js";
import { formatCount } from "../common/units.js";
import type { ExportFormat } from "../export/write.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { printJson } from "./output.js";
import { terminalProgress } from "./progress.js";
import { oneLine } from "./fleet.js";

const FORMATS: readonly ExportFormat[] = ["parquet", "arrow"];

export async function exportTables(positionals: string[], values: OptionValues): Promise<void> {
  const usage = COMMANDS.export.usage;
  if (positionals.length === 0) throw new SnapshotError(`missing DIRECTORY or FILE (usage: ${usage})`);
  const to = values.to;
  if (typeof to !== "string" || to === "") throw new SnapshotError(`missing --to DIR (usage: ${usage})`);
  const format = (values.format ?? "parquet") as ExportFormat;
  if (!FORMATS.includes(format)) throw new SnapshotError(`bad --format '${String(values.format)}': give parquet or arrow`);
  const { exportSnapshots } = await import("../export/write.js"); // when the command runs, not at start-up
  const progress = terminalProgress();
  let summary;
  try {
    summary = await exportSnapshots(positionals, {
      to, format, onProcess: (k, n) => progress.update(`exporting process ${k + 1}/${n}`, k / Math.max(n, 1)),
    });
  } finally {
    progress.clear();
  }
  for (const s of summary.skipped) process.stderr.write(`leakbook: warning: skipped ${oneLine(s.file)}: ${s.reason}\n`);
  for (const e of summary.errors) process.stderr.write(`leakbook: warning: pid ${e.pid}${e.host ? ` on ${oneLine(e.host)}` : ""}: ${oneLine(e.error)}\n`);
  if (values.json) {
    printJson(summary);
    return;
  }
  const rows = Object.entries(summary.rows).map(([table, n]) => `${table} ${formatCount(n)}`).join(", ");
  process.stdout.write(`leakbook export: ${summary.processes} processes, ${summary.snapshots} snapshots -> ${to} ` +
    `(${summary.files} ${format} files; rows: ${rows})\n`);
}
