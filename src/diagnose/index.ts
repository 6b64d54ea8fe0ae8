// diagnose(): the checklist walk over a snapshot or a series, steps 1 to 8 and the RSS sidebar, with findings
// ranked most likely cause first and a verdict. Rules and thresholds: docs/diagnosis.md.
import { withAnalysis } from "../engine/analysis-cache.js";
import type { Series } from "../engine/series.js";
import type { Snapshot } from "../engine/snapshot.js";
import { snapshotsOf } from "../queries/input.js";
import { makeContext } from "./context.js";
import { rank, verdictOf } from "./rank.js";
import { severityOf, type Candidate } from "./rules.js";
import { cachesStep } from "./step-caches.js";
import { clusterCandidates } from "./clusters.js";
import { cyclesStep, readCycles, type CycleReading } from "./step-cycles.js";
import { holdersStep, readHolders, type HolderReading } from "./step-holders.js";
import { leakStep, memoryStep } from "./step-leak.js";
import { sitesStep } from "./step-sites.js";
import { sizesStep } from "./step-sizes.js";
import { survivorsStep } from "./step-survivors.js";
import { typesStep } from "./step-types.js";
import type { Diagnosis, StepResult } from "./types.js";

export * from "./types.js";
export { REMEDIES } from "./remedies.js";

export interface DiagnoseOptions {
  /** Called before each step runs (for progress on a terminal). */
  onStep?: (id: string, done: number, total: number) => void;
}

const STEP_IDS = ["leak", "memory", "types", "caches", "cycles", "holders", "sizes", "long-lived", "clusters", "sites"];

/**
 * Walk the checklist over one snapshot or a series (oldest first; what loadSeries returns, an array, or one
 * snapshot). Deterministic: the same snapshots give the same diagnosis.
 */
export function diagnose(input: Series | Snapshot | readonly Snapshot[], opts: DiagnoseOptions = {}): Diagnosis {
  const snaps = snapshotsOf(input);
  // The snapshots before the last are read first, one analysis at a time, and only their readings and retained
  // figures are kept; then the last snapshot's analysis, which the steps use throughout.
  const earlier = readEarlier(snaps);
  const ctx = makeContext(snaps);
  let done = 0;
  const run = <T>(id: string, f: () => T): T => {
    opts.onStep?.(id, done++, STEP_IDS.length);
    return f();
  };
  const leak = run("leak", () => leakStep(ctx));
  const memory = run("memory", () => memoryStep(ctx, leak.pythonGrows));
  const types = run("types", () => typesStep(ctx));
  const cachesResult = run("caches", () => cachesStep(ctx));
  const cyclesResult = run("cycles", () => cyclesStep(ctx, earlier.map((r) => r.cycles)));
  const holdersResult = run("holders", () => holdersStep(ctx, earlier.map((r) => r.holders)));
  const sizes = run("sizes", () => sizesStep(ctx));
  // Step 4 runs after the holder steps: it names only long-lived objects that no other finding explains.
  const named: Candidate[] = [cachesResult, cyclesResult, holdersResult, sizes].flatMap((s) => s.candidates);
  const explained = named.filter((c) => c.object >= 0 && severityOf(c, snaps.length) !== "info").map((c) => c.object);
  const survivorsResult = run("long-lived", () => survivorsStep(ctx, explained));
  const ordered = [leak, memory, types, cachesResult, survivorsResult, cyclesResult, holdersResult, sizes];
  // The steps' findings merged into the leak clusters they explain, one finding per holder; then step 8 gives
  // each its allocation site.
  const merged = run("clusters", () => clusterCandidates(ctx, ordered.flatMap((s) => s.candidates)));
  const sites = run("sites", () => sitesStep(ctx, merged));
  const steps: StepResult[] = [...ordered, sites].map((s) => s.step);
  const findings = rank(ctx, [...merged, ...sites.candidates]).map((r) => r.finding);
  const { verdict, summary } = verdictOf(ctx, findings);
  return { verdict, summary, snapshots: snaps.length, steps, findings };
}

/** What the steps read of every snapshot but the last (none when any snapshot is a census: those steps skip). */
function readEarlier(snaps: Snapshot[]): { cycles: CycleReading; holders: HolderReading }[] {
  if (!snaps.every((s) => s.kind === "full")) return [];
  return snaps.slice(0, -1).map((snap) => withAnalysis(snap, () => ({ cycles: readCycles(snap, false), holders: readHolders(snap) })));
}
