// Step 7, "does something grow in size rather than in number?": strings and buffers whose total length grows
// while their count stays flat, and the ones at a stable path that get longer.
import { stringTotalsChart } from "../charts/charts.js";
import { resolvePath } from "../queries/input.js";
import { growingStrings, largestStrings, stringTotals } from "../queries/strings.js";
import { NONE } from "../engine/snapshot.js";
import { formatBytes, formatCount } from "../common/units.js";
import { heldByLibrary, type Context } from "./context.js";
import { MIN_GROWTH_BYTES, deltaOf, signed, trendOf, type Candidate } from "./rules.js";
import type { StepResult } from "./types.js";

interface GrowingRow { path: string; type: string; lengths: (number | null)[]; first_length: number; last_length: number; delta_length: number; last_bytes: number }

/** A count that moved by at most this share is "flat" for this step. */
const FLAT_COUNT_SHARE = 0.01;

export function sizesStep(ctx: Context): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "sizes", number: 7, title: "Does something grow in size rather than in number?",
    question: "Do strings or buffers get longer (total length grows while their count stays flat), and at which path?",
  };
  const totals = stringTotals(ctx.snaps);
  const charts = { stringTotals: stringTotalsChart(totals, { measure: "length" }) };
  if (ctx.snaps.length === 1) {
    const largestTable = ctx.full ? largestStrings(ctx.last, { top: 10 }) : null;
    return {
      step: {
        ...base, status: "info", query: "largestStrings(snapshot)",
        answer: "One snapshot shows lengths, not growth; the largest strings and buffers are listed.",
        evidence: { tables: largestTable ? { stringTotals: totals, largestStrings: largestTable } : { stringTotals: totals }, charts },
      },
      candidates: [],
    };
  }
  const candidates: Candidate[] = [];
  const growing = ctx.full ? growingStrings(ctx.snaps, { top: 10 }) : null;
  for (const r of (growing?.objects() ?? []) as GrowingRow[]) {
    const trend = trendOf(r.lengths);
    const bytesPerUnit = r.last_length > 0 ? r.last_bytes / r.last_length : 1;
    const growth = r.delta_length * Math.min(bytesPerUnit, 4);
    if (!(trend === "every" || trend === "steady") || growth < MIN_GROWTH_BYTES) continue;
    const object = resolvePath(ctx.last, r.path);
    candidates.push({
      kind: "string-growth",
      title: `a ${r.type} at one path grew from ${formatCount(r.first_length)} to ${formatCount(r.last_length)} characters (${formatBytes(r.last_bytes)})`,
      type: `builtins.${r.type}`,
      path: r.path,
      evidence: { lengths: r.lengths, delta_length: r.delta_length, last_bytes: r.last_bytes },
      step: "sizes",
      object: object === NONE ? -1 : object,
      trend,
      growthBytes: growth,
      significant: true,
      library: object !== NONE && heldByLibrary(ctx, object),
    });
  }
  // Totals: length grows, count flat. Reported on its own only when no path explains it.
  const rows = totals.objects() as { type: string; count: number; total_length: number; total_bytes: number }[];
  const summaries: string[] = [];
  for (const type of ["str", "bytes", "bytearray"]) {
    const mine = rows.filter((r) => r.type === type);
    const lengths = mine.map((r) => r.total_length);
    const counts = mine.map((r) => r.count);
    const trend = trendOf(lengths);
    const dLength = deltaOf(lengths);
    const dBytes = deltaOf(mine.map((r) => r.total_bytes));
    const flatCount = Math.abs(deltaOf(counts)) <= FLAT_COUNT_SHARE * Math.max(counts[0], 1);
    if (!(trend === "every" || trend === "steady") || dBytes < MIN_GROWTH_BYTES || !flatCount) continue;
    summaries.push(`${type} total length ${signed(dLength)} with a flat count`);
    if (candidates.some((c) => c.type === `builtins.${type}`)) continue;
    candidates.push({
      kind: "string-growth",
      title: `${type} objects hold ${signed(dLength)} more characters while their number stays flat (no single path found)`,
      type: `builtins.${type}`,
      path: null,
      evidence: { total_lengths: lengths, counts, delta_length: dLength, delta_bytes: dBytes },
      step: "sizes",
      object: -1,
      trend,
      growthBytes: dBytes,
      significant: true,
      library: false,
    });
  }
  const own = candidates.filter((c) => !c.library);
  const step: StepResult = {
    ...base,
    status: own.length > 0 ? "leak" : candidates.length > 0 ? "warn" : "ok",
    answer: own.length > 0
      ? `Yes: ${own.filter((c) => c.path).map((c) => `${c.path} grows`).concat(summaries).slice(0, 3).join("; ")}.`
      : "No string or buffer grows in length beyond noise.",
    evidence: { tables: growing ? { stringTotals: totals, growingStrings: growing } : { stringTotals: totals }, charts },
    query: "stringTotals(series); growingStrings(series)",
  };
  return { step, candidates };
}
