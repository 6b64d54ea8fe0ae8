// What the diagnose, check and report commands share: the command shape main.ts expects, loading a series with
// progress on a terminal, and running the diagnosis with progress.
import { SnapshotError } from "../common/errors.js";
import { diagnose, type Diagnosis } from "../diagnose/index.js";
import { loadSeries, ProcessSelectionError, type Series } from "../engine/series.js";
import { printJson, printMessage } from "./output.js";

export type OptionValues = Record<string, string | boolean | undefined>;

/** One command of the `leakbook` table in main.ts. */
export interface CommandSpec {
  usage: string;
  description: string;
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  help: string;
  run(positionals: string[], values: OptionValues): Promise<void>;
}

/** The `--pid PID` option of the series commands: which process's snapshots to analyse. */
export const PID_OPTION = { pid: { type: "string" as const } };
export const PID_HELP = `  --pid PID  analyse only the snapshots of process PID (needed when the input holds several processes)`;

/** The --pid value as a number, undefined when not given; bad text is a usage error. */
export function parsePid(value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const pid = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(pid)) throw new SnapshotError(`bad --pid '${value}': give a process id (a whole number)`);
  return pid;
}

/**
 * Loads the series named by DIRECTORY or FILES (only process --pid's snapshots when given), printing progress when
 * stderr is a terminal and warnings always. With --json, a process-selection error is also printed on stdout as
 * {"error": {...}}, so machines get it where they read the diagnosis.
 */
export async function loadInputs(inputs: string[], usage: string, values: OptionValues = {}): Promise<{ series: Series; diagnosis: Diagnosis }> {
  if (inputs.length === 0) throw new SnapshotError(`missing DIRECTORY or FILE (usage: ${usage})`);
  const pid = parsePid(values.pid);
  const interactive = process.stderr.isTTY === true;
  const series = await loadSeries(inputs, {
    pid,
    forAnalysis: true,
    onProgress: interactive
      ? (file, files, done, total) => process.stderr.write(`\r\x1b[Kloading snapshot ${file + 1}/${files}: ${Math.floor((100 * done) / Math.max(total, 1))}%`)
      : undefined,
  }).catch((error: unknown) => {
    if (values.json && error instanceof ProcessSelectionError) printJson({ error });
    throw error;
  });
  for (const warning of series.warnings) {
    if (interactive) process.stderr.write("\r\x1b[K");
    printMessage(`warning: ${warning}`);
  }
  const diagnosis = diagnose(series, {
    onStep: interactive ? (id, done, total) => process.stderr.write(`\r\x1b[Kdiagnosing: step ${done + 1}/${total} (${id})`) : undefined,
  });
  if (interactive) process.stderr.write("\r\x1b[K");
  return { series, diagnosis };
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
