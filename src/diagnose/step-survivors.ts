// Step 4, "what lives long and keeps a lot alive?": objects present in every snapshot whose retained size grows,
// other than the holders earlier steps already named and the namespaces above them.
import { retainedFigures } from "../engine/analysis-cache.js";
import { largestChart } from "../charts/charts.js";
import { edgeLabel } from "../engine/paths.js";
import { matchSurvivors } from "../engine/series.js";
import { largest } from "../queries/objects.js";
import { survivors } from "../queries/survivors.js";
import { NONE, type Snapshot } from "../engine/snapshot.js";
import { formatBytes, formatCount, plural } from "../common/units.js";
import { dominates, heldByLibrary, type Context } from "./context.js";
import { MIN_GROWTH_BYTES, deltaOf, isRising, keptTrend, type Candidate } from "./rules.js";
import type { StepResult } from "./types.js";

const SURVIVOR_ROWS = 30;

export function survivorsStep(ctx: Context, explained: number[]): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "long-lived", number: 4, title: "What lives long and keeps a lot alive?",
    question: "Which objects survive every snapshot while the bytes they keep alive (their retained size) grow?",
  };
  if (!ctx.full || !ctx.graph) {
    return { step: { ...base, status: "skipped", answer: "Census snapshots carry no object graph.", evidence: { tables: {}, charts: {} }, query: "survivors(series)" }, candidates: [] };
  }
  if (ctx.snaps.length === 1) {
    const table = largest(ctx.last, { top: 15 });
    return {
      step: {
        ...base, status: "skipped", query: "largest(snapshot, { by: \"retained\" })",
        answer: "Survival needs two or more snapshots; the largest objects by retained size are listed instead.",
        evidence: { tables: { largest: table }, charts: { largest: largestChart(table) } },
      },
      candidates: [],
    };
  }
  const g = ctx.graph;
  const last = ctx.last;
  const table = survivors(ctx.snaps, { top: SURVIVOR_ROWS });
  // The same object in an earlier snapshot: same address and type (the rule survivors() applies).
  const sameIn = (snap: Snapshot, i: number): number => matchSurvivors(last, snap)[i];

  const earlier = ctx.snaps.slice(0, -1);
  const candidates: Candidate[] = [];
  for (const r of table.objects() as { index: number; type: string; path: string | null; retained_bytes: number }[]) {
    const i = r.index;
    // Namespaces (module, class and instance __dict__s) are where holders live, not holders themselves.
    if (g.bfsEdge[i] !== NONE && edgeLabel(last, g.bfsEdge[i]) === ".__dict__") continue;
    if (heldByLibrary(ctx, i)) continue;
    if (explained.some((e) => dominates(ctx, e, i) || dominates(ctx, i, e))) continue;
    // Inside a long-lived object already listed (rows come largest first): part of its growth, not another finding
    // (each link of a linked buffer would be one).
    if (candidates.some((c) => dominates(ctx, c.object, i))) continue;
    const matched = [...earlier.map((snap) => sameIn(snap, i)), i];
    const sizes = matched.map((j, k) => (j === NONE ? null : retainedFigures(ctx.snaps[k]).retained[j]));
    const counts = matched.map((j, k) => (j === NONE ? null : retainedFigures(ctx.snaps[k]).counts[j]));
    const trend = keptTrend(counts, sizes);
    const growth = deltaOf(sizes);
    if (!isRising(trend) || growth < MIN_GROWTH_BYTES) continue;
    candidates.push({
      kind: "long-lived-large",
      title: `${r.type} alive in every snapshot keeps ${formatBytes(r.retained_bytes)} (+${formatBytes(growth)} over the series)`,
      type: r.type,
      path: r.path,
      evidence: { retained_sizes: sizes, retained_counts: counts, retained_growth_bytes: growth, retained_bytes: r.retained_bytes },
      step: "long-lived",
      object: i,
      trend,
      growthBytes: growth,
      significant: true,
      library: false,
    });
  }
  const step: StepResult = {
    ...base,
    status: candidates.length > 0 ? "leak" : "ok",
    answer: candidates.length > 0
      ? `${plural(candidates.length, "long-lived object")} beyond the holders already named ${candidates.length === 1 ? "keeps" : "keep"} growing: ` +
        `${candidates.slice(0, 3).map((c) => c.path ?? c.type).join(", ")}${candidates.length > 3 ? ` and ${formatCount(candidates.length - 3)} more` : ""}.`
      : explained.length > 0
        ? "The long-lived objects whose retained size grows are the holders already named (or the namespaces above them)."
        : "No long-lived object's retained size grows beyond noise.",
    evidence: { tables: { survivors: table }, charts: { survivors: largestChart(table) } },
    query: "survivors(series)",
  };
  return { step, candidates };
}
