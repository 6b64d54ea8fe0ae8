// Where objects were allocated, when the snapshots carry tracemalloc sites.
import * as aq from "arquero";
import type { Snapshot } from "../engine/snapshot.js";
import { NONE } from "../engine/snapshot.js";
import { attribute, objectName, snapshotsOf, tableOf, typeMask, type SeriesInput } from "./input.js";

/** The capture agent's file (the `__file__` of the module `leakbook`), or null when it is not in the snapshot. */
function agentFile(snap: Snapshot): string | null {
  const moduleType = snap.types.indexOf("builtins.module");
  for (let i = 0; i < snap.objectCount; i++) {
    if (snap.type[i] !== moduleType || objectName(snap, i) !== "leakbook") continue;
    const file = attribute(snap, i, "__file__");
    if (file !== NONE) return objectName(snap, file);
  }
  return null;
}

/** Count and bytes per allocation site ("file:line" of the innermost frame, and the whole stack), for one snapshot. */
function sitesOf(snap: Snapshot, type?: string): Map<string, { site: string; stack: string; count: number; bytes: number; types: Map<string, number> }> {
  const out = new Map<string, { site: string; stack: string; count: number; bytes: number; types: Map<string, number> }>();
  if (!snap.alloc || !snap.allocSites) return out;
  const mask = type ? typeMask(snap, [type]) : null;
  const count = new Float64Array(snap.allocSites.length);
  const bytes = new Float64Array(snap.allocSites.length);
  for (let i = 0; i < snap.objectCount; i++) {
    const s = snap.alloc[i];
    if (s === NONE || (mask && !mask[snap.type[i]])) continue;
    count[s]++;
    bytes[s] += snap.size[i];
  }
  // Type mix per site: a second pass over the objects of the sites that were hit.
  const typeCounts = new Map<number, Map<string, number>>();
  for (let i = 0; i < snap.objectCount; i++) {
    const s = snap.alloc[i];
    if (s === NONE || (mask && !mask[snap.type[i]])) continue;
    let m = typeCounts.get(s);
    if (!m) typeCounts.set(s, (m = new Map()));
    const name = snap.types[snap.type[i]];
    m.set(name, (m.get(name) ?? 0) + 1);
  }
  const agent = agentFile(snap);
  snap.allocSites.forEach((frames, s) => {
    // What the capture agent allocated for itself is not the program's memory.
    if (count[s] === 0 || frames.length === 0 || frames[0].file === agent) return;
    const site = `${frames[0].file}:${frames[0].line}`;
    const stack = frames.map((f) => `${f.file}:${f.line}`).join(" ← ");
    const entry = out.get(stack);
    if (entry) {
      entry.count += count[s];
      entry.bytes += bytes[s];
      for (const [t, c] of typeCounts.get(s) ?? []) entry.types.set(t, (entry.types.get(t) ?? 0) + c);
    } else {
      out.set(stack, { site, stack, count: count[s], bytes: bytes[s], types: new Map(typeCounts.get(s)) });
    }
  });
  return out;
}

/**
 * allocationSites(series, { type?, top = 30 }): where the live objects of the last snapshot were allocated
 * (tracemalloc tracebacks; empty when tracemalloc was not tracing), with the change since the first snapshot, most
 * bytes gained first (most bytes for a single snapshot).
 * Columns: site ("file:line" of the innermost frame), file, line, stack (innermost first, "a.py:3 ← b.py:10"),
 * count, bytes, first_count, delta_count, delta_bytes, types (type mix at the site: "app.User×3, dict×3").
 */
export function allocationSites(input: SeriesInput, opts: { type?: string; top?: number } = {}): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const last = sitesOf(snaps[snaps.length - 1], opts.type);
  const first = snaps.length > 1 ? sitesOf(snaps[0], opts.type) : last;
  const rows = [...last.values()].map((s) => {
    const before = first.get(s.stack);
    const at = s.site.lastIndexOf(":");
    return {
      site: s.site,
      file: s.site.slice(0, at),
      line: Number(s.site.slice(at + 1)),
      stack: s.stack,
      count: s.count,
      bytes: s.bytes,
      first_count: before?.count ?? 0,
      delta_count: s.count - (before?.count ?? 0),
      delta_bytes: s.bytes - (before?.bytes ?? 0),
      types: [...s.types.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([t, c]) => `${t.replace(/^builtins\./, "")}×${c}`).join(", "),
    };
  });
  rows.sort((a, b) => (snaps.length > 1 ? b.delta_bytes - a.delta_bytes : 0) || b.bytes - a.bytes);
  return tableOf(
    ["site", "file", "line", "stack", "count", "bytes", "first_count", "delta_count", "delta_bytes", "types"],
    rows.slice(0, opts.top ?? 30),
  );
}
