// Step 2, "which types grow?": per-type counts in every snapshot, growth and how steady it is.
import { typeGrowthChart, typeHistoryChart } from "../charts/charts.js";
import { typeCounts, typeGrowth, typeHistory } from "../queries/types.js";
import { leakClusters } from "../queries/clusters.js";
import { formatBytes, formatCount } from "../common/units.js";
import type { Context } from "./context.js";
import { MIN_GROWTH_BYTES, MIN_GROWTH_OBJECTS, signed, trendOf, type Candidate } from "./rules.js";
import type { StepResult } from "./types.js";

/** Types reported as findings at most; the holders found by later steps explain the rest. */
const MAX_TYPE_FINDINGS = 5;
/** Types the answer names at most; with more, it says how many it names. */
const MAX_NAMED = 6;
/** Types drawn over time. */
const HISTORY_TYPES = 8;

export function typesStep(ctx: Context): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "types", number: 2, title: "Which types grow?",
    question: "Which types gain instances in every snapshot, and how many bytes do they add?",
  };
  if (ctx.snaps.length === 1) {
    const table = typeCounts(ctx.last);
    const top = table.objects({ limit: 3 }) as { type: string; count: number; shallow_bytes: number }[];
    return {
      step: {
        ...base, status: "info", evidence: { tables: { typeCounts: table }, charts: {} }, query: "typeCounts(snapshot)",
        answer: "One snapshot shows sizes, not growth; the largest types by shallow size are " +
          top.map((r) => `${r.type} (${formatBytes(r.shallow_bytes)})`).join(", ") + ".",
      },
      candidates: [],
    };
  }
  // The tables and charts show what grew: a type whose count did not rise is no "growing type".
  const growth = typeGrowth(ctx.snaps, { top: 20 }).filter((d: { delta_count: number }) => d.delta_count > 0).reify();
  const byBytes = typeGrowth(ctx.snaps, { top: 20, by: "bytes" });
  const history = typeHistory(ctx.snaps, { types: (growth.array("type") as string[]).slice(0, HISTORY_TYPES) });
  type Row = { type: string; counts: number[]; delta_count: number; delta_bytes: number; last_count: number; per_snapshot: number };
  const rows = new Map<string, Row>();
  for (const r of [...(growth.objects() as Row[]), ...(byBytes.objects() as Row[])]) rows.set(r.type, r);
  const candidates: Candidate[] = [];
  for (const r of rows.values()) {
    const trend = trendOf(r.counts);
    if (trend !== "every" && trend !== "steady") continue;
    const significant = r.delta_count >= MIN_GROWTH_OBJECTS || r.delta_bytes >= MIN_GROWTH_BYTES;
    if (!significant) continue;
    candidates.push({
      kind: "object-growth",
      title: `${r.type}: ${signed(r.delta_count)} instances (${formatBytes(r.delta_bytes)}) over the series`,
      type: r.type,
      path: null,
      evidence: { counts: r.counts, delta_count: r.delta_count, delta_bytes: r.delta_bytes, per_snapshot: r.per_snapshot },
      step: "types",
      object: -1,
      trend,
      growthBytes: r.delta_bytes,
      significant,
      library: false,
    });
  }
  candidates.sort((a, b) => b.growthBytes - a.growthBytes);
  const kept = candidates.slice(0, MAX_TYPE_FINDINGS);
  const named = candidates.slice(0, MAX_NAMED).map((c) => c.type).join(", ");
  const listed = candidates.length === 1
    ? `1 type grows steadily: ${named}.`
    : candidates.length <= MAX_NAMED
      ? `${formatCount(candidates.length)} types grow steadily, most bytes first: ${named}.`
      : `${formatCount(candidates.length)} types grow steadily; the ${MAX_NAMED} that add the most bytes: ${named}.`;
  // Who keeps the new objects: the leak clusters (the findings judge which of them grow).
  const clusters = ctx.full ? leakClusters(ctx.snaps, { top: 10 }) : null;
  const holders = clusters
    ? (clusters.objects() as { path: string | null; new_objects: number }[]).filter((r) => r.path !== null).slice(0, 3)
    : [];
  const heldBy = holders.length > 0
    ? ` ${candidates.length === 1 ? "Its" : "Their"} new objects are kept by ${holders.map((r) => `${r.path} (${formatCount(r.new_objects)} new)`).join(", ")}.`
    : "";
  const step: StepResult = {
    ...base,
    status: kept.length > 0 ? "leak" : "ok",
    answer: kept.length > 0
      ? `${listed}${heldBy}`
      : "No type gains instances steadily beyond noise.",
    evidence: {
      tables: { typeGrowth: growth, typeHistory: history, ...(clusters ? { clusters } : {}) },
      charts: growth.numRows() > 0 ? { typeGrowth: typeGrowthChart(growth), typeHistory: typeHistoryChart(history) } : {},
    },
    query: "typeGrowth(series, { top: 20 })",
  };
  return { step, candidates: kept };
}
