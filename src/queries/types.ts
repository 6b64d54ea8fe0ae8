// Per-type counts and sizes, and how they change across a series: which types grow, and how steadily.
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import { retainedByType } from "../engine/graph.js";
import type { Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { snapshotsOf, tableOf, timeOf, type SeriesInput } from "./input.js";

/** Count and shallow bytes per type of one snapshot, indexed by the snapshot's own type ids. */
export interface TypeTotals {
  names: string[];
  count: Float64Array;
  bytes: Float64Array;
}

const totalsMemo = new WeakMap<Snapshot, TypeTotals>();

/** The snapshot's type totals, computed once per snapshot: shared, so read them and do not change them. */
export function typeTotals(snap: Snapshot): TypeTotals {
  let totals = totalsMemo.get(snap);
  if (!totals) totalsMemo.set(snap, (totals = computeTotals(snap)));
  return totals;
}

function computeTotals(snap: Snapshot): TypeTotals {
  if (snap.kind === "census") {
    const entries = Object.entries(snap.census?.types ?? {});
    return {
      names: entries.map(([name]) => name),
      count: Float64Array.from(entries, ([, v]) => v[0]),
      bytes: Float64Array.from(entries, ([, v]) => v[1]),
    };
  }
  const count = new Float64Array(snap.types.length);
  const bytes = new Float64Array(snap.types.length);
  const type = snap.type;
  const size = snap.size;
  for (let i = 0; i < snap.objectCount; i++) {
    count[type[i]]++;
    bytes[type[i]] += size[i];
  }
  return { names: snap.types, count, bytes };
}

/**
 * typeCounts(snap): one row per type present in the snapshot, largest shallow bytes first.
 * Columns: type (qualified name, e.g. builtins.dict, app.User), count, shallow_bytes, avg_bytes, retained_bytes
 * (bytes kept alive by the type's outermost instances along each dominator chain; null for census snapshots),
 * human-readable shallow and retained. A series argument uses its last snapshot.
 */
export function typeCounts(input: SeriesInput): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const snap = snaps[snaps.length - 1];
  const totals = typeTotals(snap);
  const retainedOf = new Map<string, number>();
  if (snap.kind === "full") for (const r of retainedByType(graphOf(snap))) retainedOf.set(r.type, r.retained);
  const ids: number[] = [];
  for (let t = 0; t < totals.names.length; t++) if (totals.count[t] > 0) ids.push(t);
  ids.sort((a, b) => totals.bytes[b] - totals.bytes[a] || totals.count[b] - totals.count[a]);
  const retained = ids.map((t) => retainedOf.get(totals.names[t]) ?? null);
  return aq.table({
    type: ids.map((t) => totals.names[t]),
    count: Float64Array.from(ids, (t) => totals.count[t]),
    shallow_bytes: Float64Array.from(ids, (t) => totals.bytes[t]),
    avg_bytes: Float64Array.from(ids, (t) => totals.bytes[t] / totals.count[t]),
    retained_bytes: retained,
    shallow: ids.map((t) => formatBytes(totals.bytes[t])),
    retained: retained.map((r) => (r === null ? null : formatBytes(r))),
  });
}

/** Counts and bytes of every type of a series, one Float64Array per snapshot over a shared list of names. */
interface TypeMatrix {
  names: string[];
  counts: Float64Array[];
  bytes: Float64Array[];
}

function typeMatrix(snaps: Snapshot[]): TypeMatrix {
  const idOf = new Map<string, number>();
  const names: string[] = [];
  const local = snaps.map((snap) => {
    const totals = typeTotals(snap);
    const toShared = totals.names.map((name) => {
      let id = idOf.get(name);
      if (id === undefined) {
        id = names.length;
        idOf.set(name, id);
        names.push(name);
      }
      return id;
    });
    return { totals, toShared };
  });
  const counts = local.map(({ totals, toShared }) => {
    const row = new Float64Array(names.length);
    toShared.forEach((id, t) => (row[id] += totals.count[t]));
    return row;
  });
  const bytes = local.map(({ totals, toShared }) => {
    const row = new Float64Array(names.length);
    toShared.forEach((id, t) => (row[id] += totals.bytes[t]));
    return row;
  });
  return { names, counts, bytes };
}

/** Least-squares slope of ys against 0..n-1, and the fit's coefficient of determination (1 when ys are flat). */
export function fitLine(ys: ArrayLike<number>): { slope: number; r2: number } {
  const n = ys.length;
  if (n < 2) return { slope: 0, r2: 1 };
  const meanX = (n - 1) / 2;
  let meanY = 0;
  for (let k = 0; k < n; k++) meanY += ys[k] / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    sxy += (k - meanX) * (ys[k] - meanY);
    sxx += (k - meanX) ** 2;
    syy += (ys[k] - meanY) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Never decreases and ends above where it started. */
export function isMonotonicGrowth(ys: ArrayLike<number>): boolean {
  for (let k = 1; k < ys.length; k++) if (ys[k] < ys[k - 1]) return false;
  return ys.length > 1 && ys[ys.length - 1] > ys[0];
}

/**
 * Growth judged steady: at least three snapshots, a positive fitted slope, and either monotonic or a
 * close linear fit (r² ≥ 0.8). Two points cannot tell steady growth from a blip.
 */
export function isSteadyGrowth(ys: ArrayLike<number>): boolean {
  if (ys.length < 3) return false;
  const { slope, r2 } = fitLine(ys);
  return slope > 0 && (isMonotonicGrowth(ys) || r2 >= 0.8);
}

/**
 * typeGrowth(series, { top = 20, by = "count" }): the types that grew most between the first and the last
 * snapshot, largest growth first (by count or by bytes).
 * Columns: type, first_count, last_count, delta_count, first_bytes, last_bytes, delta_bytes, per_snapshot
 * (count growth per snapshot, from the fitted slope), per_hour (count growth per hour of capture time, null
 * when the snapshots share one time), slope and r2 (least-squares fit of count against snapshot number),
 * monotonic (never decreased and grew), steady (see isSteadyGrowth), counts (count in every snapshot, an
 * array), and human-readable delta (of delta_bytes) and last (of last_bytes).
 */
export function typeGrowth(input: SeriesInput, opts: { top?: number; by?: "count" | "bytes" } = {}): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const { names, counts, bytes } = typeMatrix(snaps);
  const n = snaps.length;
  const first = 0;
  const last = n - 1;
  const key = opts.by === "bytes" ? bytes : counts;
  const ids = names.map((_, t) => t);
  ids.sort((a, b) => key[last][b] - key[first][b] - (key[last][a] - key[first][a]) || counts[last][b] - counts[last][a]);
  const chosen = ids.slice(0, opts.top ?? 20);
  const hours = (timeOf(snaps[last]) - timeOf(snaps[first])) / 3600;
  const series = chosen.map((t) => Float64Array.from(counts, (row) => row[t]));
  const fits = series.map(fitLine);
  return aq.table({
    type: chosen.map((t) => names[t]),
    first_count: Float64Array.from(chosen, (t) => counts[first][t]),
    last_count: Float64Array.from(chosen, (t) => counts[last][t]),
    delta_count: Float64Array.from(chosen, (t) => counts[last][t] - counts[first][t]),
    first_bytes: Float64Array.from(chosen, (t) => bytes[first][t]),
    last_bytes: Float64Array.from(chosen, (t) => bytes[last][t]),
    delta_bytes: Float64Array.from(chosen, (t) => bytes[last][t] - bytes[first][t]),
    per_snapshot: Float64Array.from(fits, (f) => f.slope),
    per_hour: chosen.map((t) => (hours > 0 ? (counts[last][t] - counts[first][t]) / hours : null)),
    slope: Float64Array.from(fits, (f) => f.slope),
    r2: Float64Array.from(fits, (f) => f.r2),
    monotonic: series.map(isMonotonicGrowth),
    steady: series.map(isSteadyGrowth),
    counts: series.map((ys) => Array.from(ys)),
    delta: chosen.map((t) => formatBytes(bytes[last][t] - bytes[first][t])),
    last: chosen.map((t) => formatBytes(bytes[last][t])),
  });
}

/**
 * typeHistory(series, { top = 10, by = "count", types? }): count and bytes of chosen types in every snapshot, one
 * row per (type, snapshot): the long form behind growth lines and the type-by-snapshot heatmap. Types are the
 * given `types` (qualified names) or the `top` growers of typeGrowth.
 * Columns: type, snapshot (position), time (ISO), elapsed_s, count, bytes.
 */
export function typeHistory(
  input: SeriesInput,
  opts: { top?: number; by?: "count" | "bytes"; types?: string[] } = {},
): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const { names, counts, bytes } = typeMatrix(snaps);
  const wanted = opts.types ?? (typeGrowth(snaps, { top: opts.top ?? 10, by: opts.by }).array("type") as string[]);
  const t0 = timeOf(snaps[0]);
  const rows: { type: string; snapshot: number; time: string; elapsed_s: number; count: number; bytes: number }[] = [];
  for (const name of wanted) {
    const t = names.indexOf(name);
    snaps.forEach((snap, k) => {
      rows.push({
        type: name,
        snapshot: k,
        time: snap.meta.time,
        elapsed_s: timeOf(snap) - t0,
        count: t < 0 ? 0 : counts[k][t],
        bytes: t < 0 ? 0 : bytes[k][t],
      });
    });
  }
  return tableOf(["type", "snapshot", "time", "elapsed_s", "count", "bytes"], rows);
}
