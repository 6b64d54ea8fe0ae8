// The rows of the exported tables, built from one process's series and its diagnosis (the small tables), and from
// one full snapshot and its heap graph (types, objects, refs: columns taken from the snapshot's own arrays).
import { graphOf } from "../engine/analysis-cache.js";
import { edgeLabel } from "../engine/paths.js";
import { typeSeries } from "../engine/series.js";
import { NONE, type Snapshot } from "../engine/snapshot.js";
import { objectBytes } from "../queries/memory.js";
import type { Analysed } from "./analyse.js";
import type { FleetProcess } from "./discover.js";
import { fromRows, type TableData } from "./schema.js";

/** One process to analyse: its files and the snapshot_id each gets (numbers unique within one export). */
export interface ProcessJob {
  process: FleetProcess;
  ids: number[];
}

/** The small tables of one process. */
export interface ProcessTables {
  snapshots: TableData;
  processes: TableData;
  census: TableData;
  findings: TableData;
  clusters: TableData;
}

function idsByFile(job: ProcessJob): Map<string, number> {
  return new Map(job.process.files.map((file, k) => [file, job.ids[k]]));
}

function snapshotRow(snap: Snapshot, id: number): Record<string, number | string | null> {
  const meta = snap.meta;
  return {
    snapshot_id: id, process_start: meta.process_start, hostname: typeof meta.hostname === "string" ? meta.hostname : null,
    sequence: typeof meta.sequence === "number" ? meta.sequence : null, time: meta.time_unix, time_unix: meta.time_unix,
    kind: snap.kind, file: snap.source, python: meta.python?.version ?? null,
    objects: snap.kind === "census" ? (snap.census?.objects ?? 0) : snap.objectCount, refs: snap.edgeCount,
    shallow_bytes: objectBytes(snap), rss_bytes: snap.memory.rss, rss_peak_bytes: snap.memory.rss_peak,
    capture_s: typeof meta.duration_s === "number" ? meta.duration_s : null,
  };
}

/** The small tables of a process whose series loaded and was diagnosed, or, with `error`, of one that could not be. */
export function processTables(job: ProcessJob, analysed: Analysed): ProcessTables {
  const p = job.process;
  const processRow = {
    process_start: p.process_start, hostname: p.host || null, snapshots: p.files.length,
    first_time: p.times[0], last_time: p.times[p.times.length - 1],
    verdict: "error" in analysed ? null : analysed.diagnosis.verdict,
    summary: "error" in analysed ? null : analysed.diagnosis.summary,
    error: "error" in analysed ? analysed.error : null,
  };
  if ("error" in analysed) {
    const none = fromRows("snapshots", []);
    return {
      snapshots: none, processes: fromRows("processes", [processRow]), census: fromRows("census", []),
      findings: fromRows("findings", []), clusters: fromRows("clusters", []),
    };
  }
  const { series, diagnosis } = analysed;
  const byFile = idsByFile(job);
  const ids = series.snapshots.map((snap) => byFile.get(snap.source ?? "") ?? -1);
  const times = series.snapshots.map((snap) => snap.meta.time_unix);

  const census: Record<string, number | string | null>[] = [];
  for (const t of typeSeries(series).types) {
    t.counts.forEach((count, k) => census.push({
      snapshot_id: ids[k], process_start: p.process_start, time_unix: times[k], type: t.type, count, bytes: t.bytes[k],
    }));
  }
  const findings: Record<string, number | string | null>[] = [];
  const clusters: Record<string, number | string | null>[] = [];
  diagnosis.findings.forEach((f, k) => {
    const finding = k + 1;
    findings.push({
      process_start: p.process_start, finding, kind: f.kind, severity: f.severity, title: f.title, type: f.type,
      path: f.path, step: f.step, new_objects: f.cluster?.new_objects ?? null, new_bytes: f.cluster?.new_bytes ?? null,
      members: f.cluster ? JSON.stringify(f.cluster.members) : null, remedy: f.remedy, evidence: JSON.stringify(f.evidence),
    });
    if (!f.cluster) return;
    f.cluster.retained_sizes.forEach((bytes, s) => clusters.push({
      process_start: p.process_start, finding, path: f.path, snapshot_id: ids[s], time_unix: times[s],
      retained_bytes: bytes, retained_count: f.cluster!.retained_counts[s] ?? null,
    }));
  });
  return {
    snapshots: fromRows("snapshots", series.snapshots.map((snap, k) => snapshotRow(snap, ids[k]))),
    processes: fromRows("processes", [processRow]),
    census: fromRows("census", census),
    findings: fromRows("findings", findings),
    clusters: fromRows("clusters", clusters),
  };
}

/** The object graph of one full snapshot as the types, objects and refs tables (empty for a census snapshot). */
export function graphTables(snap: Snapshot, id: number): { types: TableData; objects: TableData; refs: TableData } {
  const n = snap.kind === "census" ? 0 : snap.objectCount;
  const e = snap.kind === "census" ? 0 : snap.edgeCount;
  if (n === 0) return { types: fromRows("types", []), objects: fromRows("objects", []), refs: fromRows("refs", []) };
  const graph = graphOf(snap);
  const object = new Uint32Array(n);
  const dominator = new Uint32Array(n);
  const name: (string | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    object[i] = i;
    dominator[i] = graph.idom[i] === n ? NONE : graph.idom[i];
    name[i] = snap.name[i] === NONE ? null : snap.strings.get(snap.name[i]);
  }
  const source = new Uint32Array(e);
  const label: string[] = new Array(e);
  for (let i = 0; i < n; i++) {
    for (let k = snap.edgeStart[i]; k < snap.edgeStart[i + 1]; k++) {
      source[k] = i;
      label[k] = edgeLabel(snap, k);
    }
  }
  return {
    types: fromRows("types", snap.types.map((type, t) => ({ snapshot_id: id, type_id: t, type }))),
    objects: {
      rows: n,
      columns: {
        snapshot_id: new Int32Array(n).fill(id), object, address: snap.address, type_id: snap.type, size: snap.size,
        length: snap.length, flags: snap.flags, name, retained_bytes: graph.retained, dominator,
      },
    },
    refs: { rows: e, columns: { snapshot_id: new Int32Array(e).fill(id), source, target: snap.edgeTarget, label } },
  };
}
