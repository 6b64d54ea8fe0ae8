// The census of a series: how many objects and bytes, and how much memory, at each capture.
import * as aq from "arquero";
import { FLAG_TRACKED } from "../engine/snapshot.js";
import type { Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { arenaBytes, objectBytes } from "./memory.js";
import { snapshotsOf, timeOf, type SeriesInput } from "./input.js";

/**
 * census(series): one row per snapshot, in series order.
 * Columns: snapshot (position in the series), sequence (capture number within the process), time (ISO UTC),
 * elapsed_s (seconds since the first snapshot), objects, tracked (GC-tracked objects), shallow_bytes (sum of
 * sys.getsizeof), rss_bytes, rss_peak_bytes, arena_used_bytes, arena_allocated_bytes (pymalloc; null when not
 * captured), and human-readable shallow, rss. Census-kind snapshots count GC-tracked objects only.
 */
export function census(input: SeriesInput): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const t0 = timeOf(snaps[0]);
  const rows = snaps.map((snap, k) => {
    const shallow = objectBytes(snap);
    const arenas = arenaBytes(snap.memory);
    const objects = snap.kind === "census" ? (snap.census?.objects ?? 0) : snap.objectCount;
    return {
      snapshot: k,
      sequence: snap.meta.sequence ?? k,
      time: snap.meta.time,
      elapsed_s: timeOf(snap) - t0,
      objects,
      tracked: snap.kind === "census" ? objects : trackedCount(snap),
      shallow_bytes: shallow,
      rss_bytes: snap.memory.rss,
      rss_peak_bytes: snap.memory.rss_peak,
      arena_used_bytes: arenas.used,
      arena_allocated_bytes: arenas.allocated,
      shallow: formatBytes(shallow),
      rss: snap.memory.rss === null ? null : formatBytes(snap.memory.rss),
    };
  });
  return aq.from(rows);
}

function trackedCount(snap: Snapshot): number {
  let n = 0;
  const flags = snap.flags;
  for (let i = 0; i < snap.objectCount; i++) n += flags[i] & FLAG_TRACKED;
  return n;
}
