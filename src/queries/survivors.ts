// Long-lived objects: alive in every snapshot of a series, ranked by what they keep alive or how many refer to them.
import * as aq from "arquero";
import { graphOf, retainedFigures } from "../engine/analysis-cache.js";
import { matchSurvivors } from "../engine/series.js";
import { NONE } from "../engine/snapshot.js";
import { formatBytes } from "../common/units.js";
import { heldByAgentModule, keepsModules, objectName, pathExpr, snapshotsOf, tableOf, topIndices, type SeriesInput } from "./input.js";

/**
 * survivors(series, { top = 30, by = "retained", includeModules = false }): objects of the last snapshot found in every
 * earlier snapshot with the same address and type (see docs/analysis.md for the limits of address matching), largest
 * retained size first, or most referrers first with by "referrers". Objects that keep modules alive are left out
 * unless includeModules.
 * Columns: index (in the last snapshot), address, type, name, shallow_bytes, retained_bytes, first_retained_bytes
 * (in the first snapshot), growth_bytes (retained_bytes − first_retained_bytes), referrers (incoming references),
 * referents (outgoing references), snapshots (how many it was seen in: all of them), path, retained (human).
 */
export function survivors(
  input: SeriesInput,
  opts: { top?: number; by?: "retained" | "referrers"; includeModules?: boolean } = {},
): aq.ColumnTable {
  const snaps = snapshotsOf(input);
  const last = snaps[snaps.length - 1];
  const g = graphOf(last);
  const n = last.objectCount;
  const alive = new Uint8Array(n).fill(1);
  const firstMatch = snaps.length > 1 ? matchSurvivors(last, snaps[0]) : null;
  for (const snap of snaps.slice(0, -1)) {
    const match = snap === snaps[0] && firstMatch ? firstMatch : matchSurvivors(last, snap);
    for (let i = 0; i < n; i++) if (match[i] === NONE) alive[i] = 0;
  }
  const skip = opts.includeModules ? null : keepsModules(g);
  const inDegree = new Float64Array(n);
  for (let i = 0; i < n; i++) inDegree[i] = g.revStart[i + 1] - g.revStart[i];
  const key = opts.by === "referrers" ? inDegree : g.retained;
  const agent = heldByAgentModule(g);
  const top = topIndices(n, key, opts.top ?? 30, (i) => alive[i] === 1 && (!skip || skip[i] === 0) && agent[i] === 0);
  const firstRetained = firstMatch ? retainedFigures(snaps[0]).retained : g.retained;
  const rows = top.map((i) => {
    const j = firstMatch ? firstMatch[i] : i;
    return {
      index: i,
      address: last.address[i],
      type: last.types[last.type[i]],
      name: objectName(last, i),
      shallow_bytes: last.size[i],
      retained_bytes: g.retained[i],
      first_retained_bytes: firstRetained[j],
      growth_bytes: g.retained[i] - firstRetained[j],
      referrers: inDegree[i],
      referents: last.edgeStart[i + 1] - last.edgeStart[i],
      snapshots: snaps.length,
      path: pathExpr(g, i),
      retained: formatBytes(g.retained[i]),
    };
  });
  return tableOf(
    ["index", "address", "type", "name", "shallow_bytes", "retained_bytes", "first_retained_bytes", "growth_bytes",
      "referrers", "referents", "snapshots", "path", "retained"],
    rows,
  );
}
