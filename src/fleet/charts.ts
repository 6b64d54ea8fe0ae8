// Vega-lite specs of the fleet's tables: growth by process and type (a heatmap), growth rate per process (bars), the
// census merged across processes (a line).
import type { ColumnTable } from "arquero";
import { bytesExpr, VEGA_LITE_SCHEMA, type VegaLiteSpec } from "../charts/charts.js";
import { formatBytes } from "../common/units.js";

type Row = Record<string, unknown>;

const perHour = (v: unknown) => (typeof v === "number" ? `${v < 0 ? "-" : "+"}${formatBytes(Math.abs(v))}/h` : "n/a");

/** Heatmap of bytes per hour by process (columns) and type (rows), from Fleet.typeProcesses; top types by summed rate. */
export function fleetGrowthHeatmap(typeProcesses: ColumnTable, opts: { top?: number } = {}): VegaLiteSpec {
  const rows = typeProcesses.objects() as Row[];
  const summed = new Map<string, number>();
  for (const r of rows) summed.set(String(r.type), (summed.get(String(r.type)) ?? 0) + Math.max(0, Number(r.bytes_per_hour ?? 0)));
  const top = new Set([...summed.entries()].sort((a, b) => b[1] - a[1]).slice(0, opts.top ?? 15).map(([type]) => type));
  const values = rows.filter((r) => top.has(String(r.type))).map((r) => ({
    type: r.type, process: r.label, value: r.bytes_per_hour ?? 0, value_text: perHour(r.bytes_per_hour),
    grows: r.grows ? "grows" : "does not grow",
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Growth by process and type", subtitle: "shallow bytes per hour (least-squares slope over each process's snapshots)" },
    width: { step: 36 },
    height: { step: 22 },
    config: { axis: { labelLimit: 200 }, legend: { orient: "bottom" } },
    data: { values },
    mark: { type: "rect", tooltip: true },
    encoding: {
      x: { field: "process", type: "nominal", title: "Process (host:pid)", sort: null, axis: { labelAngle: -40 } },
      y: { field: "type", type: "nominal", title: "Type", sort: [...top] },
      color: { field: "value", type: "quantitative", title: "Bytes per hour", scale: { scheme: "oranges" }, legend: { labelExpr: bytesExpr() } },
      tooltip: [
        { field: "process", type: "nominal", title: "Process" },
        { field: "type", type: "nominal", title: "Type" },
        { field: "value_text", type: "nominal", title: "Growth" },
        { field: "grows", type: "nominal", title: "Rule" },
      ],
    },
  };
}

/** Bars of each process's growth rate (bytes per hour of Python objects), red for the processes that leak. */
export function fleetRateChart(processes: ColumnTable): VegaLiteSpec {
  const values = (processes.objects() as Row[]).map((r) => ({
    process: r.label, value: r.bytes_per_hour ?? 0, value_text: perHour(r.bytes_per_hour),
    verdict: String(r.verdict ?? "error"), outlier: r.rate_outlier || r.size_outlier ? "yes" : "no",
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "Growth rate per process", subtitle: "shallow bytes of Python objects per hour" },
    width: 540,
    config: { axis: { labelLimit: 200 }, legend: { orient: "bottom" } },
    data: { values },
    mark: { type: "bar", tooltip: true },
    encoding: {
      y: { field: "process", type: "nominal", title: "Process (host:pid)", sort: null },
      x: { field: "value", type: "quantitative", title: "Bytes per hour", axis: { labelExpr: bytesExpr() } },
      color: {
        field: "verdict", type: "nominal", title: "Verdict",
        scale: { domain: ["leak", "no-leak", "native-or-fragmentation", "inconclusive", "error"], range: ["#c62828", "#2e7d32", "#ef6c00", "#757575", "#000000"] },
      },
      tooltip: [
        { field: "process", type: "nominal", title: "Process" },
        { field: "value_text", type: "nominal", title: "Growth" },
        { field: "verdict", type: "nominal", title: "Verdict" },
        { field: "outlier", type: "nominal", title: "Outlier" },
      ],
    },
  };
}

/** Lines of the fleet's census merged across processes (bytes summed at each process's k-th snapshot), from Fleet.mergedCensus. */
export function fleetCensusChart(merged: ColumnTable): VegaLiteSpec {
  const values = (merged.objects() as Row[]).map((r) => ({
    ordinal: r.ordinal, bytes: r.bytes, bytes_text: formatBytes(Number(r.bytes)), processes: r.processes,
  }));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: "The fleet's Python objects, summed over processes", subtitle: "shallow bytes at each process's first, second, ... snapshot" },
    width: 540,
    height: 240,
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "ordinal", type: "ordinal", title: "Snapshot of each process" },
      y: { field: "bytes", type: "quantitative", title: "Shallow bytes, all processes", axis: { labelExpr: bytesExpr() }, scale: { zero: false } },
      tooltip: [
        { field: "ordinal", type: "ordinal", title: "Snapshot" },
        { field: "bytes_text", type: "nominal", title: "Bytes" },
        { field: "processes", type: "quantitative", title: "Processes" },
      ],
    },
  };
}
