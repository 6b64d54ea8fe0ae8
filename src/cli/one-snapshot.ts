// What the one-snapshot commands (summary, paths) share: loading FILE or DIR's latest snapshot and analysing it,
// with progress on stderr only when it is a terminal.
import { graphOf } from "../engine/analysis-cache.js";
import type { HeapGraph } from "../engine/graph.js";
import { loadSnapshot } from "../engine/load.js";
import { latestSnapshotPath } from "../engine/series.js";
import type { Snapshot } from "../engine/snapshot.js";
import { terminalText } from "../common/escape.js";
import { printMessage } from "./output.js";

/** Bad arguments: reported like a bad file (one line, exit 2), with the command's usage hint in the message. */
export class UsageError extends Error {}

/** Loads FILE, or the latest snapshot of DIR, showing progress only when stderr is a terminal. */
export async function loadInput(input: string): Promise<{ snap: Snapshot; loadMs: number }> {
  const path = await latestSnapshotPath(input);
  const interactive = process.stderr.isTTY === true;
  const started = performance.now();
  const snap = await loadSnapshot(path, {
    forAnalysis: true,
    onProgress: interactive ? (done, total) => process.stderr.write(`\rloading ${terminalText(path)}: ${Math.floor((100 * done) / total)}%`) : undefined,
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  for (const warning of (snap.meta.warnings as string[] | undefined) ?? []) printMessage(`warning: ${warning}`);
  return { snap, loadMs: performance.now() - started };
}

export function runAnalysis(snap: Snapshot): { graph: HeapGraph; ms: number } {
  const interactive = process.stderr.isTTY === true;
  const started = performance.now();
  const graph = graphOf(snap, {
    onProgress: interactive ? (phase, done, total) => process.stderr.write(`\r\x1b[K${phase}: ${Math.floor((100 * done) / Math.max(total, 1))}%`) : undefined,
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  return { graph, ms: performance.now() - started };
}

/** A whole-number option (--k, --top): its default when absent, a usage error when not a number >= 1. */
export function wholeOption(values: Record<string, string | boolean | undefined>, name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = typeof text === "string" && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`bad --${name} '${text}': give a whole number >= 1`);
  return value;
}
