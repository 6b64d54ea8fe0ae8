// What the diagnose, check and report commands share: the command shape cli.ts expects, loading a series with
// progress on a terminal, and running the diagnosis with progress.
import { SnapshotError } from "../errors.js";
import { diagnose, type Diagnosis } from "../diagnose/index.js";
import { loadSeries, type Series } from "../series.js";

export type OptionValues = Record<string, string | boolean | undefined>;

/** One command of the `leakbook` table in cli.ts. */
export interface CommandSpec {
  usage: string;
  description: string;
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  help: string;
  run(positionals: string[], values: OptionValues): Promise<void>;
}

/** Loads the series named by DIRECTORY or FILES, printing progress when stderr is a terminal and warnings always. */
export async function loadInputs(inputs: string[], usage: string): Promise<{ series: Series; diagnosis: Diagnosis }> {
  if (inputs.length === 0) throw new SnapshotError(`missing DIRECTORY or FILE (usage: ${usage})`);
  const interactive = process.stderr.isTTY === true;
  const series = await loadSeries(inputs, {
    onProgress: interactive
      ? (file, files, done, total) => process.stderr.write(`\r\x1b[Kloading snapshot ${file + 1}/${files}: ${Math.floor((100 * done) / Math.max(total, 1))}%`)
      : undefined,
  });
  for (const warning of series.warnings) process.stderr.write(`${interactive ? "\r\x1b[K" : ""}leakbook: warning: ${warning}\n`);
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
    })),
  };
}
