// `leakbook diagnose` and `leakbook check`: the checklist as text or JSON, and the exit code for CI.
import type { Diagnosis, StepResult } from "../diagnose/index.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { diagnosisJson, loadInputs } from "./common.js";
import { printJson, textLines } from "./output.js";

const STATUS_LABEL: Record<StepResult["status"], string> = { ok: "OK", warn: "WARN", leak: "LEAK", skipped: "SKIP", info: "INFO" };

export function renderDiagnosisText(d: Diagnosis, source: string): string {
  const out: string[] = [];
  out.push(`leakbook diagnose: ${d.snapshots} snapshot${d.snapshots === 1 ? "" : "s"} from ${source}`);
  out.push(`Verdict: ${d.verdict}. ${d.summary}`);
  out.push("", "Checklist");
  for (const s of d.steps) {
    const number = s.number === 0 ? "  *" : `${String(s.number).padStart(3)}`;
    out.push(`${number}. [${STATUS_LABEL[s.status]}] ${s.title}`);
    out.push(`      Q: ${s.question}`);
    out.push(`      A: ${s.answer}`);
    out.push(`      query: ${s.query}`);
  }
  out.push("", d.findings.length > 0 ? "Findings, most likely cause first" : "Findings: none");
  d.findings.forEach((f, k) => {
    out.push(`${String(k + 1).padStart(3)}. [${f.severity}] ${f.kind}: ${f.title}`);
    if (f.type) out.push(`      type: ${f.type}`);
    out.push(`      path: ${f.path || "(none)"}`);
    if (f.reason) out.push(`      why:  ${f.reason}`);
    if (f.catalogue) out.push(`      library registry: ${f.catalogue.registry}, fed by ${f.catalogue.fed_by}`);
    if (f.cluster) {
      const members = f.cluster.members.slice(0, 4).map((m) => `${m.count.toLocaleString("en-US")} ${m.type}`).join(", ");
      out.push(`      new:  ${f.cluster.new_objects.toLocaleString("en-US")} objects since the first snapshot (${members})`);
      if (f.cluster.entries.length > 0) out.push(`      entries: ${f.cluster.entries.join("  ")}`);
    }
    if (f.sample) out.push(`      e.g.: ${f.sample.address} ${f.sample.type} at ${f.sample.path || "(no path)"}`);
    out.push(`      fix:  ${f.remedy}`);
  });
  // Each line escaped for the terminal: names, keys and paths in it are text from the snapshot.
  return textLines(out);
}

export async function diagnoseCommand(positionals: string[], values: OptionValues): Promise<void> {
  const { diagnosis } = await loadInputs(positionals, COMMANDS.diagnose.usage, values);
  if (values.json) printJson(diagnosisJson(diagnosis));
  else process.stdout.write(renderDiagnosisText(diagnosis, positionals.join(" ")));
}

/** Findings printed by `check`. */
const CHECK_FINDINGS = 3;

export async function checkCommand(positionals: string[], values: OptionValues): Promise<void> {
  const { diagnosis } = await loadInputs(positionals, COMMANDS.check.usage, values);
  const out = [`leakbook check: ${diagnosis.verdict}. ${diagnosis.summary}`];
  for (const f of diagnosis.findings.filter((f) => f.severity !== "info").slice(0, CHECK_FINDINGS)) {
    out.push(`  [${f.severity}] ${f.kind}: ${f.title}`);
    if (f.path) out.push(`      at ${f.path}`);
  }
  process.stdout.write(textLines(out));
  if (diagnosis.verdict === "leak") process.exitCode = 1;
}
