// What the one-snapshot commands (summary, paths) share: loading FILE or DIR's latest snapshot and analysing it,
// with progress on stderr only when it is a terminal.
import { basename } from "node:path";
import { graphOf } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { loadSnapshot } from "../engine/load.js";
import { latestSnapshotPath } from "../engine/series.js";
import type { Snapshot } from "../engine/snapshot.js";
import { UsageError } from "./arguments.js";
import { terminalProgress } from "./progress.js";
import { printMessage } from "./output.js";

/** Loads FILE, or the latest snapshot of DIR, showing progress only when stderr is a terminal. */
export async function loadInput(input: string): Promise<{ snap: Snapshot; loadMs: number }> {
  const path = await latestSnapshotPath(input);
  const started = performance.now();
  const snap = await loadFile(path);
  return { snap, loadMs: performance.now() - started };
}

/** Loads one snapshot file with progress, then prints the warnings of its loading. */
export async function loadFile(path: string): Promise<Snapshot> {
  const progress = terminalProgress();
  const label = `loading ${basename(path)}`;
  let snap: Snapshot;
  try {
    snap = await loadSnapshot(path, { forAnalysis: true, onProgress: (done, total) => progress.update(label, done / Math.max(total, 1)) });
  } finally {
    progress.clear();
  }
  for (const warning of (snap.meta.warnings as string[] | undefined) ?? []) printMessage(`warning: ${warning}`);
  return snap;
}

export function runAnalysis(snap: Snapshot): { graph: HeapGraph; ms: number } {
  const progress = terminalProgress();
  const started = performance.now();
  try {
    const graph = graphOf(snap, { onProgress: (phase, done, total) => progress.update(`analysing (${phase})`, done / Math.max(total, 1)) });
    return { graph, ms: performance.now() - started };
  } finally {
    progress.clear();
  }
}

/** A whole-number option (--k, --top): its default when absent, a usage error when not a number >= 1. */
export function wholeOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`bad --${name} '${text}': give a whole number >= 1`);
  return value;
}
