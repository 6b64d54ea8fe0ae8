// Step 3, "is it a cache?": module- and class-level containers and lru_cache wrappers that only grow, caches
// without a bound, and caches whose entries are unexpectedly large.
import { cacheLengthsChart } from "../charts/charts.js";
import { caches } from "../queries/caches.js";
import { formatBytes, formatCount, plural } from "../common/units.js";
import { graphOf } from "../engine/analysis-cache.js";
import { matchSurvivors } from "../engine/series.js";
import { NONE, ROOT_MODULE } from "../engine/snapshot.js";
import { heldByLibrary, moduleKey, objectAt, type Context } from "./context.js";
import {
  LARGE_ENTRY_BYTES, LARGE_ENTRY_FACTOR, MIN_GROWTH_BYTES, MIN_GROWTH_ENTRIES, SINGLE_SNAPSHOT_MIN_RETAINED,
  deltaOf, signed, signedCount, trendOf, type Candidate,
} from "./rules.js";
import type { StepResult } from "./types.js";

interface CacheRow {
  path: string | null;
  kind: string;
  type: string;
  weak: boolean;
  address: number;
  lengths: (number | null)[];
  retained_bytes: number;
  retained_sizes: (number | null)[];
  lru_maxsize: number | null;
  lru_currsize: number | null;
  unbounded_lru: boolean | null;
  entry_count: number;
  entry_median_bytes: number | null;
  entry_max_bytes: number | null;
}

const SYS_MODULES = "sys.modules['sys'].modules";
const MODULES_REMEDY =
  "A module put in sys.modules stays for the life of the process, with everything its namespace holds: run " +
  "generated or uploaded code in a plain dict (exec(code, namespace)) instead of a module, reuse one module per " +
  "plugin and reload it in place, or del sys.modules[name] when the module is no longer needed.";

/**
 * sys.modules grows: modules made at run time. Each module is a root of its own, so the dict retains nothing; the
 * finding counts what the modules new since the first snapshot keep, and names a few of them.
 */
function modulesCandidate(ctx: Context, object: number, trend: Candidate["trend"], lengths: (number | null)[]): Candidate {
  const last = ctx.last;
  const g = graphOf(last);
  const old = matchSurvivors(last, ctx.snaps[0]);
  const names: string[] = [];
  let kept = 0;
  for (let r = 0; r < last.rootObject.length; r++) {
    const m = last.rootObject[r];
    if (last.rootKind[r] !== ROOT_MODULE || old[m] !== NONE) continue;
    kept += g.retained[m];
    const name = moduleKey(last.strings.get(last.rootLabel[r]));
    if (name !== null && names.length < 3) names.push(name);
  }
  const dLength = deltaOf(lengths);
  return {
    kind: "growing-container",
    title: `sys.modules grew ${signedCount(dLength, "module")} to ${formatCount(lengths[lengths.length - 1] ?? 0)}, ` +
      `keeping ${formatBytes(kept)}${names.length > 0 ? `; new: ${names.join(", ")}` : ""}`,
    type: "builtins.module",
    path: "sys.modules",
    evidence: { container: "dict", lengths, delta_length: dLength, new_modules_retained_bytes: kept },
    step: "caches",
    object,
    trend,
    growthBytes: kept,
    significant: true,
    library: false,
    // sys.modules belongs to the interpreter, but the program is what fills it: ranked as the program's own.
    internal: false,
    remedy: MODULES_REMEDY,
  };
}

/** Containers listed by caches(); growth decides which become findings. */
const CACHE_ROWS = 60;
const SINGLE_SNAPSHOT_CONTAINERS = 5;

export function cachesStep(ctx: Context): { step: StepResult; candidates: Candidate[] } {
  const base = {
    id: "caches", number: 3, title: "Is it a cache or a registry?",
    question: "Do module-level or class-level dicts, lists, sets or lru_caches only grow, have no bound, or hold unexpectedly large entries?",
    query: "caches(series)",
  };
  if (!ctx.full) {
    return { step: { ...base, status: "skipped", answer: "Census snapshots carry no object graph, so containers cannot be found.", evidence: { tables: {}, charts: {} } }, candidates: [] };
  }
  const single = ctx.snaps.length === 1;
  const table = caches(ctx.snaps, { top: CACHE_ROWS });
  const candidates: Candidate[] = [];
  const filledUp: string[] = [];
  let singleListed = 0;
  for (const r of table.objects() as CacheRow[]) {
    const object = objectAt(ctx, r.address);
    const library = heldByLibrary(ctx, object);
    const lengthTrend = trendOf(r.lengths);
    const trend = lengthTrend === "flat" ? trendOf(r.retained_sizes) : lengthTrend;
    const dLength = deltaOf(r.lengths);
    const dRetained = deltaOf(r.retained_sizes);
    const significant = dRetained >= MIN_GROWTH_BYTES || dLength >= MIN_GROWTH_ENTRIES;
    const lastLength = r.lengths[r.lengths.length - 1];
    // A container at or below its recorded bound (a deque's maxlen, a queue's maxsize) cannot grow past it.
    const bound = object >= 0 ? ctx.last.bounds.get(object) : undefined;
    const bounded = bound !== undefined && lastLength !== null && lastLength <= bound;
    if (!library && bounded) filledUp.push(`${r.path ?? r.type} (bounded at ${formatCount(bound)})`);
    else if (!library && trend === "filled") filledUp.push(r.path ?? r.type);
    const growing = !bounded && (trend === "every" || trend === "steady" || trend === "irregular");
    const evidence = {
      container: r.kind, lengths: r.lengths, retained_sizes: r.retained_sizes, delta_length: dLength,
      retained_growth_bytes: dRetained, retained_bytes: r.retained_bytes,
    };
    if (r.path === SYS_MODULES && !single && growing && significant) {
      candidates.push(modulesCandidate(ctx, object, trend, r.lengths));
      continue;
    }
    const common = { type: r.type, path: r.path, step: "caches", object, trend, significant, library };
    if (r.kind === "lru_cache" && r.unbounded_lru) {
      if (library && !growing) continue;
      candidates.push({
        ...common,
        kind: "unbounded-cache",
        title: `lru_cache without maxsize holds ${formatCount(r.lru_currsize ?? 0)} results` +
          (growing ? ` (${signed(dLength)} over the series, ${formatBytes(r.retained_bytes)} retained)` : ` (${formatBytes(r.retained_bytes)} retained)`),
        evidence: { ...evidence, maxsize: null, currsize: r.lru_currsize },
        growthBytes: single ? r.retained_bytes : Math.max(dRetained, 0),
        // Unbounded but not growing: worth knowing, not a leak; one snapshot: a suspect.
        severity: growing ? undefined : single && !library ? "low" : "info",
      });
    } else if (growing && significant && !single) {
      candidates.push({
        ...common,
        kind: "growing-container",
        title: dLength > 0
          ? `${r.weak ? "weak " : ""}${r.kind} grew ${signedCount(dLength, "entry", "entries")} to ${formatCount(lastLength ?? 0)} ` +
            `(${dRetained >= 0 ? "+" : ""}${formatBytes(dRetained)} retained)`
          : `${r.weak ? "a weak" : /^[aeiou]/i.test(r.kind) ? "an" : "a"} ${r.kind} of ${plural(lastLength ?? 0, "entry", "entries")} ` +
            `keeps more: +${formatBytes(dRetained)} retained`,
        evidence,
        growthBytes: dRetained,
      });
    } else if (single && !library && r.retained_bytes >= SINGLE_SNAPSHOT_MIN_RETAINED && singleListed < SINGLE_SNAPSHOT_CONTAINERS) {
      singleListed++;
      candidates.push({
        ...common,
        kind: "growing-container",
        title: `${r.kind} holds ${plural(lastLength ?? 0, "entry", "entries")}, ${formatBytes(r.retained_bytes)} retained (one snapshot: growth unknown)`,
        evidence,
        growthBytes: r.retained_bytes,
        severity: "info",
      });
    }
    const median = r.entry_median_bytes ?? 0;
    const max = r.entry_max_bytes ?? 0;
    if (!library && r.entry_count >= 2 && max >= LARGE_ENTRY_BYTES && max >= LARGE_ENTRY_FACTOR * Math.max(median, 1)) {
      candidates.push({
        ...common,
        kind: "large-cache-entry",
        title: `an entry of this ${r.kind} retains ${formatBytes(max)}, ${Math.round(max / Math.max(median, 1))}× the median entry`,
        evidence: { ...evidence, entry_count: r.entry_count, entry_median_bytes: median, entry_max_bytes: max },
        growthBytes: max,
        severity: "low",
      });
    }
  }
  const reported = candidates.filter((c) => c.severity !== "info");
  const growingCount = candidates.filter((c) => c.kind !== "large-cache-entry" && c.severity === undefined && !c.library).length;
  let status: StepResult["status"] = "ok";
  let answer: string;
  if (single) {
    status = reported.length > 0 ? "warn" : "info";
    answer = `One snapshot: ${plural(candidates.length, "container")} worth a look (unbounded caches, large module-level containers); growth needs a series.`;
  } else if (growingCount > 0) {
    status = "leak";
    const paths = candidates.filter((c) => c.severity === undefined && !c.library).slice(0, 3).map((c) => c.path).join(", ");
    answer = `Yes: ${plural(growingCount, "container grows", "containers grow")} over the series: ${paths}.`;
  } else if (reported.length > 0) {
    status = "warn";
    answer = `No user container grows steadily, but ${formatCount(reported.length)} ${reported.length === 1 ? "needs" : "need"} a look (standard-library growth, unbounded or oversized caches).`;
  } else {
    answer = "No module-level or class-level container grows, and no cache is unbounded and growing.";
  }
  if (!single && filledUp.length > 0) {
    answer += ` Filled up, not growing: ${filledUp.slice(0, 3).join(", ")}${filledUp.length > 3 ? ` and ${filledUp.length - 3} more` : ""}.`;
  }
  return {
    step: { ...base, status, answer, evidence: { tables: { caches: table }, charts: { cacheLengths: cacheLengthsChart(table.slice(0, 10)) } } },
    candidates,
  };
}
