// `leakbook diagnose` and `leakbook check`: the checklist as text or JSON, and the exit code for CI.
import type { Diagnosis, StepResult } from "../diagnose/index.js";
import { COMMANDS, type OptionValues } from "./commands.js";
import { diagnosisJson, loadInputs } from "./common.js";

const STATUS_LABEL: Record<StepResult["status"], string> = { ok: "OK", warn: "WARN", leak: "LEAK", skipped: "SKIP", info: "INFO" };

/** Keeps terminal output on one line per value: snapshots can hold any text, control characters included. */
function oneLine(text: string | null): string {
  return (text ?? "").replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function renderDiagnosisText(d: Diagnosis, source: string): string {
  const out: string[] = [];
  out.push(`leakbook diagnose: ${d.snapshots} snapshot${d.snapshots === 1 ? "" : "s"} from ${oneLine(source)}`);
  out.push(`Verdict: ${d.verdict}. ${oneLine(d.summary)}`);
  out.push("", "Checklist");
  for (const s of d.steps) {
    const number = s.number === 0 ? "  *" : `${String(s.number).padStart(3)}`;
    out.push(`${number}. [${STATUS_LABEL[s.status]}] ${s.title}`);
    out.push(`      Q: ${s.question}`);
    out.push(`      A: ${oneLine(s.answer)}`);
    out.push(`      query: ${s.query}`);
  }
  out.push("", d.findings.length > 0 ? "Findings, most likely cause first" : "Findings: none");
  d.findings.forEach((f, k) => {
    out.push(`${String(k + 1).padStart(3)}. [${f.severity}] ${f.kind}: ${oneLine(f.title)}`);
    if (f.type) out.push(`      type: ${oneLine(f.type)}`);
    out.push(`      path: ${f.path ? oneLine(f.path) : "(none)"}`);
    if (f.reason) out.push(`      why:  ${oneLine(f.reason)}`);
    if (f.catalogue) out.push(`      library registry: ${oneLine(f.catalogue.registry)}, fed by ${oneLine(f.catalogue.fed_by)}`);
    if (f.cluster) {
      const members = f.cluster.members.slice(0, 4).map((m) => `${m.count.toLocaleString("en-US")} ${oneLine(m.type)}`).join(", ");
      out.push(`      new:  ${f.cluster.new_objects.toLocaleString("en-US")} objects since the first snapshot (${members})`);
      if (f.cluster.entries.length > 0) out.push(`      entries: ${f.cluster.entries.map(oneLine).join("  ")}`);
    }
    if (f.sample) out.push(`      e.g.: ${f.sample.address} ${oneLine(f.sample.type)} at ${f.sample.path ? oneLine(f.sample.path) : "(no path)"}`);
    out.push(`      fix:  ${f.remedy}`);
  });
  return out.join("\n") + "\n";
}

export async function diagnoseCommand(positionals: string[], values: OptionValues): Promise<void> {
  const { diagnosis } = await loadInputs(positionals, COMMANDS.diagnose.usage, values);
  if (values.json) process.stdout.write(JSON.stringify(diagnosisJson(diagnosis), null, 1) + "\n");
  else process.stdout.write(renderDiagnosisText(diagnosis, positionals.join(" ")));
}

/** Findings printed by `check`. */
const CHECK_FINDINGS = 3;

export async function checkCommand(positionals: string[], values: OptionValues): Promise<void> {
  const { diagnosis } = await loadInputs(positionals, COMMANDS.check.usage, values);
  const out = [`leakbook check: ${diagnosis.verdict}. ${oneLine(diagnosis.summary)}`];
  for (const f of diagnosis.findings.filter((f) => f.severity !== "info").slice(0, CHECK_FINDINGS)) {
    out.push(`  [${f.severity}] ${f.kind}: ${oneLine(f.title)}${f.path ? `\n      at ${oneLine(f.path)}` : ""}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  if (diagnosis.verdict === "leak") process.exitCode = 1;
}
