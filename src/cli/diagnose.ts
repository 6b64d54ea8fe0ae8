// `leakbook diagnose` and `leakbook check`: the checklist as text or JSON, and the exit code for CI.
import type { Diagnosis, StepResult } from "../diagnose/index.js";
import { diagnosisJson, loadInputs, PID_HELP, PID_OPTION, type CommandSpec, type OptionValues } from "./common.js";
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

export const diagnoseCommand: CommandSpec = {
  usage: "leakbook diagnose DIR|FILE... [--pid PID] [--json]",
  description: "walk the leak checklist over a snapshot series: verdict, steps, ranked findings",
  options: { json: { type: "boolean" }, ...PID_OPTION },
  help: `Loads the snapshots (a directory of .lbsnap files, or files), orders them by capture time and walks the
checklist: is it a leak, which types grow, caches, long-lived objects, cycles, obscure holders, growth in
size, allocation sites, and process memory against Python objects. Prints each step's question and answer,
then the findings, most likely cause first, each with its retention path and the usual fix.
One snapshot runs the single-snapshot checks only; three or more after equal work are needed to call a leak.
The snapshots must come from one process (pid and start time); otherwise this fails and lists the processes.
${PID_HELP}
  --json   {"verdict", "summary", "snapshots", "steps": [{id, number, title, question, answer, status, query}],
           "findings": [{kind, severity, title, type, path, evidence, remedy, step}]}
           verdict: leak | no-leak | native-or-fragmentation | inconclusive; on mixed processes or an unknown
           --pid: {"error": {kind, message, processes: [{pid, process_start, files}]}}, exit 2`,
  async run(positionals: string[], values: OptionValues) {
    const { diagnosis } = await loadInputs(positionals, diagnoseCommand.usage, values);
    if (values.json) printJson(diagnosisJson(diagnosis));
    else process.stdout.write(renderDiagnosisText(diagnosis, positionals.join(" ")));
  },
};

/** Findings printed by `check`. */
const CHECK_FINDINGS = 3;

export const checkCommand: CommandSpec = {
  usage: "leakbook check DIR|FILE... [--pid PID]",
  description: "exit 1 when the snapshots show a leak, 0 otherwise (for CI)",
  options: { ...PID_OPTION },
  help: `Runs the same diagnosis as \`leakbook diagnose\` and prints the verdict line and the top findings.
Exit status: 1 when the verdict is "leak", 0 otherwise (no-leak, native-or-fragmentation, inconclusive),
2 on bad input (snapshots of several processes included), 3 on an internal error.
${PID_HELP}`,
  async run(positionals: string[], values: OptionValues) {
    const { diagnosis } = await loadInputs(positionals, checkCommand.usage, values);
    const out = [`leakbook check: ${diagnosis.verdict}. ${diagnosis.summary}`];
    for (const f of diagnosis.findings.filter((f) => f.severity !== "info").slice(0, CHECK_FINDINGS)) {
      out.push(`  [${f.severity}] ${f.kind}: ${f.title}`);
      if (f.path) out.push(`      at ${f.path}`);
    }
    process.stdout.write(textLines(out));
    if (diagnosis.verdict === "leak") process.exitCode = 1;
  },
};
