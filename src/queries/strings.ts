// Strings and byte buffers: totals over time, the largest ones, duplicates, and buffers growing at a stable path.
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import { shortestPaths } from "../engine/paths.js";
import { followPath } from "../engine/series.js";
import { FLAG_TRUNCATED, NONE, type Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { objectRows } from "./objects.js";
import { lastOf, pathExpr, requireFull, snapshotsOf, tableOf, timeOf, topIndices, typeMask, type SeriesInput } from "./input.js";
import { isMonotonicGrowth, isSteadyGrowth } from "./types.js";

/** The string-like types: text and the two byte buffers. */
export const STRING_TYPES = ["builtins.str", "builtins.bytes", "builtins.bytearray"];

/**
 * stringTotals(series): per snapshot and string type (str, bytes, bytearray): how many, their total len() and
 * their total shallow bytes. Census snapshots give counts and bytes of tracked objects only (strings are not
 * tracked, so they show as 0).
 * Columns: snapshot, time, elapsed_s, type ("str" | "bytes" | "bytearray"), count, total_length, total_bytes,
 * total (human).
 */
export function stringTotals(input: SeriesInput): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const t0 = timeOf(snaps[0]);
  const rows: Record<string, unknown>[] = [];
  snaps.forEach((snap, k) => {
    const count = [0, 0, 0];
    const length = [0, 0, 0];
    const bytes = [0, 0, 0];
    if (snap.kind === "full") {
      const which = new Int8Array(snap.types.length).fill(-1);
      snap.types.forEach((name, t) => (which[t] = STRING_TYPES.indexOf(name)));
      for (let i = 0; i < snap.objectCount; i++) {
        const w = which[snap.type[i]];
        if (w < 0) continue;
        count[w]++;
        if (snap.length[i] !== NONE) length[w] += snap.length[i];
        bytes[w] += snap.size[i];
      }
    } else {
      STRING_TYPES.forEach((name, w) => {
        const entry = snap.census?.types[name];
        if (entry) [count[w], bytes[w]] = entry;
      });
    }
    STRING_TYPES.forEach((name, w) => {
      rows.push({
        snapshot: k, time: snap.meta.time, elapsed_s: timeOf(snap) - t0, type: name.slice(9),
        count: count[w], total_length: length[w], total_bytes: bytes[w], total: formatBytes(bytes[w]),
      });
    });
  });
  return tableOf(["snapshot", "time", "elapsed_s", "type", "count", "total_length", "total_bytes", "total"], rows);
}

/**
 * largestStrings(snap, { top = 20, types? }): the largest str, bytes and bytearray objects (or of the given types).
 * Columns: as instances() (name holds the value's prefix), plus truncated (the stored value is only a prefix).
 */
export function largestStrings(input: SeriesInput, opts: { top?: number; types?: string[] } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "largestStrings");
  const mask = typeMask(snap, opts.types ?? STRING_TYPES);
  const top = topIndices(snap.objectCount, snap.size, opts.top ?? 20, (i) => mask[snap.type[i]] === 1);
  const truncated = aq.table({ truncated: top.map((i) => (snap.flags[i] & FLAG_TRUNCATED) !== 0) });
  return objectRows(snap, top, top.length).assign(truncated);
}

/**
 * duplicateStrings(snap, { top = 20, types? }): groups of distinct string objects with the same type, length and
 * stored prefix (the whole value when it is short), most wasted bytes first. Values longer than the capture's
 * prefix length are grouped by prefix, so a group can hold different strings that share a long beginning.
 * Columns: type, length, value (the shared prefix), count, size_bytes (of one), wasted_bytes (all copies but one),
 * total_bytes, example_address, example_path, wasted (human).
 */
export function duplicateStrings(input: SeriesInput, opts: { top?: number; types?: string[] } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "duplicateStrings");
  const mask = typeMask(snap, opts.types ?? STRING_TYPES);
  // Only strings whose (type, length) repeats can be duplicates: count those first, then group the candidates by
  // their stored value (the string table does not share entries between objects).
  const sameShape = new Map<number, number>();
  const shapeOf = (i: number) => snap.type[i] * 4294967296 + snap.length[i];
  for (let i = 0; i < snap.objectCount; i++) {
    if (!mask[snap.type[i]] || snap.name[i] === NONE) continue;
    const shape = shapeOf(i);
    sameShape.set(shape, (sameShape.get(shape) ?? 0) + 1);
  }
  const byValue = new Map<string, { first: number; count: number; total: number; largest: number }>();
  for (let i = 0; i < snap.objectCount; i++) {
    if (!mask[snap.type[i]] || snap.name[i] === NONE || (sameShape.get(shapeOf(i)) ?? 0) < 2) continue;
    const key = `${shapeOf(i)}:${snap.strings.get(snap.name[i])}`;
    const group = byValue.get(key);
    if (!group) byValue.set(key, { first: i, count: 1, total: snap.size[i], largest: snap.size[i] });
    else {
      group.count++;
      group.total += snap.size[i];
      group.largest = Math.max(group.largest, snap.size[i]);
    }
  }
  const groups = [...byValue.values()].filter((x) => x.count > 1);
  groups.sort((a, b) => b.total - b.largest - (a.total - a.largest) || b.count - a.count);
  const chosen = groups.slice(0, opts.top ?? 20);
  const g = graphOf(snap);
  return aq.table({
    type: chosen.map((x) => snap.types[snap.type[x.first]].replace(/^builtins\./, "")),
    length: chosen.map((x) => (snap.length[x.first] === NONE ? null : snap.length[x.first])),
    value: chosen.map((x) => snap.strings.get(snap.name[x.first])),
    count: Float64Array.from(chosen, (x) => x.count),
    size_bytes: Float64Array.from(chosen, (x) => snap.size[x.first]),
    wasted_bytes: Float64Array.from(chosen, (x) => x.total - x.largest),
    total_bytes: Float64Array.from(chosen, (x) => x.total),
    example_address: Float64Array.from(chosen, (x) => snap.address[x.first]),
    example_path: chosen.map((x) => pathExpr(g, x.first)),
    wasted: chosen.map((x) => formatBytes(x.total - x.largest)),
  });
}

/**
 * growingStrings(series, { top = 20, candidates = 200 }): strings and buffers at a stable retention path whose length
 * grows: the `candidates` largest string objects of the last snapshot are followed back along their shortest path
 * (same root, edge labels and types) into every earlier snapshot. Growing ones are listed, most growth first.
 * Columns: path, type, first_length, last_length, delta_length, lengths (len() in every snapshot, null where the path
 * leads nowhere), last_bytes, monotonic, steady, last (human).
 */
export function growingStrings(input: SeriesInput, opts: { top?: number; candidates?: number } = {}): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const last = snaps[snaps.length - 1];
  requireFull(last, "growingStrings");
  const mask = typeMask(last, STRING_TYPES);
  const g = graphOf(last);
  const picked = topIndices(last.objectCount, last.size, opts.candidates ?? 200, (i) => mask[last.type[i]] === 1);
  const rows: Record<string, unknown>[] = [];
  for (const i of picked) {
    const path = shortestPaths(g, i, { k: 1 })[0];
    if (!path) continue;
    const lengths = snaps.map((snap) => lengthAt(snap, followPath(snap, path)));
    const known = lengths.filter((v): v is number => v !== null);
    const first = lengths[0];
    const lastLength = lengths[lengths.length - 1] ?? 0;
    if (known.length < 2 || first === null || lastLength <= first) continue;
    rows.push({
      path: path.expr,
      type: last.types[last.type[i]].replace(/^builtins\./, ""),
      first_length: first,
      last_length: lastLength,
      delta_length: lastLength - first,
      lengths,
      last_bytes: last.size[i],
      monotonic: isMonotonicGrowth(known),
      steady: isSteadyGrowth(known),
      last: formatBytes(last.size[i]),
    });
  }
  rows.sort((a, b) => Number(b.delta_length) - Number(a.delta_length));
  return tableOf(
    ["path", "type", "first_length", "last_length", "delta_length", "lengths", "last_bytes", "monotonic", "steady", "last"],
    rows.slice(0, opts.top ?? 20),
  );
}

function lengthAt(snap: Snapshot, i: number): number | null {
  return i === NONE || snap.length[i] === NONE ? null : snap.length[i];
}
