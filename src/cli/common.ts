// What the diagnose, check and report commands share: loading a series and running the diagnosis, with progress
// on a terminal for each snapshot loaded, each step and each snapshot analysed within a step.
import { SnapshotError } from "../common/errors.js";
import { diagnose, type Diagnosis } from "../diagnose/index.js";
import { observeAnalyses } from "../engine/analysis-cache.js";
import { loadSeries, ProcessSelectionError, type Series } from "../engine/series.js";
import type { OptionValues } from "./commands.js";
import { terminalProgress } from "./progress.js";
import { printJson, printMessage } from "./output.js";

/** The --pid value as a number, undefined when not given; bad text is a usage error. */
export function parsePid(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const pid = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(pid)) throw new SnapshotError(`bad --pid '${value}': give a process id (a whole number)`);
  return pid;
}

/**
 * Loads the series named by DIRECTORY or FILES (only process --pid's snapshots when given) and diagnoses it,
 * printing progress when stderr is a terminal and warnings always. With --json, a process-selection error is also
 * printed on stdout as {"error": {...}}, so machines get it where they read the diagnosis.
 */
export async function loadInputs(inputs: string[], usage: string, values: OptionValues = {}): Promise<{ series: Series; diagnosis: Diagnosis }> {
  if (inputs.length === 0) throw new SnapshotError(`missing DIRECTORY or FILE (usage: ${usage})`);
  const pid = parsePid(values.pid);
  const progress = terminalProgress();
  try {
    const series = await loadSeries(inputs, {
      pid,
      forAnalysis: true,
      onProgress: (file, files, done, total) => progress.update(`loading snapshot ${file + 1}/${files}`, done / Math.max(total, 1)),
    }).catch((error: unknown) => {
      if (values.json && error instanceof ProcessSelectionError) printJson({ error });
      throw error;
    });
    for (const warning of series.warnings) {
      progress.clear();
      printMessage(`warning: ${warning}`);
    }
    const { snapshots } = series;
    let step = "diagnosing";
    const stopWatching = observeAnalyses((snap, phase, done, total) => {
      progress.update(`${step}: analysing snapshot ${snapshots.indexOf(snap) + 1}/${snapshots.length} (${phase})`, done / Math.max(total, 1));
    });
    try {
      const diagnosis = diagnose(series, {
        onStep: (id, done, total) => {
          step = `diagnosing: step ${done + 1}/${total} (${id})`;
          progress.update(step);
        },
      });
      return { series, diagnosis };
    } finally {
      stopWatching();
    }
  } finally {
    progress.clear();
  }
}

/** The diagnosis as the `--json` contract: steps without their tables and charts. */
export function diagnosisJson(d: Diagnosis): object {
  return {
    verdict: d.verdict,
    summary: d.summary,
    snapshots: d.snapshots,
    steps: d.steps.map((s) => ({ id: s.id, number: s.number, title: s.title, question: s.question, answer: s.answer, status: s.status, query: s.query })),
    findings: d.findings.map((f) => ({
      kind: f.kind, severity: f.severity, title: f.title, type: f.type, path: f.path, evidence: f.evidence, remedy: f.remedy, step: f.step,
      sample: f.sample, cluster: f.cluster, reason: f.reason, catalogue: f.catalogue,
    })),
  };
}
