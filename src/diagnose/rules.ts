// The thresholds and the growth rules every step shares (docs/diagnosis.md explains each figure), and the
// internal form of a finding before ranking.
import { isSteadyGrowth } from "../queries/types.js";
import type { EvidenceValue, FindingExtra, FindingKind, Severity } from "./types.js";

/** Growth below these is noise: a few objects or bytes that any program gains now and then. */
export const MIN_GROWTH_BYTES = 8 * 1024;
export const MIN_GROWTH_ENTRIES = 50;
export const MIN_GROWTH_OBJECTS = 100;
/** RSS growth that counts for the native-or-fragmentation rule, and the share Python objects must stay below. */
export const MIN_RSS_GROWTH_BYTES = 2 * 1024 * 1024;
export const MIN_RSS_GROWTH_SHARE = 0.05;
export const MAX_PYTHON_SHARE_OF_RSS_GROWTH = 0.25;
/** A cache entry is unexpectedly large when it retains this much and this many times the median entry. */
export const LARGE_ENTRY_BYTES = 64 * 1024;
export const LARGE_ENTRY_FACTOR = 16;
/** One snapshot: suspects must keep at least this much alive to be listed. */
export const SINGLE_SNAPSHOT_MIN_RETAINED = 64 * 1024;

/** A series is "filled" when it rose and then held still for this many intervals or more... */
export const PLATEAU_INTERVALS = 2;
/** ...each moving by at most this share of the rise before them. */
export const PLATEAU_SHARE = 0.05;

/**
 * How a quantity moved over the series: "every" (rose between every pair of consecutive snapshots), "steady"
 * (rose overall with a close linear fit or no dip; see isSteadyGrowth), "irregular" (ended higher, but neither),
 * "filled" (rose, then held still for the last PLATEAU_INTERVALS intervals or more: a warm-up or a cache that
 * reached its size), "flat" (did not rise), "single" (one snapshot: no trend). Missing values (null) rule out "every".
 */
export type Trend = "every" | "steady" | "irregular" | "filled" | "flat" | "single";

export function trendOf(ys: readonly (number | null)[]): Trend {
  if (ys.length < 2) return "single";
  const known = ys.filter((v): v is number => v !== null);
  if (known.length < 2 || known[known.length - 1] <= known[0]) return "flat";
  if (isFilled(known)) return "filled";
  if (known.length === ys.length && ys.every((v, k) => k === 0 || (v as number) > (ys[k - 1] as number))) return "every";
  return isSteadyGrowth(known) ? "steady" : "irregular";
}

/** The series rose before its last PLATEAU_INTERVALS intervals and moved by at most PLATEAU_SHARE of that rise in each of them. */
function isFilled(ys: readonly number[]): boolean {
  const flatFrom = ys.length - 1 - PLATEAU_INTERVALS;
  if (flatFrom < 1) return false;
  const rise = ys[flatFrom] - ys[0];
  if (rise <= 0) return false;
  for (let k = flatFrom + 1; k < ys.length; k++) if (Math.abs(ys[k] - ys[k - 1]) > PLATEAU_SHARE * rise) return false;
  return true;
}

/** Words for a trend in step answers. */
export const FILLED_WORDS = "rose and then held still (filled up, as a warm-up or a full cache does), which is not a leak";

/** The trend is growth: in every interval, or steadily. */
export const isRising = (t: Trend): boolean => t === "every" || t === "steady";

/**
 * How what an object keeps grows: by the number of objects it keeps, or, when their number holds still (and is
 * not a plateau), by their bytes (a string that gets longer is a new, larger object each time). Bytes alone
 * mislead where a container's table resizes as its entries churn.
 */
export function keptTrend(counts: readonly (number | null)[], bytes: readonly (number | null)[]): Trend {
  const byCount = trendOf(counts);
  if (isRising(byCount) || byCount === "filled") return byCount;
  const byBytes = trendOf(bytes);
  return isRising(byBytes) ? byBytes : byCount;
}

/** Last minus first of the known values (0 when fewer than two are known). */
export function deltaOf(ys: readonly (number | null)[]): number {
  const known = ys.filter((v): v is number => v !== null);
  return known.length < 2 ? 0 : known[known.length - 1] - known[0];
}

/** A finding before ranking: the public fields plus what the ranking needs. */
export interface Candidate {
  kind: FindingKind;
  title: string;
  type: string | null;
  path: string | null;
  evidence: Record<string, EvidenceValue>;
  step: string;
  /** The object in the last snapshot the finding is about (its holder or what it holds), or -1. */
  object: number;
  trend: Trend;
  /** Bytes gained over the series (one snapshot: bytes kept alive now). */
  growthBytes: number;
  /** The growth is above the noise thresholds. */
  significant: boolean;
  /** Held by the standard library (or the capture agent), not by the program. */
  library: boolean;
  /** Set by the step when the severity does not follow from the trend (gc.garbage, one-snapshot suspects). */
  severity?: Severity;
  /** Library internals the program does not own (ranked after the program's own holders); default false. */
  internal?: boolean;
  /** Fields the finding carries beyond the common ones (cluster, sample, reason, catalogue). */
  extra?: FindingExtra;
  /** Replaces the kind's usual remedy (a catalogue entry's, or advice that fits this holder better). */
  remedy?: string;
}

/**
 * Severity from the trend: growth in every interval of three or more snapshots is high; steady growth, or growth
 * in the single interval of two snapshots, is medium; irregular growth and anything the standard library holds
 * is low; no growth is info.
 */
export function severityOf(c: Candidate, snapshots: number): Severity {
  if (c.severity) return c.severity;
  const grows = c.trend === "every" || c.trend === "steady" || c.trend === "irregular";
  if (!grows || !c.significant) return "info";
  if (c.library || c.trend === "irregular") return "low";
  if (c.trend === "every" && snapshots >= 3) return "high";
  return "medium";
}

/** "+1,200" style growth text. */
export function signed(n: number): string {
  return (n >= 0 ? "+" : "") + Math.round(n).toLocaleString("en-US");
}

/** Growth with its noun in the right number: "+1 entry", "+1,200 entries". */
export function signedCount(n: number, noun: string, nouns = `${noun}s`): string {
  const rounded = Math.round(n);
  return `${signed(rounded)} ${Math.abs(rounded) === 1 ? noun : nouns}`;
}
