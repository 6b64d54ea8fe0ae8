// The public API of leakbook: load snapshots, analyse the heap graph, compare snapshots over time.
export * from "./snapshot.js";
export { SnapshotError } from "./errors.js";
export { loadSnapshot, detectFormat, type LoadOptions, type SnapshotFormat } from "./load.js";
export { loadSeries, typeSeries, matchSurvivors, followPath, type Series, type SeriesOptions, type TypeSeries } from "./series.js";
export { analyze, retainedByType, cycles, type HeapGraph, type AnalyzeOptions, type TypeRetained, type Cycle } from "./graph.js";
export { shortestPaths, referrers, referents, findObject, edgeLabel, dominatedBy, type RetentionPath, type PathStep } from "./paths.js";
export { formatBytes, formatCount, formatDuration, formatAddress } from "./units.js";
