// `leakbook summary` of a census snapshot (per-type counts and sizes only, no object graph), and the lines it
// shares with the summary of a full snapshot in main.ts.
import type { Snapshot } from "../engine/snapshot.js";
import { formatBytes, formatCount } from "../common/units.js";
import { printJson, textLines } from "./output.js";

/** "FILE  (lbsnap, captured T, pid P, Python V)". */
export function titleLine(snap: Snapshot): string {
  const m = snap.meta;
  const kind = snap.kind === "census" ? `${snap.format} census` : snap.format;
  return `${snap.source}  (${kind}${m.time ? `, captured ${m.time}` : ""}${m.pid ? `, pid ${m.pid}` : ""}${m.python ? `, Python ${m.python.version}` : ""})`;
}

/** The process's RSS and pymalloc arenas, when the snapshot recorded them. */
export function memoryLines(snap: Snapshot): string[] {
  const out: string[] = [];
  const m = snap.memory;
  if (m.rss !== null) out.push(`process RSS  ${formatBytes(m.rss)}${m.rss_peak !== null ? `  (peak ${formatBytes(m.rss_peak)})` : ""}`);
  const pymalloc = m.pymalloc;
  if (pymalloc?.arenas_in_use !== undefined && pymalloc.arena_bytes !== undefined) {
    const blocks = pymalloc.bytes_in_allocated_blocks;
    out.push(`pymalloc     ${formatCount(pymalloc.arenas_in_use)} arenas in use (${formatBytes(pymalloc.arena_bytes)})` +
      (blocks !== undefined ? `, ${formatBytes(blocks)} in allocated blocks` : ""));
  }
  return out;
}

/** Types listed per table. */
const TOP = 10;

/**
 * The summary of a census: its totals, the memory figures and the top types by count and by size. There are no
 * references, retained sizes, cycles or paths to show; the text says so.
 */
export function censusSummary(snap: Snapshot, json: boolean, processes: { lines: string[]; json: object[] } | null): void {
  const census = snap.census!;
  const types = Object.entries(census.types).map(([type, [count, shallow]]) => ({ type, count, shallow }));
  if (json) {
    printJson({
      file: snap.source, format: snap.format, kind: snap.kind,
      captured: snap.meta.time || null, pid: snap.meta.pid, python: snap.meta.python?.version ?? null,
      objects: census.objects, tracked_only: census.tracked_only,
      memory: { shallow_total: census.bytes, rss: snap.memory.rss, rss_peak: snap.memory.rss_peak, pymalloc: snap.memory.pymalloc, tracemalloc: snap.memory.tracemalloc },
      types: [...types].sort((a, b) => b.count - a.count),
      ...(processes ? { processes: processes.json } : {}),
    });
    return;
  }
  const out = [titleLine(snap), ""];
  out.push(`objects      ${formatCount(census.objects)}  (${formatBytes(census.bytes)} shallow${census.tracked_only ? "; GC-tracked objects only" : ""})`);
  out.push(...memoryLines(snap));
  const table = (title: string, rows: typeof types) => {
    out.push("", title);
    const width = Math.min(48, Math.max(4, ...rows.map((r) => r.type.length)));
    out.push(`  ${"type".padEnd(width)}  ${"count".padStart(12)}  ${"shallow".padStart(10)}`);
    for (const r of rows) out.push(`  ${r.type.slice(0, width).padEnd(width)}  ${formatCount(r.count).padStart(12)}  ${formatBytes(r.shallow).padStart(10)}`);
  };
  table("Top types by count", [...types].sort((a, b) => b.count - a.count).slice(0, TOP));
  table("Top types by shallow size", [...types].sort((a, b) => b.shallow - a.shallow).slice(0, TOP));
  out.push("", "A census has per-type counts only: no references, retained sizes, cycles or paths (capture without census=True for those).");
  if (processes) out.push("", ...processes.lines);
  process.stdout.write(textLines(out));
}
