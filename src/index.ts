// The public API of leakbook: load snapshots, ask the leak-hunting questions as arquero tables, chart and show them.

// Loading snapshots and series.
export * from "./engine/snapshot.js";
export { SnapshotError } from "./common/errors.js";
export { loadSnapshot, detectFormat, type LoadOptions, type SnapshotFormat } from "./engine/load.js";
export {
  loadSeries,
  seriesProcesses,
  ProcessSelectionError,
  typeSeries,
  matchSurvivors,
  followPath,
  type Series,
  type SeriesOptions,
  type SeriesProcess,
  type TypeSeries,
} from "./engine/series.js";

// The query helpers: each returns an arquero table (docs/queries.md).
export { census } from "./queries/census.js";
export { memoryGap } from "./queries/memory.js";
export { typeCounts, typeGrowth, typeHistory } from "./queries/types.js";
export { instances, largest, sizeDistribution } from "./queries/objects.js";
export { stringTotals, largestStrings, duplicateStrings, growingStrings } from "./queries/strings.js";
export { caches } from "./queries/caches.js";
export { survivors } from "./queries/survivors.js";
export { leakClusters } from "./queries/clusters.js";
export { cycles, bidirectionalLinks } from "./queries/cycles.js";
export { holders, HOLDER_KINDS, type HolderKind } from "./queries/holders.js";
export { referrers, referents, pathsToRoot, dominated } from "./queries/navigate.js";
export { allocationSites } from "./queries/alloc.js";
export { selectObject, resolvePath, type SeriesInput, type ObjectSelector } from "./queries/input.js";

// Charts (vega-lite specs) and display in notebooks.
export * from "./charts/charts.js";
export { show, renderHtml, renderText, renderSvg, escapeHtml, type DisplayOptions } from "./present/display.js";
export { snapshotsPath } from "./present/notebook-input.js";

// The heap graph engine underneath, for queries of your own.
export { graphOf } from "./engine/analysis-cache.js";
export {
  analyze,
  retainedByType,
  cycles as cycleComponents,
  type HeapGraph,
  type AnalyzeOptions,
  type TypeRetained,
  type Cycle,
} from "./engine/graph.js";
export {
  shortestPaths,
  referrers as referrerEdges,
  referents as referentEdges,
  findObject,
  edgeLabel,
  dominatedBy,
  type RetentionPath,
  type PathStep,
} from "./engine/paths.js";
export { formatBytes, formatCount, formatDuration, formatAddress } from "./common/units.js";
// Escaping snapshot text (type names, keys, thread and file names are arbitrary strings) for your own output.
export { terminalText, xmlText } from "./common/escape.js";

// The guided diagnosis (docs/diagnosis.md) and the HTML report.
export { diagnose, REMEDIES, FINDING_KINDS, type DiagnoseOptions } from "./diagnose/index.js";
export type { Diagnosis, Finding, FindingKind, Severity, StepResult, StepStatus, Verdict, EvidenceValue } from "./diagnose/types.js";
export { renderReport, type ReportOptions } from "./present/report.js";
export { evidenceRows, evidenceTable, type EvidenceRow } from "./present/evidence.js";
export { renderFleetReport } from "./present/report.js";

// Many processes: the fleet's cross-process view on an embedded DuckDB, and the export of tables (docs/export.md).
export { analyseFleet, type Fleet, type FleetOptions } from "./fleet/index.js";
export { FLEET_QUERIES, FLEET_VIEWS, duckdbTableViews } from "./fleet/queries.js";
export { fleetCensusChart, fleetGrowthHeatmap, fleetRateChart } from "./fleet/charts.js";
export { discoverFleet, type FleetInput, type FleetProcess } from "./export/discover.js";
export { exportSnapshots, type ExportFormat, type ExportOptions, type ExportSummary } from "./export/write.js";
export { Engine, type Row } from "./export/duckdb.js";
export { TABLES, type TableName, type ColumnSpec } from "./export/schema.js";
