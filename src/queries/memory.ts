// Process memory against Python objects: is the growth in Python objects, or in fragmentation / native memory?
import * as aq from "arquero";
import type { MemoryInfo, Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { snapshotsOf, timeOf, type SeriesInput } from "./input.js";

/** Bytes of pymalloc arenas allocated from the OS, and bytes of blocks in use inside them (null when unknown). */
export function arenaBytes(memory: MemoryInfo): { allocated: number | null; used: number | null } {
  const p = memory.pymalloc;
  if (!p) return { allocated: null, used: null };
  return { allocated: p.arena_bytes ?? null, used: p.bytes_in_allocated_blocks ?? null };
}

/** Sum of the shallow sizes of all objects in a snapshot (the census total for census snapshots). */
export function objectBytes(snap: Snapshot): number {
  if (snap.kind === "census") return snap.census?.bytes ?? 0;
  let total = 0;
  const size = snap.size;
  for (let i = 0; i < snap.objectCount; i++) total += size[i];
  return total;
}

/**
 * memoryGap(series): one row per snapshot, RSS against the bytes of Python objects and of pymalloc arenas.
 * Columns: snapshot (position in the series), time (ISO), elapsed_s, rss_bytes, python_bytes (sum of shallow
 * sizes), arena_allocated_bytes, arena_used_bytes, tracemalloc_overhead_bytes (tracemalloc's own memory while it
 * traces: native memory that grows with every live allocation), gap_bytes (rss − python_bytes), python_share
 * (python_bytes / rss), and human-readable rss, python, gap. Memory figures are null when the capture could not read
 * them.
 * A gap that grows while python_bytes stays flat points at native memory or fragmentation, not Python objects.
 */
export function memoryGap(input: SeriesInput): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const t0 = timeOf(snaps[0]);
  const rows = snaps.map((snap, k) => {
    const rss = snap.memory.rss;
    const python = objectBytes(snap);
    const arenas = arenaBytes(snap.memory);
    return {
      snapshot: k,
      time: snap.meta.time,
      elapsed_s: timeOf(snap) - t0,
      rss_bytes: rss,
      python_bytes: python,
      arena_allocated_bytes: arenas.allocated,
      arena_used_bytes: arenas.used,
      tracemalloc_overhead_bytes: snap.memory.tracemalloc?.overhead ?? null,
      gap_bytes: rss === null ? null : rss - python,
      python_share: rss ? python / rss : null,
      rss: rss === null ? null : formatBytes(rss),
      python: formatBytes(python),
      gap: rss === null ? null : formatBytes(rss - python),
    };
  });
  return aq.from(rows);
}
