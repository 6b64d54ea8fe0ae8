// Single objects: the instances of a type, the largest objects, and how object sizes are distributed.
import * as aq from "arquero";
import { graphOf } from "../engine/analysis-cache.js";
import type { Snapshot } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import {
  heldByAgentModule, keepsModules, lastOf, objectLength, objectName, pathExpr, requireFull, topIndices, typeMask, type SeriesInput,
} from "./input.js";

/** Rows for a list of objects, in the given order; paths for the first `paths` rows only (they cost a search each). */
export function objectRows(snap: Snapshot, indices: ArrayLike<number>, paths: number): aq.ColumnTable {
  const g = graphOf(snap);
  const list = Array.from(indices);
  return aq.table({
    index: Uint32Array.from(list),
    address: Float64Array.from(list, (i) => snap.address[i]),
    type: list.map((i) => snap.types[snap.type[i]]),
    name: list.map((i) => objectName(snap, i)),
    length: list.map((i) => objectLength(snap, i)),
    shallow_bytes: Float64Array.from(list, (i) => snap.size[i]),
    retained_bytes: Float64Array.from(list, (i) => g.retained[i]),
    path: list.map((i, k) => (k < paths ? pathExpr(g, i) : null)),
    retained: list.map((i) => formatBytes(g.retained[i])),
  });
}

/**
 * instances(snap, type, { paths = 50 }): every object of a type (qualified name such as "app.User", or the bare
 * name "User" matching any module), largest retained size first. A series argument uses its last snapshot.
 * Columns: index (object index in the snapshot), address, type, name (name or value prefix, "" when none), length
 * (len(), null when none), shallow_bytes, retained_bytes, path (shortest retention path expression; computed for the
 * first `paths` rows, null after them and for unreachable objects), retained (human).
 */
export function instances(input: SeriesInput, type: string, opts: { paths?: number } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "instances");
  const g = graphOf(snap);
  const mask = typeMask(snap, [type]);
  let count = 0;
  for (let i = 0; i < snap.objectCount; i++) count += mask[snap.type[i]];
  const found = new Uint32Array(count);
  for (let i = 0, k = 0; i < snap.objectCount; i++) if (mask[snap.type[i]]) found[k++] = i;
  const order = Array.from(found).sort((a, b) => g.retained[b] - g.retained[a] || a - b);
  return objectRows(snap, order, opts.paths ?? 50);
}

/**
 * largest(snap, { by = "retained", type?, top = 20, includeModules = false }): the largest objects by retained or
 * shallow size, optionally of one type. Objects that keep modules alive (sys.modules, module namespaces) are
 * left out unless includeModules: they retain the whole program, not a leak.
 * Columns: as instances().
 */
export function largest(
  input: SeriesInput,
  opts: { by?: "retained" | "shallow"; type?: string; top?: number; includeModules?: boolean } = {},
): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "largest");
  const g = graphOf(snap);
  const mask = opts.type ? typeMask(snap, [opts.type]) : null;
  const skip = opts.includeModules ? null : keepsModules(g);
  const agent = heldByAgentModule(g);
  const key = opts.by === "shallow" ? snap.size : g.retained;
  const top = topIndices(snap.objectCount, key, opts.top ?? 20,
    (i) => (!mask || mask[snap.type[i]] === 1) && (!skip || skip[i] === 0) && agent[i] === 0);
  return objectRows(snap, top, top.length);
}

/**
 * sizeDistribution(snap, { types?, by = "shallow" }): objects per power-of-two size bucket (all objects, or those of
 * the given types), for size histograms. `by: "length"` buckets len() instead (e.g. string lengths).
 * Columns: bucket (label such as "65 B–128 B"), low, high (the bucket's bounds in bytes, inclusive; lengths for
 * by "length"), count, total_bytes (shallow bytes of the bucket's objects).
 */
export function sizeDistribution(input: SeriesInput, opts: { types?: string[]; by?: "shallow" | "length" } = {}): aq.ColumnTable {
  const snap = lastOf(input);
  requireFull(snap, "sizeDistribution");
  const mask = opts.types ? typeMask(snap, opts.types) : null;
  const byLength = opts.by === "length";
  const count = new Float64Array(64);
  const total = new Float64Array(64);
  for (let i = 0; i < snap.objectCount; i++) {
    if (mask && !mask[snap.type[i]]) continue;
    const v = byLength ? snap.length[i] : snap.size[i];
    if (byLength && v >= 0xfffffffe) continue;
    const b = v <= 1 ? 0 : Math.ceil(Math.log2(v));
    count[b]++;
    total[b] += snap.size[i];
  }
  const buckets: number[] = [];
  for (let b = 0; b < 64; b++) if (count[b] > 0) buckets.push(b);
  const low = (b: number) => (b === 0 ? 0 : 2 ** (b - 1) + 1);
  const high = (b: number) => 2 ** b;
  const unit = (v: number) => (byLength ? String(v) : formatBytes(v));
  return aq.table({
    bucket: buckets.map((b) => `${unit(low(b))}–${unit(high(b))}`),
    low: Float64Array.from(buckets, low),
    high: Float64Array.from(buckets, high),
    count: Float64Array.from(buckets, (b) => count[b]),
    total_bytes: Float64Array.from(buckets, (b) => total[b]),
  });
}
