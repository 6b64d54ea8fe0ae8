// Step 1, "is it a leak at all?", and the RSS-versus-objects sidebar: totals over the series, and process memory
// against the bytes of Python objects.
import { censusChart, memoryGapChart } from "../charts/charts.js";
import { census } from "../queries/census.js";
import { memoryGap } from "../queries/memory.js";
import { formatBytes, formatCount } from "../common/units.js";
import type { Context } from "./context.js";
import {
  MAX_PYTHON_SHARE_OF_RSS_GROWTH, MIN_GROWTH_BYTES, MIN_GROWTH_OBJECTS, MIN_RSS_GROWTH_BYTES, MIN_RSS_GROWTH_SHARE,
  FILLED_WORDS, deltaOf, signed, trendOf, type Candidate, type Trend,
} from "./rules.js";
import type { StepResult } from "./types.js";

const TREND_WORDS: Record<Trend, string> = {
  every: "in every interval",
  steady: "steadily",
  irregular: "irregularly",
  filled: "and then held still",
  flat: "",
  single: "",
};

/** Step 1; `pythonGrows` in the result tells the sidebar whether Python objects grow steadily. */
export function leakStep(ctx: Context): { step: StepResult; candidates: Candidate[]; pythonGrows: boolean } {
  const table = census(ctx.snaps);
  const objects = table.array("objects") as number[];
  const bytes = table.array("shallow_bytes") as number[];
  const n = ctx.snaps.length;
  const base = {
    id: "leak", number: 1, title: "Is it a leak at all?",
    question: "Do the number of Python objects and their bytes keep growing across snapshots taken after equal work?",
    evidence: { tables: { census: table }, charts: { census: censusChart(table) } },
    query: "census(series)",
  };
  if (n === 1) {
    return {
      step: {
        ...base, status: "info",
        answer: `One snapshot (${formatCount(objects[0])} objects, ${formatBytes(bytes[0])}) cannot show growth, so only ` +
          "single-snapshot checks run; capture three or more snapshots after equal rounds of work to tell a leak.",
      },
      candidates: [],
      pythonGrows: false,
    };
  }
  const objectTrend = trendOf(objects);
  const bytesTrend = trendOf(bytes);
  const dObjects = deltaOf(objects);
  const dBytes = deltaOf(bytes);
  const grows = (t: Trend) => t === "every" || t === "steady";
  const significant = dObjects >= MIN_GROWTH_OBJECTS || dBytes >= MIN_GROWTH_BYTES;
  const figures = `${formatCount(objects[0])} → ${formatCount(objects[n - 1])} objects (${signed(dObjects)}), ` +
    `${formatBytes(bytes[0])} → ${formatBytes(bytes[n - 1])} (${dBytes >= 0 ? "+" : ""}${formatBytes(dBytes)})`;
  let status: StepResult["status"];
  let answer: string;
  if ((grows(objectTrend) || grows(bytesTrend)) && significant) {
    const countGrows = grows(objectTrend) && dObjects >= MIN_GROWTH_OBJECTS;
    const which = countGrows ? `objects grew ${TREND_WORDS[objectTrend]}` : `object bytes grew ${TREND_WORDS[bytesTrend]} while their number stayed nearly flat`;
    status = "leak";
    answer = n === 2
      ? `Python ${which} between the two snapshots (${figures}); two snapshots cannot tell a leak from a warm-up, so capture a third.`
      : `Yes: Python ${which} over ${n} snapshots (${figures}).`;
  } else if (objectTrend === "filled" || (objectTrend === "flat" && bytesTrend === "filled")) {
    status = "ok";
    answer = `No: Python objects ${FILLED_WORDS} (${figures}).`;
  } else if (objectTrend === "irregular" || bytesTrend === "irregular") {
    status = "warn";
    answer = `Python objects went up and down without steady growth over ${n} snapshots (${figures}).`;
  } else {
    status = "ok";
    answer = `No: Python objects did not grow steadily over ${n} snapshots (${figures}).`;
  }
  return { step: { ...base, status, answer }, candidates: [], pythonGrows: status === "leak" };
}

/**
 * The sidebar. RSS must rise in every interval (allocators grab memory in chunks, so a plateau is normal), by at least
 * MIN_RSS_GROWTH_BYTES and MIN_RSS_GROWTH_SHARE of the first RSS, with Python objects explaining less than
 * MAX_PYTHON_SHARE_OF_RSS_GROWTH of it. When Python objects grow steadily as well, the finding stays low: their
 * allocator overhead can explain the rest.
 */
export function memoryStep(ctx: Context, pythonGrows: boolean): { step: StepResult; candidates: Candidate[] } {
  const table = memoryGap(ctx.snaps);
  const rssAll = table.array("rss_bytes") as (number | null)[];
  const pythonAll = table.array("python_bytes") as number[];
  const arenasAll = table.array("arena_allocated_bytes") as (number | null)[];
  const n = ctx.snaps.length;
  const base = {
    id: "memory", number: 0, title: "Sidebar: process memory against Python objects",
    question: "Does the process's RSS grow while the bytes of Python objects do not (native memory or fragmentation)?",
    evidence: { tables: { memoryGap: table }, charts: { memoryGap: memoryGapChart(table) } },
    query: "memoryGap(series)",
  };
  const last = rssAll[n - 1];
  if (rssAll.every((v) => v === null)) {
    return { step: { ...base, status: "skipped", answer: "The snapshots carry no RSS figure, so process memory cannot be compared." }, candidates: [] };
  }
  if (n === 1) {
    const share = last ? pythonAll[0] / last : 0;
    return {
      step: {
        ...base, status: "info",
        answer: `RSS is ${formatBytes(last ?? 0)} and Python objects hold ${formatBytes(pythonAll[0])} of it (${Math.round(share * 100)}%); ` +
          "one snapshot cannot show which of them grows.",
      },
      candidates: [],
    };
  }
  // The process's first capture moves its memory by itself (pymalloc arenas, RSS up a step): when the series
  // starts with that step, compare like with like from the second snapshot on, if three intervals remain.
  const firstStep = (rssAll[1] ?? 0) > (rssAll[0] ?? Infinity);
  const from = n >= 5 && ctx.snaps[0].meta.sequence === 0 && firstStep ? 1 : 0;
  const rss = rssAll.slice(from);
  const python = pythonAll.slice(from);
  const arenas = arenasAll.slice(from);
  const rssTrend = trendOf(rss);
  // tracemalloc's bookkeeping grows with every traced allocation and is native memory: leave it out of RSS growth.
  const overhead = (table.array("tracemalloc_overhead_bytes") as (number | null)[]).slice(from);
  const dOverhead = overhead.every((v) => v !== null) ? Math.max(0, deltaOf(overhead)) : 0;
  const traced = ctx.snaps.some((s) => s.memory.tracemalloc !== null);
  const dRss = deltaOf(rss) - dOverhead;
  const dPython = deltaOf(python);
  const dArenas = deltaOf(arenas);
  const firstRss = rss.find((v) => v !== null) ?? 0;
  // Every interval must add MIN_RSS_GROWTH_BYTES: a capture itself moves RSS by a few MiB either way.
  const everyIntervalGrows = rss.every((v, k) => k === 0 || (v !== null && rss[k - 1] !== null && v - (rss[k - 1] as number) >= MIN_RSS_GROWTH_BYTES));
  const rssGrows = everyIntervalGrows && dRss >= MIN_RSS_GROWTH_SHARE * firstRss;
  const pythonShare = dRss > 0 ? Math.max(0, dPython) / dRss : 0;
  const figures = (from > 0 ? "from the second snapshot on, as the first capture of a process moves its memory: " : "") +
    `RSS ${dRss >= 0 ? "+" : ""}${formatBytes(dRss)}` +
    (dOverhead > 0 ? ` after leaving out tracemalloc's own +${formatBytes(dOverhead)}` : "") +
    `, Python objects ${dPython >= 0 ? "+" : ""}${formatBytes(dPython)}`;
  // Under tracemalloc every allocation of the program and of each capture also costs native memory the snapshots do
  // not see, so RSS is a weak signal there.
  const tracingNote = traced
    ? " tracemalloc was tracing: it makes every allocation, the captures' own included, cost extra native memory, so" +
      " judge RSS on snapshots taken without it."
    : "";
  if (!rssGrows) {
    return { step: { ...base, status: "ok", answer: `RSS did not climb steadily beyond noise (${figures}).` }, candidates: [] };
  }
  if (pythonShare >= MAX_PYTHON_SHARE_OF_RSS_GROWTH) {
    return {
      step: { ...base, status: "info", answer: `RSS climbs and Python objects account for ${Math.round(pythonShare * 100)}% of it (${figures}): the growth is in Python objects.` },
      candidates: [],
    };
  }
  const fragmentation = dArenas > 0 && dArenas >= 0.5 * dRss;
  const candidate: Candidate = {
    kind: "native-or-fragmentation",
    title: `RSS grew ${formatBytes(dRss)} while Python objects grew ${formatBytes(Math.max(0, dPython))}` +
      (fragmentation ? "; pymalloc arenas grew with it (fragmentation)" : " (native memory or fragmentation)"),
    type: null,
    path: null,
    evidence: {
      rss_bytes: rss, python_bytes: python, arena_allocated_bytes: arenas,
      rss_growth_bytes: dRss, tracemalloc_overhead_growth_bytes: dOverhead, python_growth_bytes: dPython, arena_growth_bytes: dArenas,
      python_share_of_growth: Math.round(pythonShare * 1000) / 1000,
    },
    step: "memory",
    object: -1,
    trend: rssTrend,
    growthBytes: dRss,
    significant: true,
    library: false,
    severity: pythonGrows || traced ? "low" : undefined,
  };
  return {
    step: {
      ...base, status: "warn",
      answer: `RSS climbs ${TREND_WORDS[rssTrend]} but Python objects explain only ${Math.round(pythonShare * 100)}% of it (${figures}): ` +
        (fragmentation ? "pymalloc arenas grew, which points at fragmentation." : "native memory or fragmentation.") + tracingNote,
    },
    candidates: [candidate],
  };
}
